"""Every Storage method on every backend: round trips, atomicity, duplicates, ordering, paging."""

from __future__ import annotations

import dataclasses

import pytest

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.domain.identity import AccessKeyRecord, AccountRecord
from strongroom.domain.keys import AliasRecord, KeyState, MaterialRecord
from strongroom.storage import DuplicateError, SqlStorage, Storage, StorageError

OTHER_ACCOUNT = "444455556666"


@pytest.fixture
def store(storage: SqlStorage) -> SqlStorage:
    """A storage with two accounts in it."""
    storage.insert_account(AccountRecord(ACCOUNT, 1.5))
    storage.insert_account(AccountRecord(OTHER_ACCOUNT, 2.5))
    return storage


def _alias(name: str, target: str, account: str = ACCOUNT) -> AliasRecord:
    return AliasRecord(account, REGION, name, target, created_at=10.0, updated_at=10.0)


def test_satisfies_the_protocol(store: SqlStorage) -> None:
    as_protocol: Storage = store
    assert as_protocol.get_key(ACCOUNT, REGION, "nope") is None


def test_meta_round_trip_and_overwrite(store: SqlStorage) -> None:
    assert store.get_meta("clock_offset") is None
    store.set_meta("clock_offset", "12.5")
    store.set_meta("clock_offset", "99")
    assert store.get_meta("clock_offset") == "99"


def test_accounts(store: SqlStorage) -> None:
    assert store.get_account(ACCOUNT) == AccountRecord(ACCOUNT, 1.5)
    assert store.get_account("999999999999") is None
    with pytest.raises(DuplicateError) as caught:
        store.insert_account(AccountRecord(ACCOUNT, 3.0))
    assert ACCOUNT not in str(caught.value)
    assert "INSERT" not in str(caught.value).upper()


def test_access_keys(store: SqlStorage) -> None:
    record = AccessKeyRecord(
        "AKIAEXAMPLE", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", b"\x00wrapped\xff", 4.0
    )
    store.insert_access_key(record)
    assert store.get_access_key("AKIAEXAMPLE") == record
    assert store.get_access_key("AKIAOTHER") is None
    with pytest.raises(DuplicateError):
        store.insert_access_key(record)
    orphan = dataclasses.replace(record, access_key_id="AKIAORPHAN", account="000000000000")
    with pytest.raises(StorageError) as caught:
        store.insert_access_key(orphan)
    assert not isinstance(caught.value, DuplicateError)


def test_insert_key_round_trips_every_field(store: SqlStorage) -> None:
    material = make_material("k1")
    key = make_key(
        "k1",
        material_id=material.material_id,
        state=KeyState.PENDING_DELETION,
        deletion_date=1_800_000_000.5,
        pending_window_days=7,
        multi_region=True,
        description="",
    )
    store.insert_key(key, material, {"team": "blue", "empty": ""})
    assert store.get_key(ACCOUNT, REGION, "k1") == key
    assert store.get_materials(ACCOUNT, REGION, "k1") == [material]
    assert store.get_tags(ACCOUNT, REGION, "k1") == {"team": "blue", "empty": ""}
    assert store.get_key(ACCOUNT, "eu-west-1", "k1") is None
    assert store.get_key(OTHER_ACCOUNT, REGION, "k1") is None


def test_insert_key_without_material_or_tags(store: SqlStorage) -> None:
    store.insert_key(make_key("k1", state=KeyState.PENDING_IMPORT), None, {})
    assert store.get_materials(ACCOUNT, REGION, "k1") == []
    assert store.get_tags(ACCOUNT, REGION, "k1") == {}


def test_duplicate_key_leaves_nothing_half_written(store: SqlStorage) -> None:
    first = make_material("k1", 1)
    store.insert_key(make_key("k1", material_id=first.material_id), first, {"a": "1"})
    with pytest.raises(DuplicateError):
        store.insert_key(make_key("k1", description="again"), make_material("k1", 2), {"b": "2"})
    assert store.get_key(ACCOUNT, REGION, "k1") == make_key("k1", material_id=first.material_id)
    assert store.get_materials(ACCOUNT, REGION, "k1") == [first]
    assert store.get_tags(ACCOUNT, REGION, "k1") == {"a": "1"}


def test_failure_after_the_key_row_rolls_the_key_back(store: SqlStorage) -> None:
    stray = make_material("not-this-key")  # refers to a key that does not exist
    with pytest.raises(StorageError):
        store.insert_key(make_key("k2"), stray, {"a": "1"})
    assert store.get_key(ACCOUNT, REGION, "k2") is None
    assert store.get_tags(ACCOUNT, REGION, "k2") == {}


