"""Conversions between identity rows and the IAM/STS records (see :mod:`strongroom.storage.rows`).

Users, groups, roles and managed policies have a column for every record field (plus
``name_key``), so one generic pair of functions serves them. Inline policies read their owner
kind back through the enum; sessions keep their tags as a JSON object.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from sqlalchemy import Row

from strongroom.domain.identity import InlinePolicyRecord, OwnerKind, SessionRecord

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "fold",
    "inline_from_row",
    "inline_values",
    "named_from_row",
    "named_values",
    "session_from_row",
    "session_values",
]

R = TypeVar("R", bound="DataclassInstance")


def fold(name: str) -> str:
    """The key an IAM name is unique by: names differing only in case are the same name."""
    return name.lower()


def named_values(record: DataclassInstance) -> dict[str, Any]:
    """Every field of a user, group, role or managed policy record, plus its ``name_key``."""
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    values["name_key"] = fold(values["name"])
    return values


def named_from_row(record_type: type[R], row: Row[Any]) -> R:
    return record_type(**{f.name: getattr(row, f.name) for f in fields(record_type)})


def inline_values(policy: InlinePolicyRecord, owner_name: str) -> dict[str, Any]:
    """The row of ``policy``, owned by ``owner_name`` (the owner's name as stored)."""
    return {
        "account": policy.account,
        "owner_kind": policy.owner_kind.value,
        "owner_key": fold(owner_name),
        "owner_name": owner_name,
        "name_key": fold(policy.name),
        "name": policy.name,
        "document": policy.document,
    }


def inline_from_row(row: Row[Any]) -> InlinePolicyRecord:
    return InlinePolicyRecord(
        account=row.account,
        owner_kind=OwnerKind(row.owner_kind),
        owner_name=row.owner_name,
        name=row.name,
        document=row.document,
    )


def session_values(session: SessionRecord) -> dict[str, Any]:
    values = {f.name: getattr(session, f.name) for f in fields(session)}
    values["session_tags"] = orjson.dumps(session.session_tags, option=orjson.OPT_SORT_KEYS)
    values["session_tags"] = values["session_tags"].decode()
    return values


def session_from_row(row: Row[Any]) -> SessionRecord:
    values = {f.name: getattr(row, f.name) for f in fields(SessionRecord)}
    values["wrapped_secret"] = bytes(row.wrapped_secret)
    values["token_sha256"] = bytes(row.token_sha256)
    values["session_tags"] = orjson.loads(row.session_tags)
    return SessionRecord(**values)
