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


def grant_values(grant: GrantRecord) -> dict[str, Any]:
    return {
        "account": grant.account,
        "region": grant.region,
        "key_id": grant.key_id,
        "grant_id": grant.grant_id,
        "name": grant.name,
        "grantee_principal": grant.grantee_principal,
        "retiring_principal": grant.retiring_principal,
        "operations": orjson.dumps(list(grant.operations)).decode(),
        "context_equals": _context_json(grant.context_equals),
        "context_subset": _context_json(grant.context_subset),
        "issuing_account": grant.issuing_account,
        "created_at": grant.created_at,
        "for_aws_resource": grant.for_aws_resource,
    }


def grant_from_row(row: Row[Any]) -> GrantRecord:
    return GrantRecord(
        account=row.account,
        region=row.region,
        key_id=row.key_id,
        grant_id=row.grant_id,
        name=row.name,
        grantee_principal=row.grantee_principal,
        retiring_principal=row.retiring_principal,
        operations=tuple(orjson.loads(row.operations)),
        context_equals=_context(row.context_equals),
        context_subset=_context(row.context_subset),
        issuing_account=row.issuing_account,
        created_at=row.created_at,
        for_aws_resource=bool(row.for_aws_resource),
    )
