"""Conversions between identity rows and the IAM/STS records (see :mod:`strongroom.storage.rows`).

Users, groups, roles and managed policies have a column for every record field (plus
``name_key``), so the generic :func:`~strongroom.storage.rows.record_from_row` reads them back;
inline policies add their owner's and their own ``name_key``. Sessions keep their tags as a JSON
object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Row

from strongroom.domain.identity import InlinePolicyRecord, SessionRecord
from strongroom.storage.rows import record_from_row, record_values

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "fold",
    "inline_from_row",
    "inline_values",
    "named_values",
    "session_from_row",
    "session_values",
]


def fold(name: str) -> str:
    """The key an IAM name is unique by: names differing only in case are the same name."""
    return name.lower()


def named_values(record: DataclassInstance) -> dict[str, Any]:
    """Every field of a user, group, role or managed policy record, plus its ``name_key``."""
    values = record_values(record)
    values["name_key"] = fold(values["name"])
    return values


def inline_values(policy: InlinePolicyRecord, owner_name: str) -> dict[str, Any]:
    """The row of ``policy``, owned by ``owner_name`` (the owner's name as stored)."""
    return record_values(
        policy, owner_key=fold(owner_name), owner_name=owner_name, name_key=fold(policy.name)
    )


def inline_from_row(row: Row[Any]) -> InlinePolicyRecord:
    return record_from_row(InlinePolicyRecord, row)


def session_values(session: SessionRecord) -> dict[str, Any]:
    tags = orjson.dumps(session.session_tags, option=orjson.OPT_SORT_KEYS).decode()
    return record_values(session, session_tags=tags)


def session_from_row(row: Row[Any]) -> SessionRecord:
    return record_from_row(
        SessionRecord, row, wrapped_secret=bytes, token_sha256=bytes, session_tags=orjson.loads
    )
