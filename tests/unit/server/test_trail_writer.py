"""The trail's writer process and its client, over a real socket and a real trail: concurrent
commits from several event loops land once each, in one chain that verifies, sharing writes; a
writer that is gone fails the calls (fail closed) and a new one serves them again; garbage and
other users are turned away."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.audit.helpers import make_signer

from strongroom.audit.trail import Trail, TrailUnavailable, read_events
from strongroom.audit.verify import verify
from strongroom.crypto.trail_signature import public_pem
from strongroom.server.trail_writer import TrailClient, TrailWriter


class _Running:
    def __init__(self, writer: TrailWriter) -> None:
        self.writer = writer
        self.thread = threading.Thread(target=writer.serve_forever, daemon=True)
        self.thread.start()

    def stop(self, *, drain: bool = True) -> None:
        self.writer.stop(drain=drain)
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def _start(directory: Path, path: Path) -> _Running:
    signer = make_signer(directory / "keys")
    return _Running(TrailWriter(Trail(directory / "trail", signer), path))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[_Running, Path]]:
    path = tmp_path / "trail.sock"
    running = _start(tmp_path, path)
    try:
        yield running, path
    finally:
        running.stop()


def _event(n: int) -> dict[str, object]:
    return {"eventName": "Encrypt", "requestID": f"r-{n}", "eventTime": "2024-01-01T00:00:00Z"}


def test_concurrent_commits_from_two_loops_are_each_written_once_and_share_writes(
    served: tuple[_Running, Path], tmp_path: Path
) -> None:
    running, path = served

    async def worker(first: int) -> None:
        client = TrailClient(path, tmp_path / "trail")
        try:
            await asyncio.gather(*(client.commit([_event(first + n)]) for n in range(200)))
        finally:
            client.close()

    threads = [threading.Thread(target=asyncio.run, args=(worker(k * 1000),)) for k in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    written = [event["requestID"] for event in read_events(tmp_path / "trail")]
    expected = {f"r-{k * 1000 + n}" for k in (1, 2) for n in range(200)}
    assert sorted(written) == sorted(expected)
    assert running.writer.frames < 400  # a loop's commits of one turn share a frame
    assert running.writer.batches <= running.writer.frames
    running.stop()  # the closing digest
    report = verify(tmp_path / "trail", public_pem(make_signer(tmp_path / "keys").public_key_der()))
    assert report.ok, report


def test_commit_sync_waits_for_the_write(served: tuple[_Running, Path], tmp_path: Path) -> None:
    _, path = served
    client = TrailClient(path, tmp_path / "trail")
    client.commit_sync([_event(1), _event(2)])
    client.commit_sync([])
    assert [e["requestID"] for e in read_events(tmp_path / "trail")] == ["r-1", "r-2"]
    client.close()


def test_a_writer_that_is_gone_fails_the_calls_and_a_new_one_serves_them(tmp_path: Path) -> None:
    path = tmp_path / "trail.sock"
    running = _start(tmp_path, path)
    client = TrailClient(path, tmp_path / "trail")

    async def commit(n: int) -> None:
        await client.commit([_event(n)])

    async def scenario() -> None:
        await commit(1)
        running.stop(drain=False)  # gone while the client is connected
        with pytest.raises(TrailUnavailable, match="not reachable"):
            await commit(2)
        with pytest.raises(TrailUnavailable, match="not reachable"):
            client.commit_sync([_event(3)])
        again = _start(tmp_path, path)
        try:
            await commit(4)
            client.commit_sync([_event(5)])
        finally:
            again.stop(drain=False)

    asyncio.run(scenario())
    client.close()
    assert [e["requestID"] for e in read_events(tmp_path / "trail")] == ["r-1", "r-4", "r-5"]


def test_a_peer_that_sends_garbage_is_dropped_and_the_others_are_served(
    served: tuple[_Running, Path], tmp_path: Path
) -> None:
    _, path = served
    rogue = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    rogue.connect(str(path))
    rogue.sendall(struct.pack("!I", 0xFFFFFFFF) + b"x" * 100)
    rogue.settimeout(10)
    assert rogue.recv(10) == b""  # the writer hung up
    rogue.close()
    client = TrailClient(path, tmp_path / "trail")
    client.commit_sync([_event(7)])
    client.close()
    assert [e["requestID"] for e in read_events(tmp_path / "trail")] == ["r-7"]


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_another_user_is_refused(tmp_path: Path) -> None:
    """The socket's directory keeps other users out; the writer checks the peer's uid too."""
    open_dir = Path(tempfile.mkdtemp(prefix="strongroom-test-"))  # in /tmp: others reach it
    os.chmod(open_dir, 0o777)
    path = open_dir / "trail.sock"
    running = _start(tmp_path, path)
    try:
        os.chmod(path, 0o666)
        child = os.fork()
        if child == 0:  # as another user: connect, send a frame, see the writer hang up
            code = 1
            try:
                os.setuid(65534)
                peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                peer.connect(str(path))
                peer.settimeout(10)
                try:
                    peer.sendall(struct.pack("!I", 3) + b"{}\n")
                    code = 0 if peer.recv(10) == b"" else 2
                except (BrokenPipeError, ConnectionResetError):
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        running.stop()
        shutil.rmtree(open_dir, ignore_errors=True)  # the writer took it with it when empty
    assert list(read_events(tmp_path / "trail")) == []


def test_a_stopping_writer_serves_its_peers_until_they_let_go(tmp_path: Path) -> None:
    """A SIGTERM to the process group reaches the writer with the workers: it goes on writing
    what they send until they are gone, then closes."""
    path = tmp_path / "trail.sock"
    running = _start(tmp_path, path)
    client = TrailClient(path, tmp_path / "trail")
    client.commit_sync([_event(1)])
    running.writer.stop()
    client.commit_sync([_event(2)])  # a call still in hand when the stop came
    assert running.thread.is_alive()
    client.close()
    running.thread.join(timeout=10)
    assert not running.thread.is_alive()
    assert [e["requestID"] for e in read_events(tmp_path / "trail")] == ["r-1", "r-2"]


def test_the_writer_takes_its_private_directory_with_it(tmp_path: Path) -> None:
    """The supervisor's private directory holds only the socket: the writer removes both as it
    stops (a supervisor killed with SIGKILL cannot)."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    running = _start(tmp_path, private / "trail.sock")
    running.stop()
    assert not private.exists()
