"""Reading the trail for its index: the lines after a position, each as an
:class:`~strongroom.domain.trail_index.IndexedEvent` (what a lookup filters on, and where the
line is), and one line read back from where the index says it is.

The reader follows segments by number from where the index stopped (a segment and a byte offset
in it): no listing of the folder while the current segment still has lines, no line read twice.
A last line still being written (no newline yet) is left for the next call.
"""

from __future__ import annotations

import calendar
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from strongroom.audit.format import LineError, parse_line
from strongroom.audit.stored import open_segment, stored_segments
from strongroom.domain.trail_index import IndexedEvent, IndexPosition

__all__ = [
    "FileIndexSource",
    "IndexSource",
    "event_at",
    "event_of",
    "events_at",
    "indexed",
    "read_after",
]

_CHUNK = 8 << 20  # bytes read at once; a line is far shorter (a request body is at most 1 MiB)
_times: dict[str, float] = {}  # eventTime text -> epoch (events of one second share it)


def _epoch(text: object) -> float:
    if not isinstance(text, str):
        return 0.0
    found = _times.get(text)
    if found is None:
        if len(_times) > 4096:
            _times.clear()
        try:
            found = float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
        except ValueError:
            found = 0.0
        _times[text] = found
    return found


def _username(identity: Mapping[str, Any]) -> str | None:
    """CloudTrail's ``Username`` of an event: an IAM user's name, ``root``, a role session's
    name; none for another account's copy or a service event."""
    kind = identity.get("type")
    if kind == "IAMUser":
        name = identity.get("userName")
        return name if isinstance(name, str) else None
    if kind == "Root":
        return "root"
    arn = identity.get("arn")
    if kind == "AssumedRole" and isinstance(arn, str):
        return arn.rsplit("/", 1)[-1]
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def indexed(
    event: Mapping[str, Any], seq: int, segment: int, offset: int, length: int
) -> IndexedEvent:
    """The index row of one event, found at ``offset`` (``length`` bytes) of ``segment``."""
    identity = event.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    resources = event.get("resources")
    named = tuple(
        (str(r.get("type", "")), str(r["ARN"]))
        for r in (resources if isinstance(resources, list) else [])
        if isinstance(r, dict) and isinstance(r.get("ARN"), str)
    )
    return IndexedEvent(
        seq=seq,
        event_time=_epoch(event.get("eventTime")),
        account=_text(event.get("recipientAccountId")) or "",
        event_name=_text(event.get("eventName")) or "",
        event_source=_text(event.get("eventSource")) or "",
        read_only=event.get("readOnly") is True,
        username=_username(identity),
        principal_arn=_text(identity.get("arn")),
        access_key_id=_text(identity.get("accessKeyId")),
        event_id=_text(event.get("eventID")) or "",
        request_id=_text(event.get("requestID")),
        error_code=_text(event.get("errorCode")),
        segment=segment,
        offset=offset,
        length=length,
        resources=named,
    )


def _lines(directory: Path, number: int, offset: int) -> list[tuple[int, bytes]]:
    """The complete lines of segment ``number`` (live or archived) from byte ``offset`` (up to
    ``_CHUNK`` bytes of them), with their offsets."""
    try:
        with open_segment(directory, number) as f:
            f.seek(offset)
            data = f.read(_CHUNK)
    except FileNotFoundError:
        return []
    found: list[tuple[int, bytes]] = []
    start = 0
    while (end := data.find(b"\n", start)) >= 0:
        found.append((offset + start, data[start : end + 1]))
        start = end + 1
    return found


