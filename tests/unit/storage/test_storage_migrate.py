"""Migrations: empty to head, idempotent, matching ``schema.py``; open_storage checks revisions."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.iam.model import UserRecord
from strongroom.kms.model import AccountRecord, GrantRecord
from strongroom.storage import (
    SqlStorage,
    StorageError,
    current_revision,
    head_revision,
    migrate,
    open_storage,
)
from strongroom.storage.engine import make_backend
from strongroom.storage.migrate import MIGRATIONS
from strongroom.storage.schema import metadata

TABLES_0001 = {
    "meta",
    "changes",
    "accounts",
    "access_keys",
    "keys",
    "key_materials",
    "aliases",
    "key_tags",
}
TABLES_0002 = TABLES_0001 | {
    "iam_users",
    "iam_groups",
    "iam_group_members",
    "iam_roles",
    "iam_managed_policies",
    "iam_inline_policies",
    "iam_policy_attachments",
    "iam_principal_tags",
    "sts_sessions",
}
TABLES = TABLES_0002 | {"grants", "services"}


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
    assert current_revision(db_url) == head_revision() == "0004"
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


def _alembic(url: str, verb: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade revision`` on ``url`` the way ``migrate`` does."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    backend = make_backend(url)
    try:
        with backend.writer.begin() as conn:
            backend.before_write(conn)
            config.attributes["connection"] = conn
            getattr(command, verb)(config, revision)
    finally:
        backend.close()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    migrate(db_url)
    _alembic(db_url, "downgrade", "base")
    assert _table_names(db_url) <= {"alembic_version"}
    assert current_revision(db_url) is None
    migrate(db_url)
    assert current_revision(db_url) == head_revision()


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS / "versions" / "0002_identity.py").is_file()
    assert (MIGRATIONS / "versions" / "0003_grants.py").is_file()


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


def test_a_database_at_0001_with_a_key_upgrades_to_head_and_keeps_it(db_url: str) -> None:
    _alembic(db_url, "upgrade", "0001")
    assert current_revision(db_url) == "0001"
    with pytest.raises(StorageError, match="0001"):
        open_storage(db_url)
    material = make_material("k1")
    key = make_key("k1", material_id=material.material_id)
    old = SqlStorage(db_url)  # the 0001 tables are all an 0001 data dir has
    try:
        old.insert_account(AccountRecord(ACCOUNT, 1.0))
        old.insert_key(key, material, {"t": "v"})
    finally:
        old.close()
    migrate(db_url)
    assert current_revision(db_url) == head_revision()
    assert _table_names(db_url) == TABLES | {"alembic_version"}
    storage = open_storage(db_url)
    try:
        assert storage.get_key(ACCOUNT, REGION, "k1") == key
        assert storage.get_materials(ACCOUNT, REGION, "k1") == [material]
        assert storage.get_tags(ACCOUNT, REGION, "k1") == {"t": "v"}
        assert storage.list_accounts() == [AccountRecord(ACCOUNT, 1.0)]
        assert storage.list_users(ACCOUNT) == []
    finally:
        storage.close()


def test_downgrade_to_0001_keeps_the_keys(db_url: str) -> None:
    migrate(db_url)
    storage = open_storage(db_url)
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    storage.insert_key(make_key("k1"), None, {})
    storage.close()
    _alembic(db_url, "downgrade", "0001")
    assert _table_names(db_url) == TABLES_0001 | {"alembic_version"}
    migrate(db_url)
    storage = open_storage(db_url)
    assert storage.get_key(ACCOUNT, REGION, "k1") == make_key("k1")
    storage.close()


def test_a_database_at_0002_upgrades_to_0003_and_keeps_its_rows(db_url: str) -> None:
    _alembic(db_url, "upgrade", "0002")
    assert current_revision(db_url) == "0002"
    user = UserRecord(ACCOUNT, "Alice", "/", "AIDAALICE", f"arn:aws:iam::{ACCOUNT}:user/Alice", 2.0)
    material = make_material("k1")
    key = make_key("k1", material_id=material.material_id)
    old = SqlStorage(db_url)  # only 0002 tables are touched
    try:
        old.insert_account(AccountRecord(ACCOUNT, 1.0))
        old.insert_key(key, material, {"t": "v"})
        old.insert_user(user)
    finally:
        old.close()
    migrate(db_url)
    assert current_revision(db_url) == head_revision() == "0004"
    assert _table_names(db_url) == TABLES | {"alembic_version"}
    storage = open_storage(db_url)
    try:
        assert storage.get_key(ACCOUNT, REGION, "k1") == key
        assert storage.find_key(REGION, "k1") == key
        assert storage.get_materials(ACCOUNT, REGION, "k1") == [material]
        assert storage.get_tags(ACCOUNT, REGION, "k1") == {"t": "v"}
        assert storage.get_user(ACCOUNT, "alice") == user
        assert storage.grants_for_key(ACCOUNT, REGION, "k1") == []
        storage.insert_grant(_grant("k1"))
        assert storage.find_grant(REGION, "0" * 64) == _grant("k1")
    finally:
        storage.close()


def test_downgrade_to_0002_drops_grants_and_keeps_keys(db_url: str) -> None:
    migrate(db_url)
    storage = open_storage(db_url)
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    storage.insert_key(make_key("k1"), None, {})
    storage.insert_grant(_grant("k1"))
    storage.close()
    _alembic(db_url, "downgrade", "0002")
    assert _table_names(db_url) == TABLES_0002 | {"alembic_version"}
    migrate(db_url)
    storage = open_storage(db_url)
    try:
        assert storage.get_key(ACCOUNT, REGION, "k1") == make_key("k1")
        assert storage.grants_for_key(ACCOUNT, REGION, "k1") == []
    finally:
        storage.close()


def _grant(key_id: str) -> GrantRecord:
    return GrantRecord(
        ACCOUNT,
        REGION,
        key_id,
        "0" * 64,
        "name",
        f"arn:aws:iam::{ACCOUNT}:user/Alice",
        None,
        ("Encrypt",),
        {"k": "v"},
        None,
        f"arn:aws:iam::{ACCOUNT}:root",
        3.0,
    )
