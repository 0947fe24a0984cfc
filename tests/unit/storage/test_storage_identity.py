"""IdentityStorage on every backend: users, groups, roles, access keys, sessions, change counter."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

# Sibling modules: pytest puts this folder on sys.path, mypy names them tests.unit.storage.
from identity_records import (  # type: ignore[import-not-found]
    ACCOUNT,
    OTHER,
    group,
    inline,
    managed,
    role,
    session,
    user,
)
from storage_worker import REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.domain.identity import AccessKeyRecord, AccountRecord, OwnerKind
from strongroom.storage import Database, DuplicateError, SqlStorage, StorageError


@pytest.fixture
def store(storage: SqlStorage) -> SqlStorage:
    """A storage with two accounts in it."""
    storage.insert_account(AccountRecord(OTHER, 2.5))
    storage.insert_account(AccountRecord(ACCOUNT, 1.5))
    return storage


def test_satisfies_the_protocols(store: SqlStorage) -> None:
    as_protocol: Database = store
    assert as_protocol.get_user(ACCOUNT, "nobody") is None


def test_list_accounts_in_order(store: SqlStorage) -> None:
    assert store.list_accounts() == [AccountRecord(ACCOUNT, 1.5), AccountRecord(OTHER, 2.5)]


def test_users_are_unique_case_insensitively_and_kept_as_given(store: SqlStorage) -> None:
    store.insert_user(user("Alice"))
    assert store.get_user(ACCOUNT, "alice") == user("Alice")
    assert store.get_user(ACCOUNT, "ALICE") == user("Alice")
    assert store.get_user(OTHER, "Alice") is None
    with pytest.raises(DuplicateError):
        store.insert_user(user("aLiCe", path="/other/"))
    store.insert_user(user("alice", account=OTHER))  # another account: another namespace
    with pytest.raises(StorageError) as caught:
        store.insert_user(user("bob", account="000000000000"))
    assert not isinstance(caught.value, DuplicateError)


def test_list_users_by_name_and_path_prefix(store: SqlStorage) -> None:
    for record in (
        user("carol", "/eng/"),
        user("Bob"),
        user("alice", "/eng/dev/"),
        user("d", "/a_b/"),
    ):
        store.insert_user(record)
    store.insert_user(user("zed", account=OTHER))
    assert [u.name for u in store.list_users(ACCOUNT)] == ["alice", "Bob", "carol", "d"]
    assert [u.name for u in store.list_users(ACCOUNT, "/eng/")] == ["alice", "carol"]
    assert [u.name for u in store.list_users(ACCOUNT, "/eng/dev/")] == ["alice"]
    assert store.list_users(ACCOUNT, "/ENG/") == []  # paths are case-sensitive
    assert store.list_users(ACCOUNT, "/a%") == []  # no LIKE wildcards
    assert [u.name for u in store.list_users(ACCOUNT, "/a_b/")] == ["d"]


def test_delete_user(store: SqlStorage) -> None:
    store.insert_user(user("Alice"))
    assert store.delete_user(ACCOUNT, "ALICE") is True
    assert store.get_user(ACCOUNT, "Alice") is None
    assert store.delete_user(ACCOUNT, "Alice") is False
    store.insert_user(user("alice"))  # the name is free again


def test_groups_and_membership(store: SqlStorage) -> None:
    store.insert_group(group("Admins"))
    store.insert_group(group("devs", "/eng/"))
    with pytest.raises(DuplicateError):
        store.insert_group(group("ADMINS"))
    assert store.get_group(ACCOUNT, "admins") == group("Admins")
    assert [g.name for g in store.list_groups(ACCOUNT)] == ["Admins", "devs"]
    assert [g.name for g in store.list_groups(ACCOUNT, "/eng/")] == ["devs"]
    for name in ("bob", "Alice"):
        store.insert_user(user(name))
    store.add_user_to_group(ACCOUNT, "ADMINS", "bob")
    store.add_user_to_group(ACCOUNT, "admins", "ALICE")
    store.add_user_to_group(ACCOUNT, "Admins", "Bob")  # idempotent
    store.add_user_to_group(ACCOUNT, "devs", "bob")
    assert store.list_group_members(ACCOUNT, "admins") == [user("Alice"), user("bob")]
    assert store.list_groups_for_user(ACCOUNT, "BOB") == [group("Admins"), group("devs", "/eng/")]
    assert store.list_groups_for_user(OTHER, "bob") == []
    for bad_group, bad_user in (("nope", "bob"), ("admins", "nobody")):
        with pytest.raises(StorageError) as caught:
            store.add_user_to_group(ACCOUNT, bad_group, bad_user)
        assert not isinstance(caught.value, DuplicateError)
    assert store.remove_user_from_group(ACCOUNT, "Admins", "BOB") is True
    assert store.remove_user_from_group(ACCOUNT, "Admins", "bob") is False
    assert store.list_group_members(ACCOUNT, "Admins") == [user("Alice")]


def test_roles(store: SqlStorage) -> None:
    store.insert_role(role("Admin"))
    store.insert_role(role("reader", "/service/"))
    with pytest.raises(DuplicateError):
        store.insert_role(role("admin"))
    assert store.get_role(ACCOUNT, "ADMIN") == role("Admin")
    assert [r.name for r in store.list_roles(ACCOUNT)] == ["Admin", "reader"]
    assert store.list_roles(ACCOUNT, "/service/") == [role("reader", "/service/")]
    changed = dataclasses.replace(
        role("Admin"), trust_policy="{}", max_session_duration=43200, description="new"
    )
    store.update_role(dataclasses.replace(changed, name="admin"))  # found case-insensitively
    assert store.get_role(ACCOUNT, "Admin") == changed
    with pytest.raises(StorageError):
        store.update_role(role("ghost"))
    assert store.delete_role(ACCOUNT, "admin") is True
    assert store.delete_role(ACCOUNT, "admin") is False
    assert store.get_role(ACCOUNT, "Admin") is None


def _access_key(key_id: str, arn: str, created_at: float) -> AccessKeyRecord:
    return AccessKeyRecord(key_id, ACCOUNT, arn, b"\x01wrapped", created_at)


def test_access_keys(store: SqlStorage) -> None:
    arn = user("alice").arn
    keys = [_access_key("AKIA2", arn, 5.0), _access_key("AKIA1", arn, 6.0)]
    for key in reversed(keys):
        store.insert_access_key(key)
    store.insert_access_key(_access_key("AKIA3", user("bob").arn, 1.0))
    assert store.list_access_keys(arn) == keys  # by creation time
    assert store.update_access_key_status("AKIA1", "Inactive") is True
    assert store.get_access_key("AKIA1") == dataclasses.replace(keys[1], status="Inactive")
    assert store.update_access_key_status("AKIANONE", "Inactive") is False
    assert store.delete_access_key("AKIA2") is True
    assert store.delete_access_key("AKIA2") is False
    assert [k.access_key_id for k in store.list_access_keys(arn)] == ["AKIA1"]


def test_sessions_round_trip_and_expire(store: SqlStorage) -> None:
    first = session("ASIA1", 100.0, team="blue", project="x")
    store.insert_session(first)
    store.insert_session(session("ASIA2", 200.0))
    store.insert_session(dataclasses.replace(session("ASIA3", 300.0), name=None, role_arn=None))
    assert store.get_session("ASIA1") == first
    assert store.get_session("ASIA3") == dataclasses.replace(
        session("ASIA3", 300.0), name=None, role_arn=None
    )
    assert store.get_session("ASIANONE") is None
    with pytest.raises(DuplicateError):
        store.insert_session(first)
    assert store.delete_expired_sessions(200.0) == 2  # expires_at <= now
    assert store.get_session("ASIA1") is None
    assert store.get_session("ASIA3") is not None
    assert store.delete_expired_sessions(200.0) == 0


def test_deleting_a_user_or_a_role_deletes_its_sessions(store: SqlStorage) -> None:
    """AssumeRole sessions go with their role, GetSessionToken sessions with their user; the
    sessions of other principals stay."""
    store.insert_role(role("Admin"))
    store.insert_role(role("Reader"))
    store.insert_user(user("alice"))
    store.insert_session(session("ASIAADMIN", 100.0))
    reader = session("ASIAREADER", 100.0)
    store.insert_session(dataclasses.replace(reader, role_arn=role("Reader").arn, name="Reader"))
    alice = dataclasses.replace(
        session("ASIAALICE", 100.0),
        principal_arn=user("alice").arn,
        principal_type="IAMUser",
        name="alice",
        role_arn=None,
        session_name=None,
    )
    store.insert_session(alice)
    assert store.delete_role(ACCOUNT, "Admin") is True
    assert store.get_session("ASIAADMIN") is None
    assert store.get_session("ASIAREADER") is not None
    assert store.delete_user(ACCOUNT, "alice") is True
    assert store.get_session("ASIAALICE") is None
    assert store.get_session("ASIAREADER") is not None


def test_insert_material(store: SqlStorage) -> None:
    store.insert_key(make_key("k1"), make_material("k1", 1), {})
    second = make_material("k1", 2, created_at=1_700_000_001.0)
    store.insert_material(ACCOUNT, REGION, "k1", second)
    assert store.get_materials(ACCOUNT, REGION, "k1") == [make_material("k1", 1), second]
    assert store.get_key(ACCOUNT, REGION, "k1") == make_key("k1")  # current material unchanged
    with pytest.raises(DuplicateError):
        store.insert_material(ACCOUNT, REGION, "k1", second)
    with pytest.raises(StorageError) as caught:
        store.insert_material(ACCOUNT, REGION, "k2", make_material("k2"))
    assert not isinstance(caught.value, DuplicateError)
    with pytest.raises(ValueError):
        store.insert_material(ACCOUNT, REGION, "k1", make_material("k9", 3))


def test_reset_leaves_identities_alone(store: SqlStorage) -> None:
    store.insert_user(user("alice"))
    store.insert_group(group("admins"))
    store.add_user_to_group(ACCOUNT, "admins", "alice")
    store.insert_role(role("Admin"))
    store.insert_managed_policy(managed("p"))
    store.attach_policy(ACCOUNT, OwnerKind.ROLE, "Admin", managed("p").arn)
    store.put_inline_policy(inline(OwnerKind.USER, "alice", "own"))
    store.put_principal_tags(ACCOUNT, OwnerKind.USER, "alice", {"team": "blue"})
    store.insert_session(session("ASIA1", 100.0))
    store.insert_key(make_key("k1"), None, {})
    store.reset()
    assert store.get_key(ACCOUNT, REGION, "k1") is None
    assert store.list_group_members(ACCOUNT, "admins") == [user("alice")]
    assert store.list_attached_policies(ACCOUNT, OwnerKind.ROLE, "Admin") == [managed("p")]
    assert store.list_inline_policies(ACCOUNT, OwnerKind.USER, "alice") != []
    assert store.get_principal_tags(ACCOUNT, OwnerKind.USER, "alice") == {"team": "blue"}
    assert store.get_session("ASIA1") == session("ASIA1", 100.0)


def test_change_counter_moves_after_every_identity_write(store: SqlStorage) -> None:
    arn = managed("p").arn
    writes: list[Callable[[], object]] = [
        lambda: store.insert_user(user("alice")),
        lambda: store.insert_group(group("admins")),
        lambda: store.add_user_to_group(ACCOUNT, "admins", "alice"),
        lambda: store.remove_user_from_group(ACCOUNT, "admins", "alice"),
        lambda: store.insert_role(role("Admin")),
        lambda: store.update_role(dataclasses.replace(role("Admin"), description="x")),
        lambda: store.put_inline_policy(inline(OwnerKind.ROLE, "Admin", "p")),
        lambda: store.delete_inline_policy(ACCOUNT, OwnerKind.ROLE, "Admin", "p"),
        lambda: store.insert_managed_policy(managed("p")),
        lambda: store.attach_policy(ACCOUNT, OwnerKind.USER, "alice", arn),
        lambda: store.detach_policy(ACCOUNT, OwnerKind.USER, "alice", arn),
        lambda: store.delete_managed_policy(arn),
        lambda: store.put_principal_tags(ACCOUNT, OwnerKind.USER, "alice", {"a": "1"}),
        lambda: store.delete_principal_tags(ACCOUNT, OwnerKind.USER, "alice", ["a"]),
        lambda: store.insert_access_key(_access_key("AKIA1", user("alice").arn, 1.0)),
        lambda: store.update_access_key_status("AKIA1", "Inactive"),
        lambda: store.delete_access_key("AKIA1"),
        lambda: store.insert_session(session("ASIA1", 100.0)),
        lambda: store.delete_expired_sessions(100.0),
        lambda: store.delete_group(ACCOUNT, "admins"),
        lambda: store.delete_role(ACCOUNT, "admin"),
        lambda: store.delete_user(ACCOUNT, "alice"),
    ]
    counter = store.change_counter()
    seen = {counter}
    for step, write in enumerate(writes):
        write()
        counter = store.change_counter()
        assert counter not in seen, f"write {step} did not move the change counter"
        seen.add(counter)
    store.get_user(ACCOUNT, "alice")
    store.list_roles(ACCOUNT)
    store.get_session("ASIA1")
    assert store.change_counter() == counter  # reads never move it
