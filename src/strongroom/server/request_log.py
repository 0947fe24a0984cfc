"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``), on the worker's standard error.

The line (:func:`encode`) uses CloudTrail's names where CloudTrail has one (``requestId``,
``eventTime``, ``eventSource``, ``eventName``, ``awsRegion``, ``sourceIPAddress``,
``userAgent``, ``requestParameters``, ``errorCode``), then ``tls``, ``principal``,
``accessKeyId``, ``sessionCredentials``, ``invokedBy``, ``decisions`` (each with what decided
it), ``resources``, ``keyMaterialId``, ``status`` and ``durationMs``: docs/operations-guide.md.

The log is on every request's path, so a request only queues its record. Every
:data:`FLUSH_SECONDS`, when :data:`QUEUED` records wait, and when the worker stops, the queued
records are encoded together, one at a time into a buffer allocated once, and written: one write
to a file (per :data:`BUFFER_BYTES`); to a pipe, writes of whole lines of at most ``PIPE_BUF``
bytes (a longer line alone), so that lines from several workers never interleave. The parts that
repeat from call to call (the principal; a decision with what decided it, which the access memo
hands out again) are encoded once and kept, by identity.

A line never holds a secret: it has the request's public parameters only (the record's
``parameters``: the model's sensitive and binary members and grant tokens left out), and any
binary value that reaches the encoder is written as ``null``. This is a log, not the audit
trail: the lines of the last fraction of a second of a worker that is killed are lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import stat
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from strongroom.domain.principal import Principal
from strongroom.domain.record import Decided, RequestRecord, public_parameters

__all__ = ["BUFFER_BYTES", "FLUSH_SECONDS", "QUEUED", "RequestLog", "encode"]

log = logging.getLogger("strongroom.server")

FLUSH_SECONDS = 0.01
QUEUED = 4096  # records waiting at most; the next one writes them at once
BUFFER_BYTES = 1 << 20
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
_KEPT = 1024  # encoded parts kept per kind; the cache starts again when full

T = TypeVar("T")


def _opaque(value: Any) -> None:
    """Anything orjson cannot write (binary values nested in parameters) is written as null."""
    del value


def _principal(principal: Principal) -> dict[str, str]:
    return {
        "arn": principal.arn,
        "type": principal.type.value,
        "accountId": principal.account,
        "principalId": principal.user_id,
    }


def _decision(decided: Decided) -> dict[str, Any]:
    return {
        "action": decided.action,
        "resource": decided.resource,
        "allowed": decided.allowed,
        # What decided: each statement or grant as its str(): "key policy/Sid", "grant <id>".
        "by": [str(source) for source in decided.by],
    }


_Parts = dict[int, tuple[T, orjson.Fragment]]


def _part(parts: _Parts[T], value: T, render: Callable[[T], Any]) -> orjson.Fragment:
    """``value`` encoded, kept in ``parts`` by its identity (with the value, so that its id
    cannot be reused while the entry lives); the cache starts again when full."""
    if len(parts) >= _KEPT:
        parts.clear()
    part = orjson.Fragment(orjson.dumps(render(value)))
    parts[id(value)] = (value, part)
    return part


class _Encoder:
    """Record -> line. The look-ups of kept parts are written out in :meth:`__call__`: it runs
    once per request, and a call less is a tenth of its cost."""

    def __init__(self) -> None:
        self._principals: _Parts[Principal] = {}
        self._decisions: _Parts[Decided] = {}

    def __call__(self, record: RequestRecord) -> bytes:
        principal: orjson.Fragment | None = None
        if record.principal is not None:
            hit = self._principals.get(id(record.principal))
            if hit is not None and hit[0] is record.principal:
                principal = hit[1]
            else:
                principal = _part(self._principals, record.principal, _principal)
        decisions: list[orjson.Fragment] = []
        kept = self._decisions
        for decided in record.decisions:
            found = kept.get(id(decided))
            decisions.append(
                found[1]
                if found is not None and found[0] is decided
                else _part(kept, decided, _decision)
            )
        request = record.request
        return orjson.dumps(
            {
                "requestId": record.request_id,
                "eventTime": record.started,
                "eventSource": record.service,
                "eventName": record.action,
                "awsRegion": record.region,
                "sourceIPAddress": record.source_ip,
                "userAgent": record.user_agent,
                "tls": record.tls,
                "principal": principal,
                "accessKeyId": record.access_key_id,
                "sessionCredentials": record.session_credentials,
                "invokedBy": record.via_service,
                "decisions": decisions,
                "resources": record.resources,
                "keyMaterialId": record.key_material_id,
                "requestParameters": None
                if request is None
                else public_parameters(request, record.hidden),
                "errorCode": record.error_code,
                "status": record.status,
                "durationMs": record.duration_ms,
            },
            default=_opaque,
            option=orjson.OPT_APPEND_NEWLINE,
        )


def encode(record: RequestRecord) -> bytes:
    """The record's log line, with its newline."""
    return _Encoder()(record)


class RequestLog:
    def __init__(self, fd: int = 2, buffer_bytes: int = BUFFER_BYTES) -> None:
        self._fd = fd
        self._encode = _Encoder()
        self._queued: list[RequestRecord] = []
        # Lines are encoded one at a time into this buffer, allocated once: memory that is
        # allocated and freed in bulk every flush costs a worker more than the encoding.
        self._buffer = bytearray(buffer_bytes)
        try:
            to_file = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            to_file = False
        self._chunk = buffer_bytes if to_file else _PIPE_BUF

    def write(self, record: RequestRecord) -> None:
        """Queue the record; its line is written with the others within FLUSH_SECONDS (until
        then the record holds the request; the line will hold its public parameters only)."""
        queued = self._queued
        queued.append(record)
        if len(queued) == 1:
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop (a test, a tool): write at once
                self.flush()
        elif len(queued) >= QUEUED:
            self.flush()

    def flush(self) -> None:
        records, self._queued = self._queued, []
        buffer = self._buffer
        used = 0
        for record in records:
            try:
                line = self._encode(record)
            except TypeError:  # never lose the other lines for one
                log.exception("the request log line for %s could not be made", record.request_id)
                continue
            end = used + len(line)
            if end > len(buffer):
                self._write_lines(used)
                used, end = 0, len(line)
                if end > len(buffer):  # a line longer than the buffer is written alone
                    self._write(line)
                    continue
            buffer[used:end] = line
            used = end
        self._write_lines(used)

    def _write_lines(self, used: int) -> None:
        """The buffer's first ``used`` bytes, in writes of whole lines of at most the chunk."""
        buffer = self._buffer
        data = memoryview(buffer)
        start = 0
        while start < used:
            end = used
            if end - start > self._chunk:
                cut = buffer.rfind(b"\n", start, start + self._chunk)
                # The last whole line that fits; a longer line is written alone.
                end = cut + 1 if cut >= 0 else buffer.index(b"\n", start) + 1
            self._write(data[start:end])
            start = end

    def _write(self, data: bytes | memoryview) -> None:
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
        except OSError:
            log.exception("the request log could not be written")
