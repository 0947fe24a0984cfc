"""IdentityStorage on every backend: inline and managed policies, attachments, tags, cascades."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

# Sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from identity_records import (  # type: ignore[import-not-found]
    ACCOUNT,
    OTHER,
    group,
    inline,
    managed,
    role,
    user,
)
from sqlalchemy import func, select

from strongroom.domain.identity import AccessKeyRecord, AccountRecord, OwnerKind
from strongroom.storage import DuplicateError, SqlStorage, StorageError
from strongroom.storage.schema import (
    access_keys,
    iam_group_members,
    iam_inline_policies,
    iam_policy_attachments,
    iam_principal_tags,
)

USER, GROUP, ROLE = OwnerKind.USER, OwnerKind.GROUP, OwnerKind.ROLE
CHILD_TABLES = (
    iam_inline_policies,
    iam_policy_attachments,
    iam_principal_tags,
    iam_group_members,
    access_keys,
)


@pytest.fixture
def store(storage: SqlStorage) -> SqlStorage:
    """Two accounts; in the first, user Alice, group Admins and role Admin."""
    storage.insert_account(AccountRecord(ACCOUNT, 1.5))
    storage.insert_account(AccountRecord(OTHER, 2.5))
    storage.insert_user(user("Alice"))
    storage.insert_group(group("Admins"))
    storage.insert_role(role("Admin"))
    return storage


def _rows(store: SqlStorage) -> dict[str, int]:
    """How many rows each table that hangs off a principal holds: orphans show up here."""
    with store.backend.reader.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in CHILD_TABLES
        }


def test_inline_policies_put_get_replace_list_delete(store: SqlStorage) -> None:
    store.put_inline_policy(inline(USER, "alice", "Write"))
    store.put_inline_policy(inline(USER, "ALICE", "read", '{"v": 1}'))
    stored = inline(USER, "Alice", "read", '{"v": 1}')  # the owner's name as stored
    assert store.get_inline_policy(ACCOUNT, USER, "alice", "READ") == stored
    store.put_inline_policy(inline(USER, "Alice", "Read", '{"v": 2}'))  # replaces, new spelling
    assert store.get_inline_policy(ACCOUNT, USER, "Alice", "read") == inline(
        USER, "Alice", "Read", '{"v": 2}'
    )
    names = [p.name for p in store.list_inline_policies(ACCOUNT, USER, "alice")]
    assert names == ["Read", "Write"]
    assert store.list_inline_policies(ACCOUNT, ROLE, "Alice") == []  # kinds are separate
    assert store.get_inline_policy(OTHER, USER, "Alice", "read") is None
    assert store.delete_inline_policy(ACCOUNT, USER, "alice", "WRITE") is True
    assert store.delete_inline_policy(ACCOUNT, USER, "alice", "WRITE") is False
    assert [p.name for p in store.list_inline_policies(ACCOUNT, USER, "Alice")] == ["Read"]


@pytest.mark.parametrize("kind", list(OwnerKind))
def test_writes_on_a_missing_owner_are_refused(store: SqlStorage, kind: OwnerKind) -> None:
    store.insert_managed_policy(managed("p"))
    writes: list[Callable[[], object]] = [
        lambda: store.put_inline_policy(inline(kind, "ghost", "p")),
        lambda: store.attach_policy(ACCOUNT, kind, "ghost", managed("p").arn),
        lambda: store.put_principal_tags(ACCOUNT, kind, "ghost", {"a": "b"}),
        lambda: store.put_inline_policy(
            dataclasses.replace(inline(kind, "Admin", "p"), account=OTHER)
        ),
    ]
    for write in writes:
        with pytest.raises(StorageError) as caught:
            write()
        assert not isinstance(caught.value, DuplicateError)
    assert _rows(store)["iam_inline_policies"] == 0


def test_managed_policies(store: SqlStorage) -> None:
    store.insert_managed_policy(managed("Zeta"))
    store.insert_managed_policy(managed("alpha", "/team/"))
    store.insert_managed_policy(managed("zeta", account=OTHER))
    with pytest.raises(DuplicateError):
        store.insert_managed_policy(managed("ZETA", "/elsewhere/"))  # names are per account
    assert store.get_managed_policy(managed("alpha", "/team/").arn) == managed("alpha", "/team/")
    assert store.get_managed_policy("arn:aws:iam::111122223333:policy/none") is None
    assert [p.name for p in store.list_managed_policies(ACCOUNT)] == ["alpha", "Zeta"]
    assert store.delete_managed_policy(managed("Zeta").arn) is True
    assert store.delete_managed_policy(managed("Zeta").arn) is False
    assert store.list_managed_policies(ACCOUNT) == [managed("alpha", "/team/")]


def test_attachments(store: SqlStorage) -> None:
    first, second = managed("b-policy"), managed("a-policy", "/x/")
    store.insert_managed_policy(first)
    store.insert_managed_policy(second)
    store.attach_policy(ACCOUNT, USER, "alice", first.arn)
    store.attach_policy(ACCOUNT, USER, "ALICE", first.arn)  # idempotent
    store.attach_policy(ACCOUNT, USER, "Alice", second.arn)
    store.attach_policy(ACCOUNT, ROLE, "admin", first.arn)
    store.attach_policy(ACCOUNT, GROUP, "admins", first.arn)
    assert store.list_attached_policies(ACCOUNT, USER, "alice") == [second, first]
    assert store.list_attached_policies(ACCOUNT, ROLE, "Admin") == [first]
    assert store.count_policy_attachments(first.arn) == 3
    with pytest.raises(StorageError) as caught:
        store.attach_policy(ACCOUNT, USER, "alice", "arn:aws:iam::111122223333:policy/none")
    assert not isinstance(caught.value, DuplicateError)
    assert store.detach_policy(ACCOUNT, USER, "alice", first.arn) is True
    assert store.detach_policy(ACCOUNT, USER, "alice", first.arn) is False
    assert store.count_policy_attachments(first.arn) == 2
    assert store.delete_managed_policy(first.arn) is True  # its attachments go with it
    assert store.count_policy_attachments(first.arn) == 0
    assert store.list_attached_policies(ACCOUNT, ROLE, "Admin") == []
    assert store.list_attached_policies(ACCOUNT, USER, "alice") == [second]


def test_principal_tags(store: SqlStorage) -> None:
    store.put_principal_tags(ACCOUNT, USER, "alice", {"team": "blue", "env": "dev"})
    store.put_principal_tags(ACCOUNT, USER, "ALICE", {"team": "red"})
    store.put_principal_tags(ACCOUNT, ROLE, "Admin", {"team": "admins"})
    store.put_principal_tags(ACCOUNT, USER, "alice", {})
    assert store.get_principal_tags(ACCOUNT, USER, "Alice") == {"team": "red", "env": "dev"}
    store.delete_principal_tags(ACCOUNT, USER, "alice", ["env", "absent"])
    store.delete_principal_tags(ACCOUNT, USER, "alice", [])
    assert store.get_principal_tags(ACCOUNT, USER, "alice") == {"team": "red"}
    assert store.get_principal_tags(ACCOUNT, ROLE, "admin") == {"team": "admins"}
    assert store.get_principal_tags(ACCOUNT, GROUP, "Admins") == {}


def _furnish(store: SqlStorage, kind: OwnerKind, owner: str) -> None:
    store.put_inline_policy(inline(kind, owner, "own"))
    store.attach_policy(ACCOUNT, kind, owner, managed("shared").arn)
    store.put_principal_tags(ACCOUNT, kind, owner, {"k": "v"})


OWNERS = {USER: "Alice", GROUP: "Admins", ROLE: "Admin"}


def _delete(store: SqlStorage, kind: OwnerKind, name: str) -> bool:
    by_kind = {USER: store.delete_user, GROUP: store.delete_group, ROLE: store.delete_role}
    return by_kind[kind](ACCOUNT, name)


def _recreate(store: SqlStorage, kind: OwnerKind, name: str) -> None:
    if kind is USER:
        store.insert_user(user(name))
    elif kind is GROUP:
        store.insert_group(group(name))
    else:
        store.insert_role(role(name))


@pytest.mark.parametrize("kind", list(OwnerKind))
def test_deleting_a_principal_leaves_no_orphans(store: SqlStorage, kind: OwnerKind) -> None:
    store.insert_managed_policy(managed("shared"))
    store.insert_user(user("bob"))
    store.add_user_to_group(ACCOUNT, "admins", "alice")
    store.add_user_to_group(ACCOUNT, "admins", "bob")
    arn = user("Alice").arn
    store.insert_access_key(AccessKeyRecord("AKIAALICE", ACCOUNT, arn, b"w", 1.0))
    for each, owner in OWNERS.items():
        _furnish(store, each, owner)
    before = _rows(store)
    assert _delete(store, kind, OWNERS[kind].upper()) is True
    gone = {
        "iam_inline_policies": 1,
        "iam_policy_attachments": 1,
        "iam_principal_tags": 1,
        "iam_group_members": {USER: 1, GROUP: 2, ROLE: 0}[kind],
        "access_keys": 1 if kind is USER else 0,
    }
    assert _rows(store) == {name: before[name] - gone[name] for name in before}
    assert store.count_policy_attachments(managed("shared").arn) == 2
    # the same name, re-created in another case, starts with nothing
    name = OWNERS[kind].lower()
    _recreate(store, kind, name)
    assert store.list_inline_policies(ACCOUNT, kind, name) == []
    assert store.get_principal_tags(ACCOUNT, kind, name) == {}
    assert store.list_attached_policies(ACCOUNT, kind, name) == []
