"""The trail's indexer: reads the events committed to the audit trail since the index's position
and records them in storage (one row per event, the ARNs it names, where its line is).

Every worker runs it in its sweep (every few seconds, in a thread) and before a lookup (so that
a lookup sees every event committed before it). Several workers and nodes index one trail: each
range is written by exactly one of them, the one whose guarded write moves the position from
what it read (``TrailIndexRows.record_trail_events``); the others re-read the position and go
on from there. Within a process one catch-up runs at a time.
"""

from __future__ import annotations

import threading
from pathlib import Path

from strongroom.audit.index import read_after
from strongroom.storage.base import TrailIndexRows

__all__ = ["TrailIndexer"]


class TrailIndexer:
    def __init__(self, directory: Path | str, rows: TrailIndexRows, *, batch: int = 2000) -> None:
        self.directory = Path(directory)
        self._rows = rows
        self._batch = batch
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Index every event committed so far; returns how many this call recorded."""
        recorded = 0
        with self._lock:
            while True:
                position = self._rows.trail_index_position()
                events, after = read_after(self.directory, position, self._batch)
                if after == position:
                    return recorded
                if self._rows.record_trail_events(position.seq, after, events):
                    recorded += len(events)
