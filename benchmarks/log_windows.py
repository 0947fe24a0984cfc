"""The request log's cost in one server's own CPU time, windows of the log off and on in turn.

Requests/s on a shared 2-core machine move by a tenth from one half second to the next, so two
servers (``benchmarks/interleaved.py``) or two runs (``benchmarks/ceiling.py``) read a cost of a
few percent with a standard error of about 0.5 to 1 point. Here one Strongroom server (2
workers, production mode, the log on) is loaded for ``--seconds`` while each worker's log takes
turns by windows of 0.1 s: off, then each variant of ``src/strongroom/server/request_log.py``
given (the committed one if none), round robin; each window ends with its variant's flush, so
it pays for its own lines. Each kind's CPU time per request is summed over its windows (the
probe: ``benchmarks/log_windows_probe/sitecustomize.py``): all kinds see the same machine
within a few tenths of a second, in the same process, and the cost of a variant reads as
microseconds of CPU a request more than the windows with the log off.

    python -m benchmarks.log_windows --seconds 150                     # needs wrk
    python -m benchmarks.log_windows --seconds 150 A/request_log.py B/request_log.py

This is the worker's CPU, not throughput: the machine's other work (wrk, the kernel writing the
log file back to disk) is not in it, and a variant's cost to throughput is smaller by about the
share of the machine wrk takes (a quarter to a third). Give the committed file twice to see the
reading's own spread.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.ceiling import SHARED, _key_id, load_env
from benchmarks.targets import strongroom_server

_PROBE = Path(__file__).parent / "log_windows_probe"
_COMMITTED = Path(__file__).parent.parent / "src" / "strongroom" / "server" / "request_log.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.log_windows", description=__doc__)
    parser.add_argument("variants", nargs="*", type=Path, help="request_log.py files to compare")
    parser.add_argument("--op", default="Encrypt")
    parser.add_argument("--seconds", type=int, default=150, help="of load, at most 270")
    parser.add_argument("--window", type=float, default=0.1)
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    variants = [path.resolve() for path in args.variants] or [_COMMITTED]
    with tempfile.TemporaryDirectory(prefix="log-windows-") as stats_dir:
        env = {
            "STRONGROOM_REQUEST_LOG": "1",
            "PYTHONPATH": str(_PROBE),
            "LOG_WINDOWS_STATS": stats_dir,
            "LOG_WINDOWS_SECONDS": str(args.window),
            "LOG_WINDOWS_VARIANTS": ",".join(map(str, variants)),
        }
        with strongroom_server(2, env=env) as target:
            subprocess.run(
                ["bash", str(args.shared / "load.sh"), target.endpoint, args.op, str(args.seconds)],
                env=load_env(target, _key_id(target), 2, 32),
                capture_output=True, timeout=args.seconds + 120, check=True,
            )  # fmt: skip
            time.sleep(1.5)  # the probes' last writes
            workers = []
            for name in os.listdir(stats_dir):
                stats = ast.literal_eval((Path(stats_dir) / name).read_text())
                if stats["off"][0] > 1000:
                    workers.append(stats)
    if not workers:
        raise SystemExit("no worker served enough requests")
    results = []
    for stats in workers:
        off = stats["off"][1] / stats["off"][0] * 1e6
        worker = {"off_us_per_request": round(off, 2), "variants": []}
        for i, path in enumerate(variants):
            on = stats[str(i)][1] / stats[str(i)][0] * 1e6
            worker["variants"].append(
                {"path": str(path), "us_more": round(on - off, 2), "cost": round(on / off - 1, 4)}
            )
            more = on - off
            print(f"worker: off {off:.1f} us a request; {path}: +{more:.2f} us", file=sys.stderr)
        results.append(worker)
    print(json.dumps({"op": args.op, "seconds": args.seconds, "workers": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
