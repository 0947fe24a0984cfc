"""Figures from a run: requests/s and latency percentiles, as a table or JSON.

Percentiles use the nearest-rank method over every response of the measured phase.
"""

from __future__ import annotations

import hmac
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import orjson

from benchmarks.wire import PhaseResult

__all__ = [
    "OpResult",
    "format_ratios",
    "format_table",
    "host_speed",
    "machine_info",
    "percentile",
    "ratios",
    "summarize",
]


@dataclass(frozen=True)
class OpResult:
    """One operation's figures against one target."""

    target: str
    operation: str
    concurrency: int
    requests: int
    errors: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    client_cpu_s: float
    first_error: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(sorted_ns: list[int], fraction: float) -> float:
    """Nearest-rank percentile of already sorted nanoseconds, in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(math.ceil(fraction * len(sorted_ns)), 1)
    return sorted_ns[rank - 1] / 1e6


def summarize(
    target: str, operation: str, concurrency: int, phase: PhaseResult, client_cpu_s: float
) -> OpResult:
    """Figures of one measured phase; ``client_cpu_s`` is the generator's own CPU time."""
    latencies = sorted(phase.latencies_ns[: phase.completed])
    rate = phase.completed / phase.duration_s if phase.duration_s > 0 else 0.0
    return OpResult(
        target=target,
        operation=operation,
        concurrency=concurrency,
        requests=phase.completed,
        errors=phase.errors,
        duration_s=round(phase.duration_s, 3),
        requests_per_s=round(rate, 1),
        p50_ms=round(percentile(latencies, 0.50), 3),
        p99_ms=round(percentile(latencies, 0.99), 3),
        client_cpu_s=round(client_cpu_s, 2),
        first_error=phase.first_error,
    )


def format_table(results: list[OpResult]) -> str:
    """A Markdown table, one row per target and operation."""
    lines = [
        "| target | operation | conns | requests | errors | duration s | requests/s "
        "| p50 ms | p99 ms | client CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r.target} | {r.operation} | {r.concurrency} | {r.requests} | {r.errors} "
        f"| {r.duration_s:.2f} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
        f"| {r.client_cpu_s:.2f} |"
        for r in results
    )
    return "\n".join(lines)


def ratios(results: list[OpResult], base: str, other: str) -> dict[str, float]:
    """requests/s of ``base`` divided by ``other``'s, per operation both ran."""
    by_key = {(r.target, r.operation): r for r in results}
    out: dict[str, float] = {}
    for (target, operation), result in by_key.items():
        peer = by_key.get((other, operation))
        if target == base and peer is not None and peer.requests_per_s > 0:
            out[operation] = round(result.requests_per_s / peer.requests_per_s, 1)
    return out


def format_ratios(values: dict[str, float], base: str, other: str) -> str:
    return "\n".join(f"{op}: {base} / {other} = {ratio:.1f}x" for op, ratio in values.items())


def machine_info() -> dict[str, object]:
    """nproc, the CPU model and the Python that ran the load generator."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


class _Slot:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


def _python_work(rounds: int) -> int:
    """Interpreter-bound work of the kind a request's Python does: calls, attribute reads,
    small dicts and strings."""
    seen: dict[int, str] = {}
    slot = _Slot(0)
    for i in range(rounds):
        slot.value = i
        seen[i & 63] = str(slot.value)
    return len(seen)


def host_speed() -> dict[str, float]:
    """How fast this host runs interpreted Python and calls into C, best of nine on the (idle)
    machine: a server whose work is mostly Python (Strongroom) and one whose work is mostly C
    (the model KMS) do not slow down alike from one host to the next, so a share of the
    model-KMS ceiling read on two hosts compares only beside these. ``python_ns``: one round of
    :func:`_python_work`; ``c_us``: a KMS request's body parsed and a response written by
    orjson and an HMAC-SHA256, the model's kind of work."""

    def best(work: Callable[[], object], rounds: int) -> float:
        times = []
        for _ in range(9):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times) / rounds

    body = orjson.dumps(
        {"KeyId": "alias/bench", "Plaintext": "A" * 44, "EncryptionContext": {"purpose": "x"}}
    )
    key = bytes(32)

    def c_work() -> None:
        for _ in range(20_000):
            parsed = orjson.loads(body)
            orjson.dumps(parsed)
            hmac.digest(key, body, "sha256")

    python_s = best(lambda: _python_work(200_000), 200_000)
    return {"python_ns": round(python_s * 1e9, 1), "c_us": round(best(c_work, 20_000) * 1e6, 3)}
