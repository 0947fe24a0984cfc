"""The request log: one JSON line per API call, the call's :class:`RequestRecord` (setting
``request_log``; ``strongroom serve --request-log``), on the worker's standard error.

The line (:func:`encode`) uses CloudTrail's names and formats where CloudTrail has them
(``requestId``, ``eventTime``, ``requestParameters``, ``errorCode``, ``eventSource``,
``eventName``, ``awsRegion``, ``sourceIPAddress``, ``userAgent``, ``userIdentity``), with
``status``, ``durationMs``, ``decisions`` (each with its resource and what decided it) and
``keyMaterialId``; ``errorCode`` only for a call that failed and ``tls`` only for one over TLS,
as CloudTrail writes them: docs/operations-guide.md.

The log is on every request's path, so a request only queues its record. Every
:data:`FLUSH_SECONDS` (and when :data:`QUEUED` records wait) the queued records are encoded
together and let go. Their lines wait until :data:`WRITE_BYTES` of them do, or the oldest has
waited :data:`WRITE_SECONDS`, or the worker stops, and are then written: one write to a file
(per :data:`BUFFER_BYTES`); to a pipe, writes of whole lines of at most ``PIPE_BUF`` bytes (a
longer line alone), so that lines from several workers never interleave. A write to a file
costs tens of microseconds beyond its bytes: writing every 50 ms or 256 KiB instead of every
10 ms cost a loaded worker about 1.5 us a request less (benchmarks/RESULTS.md). The records are
not held longer than a tick: held for 20 ms they cost more.

The members that repeat from call to call (the operation, the caller's identity, the
decisions, the key material) are encoded once and kept (:class:`_Encoder`). Encoding the
records together is cheaper than encoding each as its request ends (measured in a loaded
worker: about 5 against 6.5 us a line, the write included): the encoder's code stays in the
processor's caches.

A line never holds a secret: it has the request's public parameters only (the record's
``parameters``: the model's sensitive and binary members and grant tokens left out), and any
binary value that reaches the encoder is written as ``null``. This is a log, not the audit
trail: the lines of the last tenth of a second of a worker that is killed are lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import stat
import time
from typing import Any

import orjson

from strongroom.domain.principal import PrincipalType
from strongroom.domain.record import Decided, RequestRecord, public_parameters

__all__ = [
    "BUFFER_BYTES",
    "FLUSH_SECONDS",
    "QUEUED",
    "WRITE_BYTES",
    "WRITE_SECONDS",
    "RequestLog",
    "encode",
]

log = logging.getLogger("strongroom.server")

FLUSH_SECONDS = 0.01  # records wait at most about this long before their lines are made
QUEUED = 4096  # records waiting at most; the next one has their lines made at once
WRITE_SECONDS = 0.05  # lines wait at most about this long (and a tick) before they are written
WRITE_BYTES = 1 << 18  # ... or until this many bytes of them wait
BUFFER_BYTES = 1 << 20  # a write to a file holds at most this many bytes of whole lines
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
_KEPT = 1024  # encoded parts kept per kind; the cache starts again when full


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


# The members that repeat from call to call, keyed by what they are made of: the principal
# and the decisions by their identity (each kept alive with its entry, so that an id cannot be
# reused while the entry lives), the rest by value.
_ContextKey = tuple[object, ...]
_FIRST_KEPT = b'{"eventSource":'


class _Encoder:
    """Records -> lines. A line is one orjson call on a dict of six members: those of the call
    alone (request id, time, parameters, status, duration), then ``eventSource``, whose value
    is a fragment kept from an earlier line: the members that repeat from call to call (the
    operation, who called and how, what was decided, the key material), encoded once, with the
    value of ``eventSource`` first. The look-ups are written out here: this runs once per
    request. A line costs a loaded worker about 3.3 us, against 5 us for one fresh dict of every
    member (benchmarks/RESULTS.md). A record whose repeating members equal the record before's
    (most of a flush) takes its fragment without a look-up: comparing the members costs fewer
    instructions than hashing them (10,800 a record against 12,900 with the log's flush,
    ``benchmarks/log_instructions.py``)."""

    def __init__(self) -> None:
        self._contexts: dict[_ContextKey, tuple[object, tuple[Decided, ...], orjson.Fragment]] = {}
        # The second last written: [start, end) and its eventTime as CloudTrail writes it.
        self._second: tuple[float, float, str] = (0.0, 0.0, "")

    def lines(self, records: list[RequestRecord]) -> bytes:
        """The records' lines, each ending in a newline; a record whose line cannot be made is
        logged as such and left out, never the others."""
        lines: list[bytes] = []
        append = lines.append
        # The repeating members of the record before: most records share them, and comparing
        # them (a tuple, identity first) costs less than hashing them.
        last: tuple[object, ...] = ()
        context: orjson.Fragment | None = None
        begins, ends, event_time = self._second
        for record in records:
            decided = record.decisions
            members = (
                record.principal,
                record.access_key_id,
                record.session_credentials,
                record.via_service,
                record.service,
                record.action,
                record.region,
                record.source_ip,
                record.user_agent,
                record.key_material_id,
                record.tls,
                decided[0] if len(decided) == 1 else tuple(decided),
            )
            if members != last:
                context = self._kept(record, members)
                last = members
            started = record.started
            if not begins <= started < ends:
                begins, ends, event_time = self._second = _second(started)
            request = record.request
            if request is not None:
                request = public_parameters(request, record.hidden)
            item = {
                "requestId": record.request_id,
                "eventTime": event_time,
                "requestParameters": request,
                "status": record.status,
                "durationMs": record.duration_ms,
                "eventSource": context,
            }
            if record.error_code is not None:
                item["errorCode"] = record.error_code
            try:
                append(orjson.dumps(item, default=_opaque, option=orjson.OPT_APPEND_NEWLINE))
            except TypeError:  # never lose the other lines for one
                log.exception("the request log line for %s could not be made", record.request_id)
        return b"".join(lines)

    def _kept(self, record: RequestRecord, members: tuple[object, ...]) -> orjson.Fragment:
        """The fragment of ``members`` (those of ``record``), kept or made now."""
        decided = record.decisions
        key = (
            id(members[0]),
            *members[1:11],
            id(decided[0]) if len(decided) == 1 else tuple(map(id, decided)),
        )
        found = self._contexts.get(key)
        return self._context(record, key) if found is None else found[2]

    def _context(self, record: RequestRecord, key: _ContextKey) -> orjson.Fragment:
        decided = tuple(record.decisions)
        members: dict[str, Any] = {
            "eventSource": record.service,
            "eventName": record.action,
            "awsRegion": record.region,
            "sourceIPAddress": record.source_ip,
            "userAgent": record.user_agent,
            "userIdentity": None
            if record.principal is None and record.access_key_id is None
            else _identity(record),
            "decisions": [_decision(d) for d in decided],
            "keyMaterialId": record.key_material_id,
        }
        if record.tls:
            members["tls"] = True
        context = orjson.Fragment(orjson.dumps(members)[len(_FIRST_KEPT) : -1])
        if len(self._contexts) >= _KEPT:
            self._contexts.clear()
        self._contexts[key] = (record.principal, decided, context)
        return context


def _second(started: float) -> tuple[float, float, str]:
    """The second ``started`` falls in, and its ``eventTime`` as CloudTrail writes it."""
    second = float(int(started))
    return second, second + 1.0, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def encode(record: RequestRecord) -> bytes:
    """The record's log line, with its newline."""
    return _Encoder().lines([record])


