"""Reading the trail back: filters over events (``EventFilter``), a streaming query, the last N
matching events and following the trail as it grows (``strongroom audit query`` / ``tail``).

Everything streams: a segment is read line by line, a line is parsed only when a cheap byte test
says it may match (every event is serialised by orjson, so a value the filter needs must appear
in the line as orjson writes it), and nothing holds more than the events it is asked for.
A last line still being written (no newline yet) is never read; a follower picks it up once it
is complete.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from strongroom.audit.format import SEGMENTS, numbered, parse_line, segment_name, utc_time
from strongroom.audit.stored import StoredFile, stored_segments

__all__ = [
    "ANY_ERROR",
    "EventFilter",
    "Follower",
    "event_key",
    "event_principal",
    "last_events",
    "parse_time",
    "query",
]

ANY_ERROR = "*"
_RELATIVE = re.compile(r"-(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC when it names no zone) or one relative to ``now``: ``-30s``,
    ``-30m``, ``-1h``, ``-2d``, ``-1w``. :class:`ValueError` otherwise."""
    relative = _RELATIVE.fullmatch(value.strip())
    if relative:
        amount, unit = relative.groups()
        base = now if now is not None else datetime.now(UTC)
        return base - timedelta(**{_UNITS[unit]: int(amount)})
    parsed = utc_time(value.strip())
    if parsed is None:
        raise ValueError(f"{value!r} is not an ISO 8601 time nor one like -30m, -1h, -2d")
    return parsed


def _json_text(value: str) -> bytes:
    """``value`` as it appears inside an orjson string (escapes included, no quotes)."""
    return orjson.dumps(value)[1:-1]


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _key_names(event: Mapping[str, Any]) -> Iterator[str]:
    for resource in event.get("resources") or ():
        arn = _dict(resource).get("ARN")
        if isinstance(arn, str):
            yield arn
    for holder in ("requestParameters", "serviceEventDetails"):
        key_id = _dict(event.get(holder)).get("keyId")
        if isinstance(key_id, str):
            yield key_id


def _names_key(name: str, wanted: str) -> bool:
    """A key id, key ARN, alias name or alias ARN; a bare id or alias name matches the ARN
    that ends with it (``…:key/<id>``, ``…:alias/<name>``)."""
    return name == wanted or name.endswith((f"/{wanted}", f":{wanted}"))


def event_key(event: Mapping[str, Any]) -> str:
    """The key an event is about, for display: its first resource's ARN, else the
    ``keyId`` it was called with; ``""`` when it names none."""
    return next(_key_names(event), "")


def _principal_names(identity: Mapping[str, Any]) -> Iterator[str]:
    arn = identity.get("arn")
    if isinstance(arn, str):
        yield arn
        if ":assumed-role/" in arn:
            yield arn.rsplit("/", 1)[-1]  # the session name
    issuer = _dict(_dict(identity.get("sessionContext")).get("sessionIssuer"))
    for name in (identity.get("userName"), issuer.get("arn"), issuer.get("userName")):
        if isinstance(name, str):
            yield name


def event_principal(event: Mapping[str, Any]) -> str:
    """Who made the call, for display: the identity's ARN, else the service that made the
    change (``AWS Internal``) or its type."""
    identity = _dict(event.get("userIdentity"))
    for member in ("arn", "invokedBy", "type"):
        value = identity.get(member)
        if isinstance(value, str):
            return value
    return ""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Conditions that must all hold (AND); within ``event_names`` any one (OR). An empty
    filter matches every event. ``error`` is ``None`` (any outcome), :data:`ANY_ERROR` (failed
    calls) or an error code."""

    event_names: frozenset[str] = frozenset()
    key: str | None = None
    principal: str | None = None
    access_key_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    error: str | None = None
    context: tuple[tuple[str, str], ...] = ()
    account: str | None = None
    _needles: tuple[tuple[bytes, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        groups: list[tuple[bytes, ...]] = []
        if self.event_names:
            groups.append(tuple(b'"eventName":"%b"' % _json_text(n) for n in self.event_names))
        for value in (self.key, self.principal, self.access_key_id, self.account):
            if value:
                groups.append((_json_text(value),))
        if self.error is not None:
            code = b"" if self.error == ANY_ERROR else _json_text(self.error)
            groups.append((b'"errorCode":"' + code,))
        groups.extend(((b'"%b":"%b"' % (_json_text(k), _json_text(v))),) for k, v in self.context)
        object.__setattr__(self, "_needles", tuple(groups))

    def may_match(self, line: bytes) -> bool:
        """A quick test on the line's bytes: ``False`` only when the event cannot match."""
        return all(any(n in line for n in group) for group in self._needles)

    def matches(self, event: Mapping[str, Any]) -> bool:
        return all(test(event) for test in self._tests())

    def _tests(self) -> Iterator[Callable[[Mapping[str, Any]], bool]]:
        if self.event_names:
            yield lambda e: e.get("eventName") in self.event_names
        if self.account is not None:
            yield lambda e: e.get("recipientAccountId") == self.account
        if self.error is not None:
            yield self._error_matches
        if self.access_key_id is not None:
            yield lambda e: _dict(e.get("userIdentity")).get("accessKeyId") == self.access_key_id
        if self.principal is not None:
            who = self.principal
            yield lambda e: who in _principal_names(_dict(e.get("userIdentity")))
        if self.key is not None:
            wanted = self.key
            yield lambda e: any(_names_key(name, wanted) for name in _key_names(e))
        if self.context:
            yield self._context_matches
        if self.start is not None or self.end is not None:
            yield self._time_matches

    def _error_matches(self, event: Mapping[str, Any]) -> bool:
        code = event.get("errorCode")
        return code is not None and self.error in (ANY_ERROR, code)

    def _context_matches(self, event: Mapping[str, Any]) -> bool:
        context = _dict(_dict(event.get("requestParameters")).get("encryptionContext"))
        return all(context.get(k) == v for k, v in self.context)

    def _time_matches(self, event: Mapping[str, Any]) -> bool:
        when = utc_time(event.get("eventTime"))
        if when is None:
            return False
        return not ((self.start and when < self.start) or (self.end and when > self.end))


