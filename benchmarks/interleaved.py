"""The cost of the request log (``--feature log``) or of the durable audit trail (``--feature
audit``) read from servers that take turns by the half second.

On a shared 2-core machine one server's requests/s move by up to 20% from one 10 s run to the
next (``benchmarks/ceiling.py`` alternates 10 s runs, and its rounds range from -20% to +25%):
the machine's speed changes on a scale of seconds, so runs 12 s apart do not see the same
machine. Here the model KMS, Strongroom with the request log off and Strongroom with it on are
loaded at once, each by its own wrk (2 workers each, 32 connections, the same signed request
replayed as in ``ceiling.py``), and take turns: all but one are stopped (SIGSTOP to the
server's processes; its wrk then waits on its connections) and each runs alone for
``--slice`` seconds, model, off, on, model, ... Each server runs alone, with 2 workers and 32
connections as in ``ceiling.py``, and all three see the same machine within a second and a half.

A server's requests are counted from the bytes its connections received during its own slices
(read with ``ss``, while the servers are stopped; every request is the same size), its CPU time
from /proc, after each turn. Off and on swap places every cycle (model, off, on, then model, on,
off). Besides each run's cost, the summary gives the median and quartiles of the cost read
cycle by cycle. Latencies are not reported: a request that waits out another server's turn is
counted whole by wrk.

Each run starts a new pair of Strongroom servers (``--same-servers``: one pair for every run).
A pair carries a bias of its own: A/A pairs (both with the log off) loaded for a whole series
read -1.9%, +0.6% and +0.7%; with a new pair each run, that bias is in the runs' spread and so
in the standard error. Each run begins with ``--warmup`` seconds of uncounted turns.

    python -m benchmarks.interleaved --seconds 60 --slice 0.5     # needs wrk, ss (iproute2)
    python -m benchmarks.interleaved --feature audit --seconds 15 --runs 4
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.ceiling import MODEL_KEY_ID, SHARED, _key_id, _skew, load_env, model_server
from benchmarks.inprocess import app_speeds
from benchmarks.targets import (
    Target,
    connections_by_process,
    session_cpu_s,
    signal_session,
    strongroom_server,
)

_CONNECTION = re.compile(
    r"^\S+\s+\S+\s+\S+\s+(\S+)\s*\n.*?bytes_received:([0-9]+).*?data_segs_in:([0-9]+)",
    re.M | re.S,
)
_NAMES = ("model", "off", "on")
# What "off" and "on" differ in (each server has the other features off): the request log, or
# the durable audit trail.
_FEATURES = {"log": "STRONGROOM_REQUEST_LOG", "audit": "STRONGROOM_AUDIT"}


def received(port: int) -> dict[str, tuple[int, int]]:
    """Per established connection to the server on ``port`` (by its peer's address): the data
    segments and bytes it received. On loopback each request is one segment."""
    out = subprocess.run(
        ["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    found = {}
    for peer, size, segments in _CONNECTION.findall(out):
        found[peer] = int(segments), int(size)
    return found


def _signal(target: Target, sig: signal.Signals) -> None:
    assert target.session is not None
    os.killpg(target.session, sig)


def _start_load(args: argparse.Namespace, target: Target, key_id: str) -> subprocess.Popen[str]:
    env = load_env(target, key_id, 2, args.connections)
    # wrk must outlast the turns (it is stopped once they are over).
    seconds = min(270, int((args.seconds + args.warmup) * len(_NAMES) * 1.15 + 12))
    return subprocess.Popen(
        ["bash", str(args.shared / "load.sh"), target.endpoint, args.op, str(seconds)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def one_run(args: argparse.Namespace, targets: dict[str, tuple[Target, str]]) -> dict[str, Any]:
    """Load the three at once, let them take turns for ``args.seconds`` each, and count."""
    loads: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, (target, key_id) in targets.items():
            loads[name] = _start_load(args, target, key_id)
        for target, _ in targets.values():  # every wrk connected
            assert target.session is not None
            deadline = time.monotonic() + 60
            while sum(connections_by_process(target.session, target.port)) < args.connections:
                if time.monotonic() > deadline:
                    raise SystemExit(f"wrk did not connect to {target.endpoint}")
                time.sleep(0.05)
        splits = {
            name: connections_by_process(t.session or 0, t.port) for name, (t, _) in targets.items()
        }
        # Strongroom's workers each have their own socket, and the kernel spreads connections
        # over them by a hash; the model's share one, and take connections as they come (all 32
        # on one worker, at times, which slows the model's turns by a third).
        if max(_skew(splits[name], args.workers) for name in _NAMES) > args.max_skew:
            return {}  # the connections sit unevenly on a server's workers: load again
        for target, _ in targets.values():
            _signal(target, signal.SIGSTOP)
        # Warm-up turns, not counted: a new server's first seconds (its caches filling, a new
        # log file's first blocks) are not what it does for the rest of its life.
        for _ in range(round(args.warmup / args.slice)):
            for target, _ in targets.values():
                _signal(target, signal.SIGCONT)
                time.sleep(args.slice)
                _signal(target, signal.SIGSTOP)
        last = {name: received(t.port) for name, (t, _) in targets.items()}
        # Each turn of each server: (requests, bytes, seconds, CPU seconds), counted while all
        # are stopped.
        turns: dict[str, list[tuple[int, int, float, float]]] = {name: [] for name in targets}
        # Off and on swap places every cycle (model, off, on, model, on, off, ...): a server's
        # turn is slower after some turns than after others (an A/A run, both servers with the
        # log off, read 2.3% when "on" always followed "off"), and each now follows each as often.
        # A server waits at most three turns between its own: less than wrk's 2 s timeout, after
        # which it would open new connections (a run where it did is refused below).
        order = list(targets)
        for cycle in range(round(args.seconds / args.slice)):
            for name in order if cycle % 2 == 0 else [order[0], *reversed(order[1:])]:
                target = targets[name][0]
                assert target.session is not None
                cpu_before = session_cpu_s(target.session)
                began = time.monotonic()
                _signal(target, signal.SIGCONT)
                time.sleep(args.slice)
                _signal(target, signal.SIGSTOP)
                active = time.monotonic() - began
                cpu = session_cpu_s(target.session) - cpu_before
                now = received(target.port)
                if set(now) != set(last[name]):
                    raise SystemExit(f"{name}: wrk opened new connections during the turns")
                turns[name].append(
                    (
                        sum(now[peer][0] - last[name][peer][0] for peer in now),
                        sum(now[peer][1] - last[name][peer][1] for peer in now),
                        active,
                        cpu,
                    )
                )
                last[name] = now
        splits = {
            name: connections_by_process(t.session or 0, t.port) for name, (t, _) in targets.items()
        }
    finally:
        for target, _ in targets.values():
            _signal(target, signal.SIGCONT)
        for load in loads.values():
            signal_session(load.pid, signal.SIGTERM)
            load.communicate(timeout=60)
    result: dict[str, Any] = {}
    for name in targets:
        requests = sum(turn[0] for turn in turns[name])
        result[name] = {
            "requests_per_s": requests / sum(turn[2] for turn in turns[name]),
            "cpu_us_per_request": sum(turn[3] for turn in turns[name]) * 1e6 / requests,
            "bytes_per_request": sum(turn[1] for turn in turns[name]) / requests,
            "split": splits[name],
        }
    # The log's cost in each cycle, from the off and on turns a second apart.
    result["cycle_costs"] = [
        1 - (on[0] / on[2]) / (off[0] / off[2])
        for off, on in zip(turns["off"], turns["on"], strict=True)
    ]
    return result


def _start_pair(
    args: argparse.Namespace, stack: ExitStack, on_env: dict[str, str], on_first: bool
) -> dict[str, tuple[Target, str]]:
    """Strongroom with the log off and with it on, started in the order asked."""
    pair: dict[str, tuple[Target, str]] = {}
    order = ("on", "off") if on_first else ("off", "on")
    variable = _FEATURES[args.feature]
    others = {name: "0" for name in _FEATURES.values() if name != variable}
    for name in order:
        if name == "off":
            target = stack.enter_context(
                strongroom_server(args.workers, env={**others, variable: "0"})
            )
        else:
            target = stack.enter_context(
                strongroom_server(
                    args.workers,
                    env={**others, variable: "1", **on_env},
                    output=args.on_output,
                )
            )
        pair[name] = (target, _key_id(target))
    return {"off": pair["off"], "on": pair["on"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleaved", description=__doc__)
    parser.add_argument("--op", default="Encrypt")
    parser.add_argument(
        "--feature",
        choices=sorted(_FEATURES),
        default="log",
        help="what the two Strongroom servers differ in: the request log (default) or the audit"
        " trail; both have everything else off",
    )
    parser.add_argument("--seconds", type=float, default=60, help="each server's own time a run")
    parser.add_argument(
        "--warmup", type=float, default=3, help="each server's own seconds before counting"
    )
    parser.add_argument("--slice", type=float, default=0.5, help="seconds of each turn")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument(
        "--max-skew", type=int, default=4, help="as in benchmarks.ceiling: 4 is 18/14 at most"
    )
    parser.add_argument(
        "--on-env", default="", help="more environment for the server with the log on: A=1,B=2"
    )
    parser.add_argument(
        "--on-output",
        type=Path,
        help="where the server with the log on writes its output (default: a file of its own;"
        " /dev/null leaves out the kernel's page cache)",
    )
    parser.add_argument(
        "--same-servers",
        action="store_true",
        help="load one pair of Strongroom servers for every run (their own bias is then left"
        " out of the standard error); by default each run starts a new pair",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    on_env = dict(kv.split("=", 1) for kv in args.on_env.split(",") if kv)
    runs = []
    host = [app_speeds(args.shared)]  # before and after the runs: the host's speed drifts
    print(f"in process: {host[0]}", file=sys.stderr, flush=True)
    with ExitStack() as stack:
        model = stack.enter_context(model_server(args.shared, args.workers))
        pair: dict[str, tuple[Target, str]] = {}
        for n in range(args.runs):
            if not pair or not args.same_servers:
                # A new pair of servers each run (by default): a pair carries a bias of its own
                # (an A/A pair read -1.9%, the next +0.7%), which then varies from run to run
                # and is in the runs' spread; off and on start first in turn.
                pair_stack = ExitStack()
                stack.callback(pair_stack.close)
                pair = _start_pair(args, pair_stack, on_env, on_first=n % 2 == 1)
            targets = {"model": (model, MODEL_KEY_ID), **pair}
            for _ in range(60):
                run = one_run(args, targets)
                if run:
                    break
            else:
                raise SystemExit("60 loads in a row sat unevenly on the workers")
            if not args.same_servers:
                pair_stack.close()
            runs.append(run)
            cost = 1 - run["on"]["requests_per_s"] / run["off"]["requests_per_s"]
            print(
                f"run {n + 1}: "
                + ", ".join(
                    f"{name} {run[name]['requests_per_s']:,.0f}/s "
                    f"{run[name]['cpu_us_per_request']:.1f} us "
                    f"{run[name]['bytes_per_request']:.0f} B {run[name]['split']}"
                    for name in _NAMES
                )
                + f"; the {args.feature} costs {cost:.1%} (median cycle"
                f" {statistics.median(run['cycle_costs']):.1%})",
                file=sys.stderr,
                flush=True,
            )
    host.append(app_speeds(args.shared))
    costs = [1 - r["on"]["requests_per_s"] / r["off"]["requests_per_s"] for r in runs]
    summary = {
        "op": args.op,
        "feature": args.feature,
        "in_process_before_after": host,
        "runs": len(runs),
        "seconds_each": args.seconds,
        "slice": args.slice,
        **{
            f"{name}_requests_per_s": round(
                statistics.fmean(r[name]["requests_per_s"] for r in runs)
            )
            for name in _NAMES
        },
        "share_of_ceiling_log_off": round(
            statistics.fmean(
                r["off"]["requests_per_s"] / r["model"]["requests_per_s"] for r in runs
            ),
            3,
        ),
        "share_of_ceiling_log_on": round(
            statistics.fmean(
                r["on"]["requests_per_s"] / r["model"]["requests_per_s"] for r in runs
            ),
            3,
        ),
        "request_log_cost": round(statistics.fmean(costs), 4),
        "request_log_cost_by_run": [round(c, 4) for c in costs],
    }
    if len(costs) > 1:
        summary["request_log_cost_standard_error"] = round(
            statistics.stdev(costs) / len(costs) ** 0.5, 4
        )
    cycles = [cost for run in runs for cost in run["cycle_costs"]]
    summary["cycles"] = len(cycles)
    summary["request_log_cost_median_cycle"] = round(statistics.median(cycles), 4)
    summary["request_log_cost_cycle_quartiles"] = [
        round(q, 4) for q in statistics.quantiles(cycles, n=4)
    ]
    print(json.dumps(summary, indent=None if not args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
