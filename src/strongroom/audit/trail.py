"""The trail's writer: chained lines appended to segments, durable before ``commit`` returns.

- **Group commit.** Concurrent ``commit()`` calls in one event loop share one write and one
  fsync: while a flush runs in a worker thread, the next batch gathers; the event loop never
  waits on the disk.
- **Several processes.** Every write happens under ``flock`` on the trail's ``lock`` file, and its
  fsync after the lock is let go (the processes' fsyncs overlap). Each writer caches where the
  trail ends (segment, size, seq, last hash) and, under the lock, checks the newest segment and
  its size; when another process appended, it reads the last line again.
- **Fail closed.** When a write fails, every ``commit()`` of the batch raises
  :class:`TrailUnavailable`, the segment is cut back to its last good size, and the next batch
  tries again: the trail recovers by itself when the disk does. When the fsync fails, the calls
  are refused and their lines stay (an event for a refused call, never a call without one).
- **Digests.** Every ``digest_seconds`` (checked on commit), on :meth:`Trail.digest_now` and in
  :meth:`Trail.close`, a signed digest names the segments' hashes and the previous digest.

The ``lock`` file also holds a little schedule state (JSON: the newest segment's number and start
time, the time of the last digest), so that all processes rotate and digest on one schedule. It is
not covered by verification and is rebuilt from the trail when missing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from strongroom.audit.digest import PreviousDigest, Signer, digest_fields, seal_digest
from strongroom.audit.files import fsync_path as _fsync_dir
from strongroom.audit.format import (
    DIGESTS,
    GENESIS,
    LOCK,
    SEGMENTS,
    LineError,
    chain_line,
    digest_name,
    last_line,
    numbered,
    parse_line,
    segment_name,
    utc_time,
)
from strongroom.audit.group_commit import Committer, TrailUnavailable
from strongroom.audit.stored import stored_segments

log = logging.getLogger("strongroom.audit")

__all__ = [
    "DEFAULT_DIGEST_SECONDS",
    "DEFAULT_SEGMENT_BYTES",
    "DEFAULT_SEGMENT_SECONDS",
    "Trail",
    "TrailUnavailable",
    "iso_time",
    "read_events",
]

DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
DEFAULT_SEGMENT_SECONDS = 3600.0
DEFAULT_DIGEST_SECONDS = 3600.0
_CHUNK = 1 << 20


def iso_time(t: float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (UTC), CloudTrail's time form."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _why(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "error")
    return f"{name}: {exc.strerror or 'cannot write'}"


class Trail(Committer):
    """One process's writer of a trail directory (see the module docstring).

    ``commit`` is for one event loop; ``commit_sync`` for callers without one (both may run at
    once: a mutex orders them within the process, the lock file across processes).
    """

    def __init__(
        self,
        directory: Path | str,
        signer: Signer,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
        digest_seconds: float = DEFAULT_DIGEST_SECONDS,
        now: Callable[[], float] = time.time,
        sink: Callable[[Sequence[bytes]], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        # Given each batch's event JSONs once they are durable (audit/sink.py); must not raise.
        self._sink = sink
        self._signer = signer
        self._segment_bytes = segment_bytes
        self._segment_seconds = segment_seconds
        self._digest_seconds = digest_seconds
        self._now = now
        for sub in (self.directory, self.directory / SEGMENTS, self.directory / DIGESTS):
            if not sub.is_dir():
                sub.mkdir(mode=0o700, parents=True, exist_ok=True)
                _fsync_dir(sub.parent)
        self._lock_fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        self._mutex = threading.Lock()
        # Where the trail ends, as this process last saw it (checked under the lock).
        self._number = 0
        self._fd: int | None = None
        self._size = -1
        self._seq = 0
        self._hash = GENESIS
        super().__init__()
        self._closed = False
        self.flushes = 0  # writes+fsyncs done by this process (group commit shares them)
        self.committed = 0  # events this process has written

    def __repr__(self) -> str:
        return f"Trail({str(self.directory)!r})"

    # -- committing ----------------------------------------------------------------------------
    def append(self, encoded: list[bytes]) -> None:
        """:meth:`commit_sync` of events already serialised (one JSON object each, no newline):
        the trail's writer process writes what the workers sent it."""
        if encoded:
            self._append(encoded)

    def digest_if_due(self) -> None:
        """Write a digest if one is due (commits do this too; an idle trail needs asking)."""
        with self._mutex, self._locked():
            now = self._now()
            state = self._state()
            if now - state.get("lastDigest", now) < self._digest_seconds:
                return
            try:
                self._sync()
                self._write_digest(now, state)
            except OSError as exc:
                raise TrailUnavailable(
                    f"the audit digest cannot be written ({_why(exc)})"
                ) from None

    def _append(self, encoded: list[bytes]) -> None:
        """Chain and write the lines under the lock, then fsync after letting it go: the
        processes' fsyncs overlap instead of queueing behind each other's (each worker waited
        out the other's fsync, and a loaded worker's loop sat idle most of the time). An fsync
        makes durable everything written to the file before it, whoever wrote it."""
        with self._mutex:
            with self._locked():
                now = self._now()
                try:
                    self._sync()
                    state = self._state()
                    self._rotate_if_due(now, state)
                    seq, previous = self._seq, self._hash
                    parts = []
                    for event_json in encoded:
                        seq += 1
                        line, previous = chain_line(seq, event_json, previous)
                        parts.append(line)
                    data = b"".join(parts)
                    self._write_at(data)
                except OSError as exc:
                    raise TrailUnavailable(
                        f"the audit trail cannot be written ({_why(exc)})"
                    ) from None
                self._size += len(data)
                self._seq, self._hash = seq, previous
                fd = self._fd
                assert fd is not None
                due = now - state.get("lastDigest", now) >= self._digest_seconds
            try:
                # Outside the lock: the lines are in place and chained; if the fsync fails they
                # stay (the next writers chain on them), and these calls are refused: an event
                # may then exist for a call that was refused, never the other way round.
                os.fsync(fd)
            except OSError as exc:
                raise TrailUnavailable(f"the audit trail cannot be written ({_why(exc)})") from None
            self.flushes += 1
            self.committed += len(encoded)
            if self._sink is not None:
                try:
                    self._sink(encoded)
                except Exception as exc:  # a sink never fails a call
                    log.warning("the audit sink failed (%s); the events are in the trail", exc)
            if due:
                # The events are durable: a digest that fails now is tried on the next commit.
                with contextlib.suppress(OSError, TrailUnavailable), self._locked():
                    state = self._state()  # another process may have written it meanwhile
                    if now - state.get("lastDigest", now) >= self._digest_seconds:
                        self._sync()
                        self._write_digest(now, state)

    def _write_at(self, data: bytes) -> None:
        """Write ``data`` at the end of the segment; on failure cut the segment back (under the
        lock: nobody has written after it)."""
        assert self._fd is not None
        offset = self._size
        try:
            view = memoryview(data)
            position = offset
            while view:
                written = os.pwrite(self._fd, view, position)
                view = view[written:]
                position += written
        except OSError:
            try:
                os.ftruncate(self._fd, offset)
                os.fsync(self._fd)
            except OSError:
                self._size = -1  # unknown: look again under the lock next time
            raise

    # -- where the trail ends ------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._closed:
            raise TrailUnavailable("the audit trail is closed")
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _state(self) -> dict[str, Any]:
        raw = os.pread(self._lock_fd, 4096, 0)
        try:
            state = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            state = {}
        return state if isinstance(state, dict) else {}

    def _save_state(self, state: dict[str, Any]) -> None:
        data = orjson.dumps(state)
        os.pwrite(self._lock_fd, data, 0)
        os.ftruncate(self._lock_fd, len(data))

    def _sync(self) -> None:
        """Bring the cached end of the trail up to date (under the lock). The segments are
        listed only when this process has none open or another process has started the next
        one (a stat, where a listing costs a flush about 20 us)."""
        newest = self._number
        if self._fd is None or os.path.exists(self._segment_path(self._number + 1)):
            segments = numbered(self.directory, SEGMENTS)
            newest = segments[-1][0] if segments else 0
        if newest != self._number or (self._fd is None and newest):
            self._close_segment()
            self._number = newest
            self._fd = os.open(self._segment_path(newest), os.O_RDWR)
            self._size = -1
        if self._fd is None:
            self._size, self._seq, self._hash = 0, 0, GENESIS
            return
        size = os.fstat(self._fd).st_size
        if size != self._size:
            self._load_end(size)

    def _load_end(self, size: int) -> None:
        assert self._fd is not None
        end = size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            # A writer died in the middle of a line: that batch was never acknowledged.
            tail = last_line(self._fd, size)
            end = size - len(tail or b"")
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        self._size = end
        self._seq, self._hash = self._end_of(self._number, self._fd, end)

    def _end_of(self, number: int, fd: int, size: int) -> tuple[int, bytes]:
        """``(seq, hash)`` of the last line of segment ``number`` (or of those before it)."""
        line = last_line(fd, size)
        if line is None:
            if number <= 1:
                return 0, GENESIS
            previous = self._segment_path(number - 1)
            prev_fd = os.open(previous, os.O_RDONLY)
            try:
                return self._end_of(number - 1, prev_fd, os.fstat(prev_fd).st_size)
            finally:
                os.close(prev_fd)
        try:
            parsed = parse_line(line)
        except LineError:
            raise TrailUnavailable(
                f"the last line of audit segment {segment_name(number)} is damaged "
                "(run strongroom audit verify)"
            ) from None
        return parsed.seq, parsed.hash

    def _rotate_if_due(self, now: float, state: dict[str, Any]) -> None:
        started = state.get("segmentStarted") if state.get("segment") == self._number else None
        if started is None:
            state.update(segment=self._number, segmentStarted=now)
            state.setdefault("lastDigest", now)
            self._save_state(state)
            started = now
        too_big = self._size >= self._segment_bytes
        too_old = self._size > 0 and now - started >= self._segment_seconds
        if self._fd is not None and not (too_big or too_old):
            return
        number = self._number + 1
        fd = os.open(self._segment_path(number), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _fsync_dir(self.directory / SEGMENTS)
        except OSError:
            os.close(fd)
            raise
        self._close_segment()
        self._number, self._fd, self._size = number, fd, 0
        state.update(segment=number, segmentStarted=now)
        self._save_state(state)

    def _segment_path(self, number: int) -> Path:
        return self.directory / SEGMENTS / segment_name(number)

    def _close_segment(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- digests -------------------------------------------------------------------------------
    def digest_now(self) -> str:
        """Write a signed digest now; return its file name."""
        with self._mutex, self._locked():
            now = self._now()
            try:
                self._sync()
                return self._write_digest(now, self._state())
            except OSError as exc:
                raise TrailUnavailable(
                    f"the audit digest cannot be written ({_why(exc)})"
                ) from None

    def _write_digest(self, now: float, state: dict[str, Any]) -> str:
        digests = numbered(self.directory, DIGESTS)
        previous = None
        if digests:
            name = digests[-1][1]
            previous = PreviousDigest.of(name, (self.directory / DIGESTS / name).read_bytes())
        covered = {
            name: entry["bytes"] for name, entry in (previous.covered() if previous else {}).items()
        }
        last_covered = max((int(name[:10]) for name in covered), default=0)
        entries = []
        for number, name in numbered(self.directory, SEGMENTS):
            current = number == self._number
            size = self._size if current else (self.directory / SEGMENTS / name).stat().st_size
            if number < last_covered or (
                number == last_covered and not current and covered.get(name) == size
            ):
                continue
            entries.append(self._segment_entry(number, size))
        fields = digest_fields(
            previous,
            start=iso_time(state.get("lastDigest", now)),
            end=iso_time(now),
            segments=entries,
            last_seq=self._seq,
            last_hash=self._hash,
            signer=self._signer,
        )
        name = digest_name(digests[-1][0] + 1 if digests else 1)
        sealed = seal_digest(fields, name, self._signer)
        temporary = self.directory / DIGESTS / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, sealed)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, self.directory / DIGESTS / name)
        _fsync_dir(self.directory / DIGESTS)
        state["lastDigest"] = now
        self._save_state(state)
        return name

    def _segment_entry(self, number: int, size: int) -> dict[str, Any]:
        """What a digest says of the first ``size`` bytes of segment ``number`` (made durable
        first: another process may have written lines it has not yet fsynced)."""
        name = segment_name(number)
        fd = os.open(self._segment_path(number), os.O_RDONLY)
        try:
            os.fsync(fd)
            sha = hashlib.sha256()
            first_seq = None
            position = 0
            while position < size:
                chunk = os.pread(fd, min(_CHUNK, size - position), position)
                if not chunk:
                    break
                if position == 0:
                    first_seq = parse_line(chunk[: chunk.find(b"\n") + 1]).seq
                sha.update(chunk)
                position += len(chunk)
            last = last_line(fd, size)
        finally:
            os.close(fd)
        end = parse_line(last) if last is not None else None
        return {
            "name": name,
            "bytes": size,
            "sha256": sha.hexdigest(),
            "firstSeq": first_seq,
            "lastSeq": end.seq if end else None,
            "lastHash": end.hash.hex() if end else None,
        }

    # -- shutting down -------------------------------------------------------------------------
    def close(self) -> None:
        """Write the shutdown digest and let go of the files (commit no more after this)."""
        if self._closed:
            return
        log.info(
            "audit trail %s: this process wrote %d event(s) in %d flush(es)",
            self.directory,
            self.committed,
            self.flushes,
        )
        try:
            self.digest_now()
        finally:
            with self._mutex:
                self._closed = True
                self._close_segment()
                os.close(self._lock_fd)


def read_events(
    directory: Path | str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    archive: Path | str | None = None,
) -> Iterator[dict[str, Any]]:
    """The trail's events in seq order, the archived segments' first (``archive``: default,
    where the trail says, audit/stored.py); with ``start``/``end`` only those whose
    ``eventTime`` falls in ``[start, end]`` (an event without one is left out when a bound is
    given). A last line still being written is not read."""
    for stored in stored_segments(directory, archive):
        for _, line in stored.lines():
            if not line.endswith(b"\n"):
                break
            event = parse_line(line).event()
            if start is not None or end is not None:
                when = utc_time(event.get("eventTime"))
                if when is None or (start and when < start) or (end and when > end):
                    continue
            yield event
