"""The trail's indexer: reads the events committed to the audit trail since the index's position
and records them in storage (one row per event, the ARNs it names, where its line is).

Under ``strongroom serve`` a process of its own runs it every few seconds at the lowest CPU
priority (:func:`run_indexer`); a server run in process runs it in its sweep (in a thread). Every
lookup catches it up first, so that a lookup sees every event committed before it. Several
workers and nodes index one trail: each range is written by exactly one of them, the one whose
guarded write moves the position from what it read (``TrailIndexRows.record_trail_events``);
the others re-read the position and go on from there. Within a process one catch-up runs at a time.

Before its first catch-up an indexer asks its source whether the index can be of this trail
(``IndexSource.foreign``): when a PostgreSQL deployment switches its trail from files to the
database, the index still stands where the trail files ended; it is then emptied (rows,
resources and position, in one transaction guarded on the position read) and rebuilt from the
database trail's seq 1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from strongroom.audit.files import exclusive
from strongroom.audit.index import FileIndexSource, IndexSource
from strongroom.domain.trail_index import IndexedEvent
from strongroom.storage.base import TrailIndexRows

__all__ = ["INDEX_LOCK", "TrailIndexer", "run_indexer"]

log = logging.getLogger("strongroom.audit")

INDEX_LOCK = "index.lock"  # in the trail directory: one process indexes at a time
_RESET_ATTEMPTS = 3


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
        self._checked = False  # the index is known to be of this trail (checked once)

    def events_at(self, rows: Sequence[IndexedEvent]) -> list[dict[str, Any] | None]:
        """The events index rows point at (None where the line is not that event any more)."""
        return self.source.events_at(rows)

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
        # The trail's index.lock, held while this process indexes (False: another process
        # holds it and ``wait`` is false).
        with self._lock, exclusive(self.directory / INDEX_LOCK, wait=wait) as mine:
            return self._record_all() if mine else 0

    def _record_all(self) -> int:
        if not self._checked:
            self._checked = self._check_position()
        recorded = 0
        while True:
            position = self._rows.trail_index_position()
            events, after = self.source.read_after(position, self._batch)
            if after == position:
                return recorded
            if self._rows.record_trail_events(position.seq, after, events):
                recorded += len(events)

    def _check_position(self) -> bool:
        """Empty the index if it is not of this trail (the source says why: a trail directory's
        index when a deployment has switched to the trail in the database), in one guarded
        transaction; the next read rebuilds it. True once the index is known to be of this
        trail (False: other indexers kept moving the position; try again next time)."""
        for _ in range(_RESET_ATTEMPTS):
            position = self._rows.trail_index_position()
            last = self._rows.indexed_trail_event(position.seq) if position.seq else None
            reason = self.source.foreign(position, last)
            if reason is None:
                return True
            if self._rows.reset_trail_index(position):
                log.warning(
                    "the audit trail's index was not of this trail (%s): emptied, to be "
                    "rebuilt from the trail (docs/audit.md, 'The trail in the database')",
                    reason,
                )
                return True
        return False


def _lowest_priority() -> None:
    """SCHED_IDLE where there is one (Linux: the process runs only on a CPU nothing else wants),
    else nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


def run_indexer(
    indexer: TrailIndexer,
    every_s: float,
    parent: int | None,
    then: Callable[[], None] | None = None,
) -> None:
    """The indexer process's body: index the trail's new events every ``every_s`` seconds, and
    run ``then`` (the trail's retention), at the lowest CPU priority (the serving workers come
    first; a lookup catches the index up itself), until SIGTERM or SIGINT (or the parent is
    gone)."""
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _lowest_priority()
    while not stopping.wait(every_s):
        if parent is not None and os.getppid() != parent:
            return
        try:
            indexer.sweep()
        except Exception:
            log.exception("indexing the audit trail failed; will retry")
        if then is not None:
            try:
                then()
            except Exception:
                log.exception("archiving the audit trail failed; will retry")
