"""The probe of ``benchmarks/log_windows.py``: imported by every interpreter whose PYTHONPATH
holds this directory, it acts only in a Strongroom worker started with the request log on and
``LOG_WINDOWS_STATS`` set.

The worker's log then takes turns by windows of ``LOG_WINDOWS_SECONDS``: a window with the log
off (records not queued), then one for each variant of ``server/request_log.py`` named in
``LOG_WINDOWS_VARIANTS`` (paths, loaded as modules of their own), round robin. A variant's
window ends with its flush, so the window pays for its own records. Each window's requests and
the worker's CPU time (``time.thread_time``) are summed by kind and written to
``LOG_WINDOWS_STATS/<pid>`` every second.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from types import ModuleType
from typing import Any


def _load(index: int, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_request_log_variant_{index}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install(stats_dir: str) -> None:
    # Here, not at the top: every interpreter on this PYTHONPATH imports this module.
    from strongroom.domain.record import RequestRecord  # noqa: PLC0415
    from strongroom.server import request_log  # noqa: PLC0415

    window = float(os.environ.get("LOG_WINDOWS_SECONDS", "0.1"))
    variants = [
        _load(i, path) for i, path in enumerate(os.environ["LOG_WINDOWS_VARIANTS"].split(","))
    ]
    logs: list[Any] = []
    kinds: list[int | None] = [None, *range(len(variants))]
    # By kind ("off", "0", "1", ...): requests, CPU seconds, windows.
    stats: dict[str, list[float]] = {str(k) if k is not None else "off": [0, 0.0, 0] for k in kinds}
    state: dict[str, Any] = {"turn": 0, "began": None, "requests": 0}

    def tick() -> None:
        kind = kinds[state["turn"]]
        if kind is not None:
            logs[kind].flush()
        now = time.thread_time()
        if state["began"] is not None and state["requests"] > 50:
            summed = stats["off" if kind is None else str(kind)]
            summed[0] += state["requests"]
            summed[1] += now - state["began"]
            summed[2] += 1
        state["turn"] = (state["turn"] + 1) % len(kinds)
        state["requests"] = 0
        state["began"] = time.thread_time()
        asyncio.get_running_loop().call_later(window, tick)

    def write(self: request_log.RequestLog, record: RequestRecord) -> None:
        if not logs:
            logs.extend(variant.RequestLog(self._fd) for variant in variants)
            asyncio.get_running_loop().call_later(window, tick)
        state["requests"] += 1
        kind = kinds[state["turn"]]
        if kind is not None:
            logs[kind].write(record)

    request_log.RequestLog.write = write  # type: ignore[method-assign]

    def dump() -> None:
        while True:
            time.sleep(1)
            with open(os.path.join(stats_dir, str(os.getpid())), "w") as out:
                out.write(repr(stats))

    threading.Thread(target=dump, daemon=True).start()


if os.environ.get("STRONGROOM_REQUEST_LOG") == "1" and os.environ.get("LOG_WINDOWS_STATS"):
    _install(os.environ["LOG_WINDOWS_STATS"])
