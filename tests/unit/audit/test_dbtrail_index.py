"""The index when a PostgreSQL deployment switches its trail from files to the database, on a real
PostgreSQL: the index still stands where the trail files ended (past the database trail's seq
1, or at a place in a file, or on events that are not the database's); the indexer's first
catch-up empties it in one guarded transaction, says so once, and rebuilds it from the database
trail. An index of the database trail itself is never emptied.

Needs ``STRONGROOM_TEST_POSTGRES_URL``; skipped with that reason otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.audit.helpers import event
from tests.unit.storage.conftest import _postgres_url

from strongroom.audit.dbtrail import DbTrail
from strongroom.audit.digest import Signer
from strongroom.audit.index import indexed
from strongroom.audit.trail import Trail
from strongroom.domain.trail_index import EventQuery, IndexPosition
from strongroom.server.trail_index import TrailIndexer
from strongroom.storage import SqlStorage, StorageError, migrate, open_storage
from strongroom.storage.trail_sql import TrailSql

pytestmark = pytest.mark.postgres

BLOCK = 10  # seqs per segment in these tests (the server's is 10000)
ACCOUNT = "111122223333"
RESET = "the audit trail's index was not of this trail"


@pytest.fixture
def url() -> Iterator[str]:
    for found in _postgres_url():
        migrate(found)
        yield found


@pytest.fixture
def storage(url: str) -> Iterator[SqlStorage]:
    opened = open_storage(url)
    yield opened
    opened.close()


@pytest.fixture
def db_trail(url: str, signer: Signer) -> Iterator[DbTrail]:
    trail = DbTrail(TrailSql(url), signer, errors=(StorageError,), segment_events=BLOCK)
    yield trail
    trail.close()


def _events(kind: str, count: int) -> list[dict[str, object]]:
    return [
        event(n, eventID=f"{kind}-{n}", recipientAccountId=ACCOUNT) for n in range(1, count + 1)
    ]


def _files_indexed(directory: Path, signer: Signer, storage: SqlStorage, count: int) -> None:
    """A node's trail files of ``count`` events, indexed: the index before the switch."""
    trail = Trail(directory, signer)
    trail.commit_sync(_events("file", count))
    trail.close()
    assert TrailIndexer(directory, storage).catch_up() == count


def _ids(storage: SqlStorage) -> list[str]:
    return [row.event_id for row in storage.lookup_trail_events(EventQuery(ACCOUNT, 50))]


def _resets(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(RESET)]


@pytest.mark.parametrize(
    ("files", "in_db"),
    [
        (30, 5),  # the index past the database trail's end, at a place in a file
        (3, 8),  # behind it, but at a place in a file
    ],
)
def test_switching_from_files_empties_the_index_once_and_rebuilds_it(
    tmp_path: Path,
    signer: Signer,
    storage: SqlStorage,
    db_trail: DbTrail,
    caplog: pytest.LogCaptureFixture,
    files: int,
    in_db: int,
) -> None:
    _files_indexed(tmp_path / "trail", signer, storage, files)
    db_trail.commit_sync(_events("db", in_db))
    indexer = TrailIndexer(tmp_path, storage, source=db_trail, batch=3)
    with caplog.at_level(logging.WARNING, logger="strongroom.audit"):
        assert indexer.catch_up() == in_db
        db_trail.commit_sync(_events("more", 2))
        assert indexer.catch_up() == 2
        # Another process of the node (a worker, the indexer process) checks for itself.
        assert TrailIndexer(tmp_path, storage, source=db_trail).catch_up() == 0
    (said,) = _resets(caplog)
    assert "it stands at byte" in said
    assert storage.trail_index_position() == IndexPosition(
        in_db + 2, 1, 0, storage.trail_index_position().tracking_since
    )
    expected = [f"more-{n}" for n in (2, 1)] + [f"db-{n}" for n in range(in_db, 0, -1)]
    assert _ids(storage) == expected
    rows = storage.lookup_trail_events(EventQuery(ACCOUNT, 50))
    assert [(e or {}).get("eventID") for e in indexer.events_at(rows)] == expected


@pytest.mark.parametrize(
    ("indexed_seqs", "in_db", "why"),
    [
        # Past the head, even at a place the database trail could make (seq 15, block 2).
        (15, 4, "it stands at seq 15, past the database trail's last (4)"),
        # At such a place within the trail, on events that are not the database's.
        (3, 6, "its event at seq 3 is not the database trail's"),
    ],
)
def test_an_index_of_other_events_at_a_place_the_database_could_make_is_emptied(
    tmp_path: Path,
    storage: SqlStorage,
    db_trail: DbTrail,
    caplog: pytest.LogCaptureFixture,
    indexed_seqs: int,
    in_db: int,
    why: str,
) -> None:
    others = [
        indexed(e, n, (n - 1) // BLOCK + 1, 0, 100)
        for n, e in enumerate(_events("x", indexed_seqs), 1)
    ]
    at = IndexPosition(indexed_seqs, (indexed_seqs - 1) // BLOCK + 1, 0, 1.0)
    assert storage.record_trail_events(0, at, others)
    db_trail.commit_sync(_events("db", in_db))
    with caplog.at_level(logging.WARNING, logger="strongroom.audit"):
        assert TrailIndexer(tmp_path, storage, source=db_trail).catch_up() == in_db
    (said,) = _resets(caplog)
    assert why in said
    assert _ids(storage) == [f"db-{n}" for n in range(in_db, 0, -1)]


def test_the_database_trails_own_index_is_kept(
    tmp_path: Path,
    storage: SqlStorage,
    db_trail: DbTrail,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Across blocks, events with no eventID, a fresh indexer each time (a restart): nothing
    is emptied, nothing read twice."""
    db_trail.commit_sync([event(n, recipientAccountId=ACCOUNT) for n in range(1, 13)])
    with caplog.at_level(logging.WARNING, logger="strongroom.audit"):
        assert TrailIndexer(tmp_path, storage, source=db_trail, batch=5).catch_up() == 12
        assert TrailIndexer(tmp_path, storage, source=db_trail).catch_up() == 0
        db_trail.commit_sync([event(13, recipientAccountId=ACCOUNT)])
        assert TrailIndexer(tmp_path, storage, source=db_trail).catch_up() == 1
    assert _resets(caplog) == []
    assert storage.trail_index_position().seq == 13
    seqs = [row.seq for row in storage.lookup_trail_events(EventQuery(ACCOUNT, 50))]
    assert seqs == list(range(13, 0, -1))


def test_a_file_trails_index_is_never_checked_against_the_database(
    tmp_path: Path, signer: Signer, storage: SqlStorage, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="strongroom.audit"):
        _files_indexed(tmp_path / "trail", signer, storage, 4)
        assert TrailIndexer(tmp_path / "trail", storage).catch_up() == 0
    assert _resets(caplog) == []
    assert storage.trail_index_position().seq == 4
