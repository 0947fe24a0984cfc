"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``), on the worker's standard error.

Lines are gathered and written every :data:`FLUSH_SECONDS` (and when the worker stops), so a
busy worker pays one system call for many lines. To a file each batch is one write; to a pipe
the batch is cut into writes of whole lines of at most ``PIPE_BUF`` bytes (a longer line alone),
so that lines from several workers never interleave. A line never holds a secret: the record
keeps none (``domain/record.py``), and any binary value that reaches the encoder is written as
``null``. This is a log, not the audit trail: the lines of the last fraction of a second of a
worker that is killed are lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import stat
from typing import Any

import orjson

from strongroom.domain.record import RequestRecord

__all__ = ["FLUSH_SECONDS", "RequestLog"]

log = logging.getLogger("strongroom.server")

FLUSH_SECONDS = 0.05
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)


def _opaque(value: Any) -> None:
    """Anything orjson cannot write (binary values nested in parameters) is written as null."""
    del value


class RequestLog:
    def __init__(self, fd: int = 2) -> None:
        self._fd = fd
        self._lines: list[bytes] = []
        try:
            to_file = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            to_file = False
        self._chunk = 1 << 30 if to_file else _PIPE_BUF

    def write(self, record: RequestRecord) -> None:
        """Queue the record's line; it is written with the others within FLUSH_SECONDS."""
        try:
            line = orjson.dumps(record.as_json(), default=_opaque, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # never fail a request for its log line
            log.exception("the request log line for %s could not be made", record.request_id)
            return
        if not self._lines:
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
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
            if chunk and size + len(line) > self._chunk:
                self._write(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
        except OSError:
            log.exception("the request log could not be written")
