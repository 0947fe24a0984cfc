"""Policy documents: parse and validate once, at store time, into frozen compiled objects.

:func:`parse_policy` refuses what it does not understand -- invalid JSON, duplicate JSON keys,
unknown elements, unknown condition operators, values of the wrong type -- with
:class:`MalformedPolicy`, never by skipping it. Parsed documents are cached by content, so the
authorizer can call it on every request with the stored text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from strongroom.policy.grammar import Effect, MalformedPolicy, PolicyKind, Reason
from strongroom.policy.statement import Statement, parse_statement

__all__ = [
    "VERSIONS",
    "Effect",
    "MalformedPolicy",
    "PolicyDocument",
    "PolicyKind",
    "Statement",
    "parse_policy",
]

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    version: str | None  # None: no Version element (2008-10-17 semantics, no variables)
    id: str | None
    statements: tuple[Statement, ...]
    kind: PolicyKind = PolicyKind.IDENTITY

    @property
    def principal_arns(self) -> tuple[str, ...]:
        """Every ``AWS`` principal value as written (for the caller's existence checks)."""
        return tuple(
            value
            for statement in self.statements
            if statement.principal is not None
            for value in statement.principal.aws
        )


@lru_cache(maxsize=2048)
def parse_policy(text: str, kind: PolicyKind) -> PolicyDocument:
    """Parse and compile a policy document of the given kind; raises :class:`MalformedPolicy`."""
    kind = PolicyKind(kind)  # a plain "resource" hashes like the enum: normalise it
    document = _load(text)
    unknown = sorted(set(document) - _TOP_LEVEL)
    if unknown:
        raise MalformedPolicy(Reason.SYNTAX, f"unknown top-level field {unknown[0]}")
    version = _version(document)
    policy_id = document.get("Id")
    if "Id" in document and not isinstance(policy_id, str):
        raise MalformedPolicy(Reason.SYNTAX, "Id must be a string")
    raw_statements = _statement_list(document)
    statements = tuple(
        parse_statement(raw, index, kind, version) for index, raw in enumerate(raw_statements)
    )
    _check_unique_sids(statements)
    return PolicyDocument(version, policy_id, statements, kind)


def _load(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise MalformedPolicy(Reason.SYNTAX, "not valid JSON") from None
    if not isinstance(document, dict):
        raise MalformedPolicy(Reason.SYNTAX, "a policy is a JSON object")
    return document


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _version(document: dict[str, Any]) -> str | None:
    if "Version" not in document:
        return None
    version = document["Version"]
    if version not in VERSIONS:
        raise MalformedPolicy(Reason.SYNTAX, f"unknown Version {version!r}")
    assert isinstance(version, str)
    return version


def _statement_list(document: dict[str, Any]) -> list[Any]:
    if "Statement" not in document:
        raise MalformedPolicy(Reason.SYNTAX, "no Statement")
    raw = document["Statement"]
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy(Reason.SYNTAX, "Statement must be an object or a non-empty list")
    return statements


def _check_unique_sids(statements: tuple[Statement, ...]) -> None:
    seen: set[str] = set()
    for statement in statements:
        if statement.sid is None:
            continue
        if statement.sid in seen:
            raise MalformedPolicy(Reason.DUPLICATE_SID, f"Sid {statement.sid!r} appears twice")
        seen.add(statement.sid)
