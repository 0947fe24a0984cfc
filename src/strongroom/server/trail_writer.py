"""The trail's writer process, and the client the workers commit through.

``strongroom serve`` runs one writer process per trail: the workers send it their events over a
Unix socket and reply to a call only once the writer has acknowledged its event, which it does
after the write and the fsync (:meth:`Trail.append`). One process writes, so:

- **Group commit across workers.** Everything that reaches the writer while an fsync runs goes
  into the next write, whichever worker sent it: one fsync covers the batches of every worker.
- **No thread, no lock in the workers.** A worker's event loop sends and reads on a socket; it
  never waits on the disk, on the trail's lock, or on a flush thread for the GIL (a flush
  thread in each worker took the GIL back from a busy event loop after each system call, and a
  flush took 1 to 2 ms where its fsync took 0.3).

The protocol: a frame is a 4-byte big-endian length and that many bytes. A worker sends a frame
of event JSONs, each followed by ``\\n`` (orjson never writes a raw newline); the writer answers
each frame, in order, with a frame that is empty when its events are durable and otherwise
holds the reason they are not (the worker then answers 500, fail closed). A worker batches what
its event loop commits in one turn into one frame.

The socket lives in a private directory (mode 0700) made by the supervisor; the writer also
checks that whoever connects runs as its own user (``SO_PEERCRED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import selectors
import signal
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, cast

import orjson

from strongroom.audit.trail import Trail, TrailUnavailable

__all__ = ["SOCKET_ENV", "TrailClient", "TrailWriter", "run_writer"]

log = logging.getLogger("strongroom.audit")

SOCKET_ENV = "STRONGROOM_TRAIL_SOCKET"  # set by the supervisor for its workers
_HEADER = struct.Struct("!I")
_MAX_FRAME = 256 << 20  # a call's event is at most a few MiB; anything bigger is not ours
# Read in pieces under glibc's mmap threshold (128 KiB): a 1 MiB recv() made each read cost an
# mmap, an mremap and a munmap besides the read itself.
_RECV = 64 << 10
_DRAIN_S = 20.0  # after a stop, how long the writer waits for the workers to let go
_TICK_S = 0.5  # the writer's housekeeping (due digests, the parent's liveness) at least this often
_UNREACHABLE = "the audit trail's writer is not reachable"


def _frame(lines: Sequence[bytes]) -> bytes:
    payload = b"\n".join(lines) + b"\n"
    return _HEADER.pack(len(payload)) + payload


def _split(buffer: bytearray) -> list[bytes]:
    """Take the complete frames off the front of ``buffer``."""
    frames = []
    start = 0
    while len(buffer) - start >= _HEADER.size:
        (length,) = _HEADER.unpack_from(buffer, start)
        if length > _MAX_FRAME:
            raise ValueError(f"a frame of {length} bytes")
        end = start + _HEADER.size + length
        if end > len(buffer):
            break
        frames.append(bytes(buffer[start + _HEADER.size : end]))
        start = end
    del buffer[:start]
    return frames


# -- the writer ----------------------------------------------------------------------------------
class _Peer:
    __slots__ = ("inbox", "outbox", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()


class TrailWriter:
    """The writer's loop: reads every peer's frames, writes them all in one
    :meth:`Trail.append`, answers each frame. Single-threaded; ``stop`` may be called from a
    signal handler or another thread."""

    def __init__(
        self,
        trail: Trail,
        path: Path,
        *,
        housekeeping: Callable[[], None] | None = None,
        parent: int | None = None,
    ) -> None:
        self.trail = trail
        self.path = path
        self._housekeeping = housekeeping
        self._parent = parent
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        # Bound and listening under another name, then renamed: whoever sees ``path`` can
        # connect (the supervisor waits for it to appear before starting the workers).
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        binding = path.with_name(f".{path.name}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            binding.unlink()
        self._listener.bind(str(binding))
        os.chmod(binding, 0o600)
        self._listener.listen(64)
        os.replace(binding, path)
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._uid = os.getuid()
        self._drain = True
        self.batches = 0  # appends done (each one write and one fsync)
        self.frames = 0  # frames answered

    def stop(self, *, drain: bool = True) -> None:
        """Stop serving; with ``drain``, once the peers connected now have let go."""
        self._drain = drain
        self._stopping.set()

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` (or the parent process is gone) and then until the workers
        have let go (for at most ``_DRAIN_S``: a SIGTERM to the whole process group reaches
        the writer and the workers at once, and the workers still answer the calls in hand),
        then write the closing digest."""
        try:
            next_tick = time.monotonic() + _TICK_S
            while not self._stopping.is_set():
                self._turn(timeout=max(0.0, next_tick - time.monotonic()))
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + _TICK_S
                    self._tick()
            deadline = time.monotonic() + _DRAIN_S
            self._turn(timeout=0)  # what was sent before the stop
            while self._drain and self._peers() and time.monotonic() < deadline:
                self._turn(timeout=_TICK_S)
        finally:
            self._close()

    def _peers(self) -> int:
        return sum(1 for key in self._selector.get_map().values() if key.data is not None)

    def _turn(self, timeout: float) -> None:
        ready = self._selector.select(min(timeout, _TICK_S))
        frames: list[tuple[_Peer, bytes]] = []
        for key, mask in ready:
            if key.data is None:
                self._accept()
                continue
            peer: _Peer = key.data
            if mask & selectors.EVENT_WRITE:
                self._send(peer)
            if mask & selectors.EVENT_READ and self._receive(peer):
                try:
                    frames.extend((peer, frame) for frame in _split(peer.inbox))
                except ValueError as exc:
                    log.warning("audit trail writer: dropping a peer that sent %s", exc)
                    self._drop(peer)
        if frames:
            self._write(frames)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _, uid, _ = struct.unpack("3i", creds)
            if uid != self._uid:
                log.warning("audit trail writer: refused a connection from uid %d", uid)
                sock.close()
                continue
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, _Peer(sock))

    def _receive(self, peer: _Peer) -> bool:
        """Read what ``peer`` sent; ``False`` when it has gone."""
        while True:
            try:
                data = peer.sock.recv(_RECV)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                data = b""
            if not data:
                self._drop(peer)
                return False
            peer.inbox += data
            if len(data) < _RECV:
                return True

    def _write(self, frames: list[tuple[_Peer, bytes]]) -> None:
        lines = [line for _, frame in frames for line in frame.split(b"\n")[:-1]]
        try:
            self.trail.append(lines)
        except TrailUnavailable as exc:
            answer = str(exc).encode() or b"the audit trail cannot be written"
        except Exception as exc:  # a bug must not take the writer down: refuse, and say so
            log.exception("audit trail writer: a batch could not be written")
            answer = f"the audit trail writer failed ({type(exc).__name__})".encode()
        else:
            answer = b""
        self.batches += 1
        self.frames += len(frames)
        reply = _HEADER.pack(len(answer)) + answer
        for peer, _ in frames:
            peer.outbox += reply
        for peer in {id(peer): peer for peer, _ in frames}.values():
            self._send(peer)

    def _send(self, peer: _Peer) -> None:
        try:
            sent = peer.sock.send(peer.outbox)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(peer)
            return
        del peer.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.outbox else 0)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.modify(peer.sock, events, peer)

    def _drop(self, peer: _Peer) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(peer.sock)
        peer.sock.close()

    def _tick(self) -> None:
        if self._parent is not None and os.getppid() != self._parent:
            log.warning("audit trail writer: the server is gone; stopping")
            self.stop()
            return
        try:
            self.trail.digest_if_due()
            if self._housekeeping is not None:
                self._housekeeping()
        except Exception:
            log.exception("audit trail writer: housekeeping failed; will retry")

    def _close(self) -> None:
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                self._drop(key.data)
        self._selector.close()
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with contextlib.suppress(OSError):  # the supervisor's private directory, if now empty
            self.path.parent.rmdir()  # (it is gone when the supervisor was killed)
        log.info("audit trail writer: %d frame(s) in %d write(s)", self.frames, self.batches)
        self.trail.close()


