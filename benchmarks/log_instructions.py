"""The request log's own work, counted in instructions: what a flush costs per record.

Requests/s on a shared 2-core machine move by up to 20% from one 10 s run to the next, so a
cost of a few percent is hard to read from them (``benchmarks/ceiling.py`` reads it from many
rounds). Instructions are counted by valgrind's callgrind, the same on every run of the same
code: this builds N records shaped as a production Encrypt's (the root principal, one allowed
decision, the key id and a 100-byte plaintext, which the line leaves out) and either lets them
go or queues and flushes them through :class:`RequestLog` to a file, by 40 as a loaded worker
does (``--batch``); the log's instructions per
record are the difference between the two, over two sizes of N so that start-up cancels out.

    python -m benchmarks.log_instructions               # needs valgrind (apt-get install valgrind)

Instructions are not time: a record's objects are cold in a loaded worker, so a flush runs at
fewer instructions per cycle there than here; the ratio between two versions of the log is what
this measures well.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from strongroom.domain.principal import Principal
from strongroom.domain.record import Decided, RequestRecord
from strongroom.server.request_log import RequestLog

_COLLECTED = re.compile(r"Collected\s*:\s*([0-9]+)")
_ACCOUNT = "111122223333"
_KEY_ARN = f"arn:aws:kms:us-east-1:{_ACCOUNT}:key/2b33363d-061d-4539-8d33-5f3aff097703"
_HIDDEN = frozenset({"Plaintext"})


def _records(count: int) -> list[RequestRecord]:
    """Records as the edge leaves them for an Encrypt, each with its own strings where the edge
    parses them from the request (the request id, region, access key, key id)."""
    root = Principal.root(_ACCOUNT)
    allowed = Decided("kms:Encrypt", _KEY_ARN, True, ("key policy/Enable IAM User Permissions",))
    records = []
    for _ in range(count):
        record = RequestRecord(str(uuid.uuid4()), time.time(), "127.0.0.1", action="Encrypt")
        record.principal, record.region = root, "".join(["us-east-", "1"])
        record.access_key_id = "".join(["AKIA5RGFYPHW", "PDMAK6I5"])
        record.decided(allowed)
        record.key_material_id = "fd8bea05993ae80ced884303021cddefdfe51df48fdaa04dc2317cdbb62235f3"
        record.request = {"KeyId": _KEY_ARN.rsplit("/", 1)[1], "Plaintext": os.urandom(100)}
        record.hidden = _HIDDEN
        record.duration_ms = round(0.41234, 3)
        records.append(record)
    return records


def _child(logged: bool, count: int, out: str, batch: int) -> None:
    records = _records(count)
    if logged:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        log = RequestLog(fd)
        for start in range(0, count, batch):  # as a loaded worker's flushes take them
            log._queued.extend(records[start : start + batch])
            log.flush()
        os.close(fd)
    del records


def _instructions(logged: bool, count: int, out: str, batch: int) -> int:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind not found (apt-get install valgrind)")
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m",
         "benchmarks.log_instructions", "--child", "on" if logged else "off", str(count), out,
         str(batch)],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.log_instructions", description=__doc__
    )
    parser.add_argument(
        "--records", type=int, default=2000, help="the difference between the sizes"
    )
    parser.add_argument(
        "--batch", type=int, default=40,
        help="records a flush (a loaded worker flushes about 40 every 10 ms)",
    )  # fmt: skip
    parser.add_argument(
        "--child", nargs=4, metavar=("MODE", "COUNT", "OUT", "BATCH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, count, out, batch = args.child
        _child(mode == "on", int(count), out, int(batch))
        return 0
    small, large = 500, 500 + args.records
    with tempfile.TemporaryDirectory(prefix="log-instructions-") as tmp:
        out = os.path.join(tmp, "requests.log")
        counts = {
            (logged, n): _instructions(logged, n, out, args.batch)
            for logged in (False, True)
            for n in (small, large)
        }
    per_record = {
        logged: (counts[(logged, large)] - counts[(logged, small)]) / args.records
        for logged in (False, True)
    }
    print(
        f"records made and let go: {per_record[False]:,.0f} instructions each; "
        f"made, logged and flushed: {per_record[True]:,.0f}; "
        f"the log: {per_record[True] - per_record[False]:,.0f} instructions a record"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