def _scan(
    source: Path | StoredFile, wanted: EventFilter, offset: int = 0
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(end offset, event or None)`` for each complete line from ``offset`` on: the event
    when it matches, ``None`` when not. A segment that vanished reads as empty."""
    try:
        f = source.open("rb") if isinstance(source, Path) else source.open()
    except FileNotFoundError:
        return
    with f:
        f.seek(offset)
        for line in f:
            if not line.endswith(b"\n"):
                return
            offset += len(line)
            event = parse_line(line).event() if wanted.may_match(line) else None
            yield offset, (event if event is not None and wanted.matches(event) else None)


def _matching(source: StoredFile, wanted: EventFilter) -> Iterator[dict[str, Any]]:
    return (event for _, event in _scan(source, wanted) if event is not None)


def query(
    directory: Path,
    wanted: EventFilter,
    limit: int | None = None,
    *,
    archive: Path | None = None,
) -> Iterator[dict[str, Any]]:
    """The matching events in seq order, at most ``limit``, read as they are needed; the
    archived segments' first (``archive``: default, where the trail says)."""
    if limit is not None and limit <= 0:
        return
    count = 0
    for stored in stored_segments(directory, archive):
        for event in _matching(stored, wanted):
            yield event
            count += 1
            if count == limit:
                return


@dataclass(slots=True)
class Follower:
    """Where a reader stands in a trail: a segment and the byte after the last complete line
    it read. :meth:`poll` returns the matching events committed since."""

    directory: Path
    wanted: EventFilter
    segment: int = 0  # 0: before the first segment
    offset: int = 0

    def poll(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            newer = [n for n, _ in numbered(self.directory, SEGMENTS) if n > self.segment]
            # Drain the current segment before moving on: once a newer one exists, no writer
            # appends to it again.
            found.extend(self._read(keep=None))
            if not newer:
                return found
            self.segment, self.offset = newer[0], 0

    def _read(self, keep: int | None) -> deque[dict[str, Any]]:
        """The matching events of the current segment from where the reader stands (the last
        ``keep`` of them when given), moving the reader to its last complete line."""
        events: deque[dict[str, Any]] = deque(maxlen=keep)
        if self.segment == 0:
            return events
        path = self.directory / SEGMENTS / segment_name(self.segment)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            return events
        self.offset = min(self.offset, size)  # a writer may cut back a line it could not sync
        if size == self.offset:
            return events
        for end, event in _scan(path, self.wanted, self.offset):
            self.offset = end
            if event is not None:
                events.append(event)
        return events


def last_events(
    directory: Path, wanted: EventFilter, count: int, *, archive: Path | None = None
) -> tuple[list[dict[str, Any]], Follower]:
    """The last ``count`` matching events (oldest first) and a :class:`Follower` standing at
    the trail's end: segments are read from the newest back (into the archive if need be),
    only as far as needed, keeping at most ``count`` events."""
    count = max(count, 0)
    segments = stored_segments(directory, archive)
    follower = Follower(directory, wanted, segments[-1].number if segments else 0)
    kept = follower._read(keep=count)
    for stored in reversed(segments[:-1]):
        if len(kept) >= count:
            break
        older: deque[dict[str, Any]] = deque(maxlen=count - len(kept))
        older.extend(_matching(stored, wanted))
        kept.extendleft(reversed(older))
    return list(kept), follower
