"""Storage's grant methods on every backend: round trips, ordering, paging, filters, deletes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key  # type: ignore[import-not-found]

from strongroom.domain.identity import AccountRecord
from strongroom.domain.keys import GrantRecord
from strongroom.storage import (
    DuplicateError,
    SqlStorage,
    Storage,
    StorageError,
    migrate,
    open_storage,
)
from strongroom.storage.schema import keys

OTHER_ACCOUNT = "444455556666"
OTHER_REGION = "eu-west-1"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:role/bob"
RETIRER = f"arn:aws:iam::{ACCOUNT}:role/retirer"


def gid(n: int) -> str:
    """A grant id: 64 lower-case hex, ordered like ``n``."""
    return f"{n:064x}"


def make_grant(n: int, key_id: str = "k1", **changes: Any) -> GrantRecord:
    grant = GrantRecord(
        account=ACCOUNT,
        region=REGION,
        key_id=key_id,
        grant_id=gid(n),
        name=None,
        grantee_principal=ALICE,
        retiring_principal=None,
        operations=("Encrypt", "Decrypt"),
        context_equals=None,
        context_subset=None,
        issuing_account=f"arn:aws:iam::{ACCOUNT}:root",
        created_at=1_700_000_000.5 + n,
    )
    return dataclasses.replace(grant, **changes)


def _populate(storage: SqlStorage) -> SqlStorage:
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    storage.insert_account(AccountRecord(OTHER_ACCOUNT, 2.0))
    for key in (
        make_key("k1"),
        make_key("k2"),
        make_key("k3", account=OTHER_ACCOUNT),
        make_key("k4", region=OTHER_REGION),
    ):
        storage.insert_key(key, None, {})
    return storage


@pytest.fixture
def store(storage: SqlStorage) -> SqlStorage:
    """Two accounts; keys k1 and k2 in ACCOUNT, k3 in OTHER_ACCOUNT, k4 in OTHER_REGION."""
    return _populate(storage)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStorage]:
    """The same, on SQLite only (whose query planner is deterministic)."""
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    migrate(url)
    opened = open_storage(url)
    yield _populate(opened)
    opened.close()


def _ids(grants: list[GrantRecord]) -> list[str]:
    return [g.grant_id for g in grants]


def test_satisfies_the_protocol(store: SqlStorage) -> None:
    as_protocol: Storage = store
    assert as_protocol.grants_for_key(ACCOUNT, REGION, "k1") == []


def test_insert_and_get_round_trip_every_field(store: SqlStorage) -> None:
    full = make_grant(
        1,
        name="app:grant/1_a-b",
        grantee_principal="s3.amazonaws.com",
        retiring_principal=RETIRER,
        operations=("GenerateDataKey", "Decrypt", "CreateGrant", "RetireGrant"),
        context_equals={"Département": "Île-de-France", "键": "值 🔑", "": ""},
        context_subset={'quote"back\\slash': "nul\x00tab\t"},
        for_aws_resource=True,
    )
    bare = make_grant(2)
    store.insert_grant(full)
    store.insert_grant(bare)
    assert store.get_grant(ACCOUNT, REGION, "k1", gid(1)) == full
    got = store.get_grant(ACCOUNT, REGION, "k1", gid(2))
    assert got == bare
    assert got is not None
    assert got.context_equals is None
    assert got.for_aws_resource is False
    assert store.get_grant(ACCOUNT, REGION, "k2", gid(1)) is None
    assert store.get_grant(OTHER_ACCOUNT, REGION, "k1", gid(1)) is None
    assert store.get_grant(ACCOUNT, REGION, "k1", gid(3)) is None


def test_an_empty_constraint_is_not_an_absent_one(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1, context_equals={}, context_subset=None))
    got = store.get_grant(ACCOUNT, REGION, "k1", gid(1))
    assert got is not None
    assert got.context_equals == {}
    assert got.context_subset is None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=6),
    context=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=8),
)
def test_json_columns_round_trip_any_text(
    store: SqlStorage, operations: list[str], context: dict[str, str]
) -> None:
    grant = make_grant(
        7, operations=tuple(operations), context_equals=context, context_subset=context
    )
    store.insert_grant(grant)
    try:
        assert store.get_grant(ACCOUNT, REGION, "k1", gid(7)) == grant
    finally:
        assert store.delete_grant(ACCOUNT, REGION, "k1", gid(7))


def test_duplicate_grant_id_is_refused_and_writes_nothing(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1))
    with pytest.raises(DuplicateError) as caught:
        store.insert_grant(make_grant(1, grantee_principal=BOB))
    assert gid(1) not in str(caught.value)
    with pytest.raises(DuplicateError):  # a grant token names only the grant: unique per region
        store.insert_grant(make_grant(1, key_id="k2"))
    assert store.grants_for_key(ACCOUNT, REGION, "k1") == [make_grant(1)]
    assert store.grants_for_key(ACCOUNT, REGION, "k2") == []
    other_region = make_grant(1, key_id="k4", region=OTHER_REGION)
    store.insert_grant(other_region)  # another region has its own grant ids
    assert store.find_grant(OTHER_REGION, gid(1)) == other_region
    assert store.find_grant(REGION, gid(1)) == make_grant(1)


def test_grant_on_a_missing_key_is_refused(store: SqlStorage) -> None:
    for grant in (
        make_grant(1, key_id="missing"),
        make_grant(2, account=OTHER_ACCOUNT),  # k1 is not in that account
        make_grant(3, region=OTHER_REGION),
    ):
        with pytest.raises(StorageError) as caught:
            store.insert_grant(grant)
        assert not isinstance(caught.value, DuplicateError)
        assert grant.grant_id not in str(caught.value)
    assert store.find_grant(REGION, gid(1)) is None


def test_find_grant_by_region_and_id_alone(store: SqlStorage) -> None:
    theirs = make_grant(5, key_id="k3", account=OTHER_ACCOUNT)
    store.insert_grant(theirs)
    assert store.find_grant(REGION, gid(5)) == theirs
    assert store.find_grant(OTHER_REGION, gid(5)) is None
    assert store.find_grant(REGION, gid(6)) is None


def test_grant_by_name(store: SqlStorage) -> None:
    store.insert_grant(make_grant(3, name="app"))
    store.insert_grant(make_grant(1, name="app", grantee_principal=BOB))
    store.insert_grant(make_grant(2, name="other"))
    store.insert_grant(make_grant(4, key_id="k2", name="app"))
    store.insert_grant(make_grant(5))
    assert _ids(store.grant_by_name(ACCOUNT, REGION, "k1", "app")) == [gid(1), gid(3)]
    assert _ids(store.grant_by_name(ACCOUNT, REGION, "k2", "app")) == [gid(4)]
    assert store.grant_by_name(ACCOUNT, REGION, "k1", "APP") == []
    assert store.grant_by_name(OTHER_ACCOUNT, REGION, "k1", "app") == []


def test_grants_for_key_and_count(store: SqlStorage) -> None:
    for n in (9, 2, 5):
        store.insert_grant(make_grant(n))
    store.insert_grant(make_grant(7, key_id="k2"))
    store.insert_grant(make_grant(8, key_id="k3", account=OTHER_ACCOUNT))
    assert store.grants_for_key(ACCOUNT, REGION, "k1") == [make_grant(n) for n in (2, 5, 9)]
    assert store.count_grants(ACCOUNT, REGION, "k1") == 3
    assert store.count_grants(ACCOUNT, REGION, "k2") == 1
    assert store.count_grants(ACCOUNT, REGION, "nope") == 0
    assert store.grants_for_key(OTHER_ACCOUNT, REGION, "k1") == []
    assert store.grants_for_key(ACCOUNT, OTHER_REGION, "k4") == []


def test_list_grants_orders_pages_and_filters(store: SqlStorage) -> None:
    for n in range(1, 8):
        store.insert_grant(make_grant(n, grantee_principal=BOB if n % 2 else ALICE))
    store.insert_grant(make_grant(20, key_id="k2"))
    seen: list[str] = []
    after = None
    while page := store.list_grants(ACCOUNT, REGION, "k1", after_grant_id=after, limit=3):
        assert len(page) <= 3
        seen += _ids(page)
        after = page[-1].grant_id
    assert seen == [gid(n) for n in range(1, 8)]

    def listed(**filters: Any) -> list[str]:
        return _ids(store.list_grants(ACCOUNT, REGION, "k1", **filters))

    assert listed(after_grant_id=gid(2), limit=2) == [gid(3), gid(4)]
    bobs = [gid(1), gid(3), gid(5), gid(7)]
    assert listed(after_grant_id=None, limit=10, grantee_principal=BOB) == bobs
    assert listed(after_grant_id=gid(3), limit=1, grantee_principal=BOB) == [gid(5)]
    assert listed(after_grant_id=None, limit=10, grant_id=gid(4)) == [gid(4)]
    assert listed(after_grant_id=None, limit=10, grant_id=gid(4), grantee_principal=BOB) == []
    assert listed(after_grant_id=None, limit=10, grant_id=gid(20)) == []  # on k2, not k1
    assert listed(after_grant_id=gid(7), limit=10) == []


def test_list_retirable_grants_spans_keys_and_accounts(store: SqlStorage) -> None:
    store.insert_grant(make_grant(6, retiring_principal=RETIRER))
    store.insert_grant(make_grant(2, key_id="k2", retiring_principal=RETIRER))
    store.insert_grant(
        make_grant(4, key_id="k3", account=OTHER_ACCOUNT, retiring_principal=RETIRER)
    )
    store.insert_grant(make_grant(3, key_id="k4", region=OTHER_REGION, retiring_principal=RETIRER))
    store.insert_grant(make_grant(1, retiring_principal=BOB))
    store.insert_grant(make_grant(5))
    everything = store.list_retirable_grants(RETIRER, None, 100)
    assert _ids(everything) == [gid(2), gid(3), gid(4), gid(6)]
    assert {(g.account, g.region, g.key_id) for g in everything} == {
        (ACCOUNT, REGION, "k1"),
        (ACCOUNT, REGION, "k2"),
        (OTHER_ACCOUNT, REGION, "k3"),
        (ACCOUNT, OTHER_REGION, "k4"),
    }
    assert _ids(store.list_retirable_grants(RETIRER, None, 2)) == [gid(2), gid(3)]
    assert _ids(store.list_retirable_grants(RETIRER, gid(3), 2)) == [gid(4), gid(6)]
    assert store.list_retirable_grants(RETIRER, gid(6), 2) == []
    assert _ids(store.list_retirable_grants(BOB, None, 10)) == [gid(1)]
    assert store.list_retirable_grants(ALICE, None, 10) == []
    # One region's page is full even when another region's grants sort among its ids.
    assert _ids(store.list_retirable_grants(RETIRER, None, 2, region=REGION)) == [gid(2), gid(4)]
    assert _ids(store.list_retirable_grants(RETIRER, gid(4), 2, region=REGION)) == [gid(6)]
    assert _ids(store.list_retirable_grants(RETIRER, None, 5, region=OTHER_REGION)) == [gid(3)]


def test_delete_grant(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1))
    store.insert_grant(make_grant(2))
    assert store.delete_grant(ACCOUNT, REGION, "k2", gid(1)) is False  # wrong key
    assert store.delete_grant(ACCOUNT, REGION, "k1", gid(1)) is True
    assert store.delete_grant(ACCOUNT, REGION, "k1", gid(1)) is False
    assert store.grants_for_key(ACCOUNT, REGION, "k1") == [make_grant(2)]
    assert store.find_grant(REGION, gid(1)) is None
    store.insert_grant(make_grant(1, key_id="k2"))  # the id is free again


def test_delete_key_removes_its_grants_only(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1, name="n", retiring_principal=RETIRER))
    store.insert_grant(make_grant(2))
    store.insert_grant(make_grant(3, key_id="k2", retiring_principal=RETIRER))
    store.delete_key(ACCOUNT, REGION, "k1")
    assert store.grants_for_key(ACCOUNT, REGION, "k1") == []
    assert store.count_grants(ACCOUNT, REGION, "k1") == 0
    assert store.find_grant(REGION, gid(1)) is None
    assert _ids(store.list_retirable_grants(RETIRER, None, 10)) == [gid(3)]
    store.insert_key(make_key("k1"), None, {})  # the same key id comes back without grants
    assert store.grants_for_key(ACCOUNT, REGION, "k1") == []


def test_the_foreign_key_cascades_a_key_row_delete(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1))
    store.insert_grant(make_grant(2, key_id="k2"))
    backend = store.backend
    with backend.writer.begin() as conn:
        backend.before_write(conn)
        conn.execute(delete(keys).where(keys.c.key_id == "k1"))
        backend.after_write(conn)
    assert store.find_grant(REGION, gid(1)) is None
    assert store.find_grant(REGION, gid(2)) == make_grant(2, key_id="k2")


def test_reset_wipes_grants(store: SqlStorage) -> None:
    store.insert_grant(make_grant(1, retiring_principal=RETIRER))
    store.insert_grant(make_grant(2, key_id="k3", account=OTHER_ACCOUNT))
    store.reset()
    assert store.find_grant(REGION, gid(1)) is None
    assert store.find_grant(REGION, gid(2)) is None
    assert store.list_retirable_grants(RETIRER, None, 10) == []
    assert store.get_account(OTHER_ACCOUNT) is not None
    store.insert_key(make_key("k1"), None, {})
    store.insert_grant(make_grant(1))  # the same ids are free again


def test_change_counter_moves_on_grant_writes_only(store: SqlStorage) -> None:
    before = store.change_counter()
    store.insert_grant(make_grant(1))
    inserted = store.change_counter()
    assert inserted != before
    store.get_grant(ACCOUNT, REGION, "k1", gid(1))
    store.find_grant(REGION, gid(1))
    store.grants_for_key(ACCOUNT, REGION, "k1")
    store.list_grants(ACCOUNT, REGION, "k1", after_grant_id=None, limit=10)
    store.list_retirable_grants(RETIRER, None, 10)
    store.grant_by_name(ACCOUNT, REGION, "k1", "x")
    store.count_grants(ACCOUNT, REGION, "k1")
    assert store.change_counter() == inserted
    assert store.delete_grant(ACCOUNT, REGION, "k1", gid(1))
    assert store.change_counter() not in (before, inserted)


# -- the lookups are index searches (SQLite's planner is deterministic; PostgreSQL's is not) -----
@pytest.fixture
def statements(sqlite_store: SqlStorage) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement ``sqlite_store`` sends, with its parameters, as it sends them."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        captured.append((sql, params))

    engine = sqlite_store.backend.engine
    event.listen(engine, "before_cursor_execute", capture)
    yield captured
    event.remove(engine, "before_cursor_execute", capture)


@pytest.mark.parametrize(
    ("method", "args", "index"),
    [
        ("grants_for_key", (ACCOUNT, REGION, "k1"), "sqlite_autoindex_grants_1"),
        ("count_grants", (ACCOUNT, REGION, "k1"), r"\S+"),  # any index on the key columns
        ("find_grant", (REGION, gid(1)), "sqlite_autoindex_grants_2"),
        (
            "grant_by_name",
            (ACCOUNT, REGION, "k1", "n"),
            "ix_grants_account_region_key_id_name_grant_id",
        ),
        (
            "list_retirable_grants",
            (RETIRER, None, 10),
            "ix_grants_retiring_principal_grant_id_region",
        ),
        ("find_key", (REGION, "k1"), "ix_keys_region_key_id"),
    ],
)
def test_lookups_search_an_index(
    sqlite_store: SqlStorage,
    statements: list[tuple[str, Any]],
    method: str,
    args: tuple[Any, ...],
    index: str,
) -> None:
    getattr(sqlite_store, method)(*args)
    (sql, params), *_ = statements
    with sqlite_store.backend.reader.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert re.search(f"SEARCH (grants|keys) USING (COVERING )?INDEX {index} ", details), details
    assert "SCAN" not in details
    assert "TEMP B-TREE" not in details  # the order comes from the index, not a sort
