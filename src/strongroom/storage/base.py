"""The storage interface every backend satisfies (SQLite embedded, PostgreSQL for a cluster).

Each method is one transaction: it either applies whole or raises and changes nothing. Storage
speaks in domain records and knows nothing of AWS errors; a uniqueness clash raises
:class:`DuplicateError`, which the operations turn into the AWS error that fits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from strongroom.domain.identity import AccessKeyRecord, AccountRecord, ServiceRecord
from strongroom.domain.keys import (
    AliasRecord,
    GrantRecord,
    KeyRecord,
    KeyState,
    MaterialRecord,
    Rotation,
)
from strongroom.domain.trail_index import EventQuery, IndexedEvent, IndexPosition

__all__ = [
    "AccountRows",
    "DuplicateError",
    "GrantReads",
    "GrantRows",
    "GrantWrites",
    "KeyReads",
    "KeyRows",
    "KeyWrites",
    "LifecycleReads",
    "LifecycleRows",
    "LifecycleWrites",
    "MetaRows",
    "ServiceRows",
    "Storage",
    "StorageError",
    "TrailIndexReads",
    "TrailIndexRows",
]


class StorageError(Exception):
    """The backend failed (not the caller's fault)."""


class DuplicateError(StorageError):
    """A row with the same identity exists already."""


class MetaRows(Protocol):
    """Settings and coherence: the change counter every request reads, small named values."""

    def close(self) -> None: ...

    def change_counter(self) -> int:
        """A number that changes whenever any process commits. Cheap: called per request."""
        ...

    def reset(self) -> None:
        """Dev mode: delete every key, material, alias, tag and grant in every account and region.

        Accounts, access keys, meta values and every IAM and STS record are left alone."""
        ...

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...


class AccountRows(Protocol):
    """Accounts and their long-term access keys."""

    def insert_account(self, account: AccountRecord) -> None: ...

    def get_account(self, account: str) -> AccountRecord | None: ...

    def insert_access_key(self, key: AccessKeyRecord) -> None: ...

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None: ...


class KeyReads(Protocol):
    """Keys, their material versions, aliases and tags, read."""

    def get_key(self, account: str, region: str, key_id: str) -> KeyRecord | None: ...

    def find_key(self, region: str, key_id: str) -> KeyRecord | None:
        """The key with this id in ``region``, whatever its account (key ids are random UUIDs):
        a ciphertext names its key by id only, and may come from another account."""
        ...

    def list_keys(
        self, account: str, region: str, after_key_id: str | None, limit: int
    ) -> list[KeyRecord]:
        """Keys ordered by key id, strictly after ``after_key_id`` when given, at most ``limit``."""
        ...

    def keys_managed_by(self, key_manager: str) -> list[KeyRecord]:
        """Keys (any account or region) with this KeyManager (``AWS`` for AWS-managed keys)."""
        ...

    def key_members(self, account: str, key_id: str) -> list[KeyRecord]:
        """Every region's key with this id in ``account``, ordered by region: a multi-Region
        key's primary and replicas (one record for any other key)."""
        ...

    def get_materials(self, account: str, region: str, key_id: str) -> list[MaterialRecord]: ...

    def get_alias(self, account: str, region: str, name: str) -> AliasRecord | None: ...

    def list_aliases(
        self,
        account: str,
        region: str,
        target_key_id: str | None,
        after_name: str | None,
        limit: int,
    ) -> list[AliasRecord]:
        """Aliases ordered by name, optionally only those pointing at one key."""
        ...

    def get_tags(self, account: str, region: str, key_id: str) -> dict[str, str]: ...


class KeyWrites(Protocol):
    """Keys, their material versions, aliases and tags, written."""

    def insert_key(
        self,
        key: KeyRecord,
        material: MaterialRecord | Sequence[MaterialRecord] | None,
        tags: Mapping[str, str],
    ) -> None:
        """Create a key with its material versions (none for a key awaiting import; several for
        a multi-Region replica) and its tags, atomically."""
        ...

    def update_key(self, key: KeyRecord) -> None:
        """Write every mutable field (state, description, policy, deletion fields, material id)."""
        ...

    def update_keys(self, keys: Sequence[KeyRecord]) -> None:
        """``update_key`` for several keys in one transaction (all or none)."""
        ...

    def delete_key(self, account: str, region: str, key_id: str) -> None:
        """Remove the key, all its material versions, its aliases, tags and grants, atomically."""
        ...

    def insert_material(
        self, account: str, region: str, key_id: str, material: MaterialRecord
    ) -> None:
        """Add a material version to an existing key (``StorageError`` if the key is missing,
        ``DuplicateError`` if the material id exists); the key's current material is unchanged."""
        ...

    def update_material(self, account: str, region: str, material: MaterialRecord) -> None:
        """Write a material version's mutable fields (wrapped bytes, import state and terms,
        pending-rotation flag); ``StorageError`` if it does not exist."""
        ...

    def insert_alias(self, alias: AliasRecord) -> None: ...  # DuplicateError if the name exists

    def update_alias(self, alias: AliasRecord) -> None: ...

    def delete_alias(self, account: str, region: str, name: str) -> bool: ...

    def put_tags(self, account: str, region: str, key_id: str, tags: Mapping[str, str]) -> None: ...

    def delete_tags(self, account: str, region: str, key_id: str, keys: Sequence[str]) -> None: ...


class LifecycleReads(Protocol):
    """What the work that falls due with time finds due."""

    def keys_due_for_deletion(self, now: float) -> list[KeyRecord]:
        """Keys in PendingDeletion (any account or region) whose deletion date is <= now."""
        ...

    def keys_due_for_rotation(self, now: float) -> list[KeyRecord]:
        """Keys (any account or region) with automatic rotation on and ``next_rotation_date``
        <= now, oldest due first."""
        ...

    def materials_due_to_expire(self, now: float) -> list[tuple[str, str, MaterialRecord]]:
        """``(account, region, material)`` for every imported material version that still has
        its bytes and whose ``valid_to`` is <= now."""
        ...


class LifecycleWrites(Protocol):
    """The guarded writes of the work that falls due with time: each applies only if its rows
    are still as read, so many workers and nodes can run it at once."""

    def delete_due_key(self, account: str, region: str, key_id: str, now: float) -> bool:
        """``delete_key``, provided the key is still PendingDeletion with a deletion date <= now
        (checked under a lock on its row); False, deleting nothing, otherwise: a
        CancelKeyDeletion that landed first wins, and two workers never both delete."""
        ...

    def update_key_in_state(self, key: KeyRecord, expected: KeyState) -> bool:
        """``update_key``, provided the stored key is still in state ``expected``; False,
        writing nothing, otherwise."""
        ...

    def insert_replica(
        self, replica: KeyRecord, materials: Sequence[MaterialRecord], tags: Mapping[str, str]
    ) -> bool:
        """``insert_key`` for a multi-Region replica, provided its primary (same account and key
        id, in the replica's ``primary_region``) still has the replica's ``current_material_id``
        as its current material, checked under a lock on the primary's row; False, writing
        nothing, if a rotation got there first (the caller copies the materials again).
        ``DuplicateError`` if the replica's region already has the key; ``ValueError`` if the
        record is not a replica's (no other primary region)."""
        ...

    def apply_rotation(self, rotation: Rotation) -> bool:
        """Atomically, for every ``(key, material)`` of ``rotation.updates``: insert ``material``
        (when given) and write ``key``'s material fields (current material id, rotation schedule,
        expiry terms; never its state, policy or description), and for every ``(account, region,
        material)`` of ``rotation.material_updates`` write that existing version's mutable
        fields; provided every key's stored current material id is still
        ``rotation.expected_material_id``, and the updates name every region's key of that id (a
        replica added meanwhile must get the new material too). Returns False, writing nothing,
        when either fails: another worker or node rotated or replicated first (how a due rotation
        happens exactly once)."""
        ...

    def expire_material(
        self, account: str, region: str, key_id: str, material_id: str, now: float
    ) -> bool:
        """Delete an imported material version's bytes (``wrapped`` NULL, import state
        ``PENDING_IMPORT``, terms cleared) if it still has them and its ``valid_to`` is <= now.
        True only for the call that changed the row: one expiry, counted once, across workers;
        a re-import with a later ``valid_to`` that landed first is left alone."""
        ...


class GrantReads(Protocol):
    """Grants on keys (kms-spec.md section 9), read."""

    def get_grant(
        self, account: str, region: str, key_id: str, grant_id: str
    ) -> GrantRecord | None: ...

    def find_grant(self, region: str, grant_id: str) -> GrantRecord | None:
        """A grant by id alone (grant tokens and RetireGrant by token name only the grant)."""
        ...

    def grant_by_name(self, account: str, region: str, key_id: str, name: str) -> list[GrantRecord]:
        """Grants on the key with this Name (CreateGrant's idempotency)."""
        ...

    def list_grants(
        self,
        account: str,
        region: str,
        key_id: str,
        *,
        after_grant_id: str | None,
        limit: int,
        grant_id: str | None = None,
        grantee_principal: str | None = None,
    ) -> list[GrantRecord]:
        """Grants on one key ordered by grant id, optionally filtered."""
        ...

    def list_retirable_grants(
        self,
        retiring_principal: str,
        after_grant_id: str | None,
        limit: int,
        *,
        region: str | None = None,
    ) -> list[GrantRecord]:
        """Grants (any key, any account; in ``region`` when given) whose retiring principal is
        this one, by grant id."""
        ...

    def grants_for_key(self, account: str, region: str, key_id: str) -> list[GrantRecord]:
        """Every grant on the key (authorization reads these; keep it one indexed query)."""
        ...

    def count_grants(self, account: str, region: str, key_id: str) -> int: ...


class GrantWrites(Protocol):
    """Grants on keys, written."""

    def insert_grant(self, grant: GrantRecord) -> None:
        """DuplicateError if the grant id exists; StorageError if the key does not."""
        ...

    def delete_grant(self, account: str, region: str, key_id: str, grant_id: str) -> bool: ...


class ServiceRows(Protocol):
    """Registered integrated services (docs/integrated-services.md)."""

    def insert_service(self, service: ServiceRecord) -> None:
        """DuplicateError if the name, or the principal, is registered already."""
        ...

    def get_service(self, name: str) -> ServiceRecord | None: ...

    def service_for_principal(self, principal_arn: str) -> ServiceRecord | None: ...

    def list_services(self) -> list[ServiceRecord]:
        """Every registration, by name."""
        ...

    def delete_service(self, name: str) -> bool: ...


class TrailIndexReads(Protocol):
    """The audit trail's index: how far it has read, lookups, a key's last use."""

    def trail_index_position(self) -> IndexPosition: ...

    def indexed_trail_event(self, seq: int) -> IndexedEvent | None:
        """The index's row of ``seq`` (without its resources), if it has one."""
        ...

    def lookup_trail_events(self, query: EventQuery) -> list[IndexedEvent]:
        """One page of ``query``: the account's matching events, highest seq first (each with
        its resources)."""
        ...

    def last_key_use(
        self, account: str, key_arn: str, event_names: Collection[str]
    ) -> IndexedEvent | None:
        """The newest successful event delivered to ``account`` naming ``key_arn`` whose name is
        one of ``event_names`` (without its resources)."""
        ...


class TrailIndexRows(TrailIndexReads, Protocol):
    def record_trail_events(
        self, expected_seq: int, position: IndexPosition, events: Sequence[IndexedEvent]
    ) -> bool:
        """Index ``events`` and move the position to ``position``, only if the index is still
        at ``expected_seq`` (several workers and nodes index one trail: exactly one writes each
        range). False, and nothing written, when another got there first. Does not count as a
        change of KMS state (no cache anywhere is dropped for it on PostgreSQL)."""
        ...

    def reset_trail_index(self, expected: IndexPosition) -> bool:
        """Empty the index (its rows and resources) and move its position back to the start,
        in one transaction, only if the position is still exactly ``expected`` (seq, segment
        and offset). False, and nothing changed, when an indexer moved it meanwhile."""
        ...


class KeyRows(KeyReads, KeyWrites, Protocol):
    """Keys, their material versions, aliases and tags."""


class LifecycleRows(LifecycleReads, LifecycleWrites, Protocol):
    """The work that falls due with time: what is due, and the guarded writes."""


class GrantRows(GrantReads, GrantWrites, Protocol):
    """Grants on keys."""


class Storage(
    MetaRows, AccountRows, KeyRows, LifecycleRows, GrantRows, ServiceRows, TrailIndexRows, Protocol
):
    """Everything a backend keeps for KMS, one port per area; consumers ask for the ports they
    read and write, not the whole."""
