"""Which grants allow a request (kms-spec.md 6.2 step 5 and 9.1): pure rules, no storage.

A grant allows its grantee the operations it lists. Its encryption-context constraints hold only
for operations that take an encryption context (they are ignored for DescribeKey, RetireGrant and
CreateGrant, whose child grants must instead be at least as strict: :func:`within`). In a
constraint the context *keys* are matched case-insensitively and the values case-sensitively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from strongroom.domain.actions import Action
from strongroom.domain.keys import GrantRecord, KeySpec, KeyUsage
from strongroom.domain.principal import Principal

__all__ = [
    "CONTEXT_OPERATIONS",
    "GrantIndex",
    "allowing",
    "depends_on_context",
    "grant_operations_for",
    "grantee_names",
    "within",
]

# The operations whose grant constraints apply: those that carry an encryption context.
CONTEXT_OPERATIONS = frozenset(a.value for a in Action if a.traits.context and a.traits.grantable)

_EVERY_KEY = frozenset({"CreateGrant", "RetireGrant", "DescribeKey"})
_SYMMETRIC = CONTEXT_OPERATIONS | _EVERY_KEY
_RSA_ENCRYPTION = _EVERY_KEY | {
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GetPublicKey",
}
_BY_USAGE = {
    KeyUsage.GENERATE_VERIFY_MAC: _EVERY_KEY | {"GenerateMac", "VerifyMac"},
    KeyUsage.SIGN_VERIFY: _EVERY_KEY | {"Sign", "Verify", "GetPublicKey"},
    KeyUsage.KEY_AGREEMENT: _EVERY_KEY | {"DeriveSharedSecret", "GetPublicKey"},
    KeyUsage.ENCAPSULATE_DECAPSULATE: _EVERY_KEY | {"Encapsulate", "Decapsulate", "GetPublicKey"},
}

Context = Mapping[str, str]


def grant_operations_for(spec: KeySpec, usage: KeyUsage) -> frozenset[str]:
    """The grant operations a key of this spec and usage supports (AWS's "grant operations"
    table: data keys and key pairs come only from symmetric encryption keys)."""
    if usage is KeyUsage.ENCRYPT_DECRYPT:
        return _SYMMETRIC if spec is KeySpec.SYMMETRIC_DEFAULT else _RSA_ENCRYPTION
    return _BY_USAGE[usage]


def grantee_names(principal: Principal) -> tuple[str, ...]:
    """The grantee principals that name this caller: its ARN (user, assumed-role session or
    account root) and, for a role session, the role's ARN."""
    if principal.role_arn is not None:
        return (principal.arn, principal.role_arn)
    return (principal.arn,)


class GrantIndex:
    """The grants on one key, by grantee principal (what authorization reads per request)."""

    __slots__ = ("_by_grantee", "count")

    def __init__(self, grants: Iterable[GrantRecord]) -> None:
        self._by_grantee: dict[str, list[GrantRecord]] = {}
        self.count = 0
        for grant in grants:
            self._by_grantee.setdefault(grant.grantee_principal, []).append(grant)
            self.count += 1

    def for_principal(self, principal: Principal) -> list[GrantRecord]:
        found: list[GrantRecord] = []
        for name in grantee_names(principal):
            found.extend(self._by_grantee.get(name, ()))
        return found


def _folded(context: Context) -> dict[str, str]:
    return {name.lower(): value for name, value in context.items()}


def constraints_hold(grant: GrantRecord, context: Context | None) -> bool:
    """The request's encryption context satisfies the grant's constraints."""
    return _holds(grant, _folded(context or {}))


def _holds(grant: GrantRecord, request: dict[str, str]) -> bool:
    if grant.context_equals is not None and request != _folded(grant.context_equals):
        return False
    if grant.context_subset is not None:
        return all(request.get(k) == v for k, v in _folded(grant.context_subset).items())
    return True


def allowing(
    grants: Sequence[GrantRecord], principal: Principal, operation: str, context: Context | None
) -> GrantRecord | None:
    """The first grant among ``grants`` that allows ``principal`` to do ``operation`` (the action
    without ``kms:``) with encryption context ``context``; one is enough."""
    names = grantee_names(principal)
    constrained = operation in CONTEXT_OPERATIONS
    request = _folded(context or {}) if constrained else {}
    for grant in grants:
        if (
            operation in grant.operations
            and grant.grantee_principal in names
            and (not constrained or _holds(grant, request))
        ):
            return grant
    return None


def depends_on_context(grant: GrantRecord, operation: str) -> bool:
    """Whether the grant's answer for ``operation`` depends on the request's encryption context
    (else it can be remembered like a policy decision without conditions)."""
    constrained = grant.context_equals is not None or grant.context_subset is not None
    return constrained and operation in CONTEXT_OPERATIONS


def within(
    operations: Iterable[str],
    equals: Context | None,
    subset: Context | None,
    parent: GrantRecord,
) -> bool:
    """A child grant created through ``parent``'s CreateGrant permission is no broader: a subset
    of its operations, and constraints at least as strict (Subset may grow or become Equals;
    Equals stays the same)."""
    if not set(operations) <= set(parent.operations):
        return False
    if parent.context_equals is not None:
        return (
            subset is None
            and equals is not None
            and _folded(equals) == _folded(parent.context_equals)
        )
    if parent.context_subset is not None:
        child = _folded(equals if equals is not None else subset or {})
        return all(child.get(k) == v for k, v in _folded(parent.context_subset).items())
    return True