def test_key_in_unknown_account_is_refused(store: SqlStorage) -> None:
    with pytest.raises(StorageError) as caught:
        store.insert_key(make_key("k1", account="000000000000"), None, {})
    assert not isinstance(caught.value, DuplicateError)


def test_update_key_writes_mutable_fields(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), None, {})
    changed = make_key(
        "k1",
        state=KeyState.PENDING_DELETION,
        description="new",
        policy="{}",
        material_id="ab" * 32,
        deletion_date=5.0,
        pending_window_days=30,
    )
    store.update_key(changed)
    assert store.get_key(ACCOUNT, REGION, "k1") == changed
    store.update_key(make_key("k1"))
    assert store.get_key(ACCOUNT, REGION, "k1") == make_key("k1")
    with pytest.raises(StorageError):
        store.update_key(make_key("missing"))


def test_materials_come_back_oldest_first(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), make_material("k1", 1, created_at=100.0), {})
    assert [m.material_id for m in store.get_materials(ACCOUNT, REGION, "k1")] == [f"{1:064x}"]
    assert isinstance(store.get_materials(ACCOUNT, REGION, "k1")[0], MaterialRecord)


def test_list_keys_orders_and_pages(store: SqlStorage) -> None:
    ids = ["k5", "k1", "k7", "k3", "k2", "k6", "k4"]
    for key_id in ids:
        store.insert_key(make_key(key_id), None, {})
    store.insert_key(make_key("k0", region="eu-west-1"), None, {})
    store.insert_key(make_key("k0", account=OTHER_ACCOUNT), None, {})
    seen: list[str] = []
    after: str | None = None
    while True:
        page = store.list_keys(ACCOUNT, REGION, after, 3)
        assert len(page) <= 3
        if not page:
            break
        seen += [key.key_id for key in page]
        after = page[-1].key_id
    assert seen == sorted(ids)
    assert [k.key_id for k in store.list_keys(ACCOUNT, REGION, "k2", 2)] == ["k3", "k4"]
    assert store.list_keys(ACCOUNT, REGION, "k7", 10) == []
    assert store.list_keys(ACCOUNT, "ap-south-1", None, 10) == []


def test_delete_key_removes_everything_of_that_key_only(store: SqlStorage) -> None:
    for key_id in ("gone", "kept"):
        store.insert_key(make_key(key_id), make_material(key_id), {"t": key_id})
    store.insert_alias(_alias("alias/one", "gone"))
    store.insert_alias(_alias("alias/two", "gone"))
    store.insert_alias(_alias("alias/three", "kept"))
    store.delete_key(ACCOUNT, REGION, "gone")
    assert store.get_key(ACCOUNT, REGION, "gone") is None
    assert store.get_materials(ACCOUNT, REGION, "gone") == []
    assert store.get_tags(ACCOUNT, REGION, "gone") == {}
    assert [a.name for a in store.list_aliases(ACCOUNT, REGION, None, None, 10)] == ["alias/three"]
    assert store.get_materials(ACCOUNT, REGION, "kept") == [make_material("kept")]
    assert store.get_tags(ACCOUNT, REGION, "kept") == {"t": "kept"}
    store.delete_key(ACCOUNT, REGION, "gone")  # deleting again is harmless


def test_keys_due_for_deletion(store: SqlStorage) -> None:
    pending = KeyState.PENDING_DELETION
    store.insert_key(make_key("due", state=pending, deletion_date=100.0), None, {})
    store.insert_key(make_key("exact", state=pending, deletion_date=200.0), None, {})
    store.insert_key(make_key("later", state=pending, deletion_date=300.0), None, {})
    store.insert_key(make_key("enabled", deletion_date=50.0), None, {})
    other = make_key("elsewhere", account=OTHER_ACCOUNT, region="eu-west-1")
    store.insert_key(dataclasses.replace(other, state=pending, deletion_date=150.0), None, {})
    due = store.keys_due_for_deletion(200.0)
    assert [k.key_id for k in due] == ["due", "elsewhere", "exact"]
    assert due[1].account == OTHER_ACCOUNT
    assert store.keys_due_for_deletion(99.0) == []


