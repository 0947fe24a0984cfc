"""The repository: cached reads, and writes that keep every cache true by themselves (a real
SQLite database; two repositories on it stand for two workers)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import cast

import pytest
from tests.unit.kms.helpers import KEY_ID, a_key

from strongroom.domain.keys import (
    AliasRecord,
    KeyRecord,
    MaterialRecord,
)
from strongroom.iam.credentials import ensure_account
from strongroom.kms.repository import DuplicateError, KeyRepository, KmsRows
from strongroom.storage import SqlStorage, open_storage
from strongroom.storage.base import GrantWrites, KeyWrites, LifecycleWrites

ACCOUNT, REGION = "111122223333", "us-east-1"


def _key(**changes: object) -> KeyRecord:
    return a_key(
        ACCOUNT,
        REGION,
        **{"created_at": 1.0, "description": "first", "current_material_id": "00" * 32, **changes},
    )


MATERIAL = MaterialRecord(KEY_ID, "00" * 32, b"wrapped", 1.0)


@pytest.fixture
def storages(db_url: str) -> Iterator[tuple[SqlStorage, SqlStorage]]:
    first, second = open_storage(db_url), open_storage(db_url)
    ensure_account(first, ACCOUNT, 0.0)
    yield first, second
    first.close()
    second.close()


def test_reads_are_cached_until_a_write(storages: tuple[SqlStorage, SqlStorage]) -> None:
    repo = KeyRepository(storages[0])
    repo.insert_key(_key(), MATERIAL, {})
    cached = repo.get_key(ACCOUNT, REGION, KEY_ID)
    assert cached is repo.get_key(ACCOUNT, REGION, KEY_ID)  # no second read
    repo.update_key(_key(description="second"))
    found = repo.get_key(ACCOUNT, REGION, KEY_ID)
    assert found is not None
    assert found.description == "second"
    assert repo.find_key(REGION, KEY_ID) == found


def test_every_write_tells_the_listeners(storages: tuple[SqlStorage, SqlStorage]) -> None:
    repo = KeyRepository(storages[0])
    told: list[str] = []
    repo.on_change(lambda: told.append("x"))
    repo.insert_key(_key(), MATERIAL, {})
    repo.put_tags(ACCOUNT, REGION, KEY_ID, {"a": "b"})
    repo.insert_alias(AliasRecord(ACCOUNT, REGION, "alias/a", KEY_ID, 1.0, 1.0))
    assert len(told) == 3


def test_a_failed_write_still_drops_the_caches(storages: tuple[SqlStorage, SqlStorage]) -> None:
    """The clash means someone else wrote: what this worker cached may be stale."""
    repo = KeyRepository(storages[0])
    repo.insert_key(_key(), MATERIAL, {})
    repo.insert_alias(AliasRecord(ACCOUNT, REGION, "alias/a", KEY_ID, 1.0, 1.0))
    assert repo.get_alias(ACCOUNT, REGION, "alias/b") is None  # cached as absent
    KeyRepository(storages[1]).insert_alias(AliasRecord(ACCOUNT, REGION, "alias/b", KEY_ID, 2, 2))
    with pytest.raises(DuplicateError):
        repo.insert_alias(AliasRecord(ACCOUNT, REGION, "alias/a", KEY_ID, 3.0, 3.0))
    assert repo.get_alias(ACCOUNT, REGION, "alias/b") is not None


def test_another_workers_commit_is_seen_after_refresh(
    storages: tuple[SqlStorage, SqlStorage],
) -> None:
    mine, theirs = KeyRepository(storages[0]), KeyRepository(storages[1])
    mine.refresh()
    assert mine.find_key(REGION, KEY_ID) is None  # remembered as absent
    theirs.insert_key(_key(), MATERIAL, {})
    assert mine.find_key(REGION, KEY_ID) is None  # still the cached answer
    assert mine.refresh() is True
    assert mine.find_key(REGION, KEY_ID) == _key()
    assert mine.refresh() is False


def test_every_write_of_the_ports_is_a_write_that_drops_the_caches() -> None:
    """A write that forgot to drop the caches would be a stale read waiting to happen: every
    method of the write ports is the repository's, writing through and then telling."""

    class Rows:
        def __getattr__(self, name: str) -> Callable[..., str]:
            return lambda *args, **kwargs: name

    writes = sorted(
        name
        for port in (KeyWrites, LifecycleWrites, GrantWrites)
        for name, _ in inspect.getmembers(port, inspect.isfunction)
        if not name.startswith("_")
    )
    repo = KeyRepository(cast(KmsRows, Rows()))
    told: list[str] = []
    repo.on_change(lambda: told.append("changed"))
    assert len(writes) > 10
    for name in writes:
        assert getattr(repo, name)() == name  # written through to the port's method
        assert told == ["changed"], name
        told.clear()
