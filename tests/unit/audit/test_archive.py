"""Retention and export: old segments move to the archive (their exact bytes, and their events in
CloudTrail's layout); the trail and its archive verify as one, are read as one, and tampering in
the archive is reported with its place; a crash half-way loses and repeats nothing."""

from __future__ import annotations

import gzip
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.audit.helpers import Clock, copied

from strongroom.audit.archive import archive_due, export_number, exports_of
from strongroom.audit.digest import Signer
from strongroom.audit.format import chain_line, parse_line
from strongroom.audit.index import events_at, read_after
from strongroom.audit.query import EventFilter, FileEvents, last_events, query
from strongroom.audit.stored import ARCHIVE_POINTER
from strongroom.audit.trail import Trail, read_events
from strongroom.audit.verify import Report, verify
from strongroom.domain.trail_index import IndexPosition

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
HOUR = 3600.0
ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1")
ARCHIVED_SEG1 = "archive/strongroom/segments/0000000001.jsonl.gz"
_ACCOUNT = re.compile(r"[0-9]{12}").fullmatch


def ct_event(n: int, when: float) -> dict[str, Any]:
    return {
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        "eventName": "Encrypt",
        "eventID": f"event-{n}",
        "recipientAccountId": ACCOUNTS[n % 2],
        "awsRegion": REGIONS[n // 2 % 2],
        "n": n,
    }


def build(path: Path, signer: Signer, clock: Clock, count: int = 48) -> Trail:
    """``count`` events, 4 an hour; a segment an hour (each holds both accounts and regions);
    a digest every 3 hours. Returns the open trail (its newest segment still growing)."""
    trail = Trail(path, signer, segment_seconds=HOUR, digest_seconds=3 * HOUR, now=clock)
    for n in range(1, count + 1):
        trail.commit_sync([ct_event(n, clock.t)])
        clock.t += HOUR / 4
    return trail


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Path:
    """A closed trail of 48 events over 12 hours, its first 8 hours archived."""
    clock = Clock(START)
    path = tmp_path_factory.mktemp("archived") / "trail"
    trail = build(path, signer, clock)
    trail.close()
    result = archive_due(path, older_than=4 * HOUR, now=clock.t)
    assert [done.segment for done in result.archived] == [f"{n:010d}.jsonl" for n in range(1, 9)], (
        result
    )
    assert result.stopped is None
    return path


def closed_trail(tmp_path: Path, signer: Signer) -> tuple[Path, Clock]:
    """12 events over 3 hours (3 segments), closed."""
    clock = Clock(START)
    path = tmp_path / "trail"
    build(path, signer, clock, count=12).close()
    return path, clock


@pytest.fixture
def trail(pristine: Path, tmp_path: Path) -> Path:
    return copied(pristine, tmp_path)


def _kinds(report: Report) -> list[tuple[str, str, int | None, int | None]]:
    return [(f.kind, f.file, f.line, f.seq) for f in report.findings]


def _gz_lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines(keepends=True)


def test_old_segments_move_to_the_archive_and_the_whole_trail_verifies(
    pristine: Path, public_key: bytes
) -> None:
    live = sorted(p.name for p in (pristine / "segments").iterdir())
    assert live == [f"{n:010d}.jsonl" for n in range(9, 13)]
    archived = sorted(p.name for p in (pristine / "archive/strongroom/segments").iterdir())
    assert archived == [f"{n:010d}.jsonl.gz" for n in range(1, 9)]
    # The digests that name only archived segments moved too; the newest stays in the trail.
    assert (pristine / "archive/strongroom/digests/0000000001.json").exists()
    assert (pristine / "digests").iterdir()
    report = verify(pristine, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert (report.segments, report.events, report.last_seq, report.covered_seq) == (12, 48, 48, 48)
    assert [e["n"] for e in read_events(pristine)] == list(range(1, 49))


def test_the_export_is_in_cloudtrails_layout_one_file_per_account_region_and_day(
    pristine: Path,
) -> None:
    files = sorted((pristine / "archive" / "AWSLogs").rglob("*.json.gz"))
    # 8 segments, each with the 4 account x region pairs.
    assert len(files) == 32
    found: list[dict[str, Any]] = []
    for path in files:
        parts = path.relative_to(pristine / "archive").parts
        account, kind, region, year, month, day, name = parts[1:]
        assert (kind, parts[0]) == ("CloudTrail", "AWSLogs")
        assert name.startswith(f"{account}_CloudTrail_{region}_{year}{month}{day}T")
        assert name.endswith("Z_" + name[-24:-8] + ".json.gz")
        records = orjson.loads(gzip.decompress(path.read_bytes()))["Records"]
        assert {(r["recipientAccountId"], r["awsRegion"]) for r in records} == {(account, region)}
        assert all(r["eventTime"].startswith(f"{year}-{month}-{day}") for r in records)
        found.extend(records)
    assert sorted(r["n"] for r in found) == list(range(1, 33))
    # The file name's time is its newest record's, to the minute.
    first = files[0]
    newest = max(
        r["eventTime"] for r in orjson.loads(gzip.decompress(first.read_bytes()))["Records"]
    )
    assert newest[:16].replace("-", "").replace(":", "") in first.name


def test_the_archived_copy_is_the_segments_exact_bytes(
    signer: Signer, tmp_path: Path, public_key: bytes
) -> None:
    clock = Clock(START)
    trail = build(tmp_path / "trail", signer, clock, count=12)
    original = (tmp_path / "trail/segments/0000000001.jsonl").read_bytes()
    archive_due(tmp_path / "trail", older_than=HOUR, now=clock.t, digest=trail.digest_now)
    assert gzip.decompress((tmp_path / "trail" / ARCHIVED_SEG1).read_bytes()) == original
    trail.close()
    assert verify(tmp_path / "trail", public_key).ok


def test_never_the_newest_segment_nor_one_no_digest_covers(
    signer: Signer, tmp_path: Path, public_key: bytes
) -> None:
    clock = Clock(START)
    path = tmp_path / "trail"
    trail = Trail(path, signer, segment_seconds=HOUR, digest_seconds=100 * HOUR, now=clock)
    for n in range(1, 13):
        trail.commit_sync([ct_event(n, clock.t)])
        clock.t += HOUR / 4
    # No digest yet (the first is due in 100 hours): nothing may go.
    result = archive_due(path, older_than=0, now=clock.t + 100 * HOUR)
    assert result.archived == []
    assert result.stopped == "segment 0000000001.jsonl is not yet covered by a signed digest"
    # Given a way to sign one, it signs and archives all but the newest.
    result = archive_due(path, older_than=0, now=clock.t + 100 * HOUR, digest=trail.digest_now)
    assert [done.segment for done in result.archived] == ["0000000001.jsonl", "0000000002.jsonl"]
    assert [p.name for p in (path / "segments").iterdir()] == ["0000000003.jsonl"]
    assert verify(path, public_key, allow_unsigned_tail=True).ok
    # The writer goes on in its segment, and later ones; the chain runs on.
    trail.commit_sync([ct_event(13, clock.t)])
    clock.t += 2 * HOUR
    trail.commit_sync([ct_event(14, clock.t)])
    trail.close()
    report = verify(path, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert [e["n"] for e in read_events(path)] == list(range(1, 15))


def test_running_it_again_archives_nothing_twice(trail: Path, public_key: bytes) -> None:
    before = sorted(p.relative_to(trail) for p in trail.rglob("*"))
    result = archive_due(trail, older_than=4 * HOUR, now=START + 12 * HOUR)
    assert (result.archived, result.digests) == ([], [])
    assert sorted(p.relative_to(trail) for p in trail.rglob("*")) == before
    assert verify(trail, public_key).ok


def test_a_crash_after_the_copy_before_the_removal_loses_and_repeats_nothing(
    signer: Signer, tmp_path: Path, public_key: bytes
) -> None:
    path, clock = closed_trail(tmp_path, signer)
    kept = (path / "segments/0000000001.jsonl").read_bytes()
    archive_due(path, older_than=0, now=clock.t)
    # As if the process died after writing the archive, before removing the live segment.
    (path / "segments/0000000001.jsonl").write_bytes(kept)
    assert verify(path, public_key).ok
    assert [e["n"] for e in read_events(path)] == list(range(1, 13))
    assert [e["n"] for e in query(FileEvents(path), EventFilter())] == list(range(1, 13))
    rows, _ = read_after(path, IndexPosition(0, 0, 0, None))
    assert [row.seq for row in rows] == list(range(1, 13))
    # The next run finishes the job.
    result = archive_due(path, older_than=0, now=clock.t)
    assert [done.segment for done in result.archived] == ["0000000001.jsonl"]
    assert not (path / "segments/0000000001.jsonl").exists()
    assert verify(path, public_key).ok
    # A crash before the segment's copy was written (its exports may be there): the same.
    (path / ARCHIVED_SEG1).unlink()
    (path / "segments/0000000001.jsonl").write_bytes(kept)
    assert verify(path, public_key).ok
    assert [e["n"] for e in read_events(path)] == list(range(1, 13))
    archive_due(path, older_than=0, now=clock.t)
    assert verify(path, public_key).ok


def test_an_archive_elsewhere_is_found_from_the_trail(
    signer: Signer, tmp_path: Path, public_key: bytes
) -> None:
    path, clock = closed_trail(tmp_path, signer)
    cold = tmp_path / "cold"
    archive_due(path, cold, older_than=0, now=clock.t)
    assert (path / ARCHIVE_POINTER).read_text().strip() == str(cold.resolve())
    assert (cold / "strongroom/segments/0000000001.jsonl.gz").exists()
    report = verify(path, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert [e["n"] for e in read_events(path)] == list(range(1, 13))
    (cold / "strongroom/segments/0000000002.jsonl.gz").unlink()
    [finding] = [f for f in verify(path, public_key).findings if f.kind == "removed"][:1]
    assert finding.file == str(cold / "strongroom/segments/0000000002.jsonl.gz")


def test_readers_and_the_index_see_archived_events(pristine: Path) -> None:
    encrypts = EventFilter(event_names=frozenset({"Encrypt"}))
    assert [e["n"] for e in query(FileEvents(pristine), encrypts)] == list(range(1, 49))
    events, _ = last_events(FileEvents(pristine), EventFilter(), 20)
    assert [e["n"] for e in events] == list(range(29, 49))
    rows, after = read_after(pristine, IndexPosition(0, 0, 0, None))
    assert [row.seq for row in rows] == list(range(1, 49))
    assert after.segment == 12
    chosen = [rows[0], rows[5], rows[40], rows[2]]  # archived and live, out of order
    assert [e["n"] if e else None for e in events_at(pristine, chosen)] == [1, 6, 41, 3]


def test_archiving_while_a_writer_appends(
    signer: Signer, tmp_path: Path, public_key: bytes
) -> None:
    path = tmp_path / "trail"
    trail = Trail(path, signer, segment_bytes=2048, digest_seconds=0.05)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            trail.commit_sync([ct_event(n, time.time())])
            written.append(n)

    writer = threading.Thread(target=write)
    writer.start()
    archived = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            result = archive_due(path, older_than=0, now=time.time() + 5, digest=trail.digest_now)
            archived += len(result.archived)
    finally:
        stop.set()
        writer.join()
    trail.close()
    assert archived > 0
    report = verify(path, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert [e["n"] for e in read_events(path)] == written


# -- tampering in the archive ----------------------------------------------------------------------
def test_an_edited_byte_of_an_archived_segment_is_reported(trail: Path, public_key: bytes) -> None:
    path = trail / ARCHIVED_SEG1
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    report = verify(trail, public_key)
    assert not report.ok
    assert ARCHIVED_SEG1 in {f.file for f in report.findings}, [str(f) for f in report.findings]


def test_an_edited_event_in_an_archived_segment_is_reported_at_its_line(
    trail: Path, public_key: bytes
) -> None:
    path = trail / "archive/strongroom/segments/0000000002.jsonl.gz"
    lines = _gz_lines(path)
    lines[1] = lines[1].replace(b"Encrypt", b"Decrypt")
    path.write_bytes(gzip.compress(b"".join(lines)))
    kinds = _kinds(verify(trail, public_key))
    assert ("changed", "archive/strongroom/segments/0000000002.jsonl.gz", 2, 6) in kinds


def test_an_event_removed_from_an_archived_segment_is_reported(
    trail: Path, public_key: bytes
) -> None:
    path = trail / "archive/strongroom/segments/0000000003.jsonl.gz"
    lines = _gz_lines(path)
    del lines[2]  # seq 11
    path.write_bytes(gzip.compress(b"".join(lines)))
    kinds = _kinds(verify(trail, public_key))
    assert ("removed", "archive/strongroom/segments/0000000003.jsonl.gz", 3, 11) in kinds


def test_a_deleted_archived_segment_is_reported(trail: Path, public_key: bytes) -> None:
    (trail / "archive/strongroom/segments/0000000004.jsonl.gz").unlink()
    report = verify(trail, public_key)
    removed = [str(f) for f in report.findings if f.kind == "removed"]
    assert any(
        f.startswith("removed: archive/strongroom/segments/0000000004.jsonl.gz: segment file")
        for f in removed
    ), removed


def test_a_deleted_archived_digest_is_reported(trail: Path, public_key: bytes) -> None:
    (trail / "archive/strongroom/digests/0000000002.json").unlink()
    kinds = _kinds(verify(trail, public_key))
    assert ("removed", "archive/strongroom/digests/0000000002.json", None, None) in kinds


def _an_export(trail: Path, segment: int) -> Path:
    [path, *_] = sorted((trail / "archive/AWSLogs").rglob(f"*_{segment:016d}.json.gz"))
    return path


def test_an_event_removed_from_an_export_file_is_reported(trail: Path, public_key: bytes) -> None:
    path = _an_export(trail, 5)
    content = orjson.loads(gzip.decompress(path.read_bytes()))
    [gone] = content["Records"]
    content["Records"] = []
    path.write_bytes(gzip.compress(orjson.dumps(content)))
    where = str(path.relative_to(trail))
    kinds = _kinds(verify(trail, public_key))
    assert ("removed", where, None, gone["n"]) in kinds


def test_an_edited_byte_of_an_export_file_is_reported(trail: Path, public_key: bytes) -> None:
    path = _an_export(trail, 6)
    data = gzip.decompress(path.read_bytes()).replace(b"Encrypt", b"Decrypt")
    path.write_bytes(gzip.compress(data))
    where = str(path.relative_to(trail))
    [finding] = [f for f in verify(trail, public_key).findings if f.file == where]
    assert finding.kind == "changed"
    assert "differs from seq" in finding.message


def test_a_deleted_or_added_export_file_is_reported(trail: Path, public_key: bytes) -> None:
    path = _an_export(trail, 7)
    shutil.move(path, path.with_name(path.name.replace("0000000000000007", "0000000000000077")))
    kinds = {(f.kind, f.file) for f in verify(trail, public_key).findings}
    assert ("removed", str(path.relative_to(trail))) in kinds
    (path.parent / "notes.txt").write_text("hello")
    kinds = {(f.kind, f.file) for f in verify(trail, public_key).findings}
    assert ("added", str((path.parent / "notes.txt").relative_to(trail))) in kinds


def test_a_live_copy_that_differs_from_the_archived_one_is_reported(
    trail: Path, public_key: bytes
) -> None:
    lines = _gz_lines(trail / ARCHIVED_SEG1)
    (trail / "segments/0000000001.jsonl").write_bytes(b"".join(lines[:-1]))
    kinds = {(f.kind, f.file) for f in verify(trail, public_key).findings}
    assert ("changed", ARCHIVED_SEG1) in kinds


@settings(max_examples=30)
@given(data=st.data())
def test_any_single_byte_change_in_the_archive_is_reported(
    pristine: Path, public_key: bytes, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    files = sorted(
        str(p.relative_to(pristine)) for p in (pristine / "archive").rglob("*") if p.is_file()
    )
    name = data.draw(st.sampled_from(files))
    original = gzip.decompress((pristine / name).read_bytes()) if name.endswith(".gz") else None
    content = original if original is not None else (pristine / name).read_bytes()
    offset = data.draw(st.integers(0, len(content) - 1))
    changed = bytearray(content)
    changed[offset] ^= data.draw(st.integers(1, 255))
    copy = tmp_path_factory.mktemp("flip") / "trail"
    shutil.copytree(pristine, copy)
    packed = gzip.compress(bytes(changed)) if original is not None else bytes(changed)
    (copy / name).write_bytes(packed)
    report = verify(copy, public_key)
    assert not report.ok
    assert name in {f.file for f in report.findings}, (name, [str(f) for f in report.findings])


# -- the export's names ------------------------------------------------------------------------
_TEXT = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=30),
    st.sampled_from([*ACCOUNTS, *REGIONS, "../../etc", "us-east-1/..", "2024-02-29T23:59:59Z"]),
)


@settings(max_examples=200)
@given(
    account=_TEXT,
    region=_TEXT,
    event_time=_TEXT,
    number=st.integers(1, 10**10 - 1),
)
def test_export_paths_are_safe_and_name_their_segment(
    account: object, region: object, event_time: object, number: int
) -> None:
    event = {"recipientAccountId": account, "awsRegion": region, "eventTime": event_time}
    line, _ = chain_line(7, orjson.dumps(event), bytes(32))
    [export] = exports_of(number, [parse_line(line)])
    parts = export.path.split("/")
    assert len(parts) == 8
    assert parts[0] == "AWSLogs"
    assert parts[2] == "CloudTrail"
    assert all(part not in {"", ".", ".."} for part in parts)
    assert parts[1] == (account if isinstance(account, str) and _ACCOUNT(account) else "unknown")
    assert parts[3] == (region if region in REGIONS else parts[3])
    assert all(part.isascii() and "/" not in part for part in parts)
    assert export_number(parts[-1]) == number
    assert orjson.loads(export.content()) == {"Records": [event]}


def test_export_number_refuses_other_names() -> None:
    assert (
        export_number("111122223333_CloudTrail_us-east-1_20240101T0000Z_0000000000000012.json.gz")
        == 12
    )
    assert (
        export_number("111122223333_CloudTrail_us-east-1_20240101T0000Z_Mu0KsOhtH1ar15ZZ.json.gz")
        is None
    )
    assert export_number("notes.txt") is None
