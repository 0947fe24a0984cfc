"""The SIEM sink: every event committed to the trail, once durable, as one line of JSON (the bare
CloudTrail event, as the trail holds it: no seq, no hash) in a file or on standard output.

The trail calls the sink after its fsync (``Trail(..., sink=...)``); the sink only queues the
lines, and a thread of its own writes them, so a slow or broken destination never blocks nor
fails a call. When it cannot keep up (the queue holds ``queue_events`` events) or cannot write,
it drops lines and says so in a warning at most once per ``warn_seconds``, with counts; it goes
on writing as soon as it can. The trail is the record: the sink is a copy for other tools.

A file is opened in append mode (``O_APPEND``: a whole batch of lines in one write) and created
0600. Each write first checks that the path still names the file it holds open (device and
inode), so a log rotator may move it away or delete it: the next lines go to a new file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import stat
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["STDOUT", "FileSink", "open_sink"]

log = logging.getLogger("strongroom.audit")

STDOUT = "-"
_STOP = object()


class FileSink:
    """A sink writing to ``path`` (``"-"``: standard output). Call it with event JSONs; it
    never raises. :meth:`close` writes what is queued (up to ``timeout`` seconds)."""

    def __init__(
        self,
        path: Path | str,
        *,
        queue_events: int = 100_000,
        warn_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = None if str(path) == STDOUT else Path(path)
        self._queue: queue.Queue[object] = queue.Queue()
        self._room = threading.BoundedSemaphore(queue_events)
        self._capacity = queue_events
        self._warn_seconds = warn_seconds
        self._clock = clock
        self._warned_at: float | None = None
        self._warn_lock = threading.Lock()
        self.dropped = 0  # events not written (queue full, or the write failed)
        self.written = 0  # events written
        self._unsaid = 0  # dropped since the last warning
        self._why = ""
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="audit-sink", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"FileSink({str(self.path) if self.path else STDOUT!r})"

    def __call__(self, events: Sequence[bytes]) -> None:
        """Queue ``events`` (each one event's JSON); never blocks, never raises."""
        try:
            if self._closed or not events:
                return
            taken = 0
            for _ in events:
                if not self._room.acquire(blocking=False):
                    break
                taken += 1
            if taken:
                self._queue.put(list(events[:taken]))
            if taken < len(events):
                self._dropped(len(events) - taken, f"{self._capacity} events already queued")
        except Exception as exc:  # the sink must never fail a call
            self._dropped(len(events), type(exc).__name__)

    def close(self, timeout: float = 5.0) -> None:
        """Write the queued lines (for at most ``timeout`` seconds), then let go of the file."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            assert isinstance(item, list)
            batch: list[bytes] = item
            with contextlib.suppress(queue.Empty):
                while len(batch) < 10_000:  # gather what else is queued into one write
                    more = self._queue.get_nowait()
                    if more is _STOP:
                        self._queue.put(_STOP)
                        break
                    assert isinstance(more, list)
                    batch.extend(more)
            try:
                self._write(b"\n".join(batch) + b"\n")
                self.written += len(batch)
            except Exception as exc:  # dropped, said in a warning; on we go
                self._close_file()
                self._dropped(len(batch), _reason(exc))
            finally:
                for _ in batch:
                    self._room.release()
        self._close_file()

    def _write(self, data: bytes) -> None:
        fd = self._file()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    def _file(self) -> int:
        if self.path is None:
            return sys.stdout.fileno()
        if self._fd is not None:
            try:
                now = os.stat(self.path)
                if (now.st_dev, now.st_ino) == self._identity:
                    return self._fd
            except FileNotFoundError:
                pass
            self._close_file()  # rotated away: the next lines go to a new file at the path
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISFIFO(info.st_mode):
            os.close(fd)
            raise OSError(f"{self.path} is not a file")
        self._fd, self._identity = fd, (info.st_dev, info.st_ino)
        return fd

    def _close_file(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = self._identity = None

    def _dropped(self, count: int, why: str) -> None:
        """Count lost lines; warn at most once per ``warn_seconds`` (with how many since)."""
        with self._warn_lock:
            self.dropped += count
            self._unsaid += count
            self._why = why
            now = self._clock()
            if self._warned_at is not None and now - self._warned_at < self._warn_seconds:
                return
            self._warned_at, unsaid, self._unsaid = now, self._unsaid, 0
        log.warning(
            "the audit sink %s dropped %d event(s) (%s); the trail has them; %d dropped in all",
            self.path or "stdout",
            unsaid,
            why,
            self.dropped,
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__


def open_sink(setting: str | None) -> FileSink | None:
    """The sink the ``audit_sink`` setting names (a path, or ``-``), or None when unset."""
    return FileSink(setting) if setting else None
