"""The trail in the database (``audit.dbtrail`` over ``storage.trail_sql``), on a real PostgreSQL:
the file trail's lines, one chain for concurrent writers, digests, tampering found by verify,
the index's reading, and failing closed until the database is back.

Needs ``STRONGROOM_TEST_POSTGRES_URL`` (``.ci/run`` sets it); skipped with that reason otherwise.
Each test gets a schema of its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.unit.audit.helpers import Clock, event, make_signer
from tests.unit.storage.conftest import _postgres_url

from strongroom.audit.dbtrail import DbTrail, DbTrailSource
from strongroom.audit.digest import Signer, seal_digest, split_digest
from strongroom.audit.format import parse_line
from strongroom.audit.trail import Trail, TrailUnavailable
from strongroom.audit.verify import Report, verify_source
from strongroom.crypto.trail_signature import public_pem
from strongroom.domain.trail_index import EventQuery
from strongroom.server.trail_index import TrailIndexer
from strongroom.storage import StorageError, migrate, open_storage
from strongroom.storage.trail_sql import TrailSql

pytestmark = pytest.mark.postgres

BLOCK = 10  # seqs per segment in these tests (the server's is 10000)


@pytest.fixture
def url() -> Iterator[str]:
    for found in _postgres_url():
        migrate(found)
        yield found


def _open(
    url: str, signer: Signer, *, now: Clock | None = None, digest_seconds: float = 3600
) -> DbTrail:
    return DbTrail(
        TrailSql(url),
        signer,
        errors=(StorageError,),
        segment_events=BLOCK,
        digest_seconds=digest_seconds,
        now=now or Clock(),
    )


def _verify(url: str, public_key: bytes, *, allow_unsigned_tail: bool = False) -> Report:
    rows = TrailSql(url)
    try:
        return verify_source(
            DbTrailSource(rows, BLOCK), public_key, allow_unsigned_tail=allow_unsigned_tail
        )
    finally:
        rows.close()


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _lines(url: str) -> list[tuple[int, bytes]]:
    rows = TrailSql(url)
    try:
        return rows.trail_lines(1, 10**9)
    finally:
        rows.close()


@pytest.fixture
def written(url: str, signer: Signer) -> str:
    """25 events in 3 segments of 10, a digest after 15 and one at close."""
    clock = Clock()
    trail = _open(url, signer, now=clock)
    for n in range(1, 26):
        trail.commit_sync([event(n)])
        clock.t += 60
        if n == 15:
            trail.digest_now()
    trail.close()
    return url


def test_lines_are_the_file_trails_bytes(url: str, signer: Signer, tmp_path: Path) -> None:
    events = [event(n) for n in range(1, 8)]
    trail = _open(url, signer)
    trail.commit_sync(events[:3])
    asyncio.run(_commit_each(trail, events[3:]))
    trail.close()
    files = Trail(tmp_path / "trail", signer)
    files.commit_sync(events)
    files.close()
    on_disk = (tmp_path / "trail" / "segments" / "0000000001.jsonl").read_bytes()
    assert b"".join(line for _, line in _lines(url)) == on_disk
    assert [key for key, _ in _lines(url)] == list(range(1, 8))


async def _commit_each(trail: DbTrail, events: list[dict[str, object]]) -> None:
    await asyncio.gather(*(trail.commit([e]) for e in events))


def test_group_commit_shares_one_transaction(url: str, signer: Signer, public_key: bytes) -> None:
    trail = _open(url, signer)
    asyncio.run(_commit_each(trail, [event(n) for n in range(100)]))
    assert trail.committed == 100
    assert trail.flushes < 10
    trail.close()
    report = _verify(url, public_key)
    assert report.ok, report.findings
    assert report.events == report.last_seq == 100


def test_an_untouched_trail_verifies(written: str, public_key: bytes) -> None:
    report = _verify(written, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert (report.events, report.segments, report.digests) == (25, 3, 2)
    assert report.covered_seq == 25


def _writer(url: str, key_dir: str, count: int) -> None:
    """A node: its own process, connection and writer (and threads sharing it)."""
    trail = _open(url, make_signer(Path(key_dir)))

    async def run() -> None:
        await asyncio.gather(*(trail.commit([event(n)]) for n in range(count // 2)))

    asyncio.run(run())
    for n in range(count // 2):
        trail.commit_sync([event(n), event(n)])
    trail.close()


def test_two_writers_make_one_chain(url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    public_key = public_pem(make_signer(keys).public_key_der())
    context = multiprocessing.get_context("spawn")
    nodes = [context.Process(target=_writer, args=(url, str(keys), 60)) for _ in range(2)]
    for node in nodes:
        node.start()
    for node in nodes:
        node.join(60)
        assert node.exitcode == 0
    report = _verify(url, public_key)
    assert report.ok, [str(f) for f in report.findings]
    assert report.last_seq == report.events == 2 * (30 + 60)
    assert [key for key, _ in _lines(url)] == list(range(1, 181))


def _row_of(url: str, seq: int) -> bytes:
    return dict(_lines(url))[seq]


def test_a_changed_byte_is_reported_with_its_row(written: str, public_key: bytes) -> None:
    line = _row_of(written, 7)
    changed = line.replace(b"req-7", b"req-X")
    _sql(written, f"UPDATE audit_events SET line = '\\x{changed.hex()}'::bytea WHERE seq = 7")
    report = _verify(written, public_key)
    kinds = {(f.kind, f.file, f.line, f.seq) for f in report.findings}
    assert ("changed", "audit_events segment 1", 7, 7) in kinds
    assert "changed: audit_events segment 1 row 7 (seq 7)" in "\n".join(map(str, report.findings))


def test_a_deleted_row_is_reported_as_removed(written: str, public_key: bytes) -> None:
    _sql(written, "DELETE FROM audit_events WHERE seq = 12")
    report = _verify(written, public_key)
    assert "removed: audit_events segment 2 row 13 (seq 12): seq 12 missing before row 13" in {
        str(f) for f in report.findings
    }
    assert any(
        f.kind == "removed" and f.seq == 12 and f.file == "audit_events segment 2"
        for f in report.findings
    ), report.findings


def test_swapped_rows_are_reported_as_reordered(written: str, public_key: bytes) -> None:
    _sql(
        written,
        "UPDATE audit_events SET seq = -1 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = -1",
    )  # the row keys stay, their lines trade places
    report = _verify(written, public_key)
    assert "reordered: audit_events segment 1 row 5 (seq 4): comes after seq 5 (row 4)" in {
        str(f) for f in report.findings
    }
    assert not report.ok


def test_a_replaced_digest_is_reported(written: str, public_key: bytes, tmp_path: Path) -> None:
    other = make_signer(tmp_path / "other")
    rows = TrailSql(written)
    body = {n: b for n, _, b in rows.trail_digests()}[1]
    rows.close()
    fields = split_digest(body).fields  # digest 1, signed again by another key
    resealed = seal_digest(fields, "0000000001.json", other)
    _sql(
        written,
        f"UPDATE audit_digests SET body = '\\x{resealed.hex()}'::bytea WHERE number = 1",
    )
    report = _verify(written, public_key)
    assert any(
        f.kind == "changed" and f.file == "audit_digests number 0000000001" for f in report.findings
    ), report.findings


def test_events_after_the_last_digest_are_unsigned(written: str, signer: Signer) -> None:
    trail = _open(written, signer)
    trail.commit_sync([event(99)])
    public_key = public_pem(signer.public_key_der())
    report = _verify(written, public_key)
    assert [f.kind for f in report.findings] == ["unsigned"]
    assert _verify(written, public_key, allow_unsigned_tail=True).ok
    trail.close()
    assert _verify(written, public_key).ok


def test_digests_follow_the_schedule(url: str, signer: Signer, public_key: bytes) -> None:
    clock = Clock()
    trail = _open(url, signer, now=clock, digest_seconds=600)
    for n in range(1, 40):
        trail.commit_sync([event(n)])
        clock.t += 60
    rows = TrailSql(url)
    digests = rows.trail_digests()
    rows.close()
    assert len(digests) == 3  # at 10, 20 and 30 minutes
    trail.close()
    assert _verify(url, public_key).ok


def test_another_signing_key_is_refused(written: str, tmp_path: Path) -> None:
    with pytest.raises(TrailUnavailable, match=r"audit-signing\.key"):
        _open(written, make_signer(tmp_path / "another"))


def test_fails_closed_and_recovers(url: str, signer: Signer, public_key: bytes) -> None:
    trail = _open(url, signer)
    trail.commit_sync([event(1)])
    _sql(url, "ALTER TABLE audit_events RENAME TO audit_events_away")
    try:
        with pytest.raises(TrailUnavailable, match="cannot be written"):
            trail.commit_sync([event(2)])
        with pytest.raises(TrailUnavailable):
            asyncio.run(_commit_each(trail, [event(3), event(4)]))
    finally:
        _sql(url, "ALTER TABLE audit_events_away RENAME TO audit_events")
    trail.commit_sync([event(5)])  # the same writer, without a restart
    asyncio.run(_commit_each(trail, [event(6)]))
    trail.close()
    report = _verify(url, public_key)
    assert report.ok, report.findings
    assert report.last_seq == 3
    assert [parse_line(line).event()["n"] for _, line in _lines(url)] == [1, 5, 6]


def test_the_index_reads_the_table(url: str, signer: Signer, tmp_path: Path) -> None:
    trail = _open(url, signer)
    storage = open_storage(url)
    indexer = TrailIndexer(tmp_path, storage, source=trail, batch=7)
    account = "111122223333"
    trail.commit_sync([event(n, eventID=f"e-{n}", recipientAccountId=account) for n in range(20)])
    assert indexer.catch_up() == 20
    assert indexer.catch_up() == 0
    position = storage.trail_index_position()
    assert (position.seq, position.segment) == (20, 2)
    found = storage.lookup_trail_events(EventQuery(account, 3))
    assert [row.seq for row in found] == [20, 19, 18]
    assert [(indexer.event_at(row) or {}).get("n") for row in found] == [19, 18, 17]
    storage.close()
    trail.close()
