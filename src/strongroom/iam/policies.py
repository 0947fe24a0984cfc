"""The identity-based policies that apply to a principal: a user's own (inline and attached) and
its groups'; an assumed role's; none for an account root (which IAM policies never restrict)."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.domain.identity import OwnerKind
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.storage.identity import IdentityStorage

__all__ = ["NamedPolicy", "identity_policies", "role_name_of"]


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """A policy document's text and how an explanation names it."""

    name: str  # e.g. "user/alice inline policy 'read'" or the managed policy's ARN
    text: str


def role_name_of(role_arn: str) -> str:
    """``arn:aws:iam::A:role/path/name`` -> ``name``."""
    return role_arn.rsplit("/", 1)[-1]


def _owned(store: IdentityStorage, account: str, kind: OwnerKind, owner: str) -> list[NamedPolicy]:
    found = [
        NamedPolicy(f"{kind.value}/{owner} inline policy '{p.name}'", p.document)
        for p in store.list_inline_policies(account, kind, owner)
    ]
    found += [
        NamedPolicy(p.arn, p.document) for p in store.list_attached_policies(account, kind, owner)
    ]
    return found


def identity_policies(store: IdentityStorage, principal: Principal) -> list[NamedPolicy]:
    if principal.type is PrincipalType.USER and principal.name is not None:
        found = _owned(store, principal.account, OwnerKind.USER, principal.name)
        for group in store.list_groups_for_user(principal.account, principal.name):
            found += _owned(store, principal.account, OwnerKind.GROUP, group.name)
        return found
    if principal.type is PrincipalType.ASSUMED_ROLE and principal.role_arn is not None:
        return _owned(store, principal.account, OwnerKind.ROLE, role_name_of(principal.role_arn))
    return []
