"""``audit.query``: what a reader of a live trail sees of a line still being written, and times
relative to now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from strongroom.audit.digest import Signer
from strongroom.audit.format import GENESIS, chain_line
from strongroom.audit.query import EventFilter, FileEvents, last_events, parse_time
from strongroom.audit.trail import Trail


def test_a_line_being_written_is_read_once_complete(tmp_path: Path, signer: Signer) -> None:
    trail = Trail(tmp_path, signer)
    trail.commit_sync([{"eventName": "Encrypt", "requestID": "r1"}])
    trail.close()
    events, follower = last_events(FileEvents(tmp_path), EventFilter(), 5)
    assert [e["requestID"] for e in events] == ["r1"]
    line, _ = chain_line(2, orjson.dumps({"eventName": "Decrypt", "requestID": "r2"}), GENESIS)
    segment = tmp_path / "segments" / "0000000001.jsonl"
    with segment.open("ab") as f:
        f.write(line[:40])
    assert follower.poll() == []
    with segment.open("ab") as f:
        f.write(line[40:])
    assert [e["requestID"] for e in follower.poll()] == ["r2"]
    assert follower.poll() == []


def test_relative_and_iso_times() -> None:
    now = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)
    assert parse_time("-30m", now) == datetime(2025, 5, 20, 11, 30, tzinfo=UTC)
    assert parse_time("-1h", now) == datetime(2025, 5, 20, 11, 0, tzinfo=UTC)
    assert parse_time("-2d", now) == datetime(2025, 5, 18, 12, 0, tzinfo=UTC)
    assert parse_time("2025-05-20T10:00:00") == datetime(2025, 5, 20, 10, 0, tzinfo=UTC)
    assert parse_time("2025-05-20T10:00:00+02:00") == datetime(2025, 5, 20, 8, 0, tzinfo=UTC)
