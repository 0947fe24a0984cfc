"""The audit trail's commit cost: commits/s and latency at 1, 16 and 32 concurrent committers.

Each committer loops ``commit([event])`` of a ~700-byte CloudTrail-like event for ``--seconds``;
group commit lets concurrent committers share one write+fsync. Run from the checkout:

    .venv/bin/python -m benchmarks.trail --dir /path/on/the/real/disk
    .venv/bin/python -m benchmarks.trail --database-url postgresql+psycopg://user@host/db

With ``--database-url`` it measures the trail in the database (``audit.dbtrail``) instead, in a
schema of its own made for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from strongroom.audit.dbtrail import DbTrail
from strongroom.audit.trail import Trail
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import StorageError, migrate
from strongroom.storage.trail_sql import TrailSql

EVENT = {
    "eventVersion": "1.11",
    "userIdentity": {"type": "Root", "principalId": "111122223333", "accountId": "111122223333"},
    "eventTime": "2024-01-01T00:00:00Z",
    "eventSource": "kms.amazonaws.com",
    "eventName": "Encrypt",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "127.0.0.1",
    "userAgent": "aws-cli/2.15.0 Python/3.11 Linux/6.1 exe/x86_64",
    "requestParameters": {
        "keyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "encryptionContext": {"Department": "10103.0"},
    },
    "responseElements": None,
    "requestID": "b1a1c1d1-0000-4000-8000-000000000000",
    "eventID": "e1a1c1d1-0000-4000-8000-000000000000",
    "readOnly": True,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "111122223333",
    "eventCategory": "Management",
}


async def _run(trail: Trail | DbTrail, committers: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await trail.commit([EVENT])
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(committers)))
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, help="Where to put the trail (default: a temp dir).")
    parser.add_argument("--database-url", help="Measure the trail in this PostgreSQL database.")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        signer = SoftwareKeyStore(
            RootKey.generate(base / "root.key"), audit_key_file=base / "audit-signing.key"
        ).audit_signer()
        if args.database_url:
            with _schema(args.database_url) as url:
                migrate(url)
                _measure(DbTrail(TrailSql(url), signer, errors=(StorageError,)), args.seconds)
        else:
            _measure(Trail(base / "trail", signer), args.seconds)


@contextlib.contextmanager
def _schema(base: str) -> Iterator[str]:
    """``base`` with a schema of its own on the search path, dropped afterwards."""
    schema = f"strongroom_bench_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _measure(trail: Trail | DbTrail, seconds: float) -> None:
    print("committers  commits/s  flushes/s  p50 ms  p99 ms  (us of flush per event)")
    for committers in (1, 16, 32):
        flushes = trail.flushes
        count, latencies = asyncio.run(_run(trail, committers, seconds))
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"{committers:10d}  {count / seconds:9.0f}  "
            f"{(trail.flushes - flushes) / seconds:9.0f}  "
            f"{statistics.median(latencies) * 1000:6.2f}  {p99 * 1000:6.2f}  "
            f"({seconds / count * 1e6:.0f})"
        )
    trail.close()


if __name__ == "__main__":
    main()
