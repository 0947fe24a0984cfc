"""The SIEM sink: each durable event once, as a JSON line, in commit order; a file created 0600,
followed across a rotation; a broken or slow destination never fails nor blocks a commit."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from pathlib import Path

import orjson
import pytest
from tests.unit.audit.helpers import event

from strongroom.audit.digest import Signer
from strongroom.audit.sink import FileSink, open_sink
from strongroom.audit.trail import Trail, read_events


def _wait_for(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_every_committed_event_reaches_the_file_once_in_order(
    tmp_path: Path, signer: Signer
) -> None:
    path = tmp_path / "siem.jsonl"
    sink = FileSink(path)
    trail = Trail(tmp_path / "trail", signer, segment_bytes=2000, sink=sink)
    for n in range(1, 21):
        trail.commit_sync([event(n), event(100 + n)])
    trail.close()
    sink.close()
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == list(read_events(tmp_path / "trail"))
    assert b'"seq"' not in path.read_bytes()  # the bare events, no chain fields
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (sink.written, sink.dropped) == (40, 0)


def test_the_sink_follows_a_rotated_file(tmp_path: Path) -> None:
    path = tmp_path / "siem.jsonl"
    sink = FileSink(path)
    sink([b'{"n":1}'])
    _wait_for(lambda: path.exists() and path.read_bytes() == b'{"n":1}\n')
    path.rename(tmp_path / "siem.jsonl.1")  # logrotate moves it away ...
    sink([b'{"n":2}'])
    _wait_for(lambda: path.exists() and path.read_bytes() == b'{"n":2}\n')
    path.unlink()  # ... or deletes it
    sink([b'{"n":3}', b'{"n":4}'])
    sink.close()
    assert path.read_bytes() == b'{"n":3}\n{"n":4}\n'
    assert (tmp_path / "siem.jsonl.1").read_bytes() == b'{"n":1}\n'


def test_a_failing_sink_never_fails_a_commit_and_warns_rate_limited(
    tmp_path: Path, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "gone" / "siem.jsonl"  # its directory does not exist
    sink = FileSink(missing, warn_seconds=3600)
    trail = Trail(tmp_path / "trail", signer, sink=sink)
    with caplog.at_level(logging.WARNING, "strongroom.audit"):
        for n in range(1, 6):
            trail.commit_sync([event(n)])
        _wait_for(lambda: sink.dropped == 5)
        (tmp_path / "gone").mkdir()
        trail.commit_sync([event(6)])  # the destination is back: writing resumes
        sink.close()
    trail.close()
    assert len(list(read_events(tmp_path / "trail"))) == 6
    assert orjson.loads(missing.read_bytes()) == event(6)
    warnings = [r.getMessage() for r in caplog.records if "audit sink" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once per hour, however many were dropped
    assert "dropped 1 event(s)" in warnings[0]
    assert "FileNotFoundError" in warnings[0]


def test_a_blocked_destination_never_blocks_a_commit(tmp_path: Path, signer: Signer) -> None:
    fifo = tmp_path / "siem.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # never read: the pipe fills up
    try:
        sink = FileSink(fifo, queue_events=50, warn_seconds=3600)
        trail = Trail(tmp_path / "trail", signer, sink=sink)
        big = "x" * 4000
        started = time.monotonic()
        for n in range(1, 201):
            trail.commit_sync([event(n, padding=big)])
        assert time.monotonic() - started < 10
        assert len(list(read_events(tmp_path / "trail"))) == 200
        _wait_for(lambda: sink.dropped > 0)
        trail.close()
        sink.close(timeout=0.1)
    finally:
        os.close(reader)


def test_a_sink_that_raises_does_not_fail_the_commit(tmp_path: Path, signer: Signer) -> None:
    def broken(events: object) -> None:
        raise RuntimeError("broken")

    trail = Trail(tmp_path / "trail", signer, sink=broken)
    trail.commit_sync([event(1)])
    trail.close()
    assert [e["n"] for e in read_events(tmp_path / "trail")] == [1]


def test_stdout_and_no_sink(capfd: pytest.CaptureFixture[str]) -> None:
    assert open_sink(None) is None
    assert open_sink("") is None
    sink = open_sink("-")
    assert sink is not None
    assert sink.path is None
    sink([b'{"a":1}'])
    sink.close()
    assert capfd.readouterr().out == '{"a":1}\n'


def test_commits_from_many_threads_each_reach_the_file_once(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "siem.jsonl"
    sink = FileSink(path)
    trail = Trail(tmp_path / "trail", signer, sink=sink)

    def commit(base: int) -> None:
        for n in range(base, base + 50):
            trail.commit_sync([event(n)])

    threads = [threading.Thread(target=commit, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    trail.close()
    sink.close()
    written = [orjson.loads(line)["n"] for line in path.read_bytes().splitlines()]
    assert written == [e["n"] for e in read_events(tmp_path / "trail")]  # the trail's order
    assert len(written) == 200
