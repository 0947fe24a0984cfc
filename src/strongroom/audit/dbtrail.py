"""The trail in the database: one hash chain for every node of a cluster (PostgreSQL).

The same lines as the file trail (``audit/format.py``'s :func:`chain_line`: the same bytes, the
same hashes), kept as rows: ``audit_events`` holds each line under its seq, a one-row head holds
the last seq and hash. The SQL is storage's (``storage/trail_sql.py``); this module chains,
batches, digests, verifies and reads, through the :class:`TrailRows` port it declares.

- **Durable before the reply.** :meth:`DbTrail.commit` returns once the transaction holding the
  events has committed with ``synchronous_commit`` on.
- **Group commit.** Concurrent ``commit()`` calls of one process share one transaction.
- **One chain across nodes.** Each append locks the head row for its transaction only: every
  process of every node appends in turn, each batch chained on the line before it.
- **Fail closed.** A database error is :class:`~strongroom.audit.trail.TrailUnavailable` for
  every call of the batch; the next batch tries again, so the trail recovers with the database.
- **Segments and digests.** A segment is a block of :data:`SEGMENT_EVENTS` seqs (segment 1 holds
  seqs 1 to 10000, named as a file would be, ``0000000001.jsonl``); its bytes are its lines, one
  after the other. Signed digests, byte for byte the file trail's, are rows of ``audit_digests``,
  written every ``digest_seconds`` (checked on commit), on :meth:`DbTrail.digest_now` and at
  :meth:`DbTrail.close`. The lines and digests of a database trail written out as files are a
  trail directory that verifies as one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from strongroom.audit.digest import PreviousDigest, Signer, digest_fields, seal_digest
from strongroom.audit.format import (
    SEGMENTS,
    LineError,
    chain_line,
    digest_name,
    parse_line,
    segment_name,
)
from strongroom.audit.group_commit import Committer, TrailUnavailable
from strongroom.audit.index import event_of, indexed
from strongroom.audit.trail import DEFAULT_DIGEST_SECONDS, iso_time
from strongroom.audit.verify import Stored
from strongroom.crypto.trail_signature import fingerprint
from strongroom.domain.trail_index import IndexedEvent, IndexPosition

__all__ = ["SEGMENT_EVENTS", "DbTrail", "DbTrailSource", "TrailRows"]

log = logging.getLogger("strongroom.audit")

SEGMENT_EVENTS = 10_000
_PAGE = 1000  # rows read at once
_DIGEST_ATTEMPTS = 3


class TrailRows(Protocol):
    """What the database trail needs of storage (``storage.trail_sql.TrailSql`` is it)."""

    def append_trail(
        self, chain: Callable[[int, bytes], tuple[Sequence[bytes], bytes]], now: float
    ) -> int:
        """In one durable transaction holding the head's lock: the lines ``chain(seq, hash)``
        makes from the head, inserted after it; the head moved to them. Returns the new seq."""
        ...

    def trail_head(self) -> tuple[int, bytes, float | None]: ...

    def trail_lines(self, first: int, last: int) -> list[tuple[int, bytes]]: ...

    def trail_lines_after(self, after: int, limit: int) -> list[tuple[int, bytes]]: ...

    def trail_line(self, seq: int) -> bytes | None: ...

    def trail_blocks(self, size: int) -> list[int]: ...

    def trail_digests(self) -> list[tuple[int, float, bytes]]: ...

    def last_trail_digest(self) -> tuple[int, float, bytes] | None: ...

    def insert_trail_digest(self, number: int, written_at: float, body: bytes) -> bool: ...

    def close(self) -> None: ...


def _segment_of(seq: int, size: int) -> int:
    return (seq - 1) // size + 1 if seq > 0 else 0


class DbTrail(Committer):
    """One process's writer and reader of the database trail (see the module docstring).

    ``errors`` are the exceptions the rows raise when the database fails (storage's
    ``StorageError``): they become :class:`TrailUnavailable`.
    """

    def __init__(
        self,
        rows: TrailRows,
        signer: Signer,
        *,
        digest_seconds: float = DEFAULT_DIGEST_SECONDS,
        now: Callable[[], float] = time.time,
        errors: tuple[type[Exception], ...] = (),
        segment_events: int = SEGMENT_EVENTS,
    ) -> None:
        self.rows = rows
        self._signer = signer
        self._digest_seconds = digest_seconds
        self._now = now
        self._errors = errors
        self._segment_events = segment_events
        super().__init__()
        self._closed = False
        self.flushes = 0  # transactions this process committed (group commit shares them)
        self.committed = 0  # events this process has written
        with self._unavailable("read"):
            last = rows.last_trail_digest()
            _, _, started = rows.trail_head()
        if last is not None:
            signed_by = PreviousDigest.of(digest_name(last[0]), last[2]).fields.get(
                "publicKeyFingerprint"
            )
            mine = fingerprint(signer.public_key_der())
            if signed_by != mine:
                raise TrailUnavailable(
                    f"this node's audit signing key ({mine}) is not the key the database "
                    f"trail's digests are signed with ({signed_by}): give every node the same "
                    "audit-signing.key (and root.key)"
                )
        # When the last digest was written, as this process knows (another may write the next).
        self._digested = last[1] if last is not None else (started or now())

    def __repr__(self) -> str:
        return "DbTrail()"

    @contextlib.contextmanager
    def _unavailable(self, what: str) -> Iterator[None]:
        """The rows' database errors, as :class:`TrailUnavailable` (the message names the
        error's kind, never SQL or a value: storage's errors are made so)."""
        try:
            yield
        except self._errors as exc:
            raise TrailUnavailable(
                f"the audit trail in the database cannot be {what} ({exc})"
            ) from None

    # -- committing ----------------------------------------------------------------------------
    def _append(self, encoded: list[bytes]) -> None:
        if self._closed:
            raise TrailUnavailable("the audit trail is closed")
        now = self._now()

        def chain(seq: int, previous: bytes) -> tuple[list[bytes], bytes]:
            lines = []
            for event_json in encoded:
                seq += 1
                line, previous = chain_line(seq, event_json, previous)
                lines.append(line)
            return lines, previous

        with self._unavailable("written"):
            self.rows.append_trail(chain, now)
        self.flushes += 1
        self.committed += len(encoded)
        if now - self._digested >= self._digest_seconds:
            # The events are committed: a digest that fails now is tried on the next commit.
            try:
                self._write_digest(now, only_if_due=True)
            except TrailUnavailable as exc:
                log.warning("the audit digest could not be written (%s); will retry", exc)

    # -- digests -------------------------------------------------------------------------------
    def digest_now(self) -> str:
        """Write a signed digest now; return its name."""
        if self._closed:
            raise TrailUnavailable("the audit trail is closed")
        return self._write_digest(self._now(), only_if_due=False)

    def _write_digest(self, now: float, *, only_if_due: bool) -> str:
        """Write the next digest (unless ``only_if_due`` and another process has written one
        within ``digest_seconds``); of two processes writing the same number, the loser reads
        the winner's and tries again on top of it."""
        with self._unavailable("written"):
            for _ in range(_DIGEST_ATTEMPTS):
                last = self.rows.last_trail_digest()
                if last is not None and only_if_due and now - last[1] < self._digest_seconds:
                    self._digested = last[1]
                    return digest_name(last[0])
                number = last[0] + 1 if last is not None else 1
                name = digest_name(number)
                previous = PreviousDigest.of(digest_name(last[0]), last[2]) if last else None
                if self.rows.insert_trail_digest(number, now, self._sealed(name, now, previous)):
                    self._digested = now
                    return name
        raise TrailUnavailable("the audit digest could not be written (other writers kept ahead)")

    def _sealed(self, name: str, now: float, previous: PreviousDigest | None) -> bytes:
        seq, last_hash, started = self.rows.trail_head()
        size = self._segment_events
        covered = previous.covered() if previous else {}
        last_covered = max((int(name[:10]) for name in covered), default=0)
        current = _segment_of(seq, size)
        entries = []
        for number in range(max(last_covered, 1), current + 1):
            said = covered.get(segment_name(number))
            if number < current and said is not None and said.get("lastSeq") == number * size:
                continue  # a full segment a digest has covered to its end
            lines = self.rows.trail_lines((number - 1) * size + 1, min(number * size, seq))
            entries.append(_segment_entry(number, [line for _, line in lines]))
        fields = digest_fields(
            previous,
            start=iso_time(started if started is not None else now),
            end=iso_time(now),
            segments=entries,
            last_seq=seq,
            last_hash=last_hash,
            signer=self._signer,
        )
        return seal_digest(fields, name, self._signer)

    # -- the index's reading (audit.index.IndexSource) -----------------------------------------
    def read_after(
        self, position: IndexPosition, limit: int = 2000
    ) -> tuple[list[IndexedEvent], IndexPosition]:
        """Up to ``limit`` events after ``position``; a row out of order stops the read (as
        :func:`audit.index.read_after` does for files)."""
        seq, since = position.seq, position.tracking_since
        events: list[IndexedEvent] = []
        for key, line in self.rows.trail_lines_after(seq, limit):
            try:
                parsed = parse_line(line)
                event = parsed.event()
            except LineError:
                break
            if parsed.seq != seq + 1 or key != parsed.seq:
                break
            row = indexed(event, key, _segment_of(key, self._segment_events), 0, len(line))
            if since is None:
                since = row.event_time
            events.append(row)
            seq = key
        return events, IndexPosition(seq, _segment_of(seq, self._segment_events), 0, since)

    def foreign(self, position: IndexPosition, last: IndexedEvent | None) -> str | None:
        """Why an index at ``position`` is not this trail's (a trail directory's, from before
        the switch to the database), or None. This trail's positions and rows are made only by
        :meth:`read_after`, from committed rows that are never removed: a seq's block, offset
        0, never past the head, and the row of the position's seq is what indexing the line
        under that seq gives. ``last`` is the index's row of ``position.seq``, when it has one."""
        seq = position.seq
        if seq == 0:
            return None  # nothing indexed
        if position.offset != 0 or position.segment != _segment_of(seq, self._segment_events):
            return (
                f"it stands at byte {position.offset} of segment {position.segment}, a place "
                "in a trail file"
            )
        head, _, _ = self.rows.trail_head()
        if seq > head:
            return f"it stands at seq {seq}, past the database trail's last ({head})"
        line = self.rows.trail_line(seq) if last is not None else None
        if line is None or last is None:
            return None  # a row gone from audit_events is for audit verify to report
        try:
            event = parse_line(line).event()
        except LineError:
            return None  # as above
        mine = indexed(event, seq, _segment_of(seq, self._segment_events), 0, len(line))
        if replace(last, resources=mine.resources) != mine:
            return f"its event at seq {seq} is not the database trail's"
        return None

    def event_at(self, row: IndexedEvent) -> dict[str, Any] | None:
        """The event an index row names, or None if its row no longer holds it."""
        line = self.rows.trail_line(row.seq)
        return None if line is None else event_of(line, row)

    def events_at(self, rows: Sequence[IndexedEvent]) -> list[dict[str, Any] | None]:
        return [self.event_at(row) for row in rows]

    # -- shutting down -------------------------------------------------------------------------
    def close(self) -> None:
        """Write the shutdown digest (commit no more after this)."""
        if self._closed:
            return
        log.info(
            "audit trail in the database: this process wrote %d event(s) in %d transaction(s)",
            self.committed,
            self.flushes,
        )
        try:
            self.digest_now()
        finally:
            self._closed = True
            self.rows.close()


