"""The Condition block: parsing every operator of spec 8.3 and testing it against a request.

``{"<Operator>": {"<key>": value-or-values, ...}, ...}`` -- every operator and every key must hold
(AND); the values of one key are alternatives (OR) for positive operators, and for negated ones
(``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike`` ...) the request value must match none of
them. A key absent from the request fails positive operators and passes negated ones;
``...IfExists`` passes when it is absent; ``Null`` tests presence. ``ForAnyValue:`` and
``ForAllValues:`` test each value of a multi-valued key (absent or empty: false and true).
An operator the engine does not know is refused, never skipped.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strongroom.policy.grammar import MalformedPolicy, PolicyKind, Reason, as_values
from strongroom.policy.match import compile_glob, glob_regex
from strongroom.policy.operators import ARN, DATE, OPERATORS, Operator, Scalar, as_text
from strongroom.policy.variables import (
    KeySource,
    Part,
    has_variables,
    render_pieces,
    render_text,
    split_parts,
)

__all__ = ["Condition", "parse_conditions"]

_ANY, _ALL = "ForAnyValue:", "ForAllValues:"


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator, compiled; ``test`` answers for a request."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased
    values: tuple[Scalar, ...]  # as written
    test: Callable[[KeySource], bool]


def parse_conditions(block: object, kind: PolicyKind, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise MalformedPolicy(Reason.SYNTAX, "Condition must be an object")
    found: list[Condition] = []
    for written, keys in block.items():
        qualifier, base, if_exists = _split_operator(written)
        if not isinstance(keys, dict):
            raise MalformedPolicy(Reason.SYNTAX, f"Condition operator {written} needs an object")
        for key, raw in keys.items():
            key_lower = _check_key(key, qualifier, kind)
            values = _scalars(raw, written, key)
            test = _compile(_Spec(base, qualifier, if_exists, variables), key_lower, values)
            found.append(Condition(written, key_lower, values, test))
    return tuple(found)


def _split_operator(written: str) -> tuple[str | None, str, bool]:
    qualifier = next((q for q in (_ANY, _ALL) if written.startswith(q)), None)
    base = written[len(qualifier) :] if qualifier else written
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists") if if_exists else base
    if base == "Null" and not (qualifier or if_exists):
        return None, base, False
    if base not in OPERATORS:
        raise MalformedPolicy(Reason.SYNTAX, f"unknown condition operator {written!r}")
    return qualifier, base, if_exists


def _check_key(key: str, qualifier: str | None, kind: PolicyKind) -> str:
    if ":" not in key:
        raise MalformedPolicy(Reason.NO_VENDOR, f"condition key {key!r} has no vendor prefix")
    lower = key.lower()
    if kind is PolicyKind.RESOURCE and qualifier == _ALL:
        if lower.startswith("kms:encryptioncontext:"):
            raise MalformedPolicy(Reason.FOR_ALL_VALUES_CONTEXT)
        if lower.startswith("aws:requesttag/"):
            raise MalformedPolicy(Reason.FOR_ALL_VALUES_TAG)
    return lower


def _scalars(raw: object, operator: str, key: str) -> tuple[Scalar, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(item, str | bool | int | float) for item in items):
        raise MalformedPolicy(Reason.SYNTAX, f"{operator} {key}: values must be scalars")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class _Spec:
    base: str  # the operator without qualifier and IfExists
    qualifier: str | None
    if_exists: bool
    variables: bool  # the document allows policy variables


def _compile(spec: _Spec, key: str, values: tuple[Scalar, ...]) -> Callable[[KeySource], bool]:
    if spec.base == "Null":
        return _null_test(key, values)
    op = OPERATORS[spec.base]
    qualifier = spec.qualifier
    match = _value_matcher(op, values, spec.variables)
    negated = op.negated
    coerce = op.family.coerce
    text_family = op.family.coerce is as_text

    def per_value(raw: Scalar, source: KeySource) -> bool:
        value = raw if text_family and raw.__class__ is str else coerce(raw)
        if value is None:
            return False  # cannot be compared: matches nothing, negated or not
        result = match(value, source)
        return result is False if negated else result is True

    absent = spec.if_exists or qualifier == _ALL or (qualifier is None and negated)
    every = qualifier == _ALL or (qualifier is None and negated)

    def test(source: KeySource) -> bool:
        raw = source.lookup(key)
        if raw is None:
            return absent
        if isinstance(raw, str | bool | int | float):
            return per_value(raw, source)
        if not raw:
            return absent
        if every:
            return all(per_value(item, source) for item in raw)
        return any(per_value(item, source) for item in raw)

    return test


def _null_test(key: str, values: tuple[Scalar, ...]) -> Callable[[KeySource], bool]:
    wanted: set[bool] = set()
    for value in values:
        text = str(value).lower()
        if text not in ("true", "false"):
            raise MalformedPolicy(Reason.SYNTAX, f"Null takes true or false, not {value!r}")
        wanted.add(text == "true")  # true: the key must be absent

    def test(source: KeySource) -> bool:
        return (not as_values(source.lookup(key))) in wanted

    return test


Matcher = Callable[[Any, KeySource], "bool | None"]


def _value_matcher(op: Operator, values: tuple[Scalar, ...], variables: bool) -> Matcher:
    """(request value, source) -> True: some policy value matches; False: none does;
    None: none does and some policy value held an unresolved variable."""
    compiled: list[Any] = []
    templates: list[tuple[Part, ...]] = []
    for value in values:
        if isinstance(value, str) and op.family.templated:
            parts = split_parts(value, variables=variables)
            if has_variables(parts):
                templates.append(parts)
            else:
                compiled.append(_compile_text(op, parts, None))
        else:
            compiled.append(_compile_scalar(op, value))
    if not templates and op.compare is operator.eq:
        members = frozenset(compiled)
        return lambda value, _source: value in members
    compare = op.compare

    def match(value: Any, source: KeySource) -> bool | None:
        if any(compare(value, policy_value) for policy_value in compiled):
            return True
        unresolved = False
        for parts in templates:
            policy_value = _compile_text(op, parts, source)
            if policy_value is None:
                unresolved = True
            elif compare(value, policy_value):
                return True
        return None if unresolved else False

    return match


def _compile_text(op: Operator, parts: tuple[Part, ...], source: KeySource | None) -> Any:
    """A String or ARN policy value, compiled; None when a variable in it is unresolved."""
    if op.like:
        pieces = render_pieces(parts, source)
        if pieces is None:
            return None
        return compile_glob(glob_regex(pieces, arn=op.family is ARN))
    text = render_text(parts, source)
    return None if text is None else op.family.parse(text)


def _compile_scalar(op: Operator, value: Scalar) -> Any:
    try:
        parsed = op.family.parse(value)
    except ValueError as exc:
        reason = Reason.LEGACY if op.family is DATE else Reason.SYNTAX
        raise MalformedPolicy(reason, f"{op.name}: {exc}") from None
    if op.like:
        return compile_glob(glob_regex([(parsed, not isinstance(value, bool | int | float))]))
    return parsed
