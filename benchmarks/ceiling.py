"""Strongroom's hot path as a share of the model-KMS ceiling, and the request record's own cost.

Three servers on loopback, 2 workers each: the model KMS of ``../shared/bench/kms_model.py``
(the least work an Encrypt or Decrypt needs on the same HTTP stack; its workers share their one
key, ``benchmarks/model_shared_key.py``, so that a Decrypt opens in either), Strongroom in
production mode with the request log off, and Strongroom with it on
(``STRONGROOM_REQUEST_LOG=1``, one JSON line per call written to its log file). The same signed
request is replayed by wrk (``../shared/bench/load.sh``) against each in turn, model, off, on,
model, off, on, ..., so that the machine's noise falls on all three alike; only ratios measured
in one run are reported. A Strongroom server is loaded only once every worker listens (a load
begun while one is still starting would keep all its connections on the others), and each server
is warmed up (``--warmup`` seconds, not measured) before the rounds.

    python -m benchmarks.ceiling --seconds 10 --rounds 3        # needs wrk (apt-get install wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from benchmarks.signing import AccessKey
from benchmarks.targets import LOOPBACK, Target, _running, free_port, strongroom_server

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
# The model's fixed credentials and key (../shared/bench/fixtures.py).
MODEL_KEY = AccessKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
MODEL_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.M)
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Series:
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {
            "requests_per_s": round(statistics.fmean(self.rps), 1),
            "p50_ms": round(statistics.median(self.p50_ms), 3),
            "p99_ms": round(statistics.median(self.p99_ms), 3),
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ceiling", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per load, 1-270")
    parser.add_argument("--rounds", type=int, default=3, help="model/off/on alternations")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of load per server before measuring"
    )
    parser.add_argument("--ops", default="Encrypt,Decrypt")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the model-KMS kit")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


@contextmanager
def model_server(shared: Path, workers: int) -> Iterator[Target]:
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(shared),
        "benchmarks.model_shared_key:asgi_app",
        "--host", LOOPBACK, "--port", str(port), "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"kms-model-{port}.log"
    with _running(argv, port, log):
        yield Target("model", f"http://{LOOPBACK}:{port}", MODEL_KEY)


def _key_id(target: Target) -> str:
    kms = boto3.client(
        "kms",
        endpoint_url=target.endpoint,
        region_name="us-east-1",
        aws_access_key_id=target.key.access_key_id,
        aws_secret_access_key=target.key.secret_access_key,
    )
    return str(kms.create_key(Description="ceiling benchmark")["KeyMetadata"]["KeyId"])


def load(args: argparse.Namespace, target: Target, key_id: str, op: str) -> tuple[float, ...]:
    """One wrk run: requests/s, p50 and p99 in milliseconds."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": target.key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": target.key.secret_access_key,
        "AWS_REGION": "us-east-1",
        "KEY_ID": key_id,
        "THREADS": str(args.threads),
        "CONNS": str(args.connections),
        "PYTHON": sys.executable,
    }
    done = subprocess.run(
        ["bash", str(args.shared / "load.sh"), target.endpoint, op, str(args.seconds)],
        env=env,
        capture_output=True,
        text=True,
        timeout=args.seconds + 120,
        check=False,
    )
    out = done.stdout
    if done.returncode != 0 or "Non-2xx" in out:
        raise SystemExit(f"load of {target.name} failed:\n{out}\n{done.stderr}")
    rps = _RPS.search(out)
    percentiles = {p: float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(out)}
    if rps is None or set(percentiles) != {"50", "99"}:
        raise SystemExit(f"could not read wrk's report:\n{out}")
    return float(rps.group(1)), percentiles["50"], percentiles["99"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    ops = args.ops.split(",")
    with ExitStack() as stack:
        model = stack.enter_context(model_server(args.shared, args.workers))
        off = stack.enter_context(
            strongroom_server(args.workers, env={"STRONGROOM_REQUEST_LOG": "0"})
        )
        on = stack.enter_context(
            strongroom_server(args.workers, env={"STRONGROOM_REQUEST_LOG": "1"})
        )
        targets = {"model": (model, MODEL_KEY_ID), "off": (off, _key_id(off))}
        targets["on"] = (on, _key_id(on))
        results: dict[str, dict[str, Series]] = {op: {} for op in ops}
        for op in ops:
            if args.warmup > 0:  # caches filled, every worker serving: not measured
                warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
                for target, key_id in targets.values():
                    load(warm, target, key_id, op)
            for _ in range(args.rounds):
                for name, (target, key_id) in targets.items():
                    rps, p50, p99 = load(args, target, key_id, op)
                    series = results[op].setdefault(name, Series())
                    series.rps.append(rps)
                    series.p50_ms.append(p50)
                    series.p99_ms.append(p99)
    report: dict[str, Any] = {
        "workers": args.workers,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.seconds}s",
        "rounds": args.rounds,
        "ops": {},
    }
    for op, by_target in results.items():
        summary: dict[str, Any] = {name: series.summary() for name, series in by_target.items()}
        model_sum, off_sum, on_sum = (sum(by_target[n].rps) for n in ("model", "off", "on"))
        summary["share_of_ceiling_log_off"] = round(off_sum / model_sum, 3)
        summary["share_of_ceiling_log_on"] = round(on_sum / model_sum, 3)
        summary["request_log_cost"] = round(1 - on_sum / off_sum, 3)
        # The cost round by round (on against the off run just before it), and how much it
        # varies: one 10 s run moves by several percent with the machine, so a cost of a few
        # percent is read from many rounds, not from one.
        on_rps, off_rps = by_target["on"].rps, by_target["off"].rps
        paired = [1 - on / off for on, off in zip(on_rps, off_rps, strict=True)]
        summary["request_log_cost_by_round"] = [round(cost, 3) for cost in paired]
        if len(paired) > 1:
            sem = statistics.stdev(paired) / len(paired) ** 0.5
            summary["request_log_cost_standard_error"] = round(sem, 3)
        report["ops"][op] = summary
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.workers} workers each, wrk {report['wrk']}, {args.rounds} alternations")
    print("| operation | server | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for op, summary in report["ops"].items():
        for name in ("model", "off", "on"):
            row = summary[name]
            label = {"model": "model KMS", "off": "Strongroom", "on": "Strongroom, request log"}
            print(
                f"| {op} | {label[name]} | {row['requests_per_s']:,.0f} | {row['p50_ms']} | "
                f"{row['p99_ms']} |"
            )
    for op, summary in report["ops"].items():
        print(
            f"{op}: {summary['share_of_ceiling_log_off']:.2f} of the ceiling (log off), "
            f"{summary['share_of_ceiling_log_on']:.2f} (log on); the log costs "
            f"{summary['request_log_cost']:.1%}"
            + (
                f" (standard error {summary['request_log_cost_standard_error']:.1%}; by round: "
                + ", ".join(f"{cost:.1%}" for cost in summary["request_log_cost_by_round"])
                + ")"
                if "request_log_cost_standard_error" in summary
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
