"""Command line of the load generator: ``python -m benchmarks.loadgen``.

Sends validly signed KMS requests (pre-signed, replayed within the SigV4 window) at a fixed
concurrency and reports requests/s, p50 and p99 per operation, optionally against moto_server
too, for a side-by-side ratio. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from benchmarks.signing import AccessKey, RequestPool, load_access_key
from benchmarks.stats import OpResult, format_ratios, format_table, machine_info, ratios, summarize
from benchmarks.targets import Target, moto_server, request_bodies, strongroom_server
from benchmarks.wire import run_operation

__all__ = ["main", "parse_args"]

OPERATIONS = ("Encrypt", "Decrypt", "GenerateDataKey")
# Asymmetric operations are named OPERATION:SPEC, e.g. Sign:ECC_NIST_P256 (see targets.py).
ASYMMETRIC = ("Sign", "Verify", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext")
MAX_DURATION_S = 600.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8400")
    parser.add_argument("--credentials-file", type=Path, help="AWS shared-credentials file")
    parser.add_argument("--profile", default="strongroom")
    parser.add_argument("--access-key")
    parser.add_argument("--secret-key")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per operation")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per operation")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="comma-separated")
    parser.add_argument("--pool-size", type=int, default=256, help="signed requests per op")
    parser.add_argument("--plaintext-size", type=int, default=32, help="bytes")
    parser.add_argument("--grants", type=int, default=0, help="grants to put on the key first")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--start-server", action="store_true", help="init and serve Strongroom")
    parser.add_argument("--workers", type=int, default=2, help="workers for --start-server")
    parser.add_argument("--compare-moto", action="store_true", help="also load moto_server")
    parser.add_argument("--moto-only", action="store_true", help="load moto_server alone")
    args = parser.parse_args(argv)
    args.ops = [op.strip() for op in args.ops.split(",") if op.strip()]
    unknown = sorted(
        op for op in args.ops if op not in OPERATIONS and op.partition(":")[0] not in ASYMMETRIC
    )
    if unknown:
        parser.error(f"unknown operations: {', '.join(unknown)}")
    if not 0 < args.duration <= MAX_DURATION_S or not 0 <= args.warmup <= MAX_DURATION_S:
        parser.error(f"--duration and --warmup must be within (0, {MAX_DURATION_S:.0f}] s")
    if not 1 <= args.concurrency <= 1024 or not 1 <= args.max_requests <= 50_000_000:
        parser.error("--concurrency must be 1..1024 and --max-requests 1..50,000,000")
    if urlsplit(args.endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--endpoint must be on loopback")
    return args


def _given_key(args: argparse.Namespace) -> AccessKey:
    if args.access_key and args.secret_key:
        return AccessKey(args.access_key, args.secret_key)
    if args.credentials_file:
        return load_access_key(args.credentials_file, args.profile)
    raise SystemExit(
        "give --credentials-file/--profile, --access-key/--secret-key or --start-server"
    )


@contextmanager
def _given(args: argparse.Namespace) -> Iterator[Target]:
    yield Target("strongroom", args.endpoint, _given_key(args))


def _targets(args: argparse.Namespace) -> list[AbstractContextManager[Target]]:
    targets: list[AbstractContextManager[Target]] = []
    if not args.moto_only:
        targets.append(strongroom_server(args.workers) if args.start_server else _given(args))
    if args.compare_moto or args.moto_only:
        targets.append(moto_server())
    return targets


def _load(runner: asyncio.Runner, target: Target, args: argparse.Namespace) -> list[OpResult]:
    """Set up a key on ``target`` and run every requested operation against it."""
    bodies = request_bodies(
        target, args.region, args.ops, args.pool_size, args.plaintext_size, args.grants
    )
    split = urlsplit(target.endpoint)
    host, port = split.hostname or "127.0.0.1", split.port or 80
    results = []
    for operation in args.ops:
        pool = RequestPool(
            target.endpoint,
            target.key,
            args.region,
            operation.partition(":")[0],
            bodies[operation],
        )
        cpu_before = time.process_time()
        phase = runner.run(
            run_operation(
                host,
                port,
                pool,
                concurrency=args.concurrency,
                duration_s=args.duration,
                warmup_s=args.warmup,
                max_requests=args.max_requests,
            )
        )
        cpu = time.process_time() - cpu_before
        result = summarize(target.name, operation, args.concurrency, phase, cpu)
        print(
            f"{target.name:>10} {operation:<16} {result.requests_per_s:>10,.0f} req/s  "
            f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  errors {result.errors}  "
            f"client CPU {cpu:.2f} s",
            file=sys.stderr,
            flush=True,
        )
        if result.first_error:
            print(f"first error: {result.first_error}", file=sys.stderr, flush=True)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_info()
    results: list[OpResult] = []
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for context in _targets(args):
            with context as target:
                results.extend(_load(runner, target, args))
    ratio = ratios(results, "strongroom", "moto")
    command = shlex.join(["python", "-m", "benchmarks.loadgen", *sys.argv[1:]])
    if args.json:
        report = {
            "command": command,
            "machine": machine,
            "results": [r.as_dict() for r in results],
            "ratio_strongroom_over_moto": ratio,
        }
        print(json.dumps(report, indent=2))
    else:
        print(f"{command}\n{json.dumps(machine)}\n")
        print(format_table(results))
        if ratio:
            print()
            print(format_ratios(ratio, "strongroom", "moto"))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
