"""The trail's indexer over a real trail and a real database: every committed event indexed once,
across segments, from where the index stopped; a line still being written is left for later;
racing indexers write each range exactly once; an index row reads its event back."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.audit.helpers import make_signer

from strongroom.audit.format import SEGMENTS, segment_name
from strongroom.audit.index import event_at, indexed
from strongroom.audit.trail import Trail
from strongroom.domain.trail_index import EventQuery
from strongroom.server.trail_index import INDEX_LOCK, TrailIndexer
from strongroom.storage import SqlStorage, migrate, open_storage

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _event(
    n: int, *, account: str = A, name: str = "Encrypt", **extra: object
) -> dict[str, object]:
    return {
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{account}:user/alice",
            "accountId": account,
            "accessKeyId": "AKIAEXAMPLE",
            "userName": "alice",
        },
        "eventTime": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "requestID": f"req-{n}",
        "eventID": f"event-{n}",
        "readOnly": True,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": KEY}],
        "recipientAccountId": account,
        **extra,
    }


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SqlStorage]:
    url = f"sqlite:///{tmp_path / 'strongroom.db'}"
    migrate(url)
    opened = open_storage(url)
    yield opened
    opened.close()


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[Trail]:
    opened = Trail(tmp_path / "trail", make_signer(tmp_path / "keys"), segment_bytes=2000)
    yield opened
    opened.close()


def _seqs(storage: SqlStorage, account: str = A) -> list[int]:
    return [e.seq for e in storage.lookup_trail_events(EventQuery(account, limit=1000))]


def test_every_event_once_across_segments_from_where_it_stopped(
    trail: Trail, storage: SqlStorage
) -> None:
    indexer = TrailIndexer(trail.directory, storage, batch=3)
    assert indexer.catch_up() == 0
    trail.commit_sync([_event(n) for n in range(1, 8)])
    assert indexer.catch_up() == 7
    trail.commit_sync([_event(n) for n in range(8, 12)])
    assert indexer.catch_up() == 4
    assert indexer.catch_up() == 0
    segments = sorted((trail.directory / SEGMENTS).iterdir())
    assert len(segments) > 1  # the events span segments (2000 bytes each)
    assert _seqs(storage) == list(range(11, 0, -1))
    position = storage.trail_index_position()
    assert position.seq == 11
    assert position.tracking_since == 1704067201.0  # the trail's first event
    assert (
        position.offset
        == (trail.directory / SEGMENTS / segment_name(position.segment)).stat().st_size
    )


def test_rows_say_what_lookups_filter_on_and_read_back(trail: Trail, storage: SqlStorage) -> None:
    trail.commit_sync(
        [
            _event(1),
            _event(2, name="Decrypt", errorCode="AccessDeniedException", readOnly=False),
            _event(3, account=B),
        ]
    )
    TrailIndexer(trail.directory, storage).catch_up()
    newest, first = storage.lookup_trail_events(EventQuery(A, limit=10))
    assert (first.event_name, first.username, first.access_key_id) == (
        "Encrypt",
        "alice",
        "AKIAEXAMPLE",
    )
    assert (first.request_id, first.event_id, first.error_code) == ("req-1", "event-1", None)
    assert first.resources == (("AWS::KMS::Key", KEY),)
    assert (newest.error_code, newest.read_only) == ("AccessDeniedException", False)
    assert event_at(trail.directory, first) == _event(1)
    # One attribute at a time; each account sees only its own events.
    by_name = EventQuery(A, limit=10, attribute=("EventName", "Decrypt"))
    assert [e.seq for e in storage.lookup_trail_events(by_name)] == [2]
    by_key = EventQuery(B, limit=10, attribute=("ResourceName", KEY))
    assert [e.seq for e in storage.lookup_trail_events(by_key)] == [3]
    assert [
        e.seq for e in storage.lookup_trail_events(EventQuery(A, 10, ("ReadOnly", "true")))
    ] == [1]
    paged = EventQuery(A, limit=1, before_seq=2)
    assert [e.seq for e in storage.lookup_trail_events(paged)] == [1]
    # The last successful use: not the denied Decrypt, not the other account's copy.
    used = storage.last_key_use(A, KEY, {"Encrypt", "Decrypt"})
    assert used is not None
    assert used.seq == 1


def test_a_line_being_written_waits_for_its_newline(trail: Trail, storage: SqlStorage) -> None:
    trail.commit_sync([_event(1)])
    indexer = TrailIndexer(trail.directory, storage)
    path = trail.directory / SEGMENTS / segment_name(1)
    with path.open("ab") as f:
        f.write(b'{"seq":2,"event":{"eventName":"Enc')  # a writer part way through
    assert indexer.catch_up() == 1
    assert storage.trail_index_position().seq == 1


def test_a_row_whose_line_changed_reads_back_as_nothing(trail: Trail, storage: SqlStorage) -> None:
    trail.commit_sync([_event(1)])
    row = indexed(_event(1), 1, 1, 0, 10)
    assert event_at(trail.directory, row) is None  # the length is not the line's
    other = indexed(
        _event(9), 1, 1, 0, (trail.directory / SEGMENTS / segment_name(1)).stat().st_size
    )
    assert event_at(trail.directory, other) is None  # not the event the row names


def test_racing_indexers_write_each_range_once(trail: Trail, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'strongroom.db'}"
    migrate(url)
    stores = [open_storage(url) for _ in range(4)]
    trail.commit_sync([_event(n) for n in range(1, 41)])
    indexers = [TrailIndexer(trail.directory, s, batch=5) for s in stores]
    counts: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(indexers))

    def run(indexer: TrailIndexer) -> None:
        start.wait()
        try:
            counts.append(indexer.catch_up())
        except BaseException as exc:  # a range written twice would fail on its primary key
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in indexers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(counts) == 40
    assert _seqs(stores[0]) == list(range(40, 0, -1))
    for s in stores:
        s.close()


def test_a_sweep_leaves_the_work_to_a_process_already_indexing(
    trail: Trail, storage: SqlStorage
) -> None:
    """While another process holds the trail's index.lock, a sweep does nothing (it would read
    and parse the same lines for nothing); once the lock is free, it indexes everything."""
    indexer = TrailIndexer(trail.directory, storage)
    trail.commit_sync([_event(n) for n in range(1, 4)])
    other = os.open(trail.directory / INDEX_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        assert indexer.sweep() == 0
        assert _seqs(storage) == []
    finally:
        os.close(other)
    assert indexer.sweep() == 3
    assert _seqs(storage) == [3, 2, 1]