def _segment_entry(number: int, lines: list[bytes]) -> dict[str, Any]:
    """What a digest says of a segment whose lines so far are ``lines`` (as of a file)."""
    first = parse_line(lines[0]) if lines else None
    last = parse_line(lines[-1]) if lines else None
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line)
    return {
        "name": segment_name(number),
        "bytes": sum(len(line) for line in lines),
        "sha256": sha.hexdigest(),
        "firstSeq": first.seq if first else None,
        "lastSeq": last.seq if last else None,
        "lastHash": last.hash.hex() if last else None,
    }


@dataclass(frozen=True, slots=True)
class _Block:
    """A digest or a block of seqs of the database trail, as the verifier reads it."""

    number: int
    name: str
    body: bytes = b""
    live: bool = True
    archived: bool = False

    def read(self) -> bytes:
        return self.body


class DbTrailSource:
    """The database trail as :func:`audit.verify.verify_source` reads it (segments are blocks
    of ``segment_events`` row keys; a finding names the row by its key; no archive), and as
    ``audit query`` and ``tail`` read it (an ``audit.query.EventSource``: a reader's place is
    the seq of the last row it read)."""

    unit = "row"
    segments_place = "audit_events"
    archive: Path | None = None

    def __init__(self, rows: TrailRows, segment_events: int = SEGMENT_EVENTS) -> None:
        self.rows = rows
        self.segment_events = segment_events

    def label(self, path: Path) -> str:
        return str(path)

    def digests(self) -> list[_Block]:
        return [
            _Block(number, digest_name(number), body)
            for number, _, body in sorted(self.rows.trail_digests())
        ]

    def segments(self) -> list[_Block]:
        return [_Block(n, segment_name(n)) for n in self.rows.trail_blocks(self.segment_events)]

    def where(self, stored: Stored) -> str:
        if stored.name.endswith(".jsonl"):
            return f"audit_events segment {stored.number}"
        return f"audit_digests number {stored.number:010d}"

    def missing(self, kind: str, first: int, last: int, files: Sequence[Stored]) -> str:
        if kind == SEGMENTS:
            return f"audit_events segment {first}" + (f"..{last}" if last > first else "")
        return f"audit_digests number {first:010d}" + (f"..{last:010d}" if last > first else "")

    def lines(self, stored: Stored) -> Iterator[tuple[int, int, bytes]]:
        offset = 0
        for key, line in self._block(stored.number):
            yield key, offset, line
            offset += len(line)

    def _block(self, number: int) -> Iterator[tuple[int, bytes]]:
        """``(key, line)`` of the rows of block ``number``, read a page at a time."""
        size = self.segment_events
        first, last = (number - 1) * size + 1, number * size
        while first <= last:
            yield from self.rows.trail_lines(first, min(last, first + _PAGE - 1))
            first += _PAGE

    # -- as audit.query reads it (an EventSource whose places are seqs) ------------------------
    def segment_numbers(self) -> list[int]:
        """Every block up to the head's (the trail keeps every row: no retention here)."""
        seq, _, _ = self.rows.trail_head()
        return list(range(1, _segment_of(seq, self.segment_events) + 1))

    def segment_lines(self, number: int) -> Iterator[bytes]:
        return (line for _, line in self._block(number))

    def start_of(self, number: int) -> int:
        return (number - 1) * self.segment_events if number > 0 else 0

    def lines_after(self, mark: int) -> Iterator[tuple[int, bytes]]:
        while True:
            rows = self.rows.trail_lines_after(mark, _PAGE)
            yield from rows
            if len(rows) < _PAGE:
                return
            mark = rows[-1][0]
