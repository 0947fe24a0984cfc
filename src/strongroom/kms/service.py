"""The KMS service: what an operation needs besides its input, wired once per worker process.

- ``keys``: the repository (cached reads; writes that drop every cache themselves);
- ``access``: access decisions (policies, then grants) with their memo;
- ``deletions``: keys whose deletion window has ended;
- ``keystore``: performs every operation with key material, by :meth:`handle`;
- ``identity``: the few identity records KMS operations read (accounts, users, roles, services);
- ``service_events``: where the events AWS logs without a caller go (RotateKey, DeleteKey,
  DeleteExpiredKeyMaterial, a replica's CreateKey): the audit trail when the server has one,
  nowhere by default. The code that makes such a change hands its event to :meth:`emit` only
  when its own guarded write happened, so each is recorded once however many workers race.
- ``trail_index``: brings the audit trail's index up to date (GetKeyLastUsage reads it, through
  ``keys.read``); None when the server keeps no trail (no use is tracked).

Caches are dropped whenever storage's change counter moves (a commit by this or any other worker
process), so a DisableKey answered by one worker is seen by the next request on any worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from strongroom.clock import Clock
from strongroom.crypto.keypool import KeyPairPool
from strongroom.domain import record
from strongroom.domain.identity import (
    AccountRecord,
    OwnerKind,
    RoleRecord,
    ServiceRecord,
    UserRecord,
)
from strongroom.domain.keys import KeyRecord
from strongroom.errors import KMSInternalException
from strongroom.keystore.base import KeyHandle, KeyStore
from strongroom.kms.access import AccessDecisions, IdentityPolicies
from strongroom.kms.deletion import Deletions
from strongroom.kms.repository import KeyRepository, KmsRows
from strongroom.kms.states import current_material_id

__all__ = [
    "CLOCK_OFFSET_META",
    "IdentityLookup",
    "KmsService",
    "KmsStorage",
    "ServiceEventSink",
    "discard_events",
]

log = logging.getLogger(__name__)

CLOCK_OFFSET_META = "dev.clock_offset"

# Takes CloudTrail events (``strongroom.audit.event.service_event``) and records them.
ServiceEventSink = Callable[[list[dict[str, Any]]], None]


def discard_events(events: list[dict[str, Any]]) -> None:
    """The default sink: no trail, nothing recorded."""


class IdentityLookup(Protocol):
    """The identity records KMS operations read: the account a key or replica is made in, the
    principals a grant or policy names, and the registered integrated services."""

    def get_account(self, account: str) -> AccountRecord | None: ...
    def get_user(self, account: str, name: str) -> UserRecord | None: ...
    def get_role(self, account: str, name: str) -> RoleRecord | None: ...
    def get_service(self, name: str) -> ServiceRecord | None: ...
    def get_principal_tags(self, account: str, kind: OwnerKind, owner: str) -> dict[str, str]: ...


class KmsStorage(KmsRows, IdentityLookup, Protocol):
    """What a :class:`KmsService` is built on (any backend's storage satisfies it)."""

    def set_meta(self, name: str, value: str) -> None: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


class KmsService:
    """Everything an operation needs besides its input. One per worker process."""

    def __init__(
        self,
        storage: KmsStorage,
        keystore: KeyStore,
        clock: Clock,
        *,
        dev: bool = False,
        identity_policies: IdentityPolicies | None = None,
        key_pool_depth: int = 4,
        service_events: ServiceEventSink = discard_events,
    ) -> None:
        self._storage = storage
        self.service_events = service_events
        self.trail_index: Callable[[], object] | None = None
        self.keys = KeyRepository(storage)
        self.identity: IdentityLookup = storage
        self.keystore = keystore
        self.clock = clock
        self.dev = dev
        self.access = AccessDecisions(self.keys, keystore, clock, identity_policies)
        self.deletions = Deletions(self.keys, clock, self.emit)
        self.keys.on_change(keystore.clear)
        # Fresh key pairs handed to callers (GenerateDataKeyPair, import wrapping keys).
        self.key_pairs = KeyPairPool(depth=key_pool_depth)

    # -- coherence and the dev-mode clock -------------------------------------------------------
    def refresh(self) -> bool:
        """Called once per request: drop the caches if anything was committed since last time.

        Returns True when something changed (other caches keyed on storage should drop too).
        """
        if not self.keys.refresh():
            return False
        if self.dev:
            offset = self.keys.get_meta(CLOCK_OFFSET_META)
            self.clock.set_offset(float(offset) if offset else 0.0)
        return True

    def set_clock_offset(self, offset: float) -> None:
        """Dev mode: move every worker's clock (they read it at their next request)."""
        self._storage.set_meta(CLOCK_OFFSET_META, repr(offset))
        self.clock.set_offset(offset)
        self.keys.invalidate()

    def reset(self) -> None:
        """Dev mode: delete every key, alias, tag and grant (storage's ``reset``)."""
        try:
            self._storage.reset()
        finally:
            self.keys.invalidate()

    def close(self) -> None:
        self._storage.close()

    # -- service events --------------------------------------------------------------------------
    def emit(self, events: Sequence[dict[str, Any]]) -> None:
        """Record service events of a change that has happened. If the sink fails (the trail
        cannot be written), the change stands: the error is logged, naming each event."""
        if not events:
            return
        try:
            self.service_events(list(events))
        except Exception as exc:
            for event in events:
                log.error(
                    "the audit trail could not record the service event %s of %s (%s: %s); "
                    "the change itself was made",
                    event.get("eventName"),
                    ", ".join(r.get("ARN", "") for r in event.get("resources", ())),
                    type(exc).__name__,
                    exc,
                )

    # -- keys as a request sees them ------------------------------------------------------------
    def get_key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        """The key, or None if there is none or its deletion window has just ended."""
        return self.deletions.live(self.keys.get_key(account, region, key_id))

    def find_key(self, region: str, key_id: str) -> KeyRecord | None:
        """A key of any account, by id (what a ciphertext names); None if none or destroyed."""
        return self.deletions.live(self.keys.find_key(region, key_id))

    # -- material, by handle -------------------------------------------------------------------
    def handle(self, key: KeyRecord) -> KeyHandle:
        """The key's current material version, for the key store to act with."""
        material_id = current_material_id(key)
        handle = self.find_handle(key, material_id)
        if handle is None:
            raise KMSInternalException("The key's current material is missing.")
        return handle

    def find_handle(self, key: KeyRecord, material_id: str) -> KeyHandle | None:
        """Material version ``material_id`` of ``key``, or None if it has none (never existed,
        or imported material that was deleted or expired)."""
        material = self.keys.material(key, material_id)
        if material is None or material.wrapped is None:
            return None
        found = record.current()
        if found is not None:
            # The stored record's string, not the one just parsed from a ciphertext: a queued
            # request record then holds no string of its own for it.
            found.key_material_id = material.material_id
        return KeyHandle(key, material)