def run_writer(trail: Trail, path: Path, parent: int | None) -> None:
    """The writer process's body: serve until SIGTERM or SIGINT (or the parent is gone)."""
    writer = TrailWriter(trail, path, parent=parent)

    def stop(signum: int, frame: FrameType | None) -> None:
        writer.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    writer.serve_forever()


# -- the workers' side ---------------------------------------------------------------------------
class _Connection(asyncio.Protocol):
    """One worker's connection to the writer: the frames it sent, answered in order."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._lines: list[bytes] = []
        self._gathering: asyncio.Future[None] | None = None
        self._inbox = bytearray()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def add(self, lines: list[bytes]) -> asyncio.Future[None]:
        """The future of the frame that will carry ``lines`` (sent at the end of this turn of
        the event loop, with whatever else is committed in it)."""
        if self._gathering is None:
            self._gathering = self._loop.create_future()
            self._loop.call_soon(self._send)
        self._lines.extend(lines)
        return self._gathering

    def _send(self) -> None:
        future, lines = self._gathering, self._lines
        self._gathering, self._lines = None, []
        assert future is not None
        if self.lost or self.transport is None:
            future.set_exception(TrailUnavailable(_UNREACHABLE))
            return
        self._waiting.append(future)
        self.transport.write(_frame(lines))

    def data_received(self, data: bytes) -> None:
        self._inbox += data
        try:
            answers = _split(self._inbox)
        except ValueError:
            answers = []
            assert self.transport is not None
            self.transport.abort()
        for answer in answers:
            if not self._waiting:
                break
            future = self._waiting.popleft()
            if future.done():
                continue
            if answer:
                future.set_exception(TrailUnavailable(answer.decode(errors="replace")))
            else:
                future.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        failure = TrailUnavailable(f"{_UNREACHABLE} (the connection was lost)")
        for future in self._waiting:
            if not future.done():
                future.set_exception(failure)
        self._waiting.clear()


class TrailClient:
    """What a worker commits through (the writer's socket at ``path``); the trail's files are in
    ``directory`` (its index reads them). A connection that is lost fails the calls waiting on
    it (fail closed); the next commit connects again."""

    def __init__(self, path: Path | str, directory: Path | str) -> None:
        self.path = str(path)
        self.directory = Path(directory)
        self._connection: _Connection | None = None
        self._connecting: asyncio.Lock | None = None
        self._sync_lock = threading.Lock()
        self._sync_sock: socket.socket | None = None

    def __repr__(self) -> str:
        return f"TrailClient({self.path!r})"

    async def wait_until_reachable(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until the writer's socket is there; whether it is. A
        worker started beside the writer waits so before it takes calls; if the writer does not
        come, its calls are refused (500) until it does."""
        deadline = time.monotonic() + timeout_s
        while not os.path.exists(self.path):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def commit(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Return once the writer has ``events`` on disk; raise :class:`TrailUnavailable` if it
        has not (or cannot be reached)."""
        lines = [orjson.dumps(event) for event in events]
        if not lines:
            return
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connect()
        await connection.add(lines)

    async def _connect(self) -> _Connection:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._connection is not None and not self._connection.lost:
                return self._connection
            loop = asyncio.get_running_loop()
            try:
                _, connection = await loop.create_unix_connection(_Connection, self.path)
            except OSError as exc:
                raise TrailUnavailable(f"{_UNREACHABLE} ({exc.strerror or exc})") from None
            self._connection = connection
            return connection

    def commit_sync(self, events: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`commit` for callers without an event loop (blocks until acknowledged)."""
        lines = [orjson.dumps(event) for event in events]
        if not lines:
            return
        with self._sync_lock:
            try:
                if self._sync_sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sock.settimeout(60)
                    sock.connect(self.path)
                    self._sync_sock = sock
                self._sync_sock.sendall(_frame(lines))
                answer = self._read_answer(self._sync_sock)
            except OSError as exc:
                self._close_sync()
                raise TrailUnavailable(f"{_UNREACHABLE} ({exc.strerror or exc})") from None
        if answer:
            raise TrailUnavailable(answer.decode(errors="replace"))

    @staticmethod
    def _read_answer(sock: socket.socket) -> bytes:
        def exactly(n: int) -> bytes:
            data = bytearray()
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                if not chunk:
                    raise ConnectionResetError(0, "the writer closed the connection")
                data += chunk
            return bytes(data)

        (length,) = _HEADER.unpack(exactly(_HEADER.size))
        return exactly(length)

    def _close_sync(self) -> None:
        if self._sync_sock is not None:
            self._sync_sock.close()
            self._sync_sock = None

    def close(self) -> None:
        with self._sync_lock:
            self._close_sync()
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()
        self._connection = None
