"""The KMS service object: storage, key store and clock, plus the in-memory caches of hot reads.

Caches are dropped whenever storage's change counter moves (a commit by this or any other worker
process), so a DisableKey answered by one worker is seen by the next request on any worker.
Unwrapped material lives only in memory, never on disk. Grants are read once per key (and per
change) into a :class:`GrantIndex`; a key without grants costs one empty index.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from strongroom.clock import Clock
from strongroom.crypto.asymmetric import PrivateKey, load_private_key
from strongroom.crypto.keypool import KeyPairPool
from strongroom.domain.caller import Caller
from strongroom.domain.keys import AliasRecord, GrantRecord, KeyRecord, KeyState
from strongroom.domain.principal import Principal
from strongroom.errors import AccessDeniedException, KMSInternalException
from strongroom.iam.policies import NamedPolicy
from strongroom.keystore.base import KeyStore
from strongroom.kms.condition_keys import request_keys
from strongroom.kms.grant_cache import GrantCache
from strongroom.kms.grant_match import GrantIndex, depends_on_context
from strongroom.kms.states import current_material_id
from strongroom.policy.authorizer import (
    Denial,
    KmsDecision,
    allow_by_grants,
    decide_account_action,
    decide_key_access,
)
from strongroom.policy.document import MalformedPolicy, PolicyDocument, PolicyKind, parse_policy
from strongroom.policy.evaluate import RequestContext
from strongroom.storage import Database

__all__ = ["CLOCK_OFFSET_META", "KmsService"]

log = logging.getLogger(__name__)

CLOCK_OFFSET_META = "dev.clock_offset"

_Ident = tuple[str, str, str]
IdentityPolicies = Callable[[Principal], Sequence[NamedPolicy]]


_MAX_DECISIONS = 10_000

DAY = 86_400
DEFAULT_WINDOW_DAYS = 30  # ScheduleKeyDeletion's PendingWindowInDays when omitted
_SWEEP_PASSES = 3  # a replica's deletion can make its primary due: at most two passes needed


def _no_identity_policies(principal: Principal) -> Sequence[NamedPolicy]:
    return ()


def is_static(document: PolicyDocument) -> bool:
    """True when no statement reads the request context: no Condition, no policy variable."""
    return all(
        not statement.conditions
        and (statement.resources is None or not statement.resources.has_variables)
        for statement in document.statements
    )


class KmsService:
    """Everything an operation needs besides its input. One per worker process."""

    def __init__(
        self,
        storage: Database,
        keystore: KeyStore,
        clock: Clock,
        *,
        dev: bool = False,
        identity_policies: IdentityPolicies = _no_identity_policies,
        key_pool_depth: int = 4,
    ) -> None:
        self.storage = storage
        self.identity_policies = identity_policies
        self.keystore = keystore
        self.clock = clock
        self.dev = dev
        self._seen: int | None = None
        self._keys: dict[_Ident, KeyRecord | None] = {}
        self._owners: dict[tuple[str, str], str | None] = {}  # (region, key id) -> account
        self._materials: dict[_Ident, dict[str, bytes]] = {}
        self._private_keys: dict[tuple[_Ident, str], PrivateKey] = {}
        self._aliases: dict[_Ident, AliasRecord | None] = {}
        self._decisions: dict[tuple[str, ...], KmsDecision] = {}
        self._grant_cache = GrantCache(storage, keystore)
        # Fresh key pairs handed to callers (GenerateDataKeyPair, import wrapping keys).
        self.key_pairs = KeyPairPool(depth=key_pool_depth)

    # -- cache coherence ------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Called once per request: drop the caches if anything was committed since last time.

        Returns True when something changed (other caches keyed on storage should drop too).
        """
        counter = self.storage.change_counter()
        if counter == self._seen:
            return False
        self._seen = counter
        self.clear_caches()
        if self.dev:
            offset = self.storage.get_meta(CLOCK_OFFSET_META)
            self.clock.set_offset(float(offset) if offset else 0.0)
        return True

    def clear_caches(self) -> None:
        self._decisions.clear()
        self._keys.clear()
        self._owners.clear()
        self._materials.clear()
        self._private_keys.clear()
        self._aliases.clear()
        self._grant_cache.clear()

    def changed(self) -> None:
        """After a write by this process: forget what we cached."""
        self.clear_caches()

    # -- keys -------------------------------------------------------------------------------------
    def get_key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        ident = (account, region, key_id)
        try:
            key = self._keys[ident]
        except KeyError:
            key = self.storage.get_key(account, region, key_id)
            self._keys[ident] = key
        if key is not None and self._deletion_due(key):
            if self._destroy(key):
                return None
            key = self._keys[ident] = self.storage.get_key(account, region, key_id)  # cancelled
        return key

    def find_key(self, region: str, key_id: str) -> KeyRecord | None:
        """A key of any account, by id (what a ciphertext names); None if none or destroyed.
        Which account holds the id is remembered until storage changes."""
        ident = (region, key_id)
        try:
            account = self._owners[ident]
        except KeyError:
            found = self.storage.find_key(region, key_id)
            account = self._owners[ident] = None if found is None else found.account
            if found is not None:
                self._keys.setdefault((found.account, region, key_id), found)
        return None if account is None else self.get_key(account, region, key_id)

    def _deletion_due(self, key: KeyRecord) -> bool:
        return (
            key.state is KeyState.PENDING_DELETION
            and key.deletion_date is not None
            and key.deletion_date <= self.clock.now()
        )

    def _destroy(self, key: KeyRecord) -> bool:
        """Delete ``key`` if it is still due (a CancelKeyDeletion may have landed since it was
        read, or another worker deleted it first). Returns whether this call deleted it."""
        if not self.storage.delete_due_key(key.account, key.region, key.key_id, self.clock.now()):
            self.changed()
            return False
        self.changed()
        log.info("deleted key %s: its deletion window has passed", key.arn)
        if key.multi_region:
            self._start_primary_window(key)
        return True

    def _start_primary_window(self, deleted: KeyRecord) -> None:
        """After a multi-Region key's member is deleted: when all that remains is a primary
        waiting in PendingReplicaDeletion, its last replica is gone, so it enters
        PendingDeletion, its window starting when that replica was due (kms-spec.md 12). The
        date derives from stored values only, so workers that race here write the same record."""
        members = self.storage.key_members(deleted.account, deleted.key_id)
        if len(members) != 1 or members[0].state is not KeyState.PENDING_REPLICA_DELETION:
            return
        primary = members[0]
        began = deleted.deletion_date if deleted.deletion_date is not None else self.clock.now()
        days = primary.pending_window_days or DEFAULT_WINDOW_DAYS
        waiting = dataclasses.replace(
            primary, state=KeyState.PENDING_DELETION, deletion_date=began + days * DAY
        )
        if not self.storage.update_key_in_state(waiting, KeyState.PENDING_REPLICA_DELETION):
            return  # cancelled meanwhile, or another worker did this
        self.changed()
        log.info("key %s: its last replica is deleted; its deletion window begins", primary.arn)

    def sweep_deletions(self) -> int:
        """Delete every key whose waiting period is over. Returns how many were deleted.

        Deleting a multi-Region key's last replica can start its primary's window, which may
        already be over too (the dev clock, or a server that was down): a second pass takes it.
        """
        deleted = 0
        for _ in range(_SWEEP_PASSES):
            due = self.storage.keys_due_for_deletion(self.clock.now())
            if not due:
                break
            deleted += sum(self._destroy(key) for key in due)
        return deleted

    def material(self, key: KeyRecord, material_id: str) -> bytes | None:
        """The unwrapped material version ``material_id`` of ``key``, or None if it has none."""
        ident = (key.account, key.region, key.key_id)
        versions = self._materials.get(ident)
        if versions is None or material_id not in versions:
            versions = {
                m.material_id: self.keystore.unwrap_material(m.wrapped, key.arn, m.material_id)
                for m in self.storage.get_materials(key.account, key.region, key.key_id)
                if m.wrapped is not None  # imported material that was deleted or expired
            }
            self._materials[ident] = versions
        return versions.get(material_id)

    def current_material(self, key: KeyRecord) -> tuple[str, bytes]:
        """The id and unwrapped bytes of the key's current material version."""
        material_id = current_material_id(key)
        material = self.material(key, material_id)
        if material is None:
            raise KMSInternalException("The key's current material is missing.")
        return material_id, material

    def private_key(self, key: KeyRecord) -> PrivateKey:
        """The current private key of an asymmetric key, parsed once until storage changes."""
        material_id, material = self.current_material(key)
        ident = ((key.account, key.region, key.key_id), material_id)
        loaded = self._private_keys.get(ident)
        if loaded is None:
            loaded = self._private_keys[ident] = load_private_key(material)
        return loaded

    # -- aliases -----------------------------------------------------------------------------------
    def get_alias(self, account: str, region: str, name: str) -> AliasRecord | None:
        ident = (account, region, name)
        try:
            return self._aliases[ident]
        except KeyError:
            alias = self.storage.get_alias(account, region, name)
            self._aliases[ident] = alias
            return alias

    # -- grants ----------------------------------------------------------------------------------
    def grants(self, key: KeyRecord) -> GrantIndex:
        """The grants on ``key``, read once until storage changes."""
        return self._grant_cache.index(key)

    def token_grant(self, region: str, token: str) -> GrantRecord:
        """The grant a grant token names (InvalidGrantTokenException if none)."""
        return self._grant_cache.token_grant(region, token)

    # -- authorization ---------------------------------------------------------------------------
    def _identity(self, principal: Principal) -> list[tuple[str, PolicyDocument]]:
        if principal.is_root:
            return []
        found = []
        for policy in self.identity_policies(principal):
            try:
                found.append((policy.name, parse_policy(policy.text, PolicyKind.IDENTITY)))
            except MalformedPolicy:
                log.warning("ignoring an identity policy that no longer parses: %s", policy.name)
        return found

    def _context(
        self,
        caller: Caller,
        action: str,
        resource: str,
        params: Mapping[str, Any],
        key: KeyRecord | None,
        *,
        request_alias: str | None = None,
        creating: bool = False,
    ) -> RequestContext:
        tags = aliases = None
        if key is not None:
            account, region, key_id = key.account, key.region, key.key_id

            def tags() -> dict[str, str]:
                return self.storage.get_tags(account, region, key_id)

            def aliases() -> list[str]:
                found = self.storage.list_aliases(account, region, key_id, None, 10_000)
                return [alias.name for alias in found]

        keys = request_keys(
            caller,
            params,
            key=key,
            request_alias=request_alias,
            creating=creating,
            tags=tags,
            aliases=aliases,
            now=self.clock.now(),
        )
        return RequestContext(
            action=action, resource=resource, principal=caller.principal, keys=keys
        )

    def decide_key(
        self,
        caller: Caller,
        action: str,
        key: KeyRecord,
        params: Mapping[str, Any],
        *,
        request_alias: str | None = None,
        policy: str | None = None,
    ) -> KmsDecision:
        """The decision for ``action`` on ``key`` (under ``policy`` instead of the key's own, for
        the lockout check): the policies', then, if they leave it to the implicit deny, the
        grants'. Grant tokens in the parameters are checked first (InvalidGrantTokenException).
        """
        tokens = self._grant_cache.token_grants(key.region, params)
        memo = self._memo(caller, action, key, policy)
        by_grant = (*memo, "\0grant")  # no policy name contains NUL
        if not tokens and by_grant in self._decisions:
            return self._decisions[by_grant]
        decision, static = self._decide_policies(caller, action, key, params, request_alias, memo)
        if decision.allowed or policy is not None:
            return decision
        operation = action.removeprefix("kms:")
        grant = self._grant_cache.allowing(caller.principal, operation, key, params, tokens)
        if grant is None:
            return decision
        decision = allow_by_grants(decision, grant.grant_id, grant.name)
        if static and not tokens and not depends_on_context(grant, operation):
            self._remember(by_grant, decision)
        return decision

    def _memo(
        self, caller: Caller, action: str, key: KeyRecord, policy: str | None
    ) -> tuple[str, ...]:
        """What a remembered decision is keyed on: the policies, the principal, action, key."""
        principal = caller.principal
        text = policy or key.policy
        memo = (text, action, key.arn, principal.arn, principal.role_arn or "")
        if principal.is_root:
            return memo
        return memo + tuple(p.name for p in self.identity_policies(principal))

    def _remember(self, memo: tuple[str, ...], decision: KmsDecision) -> None:
        if len(self._decisions) > _MAX_DECISIONS:
            self._decisions.clear()
        self._decisions[memo] = decision

    def _decide_policies(  # noqa: PLR0917 - decide_key's arguments, passed through
        self,
        caller: Caller,
        action: str,
        key: KeyRecord,
        params: Mapping[str, Any],
        request_alias: str | None,
        memo: tuple[str, ...],
    ) -> tuple[KmsDecision, bool]:
        """The key policy (``memo[0]``) and identity policies alone, and whether the decision is
        static.

        When no policy involved reads the request context (no Condition, no policy variable),
        the decision depends only on the policies, the principal, the action and the key, so it
        is remembered until storage changes.
        """
        decision = self._decisions.get(memo)
        if decision is not None:
            return decision, True
        try:
            document = parse_policy(memo[0], PolicyKind.RESOURCE)
        except MalformedPolicy:
            log.warning("key %s has a key policy that does not parse; denying", key.arn)
            return KmsDecision(False, Denial.NO_RESOURCE_ALLOW, ()), False
        identity = self._identity(caller.principal)
        ctx = self._context(caller, action, key.arn, params, key, request_alias=request_alias)
        decision = decide_key_access(ctx, key.account, document, identity)
        static = is_static(document) and all(is_static(doc) for _, doc in identity)
        if static:
            self._remember(memo, decision)
        return decision, static

    def authorize_key(
        self,
        caller: Caller,
        action: str,
        key: KeyRecord,
        params: Mapping[str, Any],
        *,
        request_alias: str | None = None,
    ) -> None:
        """Raise AccessDeniedException unless ``caller`` may do ``action`` on ``key``."""
        decision = self.decide_key(caller, action, key, params, request_alias=request_alias)
        if not decision.allowed:
            raise AccessDeniedException(decision.message(caller.principal_arn, action, key.arn))

    def decide_account(
        self,
        caller: Caller,
        action: str,
        params: Mapping[str, Any],
        *,
        resource: str = "*",
        creating: bool = False,
    ) -> KmsDecision:
        ctx = self._context(caller, action, resource, params, None, creating=creating)
        return decide_account_action(ctx, self._identity(caller.principal))

    def authorize_account(
        self,
        caller: Caller,
        action: str,
        params: Mapping[str, Any],
        *,
        resource: str = "*",
        creating: bool = False,
    ) -> None:
        """Actions governed by identity policies alone (CreateKey, ListKeys, alias ARNs...)."""
        decision = self.decide_account(caller, action, params, resource=resource, creating=creating)
        if not decision.allowed:
            raise AccessDeniedException(decision.message(caller.principal_arn, action, resource))
