"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``).

Each line is written whole with one ``write(2)`` to the worker's standard error, so lines from
several workers never interleave (POSIX writes of up to ``PIPE_BUF`` bytes to a pipe are atomic;
a longer line to a pipe may interleave, to a file opened for appending it does not). A line never
holds a secret: the record keeps none (``domain/record.py``), and any binary value that reaches
the encoder is written as ``null``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import orjson

from strongroom.domain.record import RequestRecord

__all__ = ["RequestLog"]

log = logging.getLogger("strongroom.server")


def _opaque(value: Any) -> None:
    """Anything orjson cannot write (binary values nested in parameters) is written as null."""
    return


class RequestLog:
    def __init__(self, fd: int = 2) -> None:
        self._fd = fd

    def write(self, record: RequestRecord) -> None:
        try:
            line = orjson.dumps(record.as_json(), default=_opaque, option=orjson.OPT_APPEND_NEWLINE)
            os.write(self._fd, line)
        except (OSError, TypeError):  # never fail a request for its log line
            log.exception("the request log line for %s could not be written", record.request_id)
