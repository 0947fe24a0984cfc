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

Each worker has its own socket (SO_REUSEPORT), and the kernel hands it wrk's connections by a
hash: 32 connections sit 16/16 or 22/10, and a worker with 10 serves them with less work per
wake-up, so an uneven split moves a run by up to 20% whatever is measured. A load whose
connections sit more unevenly than ``--max-skew`` is stopped at once and begun again, so that
every measured run has the same spread; the report gives each run's split and also the
servers' CPU time per request (read from /proc), a second reading of the same cost.

    python -m benchmarks.ceiling --seconds 10 --rounds 3        # needs wrk (apt-get install wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import boto3

from benchmarks.signing import AccessKey
from benchmarks.targets import (
    LOOPBACK,
    Target,
    _running,
    connections_by_process,
    free_port,
    session_cpu_s,
    signal_session,
    strongroom_server,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
# The model's fixed credentials and key (../shared/bench/fixtures.py).
MODEL_KEY = AccessKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
MODEL_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.M)
_SIGNING_S = 5.0  # load.sh signs and checks its request before wrk starts: at most this
_ATTEMPTS = 30
_REQUESTS = re.compile(r"^\s+([0-9]+) requests in ", re.M)
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Series:
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # the server's CPU time per request
    split: list[list[int]] = field(default_factory=list)  # connections per process

    def summary(self) -> dict[str, float]:
        return {
            "requests_per_s": round(statistics.fmean(self.rps), 1),
            "p50_ms": round(statistics.median(self.p50_ms), 3),
            "p99_ms": round(statistics.median(self.p99_ms), 3),
            "cpu_us_per_request": round(statistics.fmean(self.cpu_us), 1),
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
    parser.add_argument(
        "--max-skew",
        type=int,
        default=4,
        help="load again until wrk's connections sit on the workers at most this unevenly "
        "(4: 18/14 for 32 connections); -1 takes any split",
    )
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
    with _running(argv, port, log) as process:
        yield Target("model", f"http://{LOOPBACK}:{port}", MODEL_KEY, process.pid)


def _key_id(target: Target) -> str:
    kms = boto3.client(
        "kms",
        endpoint_url=target.endpoint,
        region_name="us-east-1",
        aws_access_key_id=target.key.access_key_id,
        aws_secret_access_key=target.key.secret_access_key,
    )
    return str(kms.create_key(Description="ceiling benchmark")["KeyMetadata"]["KeyId"])


class Run(NamedTuple):
    """One wrk run: requests/s, p50 and p99 in milliseconds, the CPU time the server's
    processes used per request in microseconds (user and system, read from /proc before and
    after the run), and how many of wrk's connections each server process held."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    split: list[int]


def load_env(target: Target, key_id: str, threads: int, connections: int) -> dict[str, str]:
    """The environment ``load.sh`` signs and loads with: ``target``'s key, ``key_id``, wrk's
    threads and connections."""
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": target.key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": target.key.secret_access_key,
        "AWS_REGION": "us-east-1",
        "KEY_ID": key_id,
        "THREADS": str(threads),
        "CONNS": str(connections),
        "PYTHON": sys.executable,
    }


def load(args: argparse.Namespace, target: Target, key_id: str, op: str) -> Run:
    """One wrk run of ``op`` against ``target``."""
    env = load_env(target, key_id, args.threads, args.connections)
    assert target.session is not None
    port = target.port
    for _ in range(_ATTEMPTS):
        cpu_before = session_cpu_s(target.session)
        with subprocess.Popen(
            ["bash", str(args.shared / "load.sh"), target.endpoint, op, str(args.seconds)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as done:
            split = _connected(target.session, port, args)
            if args.max_skew is None or _skew(split, args.workers) <= args.max_skew:
                out, err = done.communicate(timeout=args.seconds + 120)
                break
            signal_session(done.pid, signal.SIGTERM)  # the connections sit unevenly: load again
            done.communicate(timeout=30)
    else:
        raise SystemExit(f"{_ATTEMPTS} loads of {target.name} all sat unevenly on its workers")
    cpu_s = session_cpu_s(target.session) - cpu_before
    if done.returncode != 0 or "Non-2xx" in out:
        raise SystemExit(f"load of {target.name} failed:\n{out}\n{err}")
    rps, requests = _RPS.search(out), _REQUESTS.search(out)
    percentiles = {p: float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(out)}
    if rps is None or requests is None or set(percentiles) != {"50", "99"}:
        raise SystemExit(f"could not read wrk's report:\n{out}")
    cpu_us = cpu_s * 1e6 / max(int(requests.group(1)), 1)
    return Run(float(rps.group(1)), percentiles["50"], percentiles["99"], cpu_us, split)


def _connected(session: int, port: int, args: argparse.Namespace) -> list[int]:
    """The connections per server process once wrk has opened all of them."""
    deadline = time.monotonic() + _SIGNING_S + 10
    split = connections_by_process(session, port)
    while sum(split) < args.connections and time.monotonic() < deadline:
        time.sleep(0.05)
        split = connections_by_process(session, port)
    return split


def _skew(split: list[int], workers: int) -> int:
    """The most connections on a worker less the fewest (0 for a worker that has none)."""
    return split[0] - (split[-1] if len(split) >= workers else 0) if split else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.inprocess import app_speeds  # noqa: PLC0415 - inprocess imports this module

    ops = args.ops.split(",")
    host = [app_speeds(args.shared)]  # before and after the rounds: the host's speed drifts
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
                unmeasured = {"seconds": args.warmup, "max_skew": None}  # any split will do
                warm = argparse.Namespace(**{**vars(args), **unmeasured})
                for target, key_id in targets.values():
                    load(warm, target, key_id, op)
            for _ in range(args.rounds):
                for name, (target, key_id) in targets.items():
                    done = load(args, target, key_id, op)
                    series = results[op].setdefault(name, Series())
                    series.rps.append(done.rps)
                    series.p50_ms.append(done.p50_ms)
                    series.p99_ms.append(done.p99_ms)
                    series.cpu_us.append(done.cpu_us)
                    series.split.append(done.split)
    host.append(app_speeds(args.shared))
    report: dict[str, Any] = {
        "in_process_before_after": host,
        "workers": args.workers,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.seconds}s",
        "rounds": args.rounds,
        "max_skew": args.max_skew,
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
        # How wrk's connections sat on the workers in each round, off then on: "16/16 20/12".
        summary["split_by_round"] = [
            " ".join("/".join(map(str, split)) for split in pair)
            for pair in zip(by_target["off"].split, by_target["on"].split, strict=True)
        ]
        if len(paired) > 1:
            sem = statistics.stdev(paired) / len(paired) ** 0.5
            summary["request_log_cost_standard_error"] = round(sem, 3)
        # The same cost read from the servers' CPU time per request: what the log adds to a
        # request's work, which other load on the machine moves far less than requests/s.
        on_cpu, off_cpu = by_target["on"].cpu_us, by_target["off"].cpu_us
        summary["request_log_cpu_cost"] = round(sum(on_cpu) / sum(off_cpu) - 1, 4)
        paired_cpu = [on / off - 1 for on, off in zip(on_cpu, off_cpu, strict=True)]
        summary["request_log_cpu_cost_by_round"] = [round(cost, 4) for cost in paired_cpu]
        if len(paired_cpu) > 1:
            sem = statistics.stdev(paired_cpu) / len(paired_cpu) ** 0.5
            summary["request_log_cpu_cost_standard_error"] = round(sem, 4)
        report["ops"][op] = summary
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.max_skew < 0:
        args.max_skew = None
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{args.workers} workers each, wrk {report['wrk']}, {args.rounds} alternations, "
        + ("any split" if args.max_skew is None else f"splits at most {args.max_skew} apart")
    )
    before, after = report["in_process_before_after"]
    print(f"in process (inprocess.app_speeds), before: {before}, after: {after}")
    print("| operation | server | requests/s | p50 ms | p99 ms | server CPU us/request |")
    print("|---|---|---|---|---|---|")
    for op, summary in report["ops"].items():
        for name in ("model", "off", "on"):
            row = summary[name]
            label = {"model": "model KMS", "off": "Strongroom", "on": "Strongroom, request log"}
            print(
                f"| {op} | {label[name]} | {row['requests_per_s']:,.0f} | {row['p50_ms']} | "
                f"{row['p99_ms']} | {row['cpu_us_per_request']} |"
            )
    for op, summary in report["ops"].items():
        print(
            f"{op}: {summary['share_of_ceiling_log_off']:.2f} of the ceiling (log off), "
            f"{summary['share_of_ceiling_log_on']:.2f} (log on); the log costs "
            f"{summary['request_log_cost']:.1%}"
            + (
                f" (standard error {summary['request_log_cost_standard_error']:.1%}; by round: "
                + ", ".join(
                    f"{cost:.1%} [{split}]"
                    for cost, split in zip(
                        summary["request_log_cost_by_round"], summary["split_by_round"], strict=True
                    )
                )
                + ")"
                if "request_log_cost_standard_error" in summary
                else ""
            )
        )
        print(
            f"{op}: the log adds {summary['request_log_cpu_cost']:.1%} to the server's CPU time "
            "per request"
            + (
                f" (standard error {summary['request_log_cpu_cost_standard_error']:.1%}; "
                "by round: "
                + ", ".join(f"{cost:.1%}" for cost in summary["request_log_cpu_cost_by_round"])
                + ")"
                if "request_log_cpu_cost_standard_error" in summary
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
