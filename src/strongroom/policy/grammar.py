"""The vocabulary of the IAM policy language: kinds of policy, effects, and the refusals.

Every module of the engine raises :class:`MalformedPolicy` with one of the reasons below. The
``reason`` is the text AWS sends in ``MalformedPolicyDocument(Exception)`` for the same mistake
(collected from AWS's replies: IAM for identity and trust policies, KMS for key policies), so the
IAM and KMS operations can put it on the wire unchanged; ``detail`` says precisely what was wrong,
for logs and ``strongroom policy explain`` (AWS's texts are often vague on purpose).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TypeAlias

__all__ = [
    "ConditionValue",
    "Effect",
    "MalformedPolicy",
    "PolicyKind",
    "Reason",
    "invalid_principal",
    "invalid_resource",
    "invalid_vendor",
]

ConditionValue: TypeAlias = str | bool | int | float | Sequence[str]
"""A request-context value; multi-valued keys (``kms:EncryptionContextKeys``) are sequences."""


class PolicyKind(StrEnum):
    """Where a document is attached; each kind has its own rules about Principal and Resource."""

    IDENTITY = "identity"  # users, groups, roles: no Principal, Resource required
    RESOURCE = "resource"  # key policies: Principal required, Resource "*" means the key itself
    TRUST = "trust"  # role trust policies: Principal required, no Resource


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class Reason:
    """AWS's texts for refused documents (one place, so tests and docs can name them)."""

    SYNTAX = "Syntax errors in policy."
    LEGACY = "The policy failed legacy parsing"
    PRINCIPAL_PROHIBITED = "Policy document should not specify a principal."
    RESOURCE_PROHIBITED = "Has prohibited field Resource"
    MISSING_EFFECT = "Missing required field Effect"
    MISSING_PRINCIPAL = "Missing required field Principal"
    NO_ACTIONS = "Policy statement must contain actions."
    NO_RESOURCES = "Policy statement must contain resources."
    DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."
    SID_CHARACTERS = (
        "Statement IDs (SID) must be alpha-numeric. "
        "Check that your input satisfies the regular expression [0-9A-Za-z]*"
    )
    NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    ONE_COLON = "Actions/Condition can contain only one colon."
    KEY_POLICY_PRINCIPAL = "Policy contains a statement with one or more invalid principals."
    FOR_ALL_VALUES_CONTEXT = (
        "OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued "
        "condition key matches requests without the specified encryption context or with an "
        "unspecified encryption context. To fix, remove ForAllValues."
    )
    FOR_ALL_VALUES_TAG = (
        "OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued "
        "condition key matches requests without the specified tag or with an unspecified "
        "tag. To fix, remove ForAllValues."
    )


def invalid_vendor(vendor: str) -> str:
    return f"Vendor {vendor} is not valid"


def invalid_resource(resource: str) -> str:
    return f'Resource {resource} must be in ARN format or "*".'


def invalid_principal(kind: PolicyKind, principal_type: str, value: str) -> str:
    """KMS and IAM word this one differently."""
    if kind is PolicyKind.RESOURCE:
        return Reason.KEY_POLICY_PRINCIPAL
    return f'Invalid principal in policy: "{principal_type}":"{value}"'


class MalformedPolicy(Exception):
    """A document the engine refuses to store: ``reason`` is AWS's text, ``detail`` is ours."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason

    def __repr__(self) -> str:
        return f"MalformedPolicy({self.reason!r}, detail={self.detail!r})"


def require_strings(value: object, what: str) -> tuple[str, ...]:
    """A policy element that may be a string or a list of strings, as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise MalformedPolicy(Reason.SYNTAX, f"{what} must be a string or a list of strings")


def is_multi(value: ConditionValue) -> bool:
    return not isinstance(value, str | bool | int | float)


def as_values(value: ConditionValue | None) -> Sequence[str | bool | int | float]:
    """A context value as a sequence; absent and empty are the same (no values)."""
    if value is None:
        return ()
    if isinstance(value, str | bool | int | float):
        return (value,)
    return value
