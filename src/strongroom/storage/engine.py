"""Engines for the two backends, and the few things that differ between them.

Everything else in storage is one SQLAlchemy Core implementation; a :class:`Backend` holds only
what SQLite and PostgreSQL do differently: how a connection is set up, how read and write
transactions begin, how a change made by any process is noticed, and the upsert construct.

SQLite: WAL, ``synchronous=FULL`` (a committed reply survives ``kill -9`` and power loss), a busy
timeout, foreign keys, and ``BEGIN IMMEDIATE`` for writes, so several server processes sharing
one file queue for the write lock instead of failing on a lock upgrade. Reads run without a
``BEGIN``: each is one statement, atomic on its own. ``PRAGMA data_version`` is the change
counter. PostgreSQL: psycopg 3, pre-ping, a statement timeout; every write transaction bumps the
one-row ``changes`` table, which is the change counter.
"""

from __future__ import annotations

import abc
import contextlib
import mmap
import os
import threading
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from strongroom.storage.base import StorageError
from strongroom.storage.schema import changes

__all__ = ["Backend", "make_backend"]

BUSY_TIMEOUT_MS = 5000
STATEMENT_TIMEOUT_MS = 5000


class Upsert(Protocol):
    """``insert(table)`` of a dialect whose statement has ``on_conflict_do_update``."""

    def __call__(self, table: Any) -> Any: ...


class Backend(abc.ABC):
    """An engine plus the backend-specific hooks :class:`SqlStorage` calls."""

    upsert: Upsert

    def __init__(self, engine: Engine, reader: Engine, writer: Engine) -> None:
        self.engine = engine
        self.reader = reader
        self.writer = writer
        self._lock = threading.Lock()
        self._raw: Any = None
        self._driver: Any = None  # the raw connection's DB-API connection, read per request

    def before_write(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Called first in every write transaction."""

    def after_write(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Called last in every write transaction, before the commit."""

    @abc.abstractmethod
    def _counter_sql(self) -> str:
        """The SQL that reads this backend's change counter."""

    def change_counter(self) -> int:
        """Read the change marker on one dedicated connection (reopened after a failure)."""
        with self._lock:
            try:
                if self._raw is None:
                    self._raw = self._open_raw()
                    self._driver = self._raw.driver_connection
                row = self._driver.execute(self._counter_sql()).fetchone()
            except Exception as exc:  # the driver's own error types differ per backend
                self._drop_raw()
                raise StorageError("could not read the change counter") from exc
        if row is None:
            raise StorageError("the change counter is missing; is the schema migrated?")
        return int(row[0])

    def _open_raw(self) -> Any:
        return self.engine.raw_connection()

    def _drop_raw(self) -> None:
        raw, self._raw, self._driver = self._raw, None, None
        if raw is not None:
            with contextlib.suppress(Exception):  # already failing: the first error is raised
                raw.invalidate()

    def close(self) -> None:
        with self._lock:
            if self._raw is not None:
                self._raw.close()
                self._raw, self._driver = None, None
        self.engine.dispose()


class SqliteBackend(Backend):
    """SQLite in WAL mode. Its change counter has a fast path: the WAL-index header in the
    ``-shm`` file, mapped read-only, changes with every commit of any process
    (https://www.sqlite.org/walformat.html, "The WAL-Index Header": iChange, mxFrame, salts,
    checksum). While both copies of the header read the same as they did before the last
    ``PRAGMA data_version``, nothing was committed since, and the PRAGMA is not asked again.
    Anything else (the header changed, its copies differ mid-write, no ``-shm`` file) asks the
    PRAGMA, which stays the authority."""

    upsert = staticmethod(sqlite.insert)
    _HEADER = 48  # one copy of the WAL-index header; a second copy follows it

    def __init__(self, engine: Engine, database: str) -> None:
        super().__init__(engine, engine, engine)
        self._shm_path = f"{database}-shm"
        self._shm: mmap.mmap | None = None
        self._seen: tuple[bytes, int] | None = None  # header, counter at the last PRAGMA

    def _header(self) -> bytes | None:
        """The WAL-index header when both its copies agree; None when it cannot be read."""
        if self._shm is None:
            try:
                fd = os.open(self._shm_path, os.O_RDONLY)
            except OSError:
                return None
            try:
                self._shm = mmap.mmap(fd, 2 * self._HEADER, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # not yet as long as a header
                return None
            finally:
                os.close(fd)
        first, second = self._shm[: self._HEADER], self._shm[self._HEADER : 2 * self._HEADER]
        return first if first == second else None

    def change_counter(self) -> int:
        header = self._header()
        seen = self._seen
        if header is not None and seen is not None and seen[0] == header:
            return seen[1]
        counter = super().change_counter()  # read after the header: a commit between the two
        self._seen = None if header is None else (header, counter)  # shows at the next call
        return counter

    def close(self) -> None:
        super().close()
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    def before_write(self, conn: Connection) -> None:
        # The driver is in autocommit mode (no implicit BEGIN); its commit() and rollback() still
        # end the transaction this opens. IMMEDIATE takes the write lock now, waiting up to the
        # busy timeout, instead of failing later on a read-to-write lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def _counter_sql(self) -> str:
        return "PRAGMA data_version"


class PostgresBackend(Backend):
    upsert = staticmethod(postgresql.insert)
    _BUMP = update(changes).where(changes.c.id == 1).values(counter=changes.c.counter + 1)

    def after_write(self, conn: Connection) -> None:
        conn.execute(self._BUMP)

    def _counter_sql(self) -> str:
        return "SELECT counter FROM changes WHERE id = 1"

    def _open_raw(self) -> Any:
        raw = self.engine.raw_connection()
        driver: Any = raw.driver_connection
        driver.autocommit = True
        return raw


def _sqlite_engine(url: str) -> SqliteBackend:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise StorageError("a SQLite database must be a file: sqlite:///ABSOLUTE/PATH.db")
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _setup(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # autocommit reads; writes BEGIN IMMEDIATE
        for pragma in (
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
        ):
            dbapi_connection.execute(pragma)

    return SqliteBackend(engine, database)


def _postgres_engine(url: str) -> PostgresBackend:
    parsed = make_url(url)
    options = parsed.query.get("options", "")
    if not isinstance(options, str):
        raise StorageError("the PostgreSQL url has more than one 'options' parameter")
    options = f"{options} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
    engine = create_engine(
        parsed.difference_update_query(["options"]).set(drivername="postgresql+psycopg"),
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"options": options, "connect_timeout": 5},
    )
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    return PostgresBackend(engine, reader, engine)


def make_backend(url: str) -> Backend:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``), not connected."""
    try:
        name = make_url(url).get_backend_name()
    except ArgumentError:
        raise StorageError("the database url is not valid") from None
    try:
        if name == "sqlite":
            return _sqlite_engine(url)
        if name == "postgresql":
            return _postgres_engine(url)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open the database ({type(exc).__name__})") from exc
    raise StorageError(f"unsupported database backend {name!r}; use sqlite or postgresql")
