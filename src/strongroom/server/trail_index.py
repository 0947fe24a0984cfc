"""The trail's indexer: reads the events committed to the audit trail since the index's position
and records them in storage (one row per event, the ARNs it names, where its line is).

Every worker runs it in its sweep (every few seconds, in a thread) and before a lookup (so that
a lookup sees every event committed before it). Several workers and nodes index one trail: each
range is written by exactly one of them, the one whose guarded write moves the position from
what it read (``TrailIndexRows.record_trail_events``); the others re-read the position and go
on from there. Within a process one catch-up runs at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strongroom.audit.index import FileIndexSource, IndexSource
from strongroom.domain.trail_index import IndexedEvent
from strongroom.storage.base import TrailIndexRows

__all__ = ["INDEX_LOCK", "TrailIndexer"]

INDEX_LOCK = "index.lock"  # in the trail directory: one process indexes at a time


class TrailIndexer:
    """The index of the trail that ``source`` reads (the files of ``directory`` by default; the
    database trail with ``audit_store = "database"``); ``directory`` holds ``index.lock``."""

    def __init__(
        self,
        directory: Path | str,
        rows: TrailIndexRows,
        *,
        batch: int = 2000,
        source: IndexSource | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.source = source if source is not None else FileIndexSource(self.directory)
        self._rows = rows
        self._batch = batch
        self._lock = threading.Lock()

    def event_at(self, row: IndexedEvent) -> dict[str, Any] | None:
        """The event an index row points at (None if it is not there any more)."""
        return self.source.event_at(row)

    def catch_up(self) -> int:
        """Index every event committed so far; returns how many this call recorded."""
        return self._catch_up(wait=True)

    def sweep(self) -> int:
        """:meth:`catch_up`, unless another process is indexing this trail now (then it will
        have done the work: a worker that lost the race had read and parsed the same lines for
        nothing, and under load that doubled the index's cost)."""
        return self._catch_up(wait=False)

    def _catch_up(self, *, wait: bool) -> int:
        with self._lock, self._indexing(wait=wait) as mine:
            return self._record_all() if mine else 0

    @contextlib.contextmanager
    def _indexing(self, *, wait: bool) -> Iterator[bool]:
        """The trail's ``index.lock``, held while this process indexes (``False``: another
        process holds it and ``wait`` is false)."""
        fd = os.open(self.directory / INDEX_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # lets the lock go

    def _record_all(self) -> int:
        recorded = 0
        while True:
            position = self._rows.trail_index_position()
            events, after = self.source.read_after(position, self._batch)
            if after == position:
                return recorded
            if self._rows.record_trail_events(position.seq, after, events):
                recorded += len(events)