def test_aliases(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), None, {})
    store.insert_key(make_key("k2"), None, {})
    alias = _alias("alias/app", "k1")
    store.insert_alias(alias)
    assert store.get_alias(ACCOUNT, REGION, "alias/app") == alias
    assert store.get_alias(OTHER_ACCOUNT, REGION, "alias/app") is None
    with pytest.raises(DuplicateError):
        store.insert_alias(_alias("alias/app", "k2"))
    moved = dataclasses.replace(alias, target_key_id="k2", updated_at=20.0)
    store.update_alias(moved)
    assert store.get_alias(ACCOUNT, REGION, "alias/app") == moved
    assert store.delete_alias(ACCOUNT, REGION, "alias/app") is True
    assert store.delete_alias(ACCOUNT, REGION, "alias/app") is False
    with pytest.raises(StorageError):
        store.update_alias(moved)


def test_alias_to_a_missing_key_is_refused(store: SqlStorage) -> None:
    with pytest.raises(StorageError) as caught:
        store.insert_alias(_alias("alias/dangling", "nope"))
    assert not isinstance(caught.value, DuplicateError)


def test_list_aliases_orders_filters_and_pages(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), None, {})
    store.insert_key(make_key("k2"), None, {})
    for name, target in [
        ("alias/d", "k1"),
        ("alias/a", "k2"),
        ("alias/c", "k1"),
        ("alias/b", "k1"),
    ]:
        store.insert_alias(_alias(name, target))
    names = [a.name for a in store.list_aliases(ACCOUNT, REGION, None, None, 10)]
    assert names == ["alias/a", "alias/b", "alias/c", "alias/d"]
    page = store.list_aliases(ACCOUNT, REGION, None, "alias/a", 2)
    assert [a.name for a in page] == ["alias/b", "alias/c"]
    only_k1 = store.list_aliases(ACCOUNT, REGION, "k1", "alias/b", 10)
    assert [a.name for a in only_k1] == ["alias/c", "alias/d"]
    assert store.list_aliases(OTHER_ACCOUNT, REGION, None, None, 10) == []


def test_tags_put_overwrites_and_delete_removes(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), None, {"a": "1", "b": "2"})
    store.put_tags(ACCOUNT, REGION, "k1", {"b": "two", "c": "3"})
    assert store.get_tags(ACCOUNT, REGION, "k1") == {"a": "1", "b": "two", "c": "3"}
    store.delete_tags(ACCOUNT, REGION, "k1", ["a", "c", "never-there"])
    assert store.get_tags(ACCOUNT, REGION, "k1") == {"b": "two"}
    store.put_tags(ACCOUNT, REGION, "k1", {})
    store.delete_tags(ACCOUNT, REGION, "k1", [])
    assert store.get_tags(ACCOUNT, REGION, "k1") == {"b": "two"}


def test_reset_wipes_keys_but_not_identities(store: SqlStorage) -> None:
    secret = AccessKeyRecord("AKIAEXAMPLE", ACCOUNT, "arn", b"w", 1.0)
    store.insert_access_key(secret)
    store.set_meta("clock_offset", "5")
    store.insert_key(make_key("k1"), make_material("k1"), {"a": "1"})
    store.insert_alias(_alias("alias/x", "k1"))
    store.reset()
    assert store.list_keys(ACCOUNT, REGION, None, 10) == []
    assert store.get_materials(ACCOUNT, REGION, "k1") == []
    assert store.get_tags(ACCOUNT, REGION, "k1") == {}
    assert store.get_alias(ACCOUNT, REGION, "alias/x") is None
    assert store.get_account(ACCOUNT) is not None
    assert store.get_access_key("AKIAEXAMPLE") == secret
    assert store.get_meta("clock_offset") == "5"
    store.insert_key(make_key("k1"), None, {})  # the same ids are free again


def test_change_counter_moves_on_writes_only(store: SqlStorage) -> None:
    before = store.change_counter()
    store.get_key(ACCOUNT, REGION, "k1")
    store.list_keys(ACCOUNT, REGION, None, 10)
    assert store.change_counter() == before
    store.insert_key(make_key("k1"), None, {})
    after_insert = store.change_counter()
    assert after_insert != before
    store.set_meta("x", "y")
    assert store.change_counter() not in (before, after_insert)


def test_change_counter_sees_another_engine(store: SqlStorage, db_url: str) -> None:
    other = SqlStorage(db_url)
    try:
        before = store.change_counter()
        other.insert_key(make_key("k1"), None, {})
        assert store.change_counter() != before
        assert store.get_key(ACCOUNT, REGION, "k1") == make_key("k1")
    finally:
        other.close()