class RequestLog:
    def __init__(self, fd: int = 2, buffer_bytes: int = BUFFER_BYTES) -> None:
        self._fd = fd
        self._encoder = _Encoder()
        self._queued: list[RequestRecord] = []
        self._lines: list[bytes] = []  # made, not yet written
        self._held = 0  # their bytes
        self._since = 0.0  # when the oldest of them was made (the loop's clock)
        self._ticking = False
        try:
            to_file = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            to_file = False
        # Each write holds whole lines: to a file, at most buffer_bytes of them; to a pipe, at
        # most PIPE_BUF, so that lines from several workers never interleave (a longer line
        # goes alone).
        self._chunk = buffer_bytes if to_file else _PIPE_BUF

    def write(self, record: RequestRecord) -> None:
        """Queue the record; its line is made within FLUSH_SECONDS and written within about
        WRITE_SECONDS more (until its line is made the record holds the request; the line
        holds its public parameters only)."""
        queued = self._queued
        queued.append(record)
        if not self._ticking:
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._tick)
            except RuntimeError:  # no loop (a test, a tool): write at once
                self.flush()
                return
            self._ticking = True
        elif len(queued) >= QUEUED:
            self._encode()

    def flush(self) -> None:
        """Make the lines of every queued record and write every line waiting (the worker
        stops)."""
        if self._queued:
            self._encode()
        self._out()

    def _tick(self) -> None:
        self._ticking = False
        if self._queued:
            self._encode()
        if not self._lines:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._since >= WRITE_SECONDS:
            self._out()
        else:
            loop.call_later(FLUSH_SECONDS, self._tick)
            self._ticking = True

    def _encode(self) -> None:
        records, self._queued = self._queued, []
        data = self._encoder.lines(records)
        if not self._lines:
            try:
                self._since = asyncio.get_running_loop().time()
            except RuntimeError:
                self._since = 0.0
        self._lines.append(data)
        self._held += len(data)
        if self._held >= WRITE_BYTES:
            self._out()

    def _out(self) -> None:
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines, self._held = [], 0
        chunk = self._chunk
        if len(data) <= chunk:
            self._write(data)
            return
        view = memoryview(data)
        start = 0
        while start < len(data):
            end = len(data)
            if end - start > chunk:
                cut = data.rfind(b"\n", start, start + chunk)
                # The last whole line that fits; a longer line is written alone.
                end = cut + 1 if cut >= 0 else data.index(b"\n", start) + 1
            self._write(view[start:end])
            start = end

    def _write(self, data: bytes | memoryview) -> None:
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
        except OSError:
            log.exception("the request log could not be written")
