"""The audit trail in the database (revision 0007): the SQL under ``audit.dbtrail.DbTrail``.

Only rows go in and out here; what a line is and how it chains is the audit package's
(``audit/format.py``), handed in as a function. :meth:`TrailSql.append_trail` is the one write
on the requests' path: in one transaction, with ``synchronous_commit`` on whatever the server's
default, it locks the chain's head row (``SELECT ... FOR UPDATE``: every process of every node
appends one at a time, for the time of this transaction only), lets the caller chain the lines
from the head, inserts them and moves the head. The commit is the durability point. Digests are
inserted under their number; of two processes writing the same number, one wins
(:meth:`TrailSql.insert_trail_digest` says which).

A trail has its own engine (a small pool), apart from the storage's: an append never waits for a
connection behind the requests' reads, nor they behind it. Driver errors become
:class:`StorageError` naming no SQL and no value.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from sqlalchemy import bindparam, insert, select, text

from strongroom.storage.base import DuplicateError, StorageError
from strongroom.storage.schema import audit_digests, audit_events, audit_trail
from strongroom.storage.sqlbase import SqlBase

__all__ = ["ChainLines", "TrailSql"]

_DRIVER_ERRORS = (psycopg.Error, OSError)

# (seq of the head, hash of the head) -> the lines to append after it, and the new head's hash
ChainLines = Callable[[int, bytes], tuple[Sequence[bytes], bytes]]

_E = audit_events.c
_D = audit_digests.c
_T = audit_trail.c
# The append's SQL, written for psycopg (PostgreSQL's arrays: one statement for any number of
# lines). The first is sent as one simple query: BEGIN and the lock in a single round trip.
_BEGIN_AND_LOCK_HEAD = "BEGIN; SELECT seq, hash FROM audit_trail WHERE id = 1 FOR UPDATE"
_ADD_LINES = (
    "WITH added AS (INSERT INTO audit_events (seq, line)"
    " SELECT * FROM unnest(%s::bigint[], %s::bytea[]))"
    " UPDATE audit_trail SET seq = %s, hash = %s, started = coalesce(started, %s) WHERE id = 1"
)
_SYNCHRONOUS = text("SET LOCAL synchronous_commit = on")
_HEAD = select(_T.seq, _T.hash, _T.started).where(_T.id == 1)
_LINES = (
    select(_E.seq, _E.line)
    .where(_E.seq >= bindparam("b_first"), _E.seq <= bindparam("b_last"))
    .order_by(_E.seq)
)
_LINES_AFTER = select(_E.seq, _E.line).where(_E.seq > bindparam("b_after")).order_by(_E.seq)
_LINE = select(_E.line).where(_E.seq == bindparam("b_seq"))
_DIGESTS = select(_D.number, _D.written_at, _D.body).order_by(_D.number)
_LAST_DIGEST = _DIGESTS.order_by(None).order_by(_D.number.desc()).limit(1)


class TrailSql(SqlBase):
    """The trail's rows in the PostgreSQL database at ``url`` (see the module docstring)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._append_lock = threading.Lock()
        self._append_raw: Any = None
        self._append_driver: Any = None
        if self.backend.engine.dialect.name != "postgresql":
            self.close()
            raise StorageError("the audit trail in the database needs PostgreSQL")

    def append_trail(self, chain: ChainLines, now: float) -> int:
        """Append the lines ``chain`` makes from the head, durably; return the new head's seq.

        Two round trips on one connection kept for appends: ``BEGIN`` with the head's lock, then
        the rows, the head's move and ``COMMIT`` in one pipeline (psycopg's pipeline mode)."""
        with self._append_lock:
            try:
                driver = self._appender()
                head = driver.execute(_BEGIN_AND_LOCK_HEAD)
                head.nextset()  # past BEGIN's result, to the SELECT's
                seq, previous = head.fetchone()
                try:
                    lines, last_hash = chain(seq, bytes(previous))
                    with driver.pipeline():
                        if lines:
                            keys = list(range(seq + 1, seq + len(lines) + 1))
                            seq += len(lines)
                            driver.execute(_ADD_LINES, (keys, list(lines), seq, last_hash, now))
                        driver.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(Exception):  # the first error is the one raised
                        driver.execute("ROLLBACK")
                    raise
            except _DRIVER_ERRORS as exc:
                self._drop_appender()
                raise StorageError(
                    f"the audit trail's append failed ({type(exc).__name__})"
                ) from None
        return int(seq)

    def _appender(self) -> Any:
        """The psycopg connection appends use (opened on first use, again after a failure):
        autocommit (each transaction is begun and committed by the statements above), with
        ``synchronous_commit`` on for its session whatever the server's default."""
        if self._append_driver is None:
            raw = self.backend.engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                driver.autocommit = True
                driver.execute("SET synchronous_commit = on")
            except BaseException:
                raw.invalidate()
                raise
            self._append_raw, self._append_driver = raw, driver
        return self._append_driver

    def _drop_appender(self) -> None:
        raw, self._append_raw, self._append_driver = self._append_raw, None, None
        if raw is not None:
            with contextlib.suppress(Exception):  # already failing
                raw.invalidate()

    def close(self) -> None:
        with self._append_lock:
            if self._append_raw is not None:
                self._append_raw.close()
                self._append_raw, self._append_driver = None, None
        super().close()

    def trail_head(self) -> tuple[int, bytes, float | None]:
        """The last seq, its hash (32 zero bytes for an empty trail) and when the trail began."""
        with self._read() as conn:
            seq, last, started = conn.execute(_HEAD).one()
        return int(seq), bytes(last), started

    def trail_lines(self, first: int, last: int) -> list[tuple[int, bytes]]:
        """``(seq, line)`` of the rows keyed ``first`` to ``last``, in key order."""
        with self._read() as conn:
            rows = conn.execute(_LINES, {"b_first": first, "b_last": last})
            return [(int(seq), bytes(line)) for seq, line in rows]

    def trail_lines_after(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` rows keyed above ``after``, in key order."""
        with self._read() as conn:
            rows = conn.execute(_LINES_AFTER.limit(limit), {"b_after": after})
            return [(int(seq), bytes(line)) for seq, line in rows]

    def trail_line(self, seq: int) -> bytes | None:
        with self._read() as conn:
            line = conn.execute(_LINE, {"b_seq": seq}).scalar()
        return None if line is None else bytes(line)

    def trail_blocks(self, size: int) -> list[int]:
        """The numbers of the blocks of ``size`` keys (1 for keys 1 to ``size``) that hold rows."""
        number = ((_E.seq - 1) // size + 1).label("number")
        with self._read() as conn:
            rows = conn.execute(select(number).distinct().order_by(number))
            return [int(value) for (value,) in rows]

    def trail_digests(self) -> list[tuple[int, float, bytes]]:
        """Every digest: ``(number, written_at, body)`` in number order."""
        with self._read() as conn:
            return [(int(n), float(at), bytes(body)) for n, at, body in conn.execute(_DIGESTS)]

    def last_trail_digest(self) -> tuple[int, float, bytes] | None:
        with self._read() as conn:
            row = conn.execute(_LAST_DIGEST).first()
        return None if row is None else (int(row[0]), float(row[1]), bytes(row[2]))

    def insert_trail_digest(self, number: int, written_at: float, body: bytes) -> bool:
        """Store digest ``number``, durably; False when another process stored it first."""
        try:
            with self._write(counted=False) as conn:
                conn.execute(_SYNCHRONOUS)
                conn.execute(
                    insert(audit_digests),
                    {"number": number, "written_at": written_at, "body": body},
                )
        except DuplicateError:
            return False
        return True
