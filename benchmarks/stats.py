"""Figures from a run: requests/s and latency percentiles, as a table or JSON.

Percentiles use the nearest-rank method over every response of the measured phase.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict, dataclass

from benchmarks.wire import PhaseResult

__all__ = [
    "OpResult",
    "format_ratios",
    "format_table",
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
