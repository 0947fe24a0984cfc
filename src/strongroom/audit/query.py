"""Reading the trail back: filters over events (``EventFilter``), a streaming query, the last N
matching events and following the trail as it grows (``strongroom audit query`` / ``tail``).

A trail is read through an :class:`EventSource`: a directory's segment files (:class:`FileEvents`)
or the database trail's rows (``audit.dbtrail.DbTrailSource``), whose lines are the same bytes.
Everything streams: a segment is read line by line (rows a page at a time), a line is parsed only
when a cheap byte test says it may match (every event is serialised by orjson, so a value the
filter needs must appear in the line as orjson writes it), and nothing holds more than the events
it is asked for. A last line still being written (no newline yet) is never read; a follower picks
it up once it is complete.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import orjson

from strongroom.audit.format import SEGMENTS, numbered, parse_line, segment_name, utc_time
from strongroom.audit.stored import StoredFile, archive_dir_of, archived_name, stored_segments

__all__ = [
    "ANY_ERROR",
    "EventFilter",
    "EventSource",
    "FileEvents",
    "FilePlace",
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
M = TypeVar("M")


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


class EventSource(Protocol[M]):
    """A trail as :func:`query`, :func:`last_events` and :class:`Follower` read it: numbered
    segments of complete lines, oldest first, and the lines committed after a reader's place
    (``M``, the source's own: a segment and a byte offset in a directory, :class:`FileEvents`;
    a seq in the database, ``audit.dbtrail.DbTrailSource``). Each line is a trail line
    (``audit/format.py``), byte for byte the same in either."""

    def segment_numbers(self) -> Sequence[int]:
        """Every segment's number (archived ones included), oldest first."""
        ...

    def segment_lines(self, number: int) -> Iterator[bytes]:
        """The complete lines of segment ``number``, in order (none if it is gone)."""
        ...

    def start_of(self, number: int) -> M:
        """The place just before segment ``number``'s first line (0: before the trail's)."""
        ...

    def lines_after(self, mark: M) -> Iterator[tuple[M, bytes]]:
        """Each complete line committed after ``mark``, in order, with the place just after
        it; a follower moves into newer segments as they appear."""
        ...


def _matching_event(line: bytes, wanted: EventFilter) -> dict[str, Any] | None:
    """The event of ``line`` if it matches ``wanted`` (parsed only when the byte test passes);
    :class:`~strongroom.audit.format.LineError` if a line that may match is not a trail line."""
    if not wanted.may_match(line):
        return None
    event = parse_line(line).event()
    return event if wanted.matches(event) else None


def _matching(
    source: EventSource[Any], number: int, wanted: EventFilter
) -> Iterator[dict[str, Any]]:
    for line in source.segment_lines(number):
        event = _matching_event(line, wanted)
        if event is not None:
            yield event


def _complete(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines up to a last one still being written (no newline yet), which is left out."""
    for line in lines:
        if not line.endswith(b"\n"):
            return
        yield line


@dataclass(frozen=True, slots=True)
class FilePlace:
    """A reader's place in a trail directory: a segment and the byte after the last complete
    line it read (segment 0: before the first segment)."""

    segment: int = 0
    offset: int = 0


class FileEvents:
    """A trail directory and its archive (``archive``: default, where the trail says) as an
    :class:`EventSource`: archived segments are read from the archive, a follower reads the
    live ones."""

    def __init__(self, directory: Path | str, archive: Path | str | None = None) -> None:
        self.directory = Path(directory)
        self.archive = Path(archive) if archive is not None else None

    def segment_numbers(self) -> list[int]:
        return [stored.number for stored in stored_segments(self.directory, self.archive)]

    def segment_lines(self, number: int) -> Iterator[bytes]:
        archive = self.archive if self.archive is not None else archive_dir_of(self.directory)
        stored = StoredFile(
            number,
            segment_name(number),
            self.directory / SEGMENTS / segment_name(number),
            archive / archived_name(SEGMENTS, number),
            live=True,
            archived=False,
        )
        try:
            f = stored.open()
        except FileNotFoundError:
            return
        with f:
            yield from _complete(f)

    def start_of(self, number: int) -> FilePlace:
        return FilePlace(number, 0)

    def lines_after(self, mark: FilePlace) -> Iterator[tuple[FilePlace, bytes]]:
        segment, offset = mark.segment, mark.offset
        while True:
            newer = [n for n, _ in numbered(self.directory, SEGMENTS) if n > segment]
            # Drain the current segment before moving on: once a newer one exists, no writer
            # appends to it again.
            for line in self._live_lines(segment, offset):
                offset += len(line)
                yield FilePlace(segment, offset), line
            if not newer:
                return
            segment, offset = newer[0], 0

    def _live_lines(self, segment: int, offset: int) -> Iterator[bytes]:
        if segment == 0:
            return
        path = self.directory / SEGMENTS / segment_name(segment)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            return
        with f:
            # A writer may cut back a line it could not sync: never past the end.
            f.seek(min(offset, os.fstat(f.fileno()).st_size))
            yield from _complete(f)


def query(
    source: EventSource[Any], wanted: EventFilter, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The matching events in seq order, at most ``limit``, read as they are needed (the
    archived segments' first)."""
    if limit is not None and limit <= 0:
        return
    count = 0
    for number in source.segment_numbers():
        for event in _matching(source, number, wanted):
            yield event
            count += 1
            if count == limit:
                return


@dataclass(slots=True)
class Follower(Generic[M]):
    """Where a reader stands in a trail (``mark``, after the last complete line it read).
    :meth:`poll` returns the matching events committed since."""

    source: EventSource[M]
    wanted: EventFilter
    mark: M

    def poll(self) -> list[dict[str, Any]]:
        return list(self._read(keep=None))

    def _read(self, keep: int | None) -> deque[dict[str, Any]]:
        """The matching events committed after the reader's place (the last ``keep`` of them
        when given), moving the reader past them."""
        events: deque[dict[str, Any]] = deque(maxlen=keep)
        for mark, line in self.source.lines_after(self.mark):
            self.mark = mark
            event = _matching_event(line, self.wanted)
            if event is not None:
                events.append(event)
        return events


def last_events(
    source: EventSource[M], wanted: EventFilter, count: int
) -> tuple[list[dict[str, Any]], Follower[M]]:
    """The last ``count`` matching events (oldest first) and a :class:`Follower` standing at
    the trail's end: segments are read from the newest back (into the archive if need be),
    only as far as needed, keeping at most ``count`` events."""
    count = max(count, 0)
    numbers = source.segment_numbers()
    follower = Follower(source, wanted, source.start_of(numbers[-1] if numbers else 0))
    kept = follower._read(keep=count)
    for number in reversed(numbers[:-1]):
        if len(kept) >= count:
            break
        older: deque[dict[str, Any]] = deque(maxlen=count - len(kept))
        older.extend(_matching(source, number, wanted))
        kept.extendleft(reversed(older))
    return list(kept), follower
