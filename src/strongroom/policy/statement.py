"""One policy statement: validated against the rules of its kind of policy, then compiled.

Effect (``Allow`` / ``Deny``, case-sensitive), one of Action / NotAction, one of Resource /
NotResource, Principal / NotPrincipal (resource and trust policies only) and Condition; every
element may be a string or a list of strings. Unknown elements are refused. A key policy statement
without Action or Resource is accepted and never matches (as KMS does); IAM refuses one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from strongroom.policy.conditions import Condition, parse_conditions
from strongroom.policy.grammar import (
    Effect,
    MalformedPolicy,
    PolicyKind,
    Reason,
    invalid_resource,
    invalid_vendor,
    require_strings,
)
from strongroom.policy.match import ActionMatcher, ResourceMatcher
from strongroom.policy.principals import PrincipalSpec, parse_principal
from strongroom.policy.variables import split_parts

__all__ = ["Statement", "parse_statement"]

_FIELDS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"}
    | {"Principal", "NotPrincipal", "Condition"}
)
_IAM_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[A-Za-z0-9.*?-]+")


@dataclass(frozen=True, slots=True)
class Statement:
    """A compiled statement. ``actions`` / ``resources`` are None when the element is absent
    (such a statement never matches; trust policies have no Resource and match any)."""

    index: int  # position in the document, from 0
    sid: str | None
    effect: Effect
    actions: ActionMatcher | None
    resources: ResourceMatcher | None
    principal: PrincipalSpec | None  # None: the statement names no principal (identity policy)
    conditions: tuple[Condition, ...]
    any_resource: bool = False  # trust policies: no Resource element, every resource matches

    @property
    def label(self) -> str:
        """How explanations name it: its Sid, or its position."""
        return f'"{self.sid}"' if self.sid else f"#{self.index + 1}"


def parse_statement(raw: object, index: int, kind: PolicyKind, version: str | None) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy(Reason.SYNTAX, f"statement {index + 1} is not an object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise MalformedPolicy(Reason.SYNTAX, f"unknown field {unknown[0]} in statement {index + 1}")
    for first, second in (("Action", "NotAction"), ("Resource", "NotResource")):
        if first in raw and second in raw:
            raise MalformedPolicy(Reason.SYNTAX, f"statement {index + 1} has {first} and {second}")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise MalformedPolicy(
            Reason.SYNTAX, f"statement {index + 1} has Principal and NotPrincipal"
        )
    variables = version == "2012-10-17"
    return Statement(
        index=index,
        sid=_sid(raw["Sid"], kind) if "Sid" in raw else None,
        effect=_effect(raw),
        actions=_actions(raw, kind),
        resources=_resources(raw, kind, variables),
        principal=_principal(raw, kind),
        conditions=parse_conditions(raw["Condition"], kind, variables)
        if "Condition" in raw
        else (),
        any_resource=kind is PolicyKind.TRUST,
    )


def _sid(sid: object, kind: PolicyKind) -> str | None:
    if not isinstance(sid, str):
        raise MalformedPolicy(Reason.SYNTAX, "Sid must be a string")
    if kind is not PolicyKind.RESOURCE and not _IAM_SID.fullmatch(sid):
        raise MalformedPolicy(Reason.SID_CHARACTERS, f"Sid {sid!r} is not alphanumeric")
    return sid or None


def _effect(raw: dict[str, Any]) -> Effect:
    if "Effect" not in raw:
        raise MalformedPolicy(Reason.MISSING_EFFECT)
    effect = raw["Effect"]
    if effect in ("Allow", "Deny"):
        return Effect(effect)
    if isinstance(effect, str) and effect.lower() in ("allow", "deny"):
        raise MalformedPolicy(Reason.LEGACY, f"Effect {effect!r}: write Allow or Deny")
    raise MalformedPolicy(Reason.SYNTAX, f"Effect {effect!r} is neither Allow nor Deny")


def _listed(
    raw: dict[str, Any], element: str, kind: PolicyKind, missing: str
) -> tuple[tuple[str, ...], bool] | None:
    """The strings of ``element`` (``Action``, ``Resource``) or of its ``Not`` form, and whether it
    was the ``Not`` form. Neither, or an empty list: None in a key policy (accepted, never matches),
    refused as ``missing`` in any other."""
    negated = f"Not{element}" in raw
    written = (
        require_strings(raw[f"Not{element}" if negated else element], element)
        if (negated or element in raw)
        else ()
    )
    if not written:
        if kind is PolicyKind.RESOURCE:
            return None
        raise MalformedPolicy(missing)
    return written, negated


def _actions(raw: dict[str, Any], kind: PolicyKind) -> ActionMatcher | None:
    listed = _listed(raw, "Action", kind, Reason.NO_ACTIONS)
    if listed is None:
        return None
    written, negated = listed
    for action in written:
        _check_action(action)
    return ActionMatcher(written, negated=negated)


def _check_action(action: str) -> None:
    if action == "*":
        return
    vendor, colon, rest = action.partition(":")
    if not colon:
        raise MalformedPolicy(Reason.NO_VENDOR, f"action {action!r} has no vendor prefix")
    if ":" in rest:
        raise MalformedPolicy(Reason.ONE_COLON, f"action {action!r}")
    if not _VENDOR.fullmatch(vendor):
        raise MalformedPolicy(invalid_vendor(vendor))


def _resources(raw: dict[str, Any], kind: PolicyKind, variables: bool) -> ResourceMatcher | None:
    if kind is PolicyKind.TRUST:
        if "NotResource" in raw or "Resource" in raw:
            raise MalformedPolicy(Reason.RESOURCE_PROHIBITED)
        return None
    listed = _listed(raw, "Resource", kind, Reason.NO_RESOURCES)
    if listed is None:
        return None
    written, negated = listed
    for resource in written:
        if resource != "*" and (not resource.startswith("arn:") or resource.count(":") < 3):
            raise MalformedPolicy(invalid_resource(resource))
    parts = [split_parts(resource, variables=variables) for resource in written]
    return ResourceMatcher(written, parts, negated=negated)


def _principal(raw: dict[str, Any], kind: PolicyKind) -> PrincipalSpec | None:
    negated = "NotPrincipal" in raw
    if kind is PolicyKind.IDENTITY:
        if negated or "Principal" in raw:
            raise MalformedPolicy(Reason.PRINCIPAL_PROHIBITED)
        return None
    if not negated and "Principal" not in raw:
        raise MalformedPolicy(Reason.MISSING_PRINCIPAL)
    return parse_principal(raw["NotPrincipal" if negated else "Principal"], kind, negated=negated)
