"""Conversions between ``grants`` rows and :class:`GrantRecord` (see :mod:`~.rows`).

A grant's operations and encryption-context constraints are JSON text: an array kept in the
caller's order, and objects with sorted keys (``NULL`` when the constraint is absent, so "no
constraint" and "an empty constraint" stay distinct). orjson writes UTF-8 as is, so a context
in any script round-trips unchanged.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row

from strongroom.domain.keys import GrantRecord
from strongroom.storage.rows import record_from_row, record_values

__all__ = ["grant_from_row", "grant_values"]


def _context_json(context: dict[str, str] | None) -> str | None:
    if context is None:
        return None
    return orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode()


def _context(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    value: dict[str, str] = orjson.loads(text)
    return value


def _operations(text: str) -> tuple[str, ...]:
    return tuple(orjson.loads(text))


def grant_values(grant: GrantRecord) -> dict[str, Any]:
    return record_values(
        grant,
        operations=orjson.dumps(list(grant.operations)).decode(),
        context_equals=_context_json(grant.context_equals),
        context_subset=_context_json(grant.context_subset),
    )


def grant_from_row(row: Row[Any]) -> GrantRecord:
    return record_from_row(
        GrantRecord,
        row,
        operations=_operations,
        context_equals=_context,
        context_subset=_context,
        for_aws_resource=bool,
    )
