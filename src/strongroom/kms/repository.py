"""The KMS repository: cached reads of keys, aliases and grants, and writes that keep every cache
true by themselves.

Every write goes through here and, once committed, drops this worker's caches and tells every
listener (:meth:`KeyRepository.on_change`: the access decisions' memo, the grant cache, the key
store's unwrapped material), so no operation places an invalidation by hand. Changes committed by
other workers and nodes are seen through storage's change counter, read once per request by
:meth:`KeyRepository.refresh`.

Operations never see storage: they read and write here (``read`` is the read-only ports, for
the reads that are never cached).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from strongroom.domain.keys import AliasRecord, GrantRecord, KeyRecord, KeyState, MaterialRecord
from strongroom.storage.base import (
    DuplicateError,
    GrantReads,
    GrantRows,
    KeyReads,
    KeyRows,
    LifecycleReads,
    LifecycleRows,
    MetaRows,
    StorageError,
)

# DuplicateError and StorageError are storage's word for a clash and a failure; operations
# catch them from here, as they never import storage.
__all__ = ["DuplicateError", "KeyRepository", "KmsReads", "KmsRows", "StorageError"]

_Ident = tuple[str, str, str]
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _write(
    method: Callable[Concatenate[KeyRepository, _P], _R],
) -> Callable[Concatenate[KeyRepository, _P], _R]:
    """A write: once it has committed, or failed (another worker may have seen part of what it
    raced with; a re-read is always right), every cache is dropped."""

    @functools.wraps(method)
    def write(self: KeyRepository, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.invalidate()

    return write


class KmsReads(KeyReads, LifecycleReads, GrantReads, Protocol):
    """The reads of KMS state, read-only: listings, due work, grants (never cached)."""


class KmsRows(MetaRows, KeyRows, LifecycleRows, GrantRows, Protocol):
    """The storage ports KMS state lives behind."""


class KeyRepository:
    """One per worker process; not shared between threads that write."""

    def __init__(self, rows: KmsRows) -> None:
        self._rows = rows
        # Reads that are never cached (listings, due work, grants) go straight to the read-only
        # ports; the repository's own methods are the cached reads and every write.
        self.read: KmsReads = rows
        self._seen: int | None = None
        self._keys: dict[_Ident, KeyRecord | None] = {}
        self._owners: dict[tuple[str, str], str | None] = {}  # (region, key id) -> account
        self._aliases: dict[_Ident, AliasRecord | None] = {}
        self._materials: dict[_Ident, dict[str, MaterialRecord]] = {}
        self._listeners: list[Callable[[], None]] = []

    # -- coherence ---------------------------------------------------------------------------------
    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever what was read may be stale (a write here, or another
        worker's commit seen by :meth:`refresh`)."""
        self._listeners.append(listener)

    def refresh(self) -> bool:
        """Once per request: drop every cache if anything was committed since the last call.
        Returns True when something changed."""
        counter = self._rows.change_counter()
        if counter == self._seen:
            return False
        self._seen = counter
        self.invalidate()
        return True

    def invalidate(self) -> None:
        self._keys.clear()
        self._owners.clear()
        self._aliases.clear()
        self._materials.clear()
        for listener in self._listeners:
            listener()

    def get_meta(self, name: str) -> str | None:
        return self._rows.get_meta(name)

    # -- cached reads ----------------------------------------------------------------------------
    def get_key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        ident = (account, region, key_id)
        try:
            return self._keys[ident]
        except KeyError:
            key = self._keys[ident] = self._rows.get_key(account, region, key_id)
            return key

    def find_key(self, region: str, key_id: str) -> KeyRecord | None:
        """The key with this id in ``region``, whatever its account (a ciphertext names its key
        by id only); which account holds the id is remembered until something changes."""
        ident = (region, key_id)
        try:
            account = self._owners[ident]
        except KeyError:
            found = self._rows.find_key(region, key_id)
            account = self._owners[ident] = None if found is None else found.account
            if found is not None:
                self._keys.setdefault((found.account, region, key_id), found)
        return None if account is None else self.get_key(account, region, key_id)

    def get_alias(self, account: str, region: str, name: str) -> AliasRecord | None:
        ident = (account, region, name)
        try:
            return self._aliases[ident]
        except KeyError:
            alias = self._aliases[ident] = self._rows.get_alias(account, region, name)
            return alias

    def material(self, key: KeyRecord, material_id: str) -> MaterialRecord | None:
        """One stored material version of ``key`` (its versions are read together, once)."""
        ident = (key.account, key.region, key.key_id)
        versions = self._materials.get(ident)
        if versions is None:
            rows = self._rows.get_materials(key.account, key.region, key.key_id)
            versions = self._materials[ident] = {row.material_id: row for row in rows}
        return versions.get(material_id)

    # -- writes (each decorated with _write) ------------------------------------------------------
    @_write
    def insert_key(
        self,
        key: KeyRecord,
        material: MaterialRecord | Sequence[MaterialRecord] | None,
        tags: Mapping[str, str],
    ) -> None:
        self._rows.insert_key(key, material, tags)

    @_write
    def update_key(self, key: KeyRecord) -> None:
        self._rows.update_key(key)

    @_write
    def update_keys(self, keys: Sequence[KeyRecord]) -> None:
        self._rows.update_keys(keys)

    @_write
    def update_key_in_state(self, key: KeyRecord, expected: KeyState) -> bool:
        return self._rows.update_key_in_state(key, expected)

    @_write
    def delete_key(self, account: str, region: str, key_id: str) -> None:
        self._rows.delete_key(account, region, key_id)

    @_write
    def delete_due_key(self, account: str, region: str, key_id: str, now: float) -> bool:
        return self._rows.delete_due_key(account, region, key_id, now)

    @_write
    def insert_replica(
        self,
        replica: KeyRecord,
        materials: Sequence[MaterialRecord],
        tags: Mapping[str, str],
        *,
        primary_region: str,
        expected_material_id: str | None,
    ) -> bool:
        return self._rows.insert_replica(
            replica,
            materials,
            tags,
            primary_region=primary_region,
            expected_material_id=expected_material_id,
        )

    @_write
    def apply_rotation(
        self,
        updates: Sequence[tuple[KeyRecord, MaterialRecord | None]],
        expected_material_id: str | None,
        material_updates: Sequence[tuple[str, str, MaterialRecord]] = (),
    ) -> bool:
        return self._rows.apply_rotation(updates, expected_material_id, material_updates)

    @_write
    def insert_material(
        self, account: str, region: str, key_id: str, material: MaterialRecord
    ) -> None:
        self._rows.insert_material(account, region, key_id, material)

    @_write
    def update_material(self, account: str, region: str, material: MaterialRecord) -> None:
        self._rows.update_material(account, region, material)

    @_write
    def expire_material(
        self, account: str, region: str, key_id: str, material_id: str, now: float
    ) -> bool:
        return self._rows.expire_material(account, region, key_id, material_id, now)

    @_write
    def insert_alias(self, alias: AliasRecord) -> None:
        self._rows.insert_alias(alias)

    @_write
    def update_alias(self, alias: AliasRecord) -> None:
        self._rows.update_alias(alias)

    @_write
    def delete_alias(self, account: str, region: str, name: str) -> bool:
        return self._rows.delete_alias(account, region, name)

    @_write
    def put_tags(self, account: str, region: str, key_id: str, tags: Mapping[str, str]) -> None:
        self._rows.put_tags(account, region, key_id, tags)

    @_write
    def delete_tags(self, account: str, region: str, key_id: str, keys: Sequence[str]) -> None:
        self._rows.delete_tags(account, region, key_id, keys)

    @_write
    def insert_grant(self, grant: GrantRecord) -> None:
        self._rows.insert_grant(grant)

    @_write
    def delete_grant(self, account: str, region: str, key_id: str, grant_id: str) -> bool:
        return self._rows.delete_grant(account, region, key_id, grant_id)
