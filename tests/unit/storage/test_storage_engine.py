"""Connection settings per backend: what makes SQLite durable and concurrent, PostgreSQL bounded."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from strongroom.storage import migrate, open_storage
from strongroom.storage.engine import make_backend


def test_sqlite_connections_are_wal_full_sync_with_fks(tmp_path: Path) -> None:
    backend = make_backend(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with backend.reader.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        backend.close()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate(url)
    storage = open_storage(url)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        storage.set_meta("v", "old")
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE meta SET value = 'new' WHERE name = 'v'")
        started = time.monotonic()
        assert storage.get_meta("v") == "old"
        assert time.monotonic() - started < 1.0
        other.execute("COMMIT")
        assert storage.get_meta("v") == "new"
    finally:
        other.close()
        storage.close()


def test_sqlite_writer_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate(url)
    storage = open_storage(url)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO meta (name, value) VALUES ('held', 'x')")
        # The lock is released by a timer while set_meta is waiting on it.
        timer = threading.Timer(0.5, other.execute, ["COMMIT"])
        timer.start()
        storage.set_meta("after", "y")
        timer.join()
        assert storage.get_meta("held") == "x"
        assert storage.get_meta("after") == "y"
    finally:
        other.close()
        storage.close()


def test_postgres_sessions_have_a_statement_timeout(postgres_url: str) -> None:
    backend = make_backend(postgres_url)
    try:
        with backend.reader.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "5s"
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            assert isinstance(schema, str)
            assert schema.startswith("strongroom_test_")
            assert schema in postgres_url
    finally:
        backend.close()
