"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``), on the worker's standard error.

Lines made during one turn of the event loop are written together at the end of that turn, in
writes of whole lines of at most ``PIPE_BUF`` bytes (a longer line alone), so that lines from
several workers never interleave even on a pipe, and a busy worker pays one system call for
many lines. A line never holds a secret: the record keeps none (``domain/record.py``), and any
binary value that reaches the encoder is written as ``null``. This is a log, not the audit
trail: lines of a worker killed in mid-turn are lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
from typing import Any

import orjson

from strongroom.domain.record import RequestRecord

__all__ = ["RequestLog"]

log = logging.getLogger("strongroom.server")

_ATOMIC = getattr(select, "PIPE_BUF", 512)


def _opaque(value: Any) -> None:
    """Anything orjson cannot write (binary values nested in parameters) is written as null."""
    del value


class RequestLog:
    def __init__(self, fd: int = 2) -> None:
        self._fd = fd
        self._lines: list[bytes] = []

    def write(self, record: RequestRecord) -> None:
        """Queue the record's line; it is written at the end of this turn of the loop."""
        try:
            line = orjson.dumps(record.as_json(), default=_opaque, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # never fail a request for its log line
            log.exception("the request log line for %s could not be made", record.request_id)
            return
        if not self._lines:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (a test, a tool): write at once
                self._lines.append(line)
                self.flush()
                return
        self._lines.append(line)

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > _ATOMIC:
                self._write(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._fd, data)
        except OSError:
            log.exception("the request log could not be written")
