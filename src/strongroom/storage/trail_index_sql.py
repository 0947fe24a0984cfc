"""The audit trail's index in SQL (revision 0006): ``trail_events``, ``trail_event_resources``
and the one-row ``trail_index``, behind the :class:`~strongroom.storage.base.TrailIndexRows`
methods of :class:`Storage`.

``record_trail_events`` is the guarded write: it moves ``trail_index`` from the seq its caller
read (``UPDATE ... WHERE seq = :expected``; SQLite's ``BEGIN IMMEDIATE`` and PostgreSQL's row
lock order racing writers, and the loser finds the row moved) and inserts the range's rows in the
same transaction, so each range is written by exactly one worker of any node.
``reset_trail_index`` is guarded the same way (on the whole position) and empties the index in
that transaction. Neither bumps the change counter: the index is not KMS state, and no cache
depends on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update

from strongroom.domain.trail_index import EventQuery, IndexedEvent, IndexPosition
from strongroom.storage.schema import trail_event_resources, trail_events, trail_index
from strongroom.storage.sqlbase import SqlBase

__all__ = ["TrailIndexSql"]

_E = trail_events.c
_R = trail_event_resources.c
_I = trail_index.c
_POSITION = select(trail_index).where(_I.id == 1)
_MOVE = (
    update(trail_index)
    .where(_I.id == 1, _I.seq == bindparam("b_expected"))
    .values(
        seq=bindparam("b_seq"),
        segment=bindparam("b_segment"),
        offset=bindparam("b_offset"),
        tracking_since=bindparam("b_since"),
    )
)
_RESET = (
    update(trail_index)
    .where(
        _I.id == 1,
        _I.seq == bindparam("b_seq"),
        _I.segment == bindparam("b_segment"),
        _I.offset == bindparam("b_offset"),
    )
    .values(seq=0, segment=0, offset=0, tracking_since=None)
)
_EVENT_COLUMNS = (
    "seq",
    "event_time",
    "account",
    "event_name",
    "event_source",
    "read_only",
    "username",
    "principal_arn",
    "access_key_id",
    "event_id",
    "request_id",
    "error_code",
    "segment",
    "offset",
    "length",
)
# Each lookup attribute (CloudTrail's LookupAttributeKey) as a condition on trail_events.
_BY_COLUMN = {
    "EventId": _E.event_id,
    "EventName": _E.event_name,
    "Username": _E.username,
    "EventSource": _E.event_source,
    "AccessKeyId": _E.access_key_id,
}
_BY_RESOURCE = {"ResourceName": _R.arn, "ResourceType": _R.resource_type}


def _place(position: IndexPosition) -> dict[str, int]:
    return {"b_seq": position.seq, "b_segment": position.segment, "b_offset": position.offset}


def _event(row: Row[Any], resources: tuple[tuple[str, str], ...] = ()) -> IndexedEvent:
    values = {name: getattr(row, name) for name in _EVENT_COLUMNS}
    values["read_only"] = bool(values["read_only"])
    return IndexedEvent(**values, resources=resources)


def _filtered(stmt: Select[Any], query: EventQuery) -> Select[Any]:
    stmt = stmt.where(_E.account == query.account)
    if query.before_seq is not None:
        stmt = stmt.where(_E.seq < query.before_seq)
    if query.start is not None:
        stmt = stmt.where(_E.event_time >= query.start)
    if query.end is not None:
        stmt = stmt.where(_E.event_time <= query.end)
    if query.attribute is not None:
        key, value = query.attribute
        if key == "ReadOnly":
            stmt = stmt.where(_E.read_only == (value == "true"))
        elif key in _BY_RESOURCE:
            stmt = stmt.where(_E.seq.in_(select(_R.seq).where(_BY_RESOURCE[key] == value)))
        else:
            stmt = stmt.where(_BY_COLUMN[key] == value)
    return stmt


class TrailIndexSql(SqlBase):
    def trail_index_position(self) -> IndexPosition:
        with self._read() as conn:
            row = conn.execute(_POSITION).one()
        return IndexPosition(row.seq, row.segment, row.offset, row.tracking_since)

    def record_trail_events(
        self, expected_seq: int, position: IndexPosition, events: Sequence[IndexedEvent]
    ) -> bool:
        params = {
            "b_expected": expected_seq,
            **_place(position),
            "b_since": position.tracking_since,
        }
        with self._write(counted=False) as conn:
            if conn.execute(_MOVE, params).rowcount != 1:
                return False
            if events:
                conn.execute(
                    insert(trail_events),
                    [{name: getattr(e, name) for name in _EVENT_COLUMNS} for e in events],
                )
                resources = [
                    {"seq": e.seq, "position": i, "resource_type": kind, "arn": arn}
                    for e in events
                    for i, (kind, arn) in enumerate(e.resources)
                ]
                if resources:
                    conn.execute(insert(trail_event_resources), resources)
        return True

    def indexed_trail_event(self, seq: int) -> IndexedEvent | None:
        with self._read() as conn:
            row = conn.execute(select(trail_events).where(_E.seq == seq)).first()
        return None if row is None else _event(row)

    def reset_trail_index(self, expected: IndexPosition) -> bool:
        with self._write(counted=False) as conn:
            # The position first: its row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE) orders
            # this against every indexer's guarded move, as record_trail_events does.
            if conn.execute(_RESET, _place(expected)).rowcount != 1:
                return False
            conn.execute(delete(trail_event_resources))
            conn.execute(delete(trail_events))
        return True

    def lookup_trail_events(self, query: EventQuery) -> list[IndexedEvent]:
        stmt = _filtered(select(trail_events), query).order_by(_E.seq.desc()).limit(query.limit)
        with self._read() as conn:
            rows = list(conn.execute(stmt))
            found: dict[int, list[tuple[str, str]]] = {row.seq: [] for row in rows}
            if found:
                named = (
                    select(_R.seq, _R.resource_type, _R.arn)
                    .where(_R.seq.in_(list(found)))
                    .order_by(_R.seq, _R.position)
                )
                for seq, kind, arn in conn.execute(named):
                    found[seq].append((kind, arn))
        return [_event(row, tuple(found[row.seq])) for row in rows]

    def last_key_use(
        self, account: str, key_arn: str, event_names: Collection[str]
    ) -> IndexedEvent | None:
        stmt = (
            select(trail_events)
            .where(
                _E.seq.in_(select(_R.seq).where(_R.arn == key_arn)),
                _E.account == account,
                _E.event_name.in_(list(event_names)),
                _E.error_code.is_(None),
            )
            .order_by(_E.seq.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else _event(row)
