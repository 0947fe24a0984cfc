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

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from strongroom.domain.keys import AliasRecord, KeyRecord, MaterialRecord
from strongroom.storage.base import (
    DuplicateError,
    GrantReads,
    GrantRows,
    GrantWrites,
    KeyReads,
    KeyRows,
    KeyWrites,
    LifecycleReads,
    LifecycleRows,
    LifecycleWrites,
    MetaRows,
    StorageError,
    TrailIndexReads,
)

# DuplicateError and StorageError are storage's word for a clash and a failure; operations
# catch them from here, as they never import storage.
__all__ = ["DuplicateError", "KeyRepository", "KmsReads", "KmsRows", "StorageError"]

_Ident = tuple[str, str, str]
_P = ParamSpec("_P")
_R = TypeVar("_R")
_V = TypeVar("_V")


def _cached(cache: dict[_Ident, _V], ident: _Ident, read: Callable[[str, str, str], _V]) -> _V:
    """``cache[ident]``, read (``read(*ident)``) and kept the first time it is asked for."""
    try:
        return cache[ident]
    except KeyError:
        found = cache[ident] = read(*ident)
        return found


class _Write(Generic[_P, _R]):
    """A write: the storage port's method of the same name, after which, committed or failed
    (another worker may have seen part of what it raced with; a re-read is always right), every
    cache is dropped. Bound once per repository, on first use."""

    def __init__(self, port_method: Callable[Concatenate[Any, _P], _R]) -> None:
        self.name = port_method.__name__
        self.__doc__ = port_method.__doc__

    def __set_name__(self, owner: type[KeyRepository], name: str) -> None:
        if name != self.name:
            raise TypeError(f"KeyRepository.{name} would write through {self.name}")

    @overload
    def __get__(self, repo: None, owner: type[KeyRepository]) -> Self: ...

    @overload
    def __get__(self, repo: KeyRepository, owner: type[KeyRepository]) -> Callable[_P, _R]: ...

    def __get__(
        self, repo: KeyRepository | None, owner: type[KeyRepository]
    ) -> Self | Callable[_P, _R]:
        if repo is None:
            return self
        method: Callable[_P, _R] = getattr(repo._rows, self.name)

        def write(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            finally:
                repo.invalidate()

        vars(repo)[self.name] = write  # found before this descriptor from now on
        return write


class KmsReads(KeyReads, LifecycleReads, GrantReads, TrailIndexReads, Protocol):
    """The reads of KMS state, read-only: listings, due work, grants, the audit trail's index
    (GetKeyLastUsage) (never cached)."""


class KmsRows(MetaRows, KeyRows, LifecycleRows, GrantRows, TrailIndexReads, Protocol):
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
        return _cached(self._keys, (account, region, key_id), self._rows.get_key)

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
        return _cached(self._aliases, (account, region, name), self._rows.get_alias)

    def material(self, key: KeyRecord, material_id: str) -> MaterialRecord | None:
        """One stored material version of ``key`` (its versions are read together, once)."""
        ident = (key.account, key.region, key.key_id)
        versions = self._materials.get(ident)
        if versions is None:
            rows = self._rows.get_materials(key.account, key.region, key.key_id)
            versions = self._materials[ident] = {row.material_id: row for row in rows}
        return versions.get(material_id)

    # -- writes ------------------------------------------------------------------------------------
    # Each is the port's method of the same name, its signature and documentation the port's.
    insert_key = _Write(KeyWrites.insert_key)
    update_key = _Write(KeyWrites.update_key)
    update_keys = _Write(KeyWrites.update_keys)
    delete_key = _Write(KeyWrites.delete_key)
    insert_material = _Write(KeyWrites.insert_material)
    update_material = _Write(KeyWrites.update_material)
    insert_alias = _Write(KeyWrites.insert_alias)
    update_alias = _Write(KeyWrites.update_alias)
    delete_alias = _Write(KeyWrites.delete_alias)
    put_tags = _Write(KeyWrites.put_tags)
    delete_tags = _Write(KeyWrites.delete_tags)
    update_key_in_state = _Write(LifecycleWrites.update_key_in_state)
    delete_due_key = _Write(LifecycleWrites.delete_due_key)
    insert_replica = _Write(LifecycleWrites.insert_replica)
    apply_rotation = _Write(LifecycleWrites.apply_rotation)
    expire_material = _Write(LifecycleWrites.expire_material)
    insert_grant = _Write(GrantWrites.insert_grant)
    delete_grant = _Write(GrantWrites.delete_grant)
