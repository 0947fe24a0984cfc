"""Migrations: empty to head, idempotent, matching ``schema.py``; open_storage checks revisions."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from strongroom.storage import (
    StorageError,
    current_revision,
    head_revision,
    migrate,
    open_storage,
)
from strongroom.storage.engine import make_backend
from strongroom.storage.migrate import MIGRATIONS
from strongroom.storage.schema import metadata

TABLES = {
    "meta",
    "changes",
    "accounts",
    "access_keys",
    "keys",
    "key_materials",
    "aliases",
    "key_tags",
}


def _table_names(url: str) -> set[str]:
    backend = make_backend(url)
    try:
        with backend.reader.connect() as conn:
            context = MigrationContext.configure(conn)
            names = set(conn.dialect.get_table_names(conn))
            assert context.get_current_revision() == current_revision(url)
            return names
    finally:
        backend.close()


def test_empty_database_is_refused_until_migrated(db_url: str) -> None:
    assert current_revision(db_url) is None
    with pytest.raises(StorageError, match="strongroom init"):
        open_storage(db_url)


def test_migrate_from_empty_to_head_is_idempotent(db_url: str) -> None:
    migrate(db_url)
    assert current_revision(db_url) == head_revision() == "0001"
    assert _table_names(db_url) == TABLES | {"alembic_version"}
    migrate(db_url)
    assert current_revision(db_url) == head_revision()
    open_storage(db_url).close()


def test_migrated_database_matches_schema_module(db_url: str) -> None:
    migrate(db_url)
    backend = make_backend(db_url)
    try:
        with backend.reader.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        backend.close()
    assert diffs == []


def test_downgrade_to_base_and_back(db_url: str) -> None:
    migrate(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    backend = make_backend(db_url)
    try:
        with backend.writer.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
    finally:
        backend.close()
    assert _table_names(db_url) <= {"alembic_version"}
    assert current_revision(db_url) is None
    migrate(db_url)
    assert current_revision(db_url) == head_revision()


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://user:hunter2@localhost/db",
        "not a url",
        "postgresql+psycopg://user:hunter2@127.0.0.1:1/db",
    ],
)
def test_bad_urls_fail_without_echoing_secrets(url: str) -> None:
    with pytest.raises(StorageError) as caught:
        open_storage(url)
    assert "hunter2" not in str(caught.value)
