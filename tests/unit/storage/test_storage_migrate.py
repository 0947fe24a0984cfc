"""Migrations: empty to head, idempotent, matching ``schema.py``; open_storage checks revisions."""

from __future__ import annotations

import dataclasses

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.domain.identity import AccountRecord, UserRecord
from strongroom.domain.keys import GrantRecord, KeyManager, KeyRecord, MaterialRecord
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
TABLES = TABLES_0002 | {
    "grants",
    "services",
    "trail_events",
    "trail_event_resources",
    "trail_index",
    "audit_trail",
    "audit_events",
    "audit_digests",
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
    assert current_revision(db_url) == head_revision() == "0007"
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
    assert (MIGRATIONS / "versions" / "0005_lifecycle.py").is_file()


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
    _insert_old_key(db_url, key, material, {"t": "v"})
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
    _insert_old_key(db_url, key, material, {"t": "v"})
    old = SqlStorage(db_url)  # only 0002 tables are touched
    try:
        old.insert_user(user)
    finally:
        old.close()
    migrate(db_url)
    assert current_revision(db_url) == head_revision() == "0007"
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


_KEY_COLUMNS_0001 = (
    "account", "region", "key_id", "arn", "created_at", "state", "description", "key_spec",
    "key_usage", "origin", "key_manager", "policy", "current_material_id", "deletion_date",
    "pending_window_days", "multi_region",
)  # fmt: skip


def _insert_old_key(
    url: str,
    key: KeyRecord,
    material: MaterialRecord,
    tags: dict[str, str],
    *,
    new_account: bool = True,
) -> None:
    """Write an account, a key, its material and tags with the columns revision 0001 has (what
    an old data dir holds), not through today's storage code."""
    values = {column: getattr(key, column) for column in _KEY_COLUMNS_0001}
    values |= {"state": key.state.value, "key_spec": key.key_spec.value,
               "key_usage": key.key_usage.value, "origin": key.origin.value,
               "key_manager": key.key_manager.value}  # fmt: skip
    ident = {"account": key.account, "region": key.region, "key_id": key.key_id}
    backend = make_backend(url)
    try:
        with backend.writer.begin() as conn:
            if new_account:
                conn.execute(text("INSERT INTO accounts VALUES (:a, 1.0)"), {"a": key.account})
            names = ", ".join(_KEY_COLUMNS_0001)
            marks = ", ".join(f":{c}" for c in _KEY_COLUMNS_0001)
            conn.execute(text(f"INSERT INTO keys ({names}) VALUES ({marks})"), values)
            conn.execute(
                text(
                    "INSERT INTO key_materials (account, region, key_id, material_id, wrapped, "
                    "created_at) VALUES (:account, :region, :key_id, :m, :w, :c)"
                ),
                ident | {"m": material.material_id, "w": material.wrapped,
                         "c": material.created_at},
            )  # fmt: skip
            for name, value in tags.items():
                conn.execute(
                    text("INSERT INTO key_tags VALUES (:account, :region, :key_id, :k, :v)"),
                    ident | {"k": name, "v": value},
                )
    finally:
        backend.close()


def test_0004_to_0005_schedules_aws_managed_keys_and_keeps_the_rest(db_url: str) -> None:
    _alembic(db_url, "upgrade", "0004")
    material = make_material("k1")
    customer = make_key("k1", material_id=material.material_id)
    managed_material = make_material("k2")
    managed = dataclasses.replace(
        make_key("k2", material_id=managed_material.material_id), key_manager=KeyManager.AWS
    )
    _insert_old_key(db_url, customer, material, {})
    _insert_old_key(db_url, managed, managed_material, {}, new_account=False)
    migrate(db_url)
    storage = open_storage(db_url)
    try:
        assert storage.get_key(ACCOUNT, REGION, "k1") == customer
        assert storage.get_materials(ACCOUNT, REGION, "k1") == [material]
        upgraded = storage.get_key(ACCOUNT, REGION, "k2")
        assert upgraded is not None
        assert upgraded.rotation_period_days == 365
        assert upgraded.next_rotation_date == managed_material.created_at + 365 * 86_400
        assert [k.key_id for k in storage.keys_due_for_rotation(10**12)] == ["k2"]
    finally:
        storage.close()
    _alembic(db_url, "downgrade", "0004")
    migrate(db_url)
    storage = open_storage(db_url)
    try:
        assert storage.get_key(ACCOUNT, REGION, "k1") == customer
    finally:
        storage.close()
