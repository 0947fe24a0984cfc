"""The transaction plumbing every SQL storage module shares: one place that opens reads and writes.

Writes go through :meth:`SqlBase._write` (``BEGIN IMMEDIATE`` on SQLite, the change counter
bumped on PostgreSQL), so every write, whatever module it lives in, is seen by the other worker
processes; reads are single statements on an autocommit connection. Driver errors become
:class:`StorageError` with a message that names no SQL and no value; a uniqueness clash becomes
:class:`DuplicateError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from strongroom.storage.base import DuplicateError, StorageError
from strongroom.storage.engine import Backend, make_backend

__all__ = ["SqlBase", "by_name", "key_params", "of_key"]

_UNIQUE = {"23505", "SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"}


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def by_name(records: Iterable[N]) -> list[N]:
    """``records`` in IAM name order (case-insensitive), the same on every backend."""
    return sorted(records, key=lambda r: (r.name.lower(), r.name))


def of_key(table: Table) -> Any:
    """``account = :b_account AND region = :b_region AND key_id = :b_key_id`` on ``table``,
    bound by :func:`key_params`, so statements on a key's rows can be built once."""
    c = table.c
    return (
        (c.account == bindparam("b_account"))
        & (c.region == bindparam("b_region"))
        & (c.key_id == bindparam("b_key_id"))
    )


def key_params(account: str, region: str, key_id: str) -> dict[str, str]:
    """The parameters of :func:`of_key`."""
    return {"b_account": account, "b_region": region, "b_key_id": key_id}


def _translate(exc: SQLAlchemyError) -> StorageError:
    if isinstance(exc, IntegrityError):
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        if code in _UNIQUE:
            return DuplicateError("a record with this identity exists already")
        return StorageError("the change refers to a record that does not exist")
    return StorageError(f"the storage backend failed ({type(exc).__name__})")


class SqlBase:
    """An engine pair (see ``engine``) and the read and write transactions on it."""

    def __init__(self, url: str) -> None:
        self._backend = make_backend(url)

    @property
    def backend(self) -> Backend:
        """The engine and backend hooks (for migrations and diagnostics)."""
        return self._backend

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._backend.reader.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise _translate(exc) from exc

    @contextmanager
    def _write(self, *, counted: bool = True) -> Iterator[Connection]:
        """A write transaction; ``counted=False`` for rows no cache depends on (the trail's
        index), which need not tell the other workers (on PostgreSQL, no counter bump)."""
        try:
            with self._backend.writer.begin() as conn:
                self._backend.before_write(conn)
                yield conn
                if counted:
                    self._backend.after_write(conn)
        except SQLAlchemyError as exc:
            raise _translate(exc) from exc

    def close(self) -> None:
        self._backend.close()

    def change_counter(self) -> int:
        return self._backend.change_counter()