def read_after(
    directory: Path | str, position: IndexPosition, limit: int = 2000
) -> tuple[list[IndexedEvent], IndexPosition]:
    """Up to ``limit`` events after ``position``, and the position after them. Lines must carry
    the seqs that follow ``position.seq``; a line out of order stops the read (``audit verify``
    is the tool that says what is wrong with a trail), so the index never skips or repeats."""
    directory = Path(directory)
    events: list[IndexedEvent] = []
    seq, number, offset = position.seq, position.segment, position.offset
    since = position.tracking_since
    while len(events) < limit:
        lines = _lines(directory, number, offset) if number else []
        if not lines:
            following = [s.number for s in stored_segments(directory) if s.number > number]
            if not following:
                break
            number, offset = following[0], 0
            continue
        for at, line in lines:
            try:
                parsed = parse_line(line)
                event = parsed.event()
            except LineError:
                return events, IndexPosition(seq, number, offset, since)
            if parsed.seq != seq + 1:
                return events, IndexPosition(seq, number, offset, since)
            row = indexed(event, parsed.seq, number, at, len(line))
            if since is None:
                since = row.event_time
            events.append(row)
            seq, offset = parsed.seq, at + len(line)
            if len(events) >= limit:
                break
    return events, IndexPosition(seq, number, offset, since)


def event_at(directory: Path | str, row: IndexedEvent) -> dict[str, Any] | None:
    """The event an index row points at, read from just its line; None if the line there is not
    that event any more (a segment cut back after a failed write, a trail replaced)."""
    return events_at(directory, [row])[0]


def events_at(directory: Path | str, rows: Sequence[IndexedEvent]) -> list[dict[str, Any] | None]:
    """:func:`event_at` of each row. A live segment's line is read where it is; an archived
    segment is decompressed once for all the rows in it, up to the last of their lines (the
    index keeps the rows of archived events: GetKeyLastUsage answers from them, and a lookup
    reads them from the archive)."""
    directory = Path(directory)
    found: list[dict[str, Any] | None] = [None] * len(rows)
    by_segment: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        by_segment.setdefault(row.segment, []).append(index)
    for number, indexes in by_segment.items():
        indexes.sort(key=lambda i: rows[i].offset)
        try:
            with open_segment(directory, number) as f:
                for index in indexes:
                    row = rows[index]
                    f.seek(row.offset)
                    found[index] = event_of(f.read(row.length), row)
        except (OSError, EOFError, zlib.error):
            continue  # gone, or an archive copy that cannot be read: audit verify says why
    return found


def event_of(line: bytes, row: IndexedEvent) -> dict[str, Any] | None:
    """The event of ``line`` if it is the one ``row`` indexed (its seq and eventID), else None."""
    try:
        parsed = parse_line(line)
        event = parsed.event()
    except LineError:
        return None
    if parsed.seq != row.seq or event.get("eventID") != row.event_id:
        return None
    return event


class IndexSource(Protocol):
    """Where the indexer reads a trail: a directory (:class:`FileIndexSource`) or the database
    (``audit.dbtrail.DbTrail``)."""

    def read_after(
        self, position: IndexPosition, limit: int = 2000
    ) -> tuple[list[IndexedEvent], IndexPosition]: ...

    def event_at(self, row: IndexedEvent) -> dict[str, Any] | None: ...

    def events_at(self, rows: Sequence[IndexedEvent]) -> list[dict[str, Any] | None]: ...

    def foreign(self, position: IndexPosition, last: IndexedEvent | None) -> str | None:
        """Why an index standing at ``position`` (``last``: its row of ``position.seq``) cannot
        be an index of this trail, or None when it may be (the indexer then empties it)."""
        ...


class FileIndexSource:
    """A trail directory, read by :func:`read_after` and :func:`event_at`."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def read_after(
        self, position: IndexPosition, limit: int = 2000
    ) -> tuple[list[IndexedEvent], IndexPosition]:
        return read_after(self.directory, position, limit)

    def event_at(self, row: IndexedEvent) -> dict[str, Any] | None:
        return event_at(self.directory, row)

    def events_at(self, rows: Sequence[IndexedEvent]) -> list[dict[str, Any] | None]:
        return events_at(self.directory, rows)

    def foreign(self, position: IndexPosition, last: IndexedEvent | None) -> str | None:
        """Never: a trail directory's index is not checked against another kind of trail."""
        return None
