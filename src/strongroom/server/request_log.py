"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``), on the worker's standard error.

The line (:func:`encode`) uses CloudTrail's names where CloudTrail has one (``requestId``,
``eventTime``, ``eventSource``, ``eventName``, ``awsRegion``, ``sourceIPAddress``,
``userAgent``, ``userIdentity``, ``requestParameters``, ``errorCode``), then ``decisions``
(each with its resource and what decided it), ``keyMaterialId``, ``status`` and ``durationMs``;
``errorCode`` only for a call that failed and ``tls`` only for one over TLS, as CloudTrail
writes them: docs/operations-guide.md.

The log is on every request's path, so a request only queues its record. Every
:data:`FLUSH_SECONDS`, when :data:`QUEUED` records wait, and when the worker stops, the queued
records are encoded together, one at a time into a buffer allocated once, and written: one write
to a file (per :data:`BUFFER_BYTES`); to a pipe, writes of whole lines of at most ``PIPE_BUF``
bytes (a longer line alone), so that lines from several workers never interleave. The parts that
repeat from call to call (the caller's identity; a decision with what decided it, which the
access memo hands out again) are encoded once and kept, by identity. Encoding the records
together is cheaper than encoding each as its request ends (measured in a loaded worker: about
5 against 6.5 us a line, the write included): the encoder's code stays in the processor's caches.

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
from typing import Any, TypeVar

import orjson

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.domain.record import Decided, RequestRecord, public_parameters

__all__ = ["BUFFER_BYTES", "FLUSH_SECONDS", "QUEUED", "RequestLog", "encode"]

log = logging.getLogger("strongroom.server")

FLUSH_SECONDS = 0.01
QUEUED = 4096  # records waiting at most; the next one writes them at once
BUFFER_BYTES = 1 << 20
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
_KEPT = 1024  # encoded parts kept per kind; the cache starts again when full
E = TypeVar("E")


def _opaque(value: Any) -> None:
    """Anything orjson cannot write (binary values nested in parameters) is written as null."""
    del value


# CloudTrail's userIdentity types for aws:PrincipalType's values.
_IDENTITY_TYPES = {
    PrincipalType.ACCOUNT: "Root",
    PrincipalType.USER: "IAMUser",
    PrincipalType.ASSUMED_ROLE: "AssumedRole",
}


def _identity(record: RequestRecord) -> dict[str, Any]:
    """Who called, as CloudTrail's ``userIdentity``: the principal, the access key it signed
    with, whether that key was temporary, the integrated service it came through."""
    identity: dict[str, Any] = {}
    who = record.principal
    if who is not None:
        identity["type"] = _IDENTITY_TYPES[who.type]
        identity["principalId"] = who.user_id
        identity["arn"] = who.arn
        identity["accountId"] = who.account
    if record.access_key_id is not None:
        identity["accessKeyId"] = record.access_key_id
    if record.session_credentials:
        identity["sessionCredentials"] = True
    if record.via_service is not None:
        identity["invokedBy"] = record.via_service
    return identity


def _decision(decided: Decided) -> dict[str, Any]:
    return {
        "action": decided.action,
        "resource": decided.resource,
        "allowed": decided.allowed,
        # What decided: each statement or grant as its str(): "key policy/Sid", "grant <id>".
        "by": [str(source) for source in decided.by],
    }


def _keep(parts: dict[int, E], value: object, entry: E) -> None:
    """Keep ``entry`` for ``value`` by its id; the cache starts again when full."""
    if len(parts) >= _KEPT:
        parts.clear()
    parts[id(value)] = entry


class _Encoder:
    """Record -> line. The parts that repeat from call to call are encoded once and kept: the
    caller's identity by its principal (with the access key, session and service it is checked
    against), each decision by its identity (the access memo hands the same one out again).
    Each is kept with its object, so that an id cannot be reused while its entry lives; a cache
    starts again when full. The look-ups are written out here: this runs once per request."""

    def __init__(self) -> None:
        self._identities: dict[
            int, tuple[Principal, str | None, bool, str | None, orjson.Fragment]
        ] = {}
        self._decisions: dict[int, tuple[Decided, orjson.Fragment]] = {}

    def __call__(self, record: RequestRecord) -> bytes:
        who = record.principal
        identity: orjson.Fragment | None
        if who is None:
            identity = (
                None
                if record.access_key_id is None
                else orjson.Fragment(orjson.dumps(_identity(record)))
            )
        else:
            found = self._identities.get(id(who))
            if (
                found is not None
                and found[0] is who
                and found[1] == record.access_key_id
                and found[2] == record.session_credentials
                and found[3] == record.via_service
            ):
                identity = found[4]
            else:
                identity = orjson.Fragment(orjson.dumps(_identity(record)))
                key = record.access_key_id, record.session_credentials, record.via_service
                _keep(self._identities, who, (who, *key, identity))
        decisions: list[orjson.Fragment] = []
        kept = self._decisions
        for decided in record.decisions:
            hit = kept.get(id(decided))
            if hit is not None and hit[0] is decided:
                decisions.append(hit[1])
            else:
                part = orjson.Fragment(orjson.dumps(_decision(decided)))
                _keep(kept, decided, (decided, part))
                decisions.append(part)
        request = record.request
        line = {
            "requestId": record.request_id,
            "eventTime": record.started,
            "eventSource": record.service,
            "eventName": record.action,
            "awsRegion": record.region,
            "sourceIPAddress": record.source_ip,
            "userAgent": record.user_agent,
            "userIdentity": identity,
            "decisions": decisions,
            "keyMaterialId": record.key_material_id,
            "requestParameters": None
            if request is None
            else public_parameters(request, record.hidden),
            "status": record.status,
            "durationMs": record.duration_ms,
        }
        if record.error_code is not None:
            line["errorCode"] = record.error_code
        if record.tls:
            line["tls"] = True
        return orjson.dumps(line, default=_opaque, option=orjson.OPT_APPEND_NEWLINE)


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
