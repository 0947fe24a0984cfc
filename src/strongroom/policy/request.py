"""The request as policies see it: action, resource, principal and condition keys.

Condition keys are looked up by lower-cased name, first in ``keys`` (what the operation supplies:
``kms:EncryptionContext:*``, ``aws:SourceIp``, ``aws:CurrentTime`` ...), then in the keys that
follow from the principal alone (``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:userid``, ``aws:username``, ``aws:PrincipalTag/*``), so a condition or
a variable on those works even when the caller did not list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.policy.grammar import ConditionValue

__all__ = ["RequestContext", "principal_keys"]


def _no_keys() -> Mapping[str, ConditionValue]:
    return MappingProxyType({})


@dataclass(frozen=True)
class RequestContext:
    action: str  # "kms:Decrypt": service prefix and action
    resource: str  # an ARN, or "*" for account-level actions
    principal: Principal
    keys: Mapping[str, ConditionValue] = field(default_factory=_no_keys)  # lower-cased names
    action_lower: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action_lower", self.action.lower())

    @cached_property
    def _from_principal(self) -> Mapping[str, ConditionValue]:
        return principal_keys(self.principal)

    def lookup(self, key: str) -> ConditionValue | None:
        """The value of a context key (lower-cased name), or None when the request has none."""
        value = self.keys.get(key)
        return self._from_principal.get(key) if value is None else value


def principal_keys(principal: Principal) -> dict[str, ConditionValue]:
    """The global condition keys that depend on the principal only (spec 7.2)."""
    keys: dict[str, ConditionValue] = {
        "aws:principalarn": principal.role_arn or principal.arn,
        "aws:principalaccount": principal.account,
        "aws:principaltype": principal.type.value,
        "aws:userid": principal.user_id,
    }
    if principal.type is PrincipalType.USER and principal.name is not None:
        keys["aws:username"] = principal.name
    for tag, value in principal.tags.items():
        keys[f"aws:principaltag/{tag.lower()}"] = value
    return keys
