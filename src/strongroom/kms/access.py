"""Access decisions for KMS requests: the key policy, the caller's identity policies, then the
grants (kms-spec.md 6.2), with a memo of the decisions that depend on nothing but the policies,
the principal, the action and the key.

The memo and the grant cache are dropped by the repository whenever anything changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict, Unpack

from strongroom.clock import Clock
from strongroom.domain import record
from strongroom.domain.caller import Caller
from strongroom.domain.keys import GrantRecord, KeyRecord
from strongroom.domain.principal import Principal
from strongroom.errors import AccessDeniedException
from strongroom.iam.policies import NamedPolicy
from strongroom.keystore.base import RootSecrets
from strongroom.kms.condition_keys import request_keys
from strongroom.kms.grant_cache import GrantCache
from strongroom.kms.grant_match import GrantIndex, depends_on_context
from strongroom.kms.repository import KeyRepository
from strongroom.policy.authorizer import allow_by_grants, decide_account_action, decide_key_access
from strongroom.policy.decision import Decision, Denial
from strongroom.policy.document import MalformedPolicy, PolicyDocument, PolicyKind, parse_policy
from strongroom.policy.request import RequestContext

__all__ = ["AccessDecisions", "AccountRequest", "IdentityPolicies", "KeyRequest", "is_static"]

log = logging.getLogger(__name__)

IdentityPolicies = Callable[[Principal], Sequence[NamedPolicy]]
_MAX_DECISIONS = 10_000


def _no_identity_policies(principal: Principal) -> Sequence[NamedPolicy]:
    return ()


class KeyRequest(TypedDict, total=False):
    """What a request on a key tells its decision beyond the action, the key and the parameters."""

    request_alias: str | None  # the alias the request named the key by (kms:RequestAlias)


class AccountRequest(TypedDict, total=False):
    """What a request governed by identity policies alone tells its decision beyond the action
    and the parameters."""

    resource: str  # "*" unless it names one (an alias's ARN; a grant's key for RetireGrant)
    creating: bool  # CreateKey: the new key's condition keys (kms:KeySpec...) are set


def is_static(document: PolicyDocument) -> bool:
    """True when no statement reads the request context: no Condition, no policy variable."""
    return all(
        not statement.conditions
        and (statement.resources is None or not statement.resources.has_variables)
        for statement in document.statements
    )


class AccessDecisions:
    """Who may do what to which key, for one worker process."""

    def __init__(
        self,
        keys: KeyRepository,
        keystore: RootSecrets,
        clock: Clock,
        identity_policies: IdentityPolicies | None = None,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self.identity_policies = identity_policies or _no_identity_policies
        self._decisions: dict[tuple[str, ...], Decision] = {}
        # What the call's record keeps of each decision, by action, resource and decision (kept
        # with it, so that its id is not reused while the entry lives).
        self._recorded: dict[tuple[str, str, int], tuple[Decision, record.Decided]] = {}
        self._grant_cache = GrantCache(keys, keystore)
        keys.on_change(self._forget)

    def _forget(self) -> None:
        self._decisions.clear()
        self._recorded.clear()
        self._grant_cache.clear()

    def enforce(self, caller: Caller, action: str, resource: str, decision: Decision) -> None:
        """:meth:`_enforce` for a decision an operation worked out itself (CreateGrant's, which
        may narrow the policies' allow to what the caller's grant allows)."""
        self._enforce(caller, action, resource, decision)

    def _enforce(self, caller: Caller, action: str, resource: str, decision: Decision) -> None:
        """Put the decision, with what decided it, in the call's record; AccessDeniedException
        with AWS's message unless it allows. A memoised decision is recorded by the same
        :class:`~strongroom.domain.record.Decided` each time (the request log encodes it once)."""
        found = record.current()
        if found is not None:
            memo = (action, resource, id(decision))
            kept = self._recorded.get(memo)
            if kept is None or kept[0] is not decision:
                if len(self._recorded) > _MAX_DECISIONS:
                    self._recorded.clear()
                decided = record.Decided(action, resource, decision.allowed, decision.statements)
                kept = self._recorded[memo] = (decision, decided)
            found.decided(kept[1])
        if not decision.allowed:
            raise AccessDeniedException(decision.message(caller.principal_arn, action, resource))

    # -- grants ----------------------------------------------------------------------------------
    def grants(self, key: KeyRecord) -> GrantIndex:
        """The grants on ``key``, read once until something changes."""
        return self._grant_cache.index(key)

    def token_grant(self, region: str, token: str) -> GrantRecord:
        """The grant a grant token names (InvalidGrantTokenException if none)."""
        return self._grant_cache.token_grant(region, token)

    # -- decisions -------------------------------------------------------------------------------
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
                return self._keys.read.get_tags(account, region, key_id)

            def aliases() -> list[str]:
                found = self._keys.read.list_aliases(account, region, key_id, None, 10_000)
                return [alias.name for alias in found]

        keys = request_keys(
            caller,
            params,
            key=key,
            request_alias=request_alias,
            creating=creating,
            tags=tags,
            aliases=aliases,
            now=self._clock.now(),
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
        policy: str | None = None,
        **request: Unpack[KeyRequest],
    ) -> Decision:
        """The decision for ``action`` on ``key`` (under ``policy`` instead of the key's own, for
        the lockout check): the policies', then, if they leave it to the implicit deny, the
        grants'. Grant tokens in the parameters are checked first (InvalidGrantTokenException).
        """
        tokens = self._grant_cache.token_grants(key.region, params)
        memo = self._memo(caller, action, key, policy)
        by_grant = (*memo, "\0grant")  # no policy name contains NUL
        if not tokens and by_grant in self._decisions:
            return self._decisions[by_grant]
        alias = request.get("request_alias")
        decision, static = self._decide_policies(caller, action, key, params, alias, memo)
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

    def _remember(self, memo: tuple[str, ...], decision: Decision) -> None:
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
    ) -> tuple[Decision, bool]:
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
            return Decision.deny(Denial.NO_RESOURCE_ALLOW), False
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
        **request: Unpack[KeyRequest],
    ) -> None:
        """Raise AccessDeniedException unless ``caller`` may do ``action`` on ``key``."""
        decision = self.decide_key(caller, action, key, params, **request)
        self._enforce(caller, action, key.arn, decision)

    def decide_account(
        self,
        caller: Caller,
        action: str,
        params: Mapping[str, Any],
        **request: Unpack[AccountRequest],
    ) -> Decision:
        """The decision for an action governed by identity policies alone (CreateKey, ListKeys,
        alias ARNs...)."""
        resource = request.get("resource", "*")
        ctx = self._context(
            caller, action, resource, params, None, creating=request.get("creating", False)
        )
        return decide_account_action(ctx, self._identity(caller.principal))

    def authorize_account(
        self,
        caller: Caller,
        action: str,
        params: Mapping[str, Any],
        **request: Unpack[AccountRequest],
    ) -> None:
        """Raise AccessDeniedException unless :meth:`decide_account` allows."""
        decision = self.decide_account(caller, action, params, **request)
        self._enforce(caller, action, request.get("resource", "*"), decision)
