"""The trail index's storage (SQLite, and PostgreSQL when configured): the guarded move of the
position, the rows and resources of a range, lookups by each attribute, a key's last use."""

from __future__ import annotations

from strongroom.domain.trail_index import EventQuery, IndexedEvent, IndexPosition
from strongroom.storage import SqlStorage

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k1"


def _row(seq: int, name: str = "Encrypt", **changes: object) -> IndexedEvent:
    values: dict[str, object] = {
        "seq": seq,
        "event_time": 1000.0 + seq,
        "account": A,
        "event_name": name,
        "event_source": "kms.amazonaws.com",
        "read_only": True,
        "username": "root",
        "principal_arn": f"arn:aws:iam::{A}:root",
        "access_key_id": "AKIA1",
        "event_id": f"e{seq}",
        "request_id": f"r{seq}",
        "error_code": None,
        "segment": 1,
        "offset": 100 * (seq - 1),
        "length": 100,
        "resources": (("AWS::KMS::Key", KEY),),
    }
    return IndexedEvent(**(values | changes))  # type: ignore[arg-type]


def test_the_position_moves_only_from_what_was_read(storage: SqlStorage) -> None:
    assert storage.trail_index_position() == IndexPosition()
    first = IndexPosition(2, 1, 200, 1001.0)
    assert storage.record_trail_events(0, first, [_row(1), _row(2)])
    # A second indexer that read seq 0 too loses, and writes nothing.
    assert not storage.record_trail_events(0, IndexPosition(1, 1, 100, 1001.0), [_row(1)])
    assert storage.trail_index_position() == first
    assert [e.seq for e in storage.lookup_trail_events(EventQuery(A, limit=10))] == [2, 1]


def test_the_reset_empties_the_index_only_from_the_position_read(storage: SqlStorage) -> None:
    at = IndexPosition(2, 1, 200, 1001.0)
    assert storage.record_trail_events(0, at, [_row(1), _row(2)])
    assert storage.indexed_trail_event(2) == _row(2, resources=())
    assert storage.indexed_trail_event(3) is None
    # Moved meanwhile (another offset at the same seq): nothing changes.
    assert not storage.reset_trail_index(IndexPosition(2, 1, 100, 1001.0))
    assert storage.trail_index_position() == at
    assert storage.reset_trail_index(IndexPosition(2, 1, 200))
    assert storage.trail_index_position() == IndexPosition()
    assert storage.indexed_trail_event(2) is None
    assert storage.lookup_trail_events(EventQuery(A, limit=10)) == []
    assert storage.last_key_use(A, KEY, ["Encrypt"]) is None
    # Indexed again from the start, the same seqs.
    assert storage.record_trail_events(0, IndexPosition(1, 1, 0, 5.0), [_row(1, event_id="x")])
    assert [e.event_id for e in storage.lookup_trail_events(EventQuery(A, limit=10))] == ["x"]


def test_lookups_by_attribute_time_and_page(storage: SqlStorage) -> None:
    rows = [
        _row(1),
        _row(2, "Decrypt", error_code="AccessDeniedException"),
        _row(3, "CreateKey", read_only=False, username="alice", access_key_id="AKIA2"),
        _row(4, "ListKeys", resources=()),
        _row(5, account="444455556666"),
    ]
    assert storage.record_trail_events(0, IndexPosition(5, 1, 500, 1001.0), rows)

    def seqs(**query: object) -> list[int]:
        q = EventQuery(A, limit=10, **query)  # type: ignore[arg-type]
        return [e.seq for e in storage.lookup_trail_events(q)]

    assert seqs() == [4, 3, 2, 1]
    assert seqs(attribute=("EventName", "Decrypt")) == [2]
    assert seqs(attribute=("EventId", "e3")) == [3]
    assert seqs(attribute=("Username", "alice")) == [3]
    assert seqs(attribute=("AccessKeyId", "AKIA2")) == [3]
    assert seqs(attribute=("ReadOnly", "false")) == [3]
    assert seqs(attribute=("EventSource", "kms.amazonaws.com")) == [4, 3, 2, 1]
    assert seqs(attribute=("ResourceName", KEY)) == [3, 2, 1]
    assert seqs(attribute=("ResourceType", "AWS::KMS::Key")) == [3, 2, 1]
    assert seqs(start=1002.0, end=1003.0) == [3, 2]
    assert seqs(before_seq=3) == [2, 1]
    page = storage.lookup_trail_events(EventQuery(A, limit=2))
    assert [e.seq for e in page] == [4, 3]
    assert page[1].resources == (("AWS::KMS::Key", KEY),)
    used = storage.last_key_use(A, KEY, {"Encrypt", "Decrypt"})
    assert used is not None
    assert (used.seq, used.request_id) == (1, "r1")  # the denied Decrypt is not a use
    assert storage.last_key_use(A, KEY, {"Sign"}) is None
