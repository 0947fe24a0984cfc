"""KMS grants in SQL: the ``grants`` table behind the grant methods of :class:`Storage`.

:meth:`GrantSql.grants_for_key` is on the authorization path of every request on a key with
grants, so it, like every fixed lookup here, is one statement built once at import and served by
an index: the primary key (it leads with the key's identity) for a key's grants, the unique
``(region, grant_id)`` for :meth:`find_grant`, ``(retiring_principal, grant_id)`` for
:meth:`list_retirable_grants` and ``(account, region, key_id, name)`` for :meth:`grant_by_name`.
A grant goes with its key: ``SqlStorage.delete_key`` deletes it in the key's transaction (and the
foreign key cascades as well). Results come in grant id order, the same on every backend.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select

from strongroom.domain.keys import GrantRecord
from strongroom.storage.grant_rows import grant_from_row, grant_values
from strongroom.storage.schema import grants
from strongroom.storage.sqlbase import SqlBase, key_params, of_key

__all__ = ["GrantSql", "delete_key_grants"]

_G = grants.c
_IS_GRANT = _G.grant_id == bindparam("b_grant_id")
_FOR_KEY = select(grants).where(of_key(grants)).order_by(_G.grant_id)
_GET = select(grants).where(of_key(grants), _IS_GRANT)
_FIND = select(grants).where(_G.region == bindparam("b_region"), _IS_GRANT)
_BY_NAME = _FOR_KEY.where(_G.name == bindparam("b_name"))
_COUNT = select(func.count()).select_from(grants).where(of_key(grants))
_DELETE = delete(grants).where(of_key(grants), _IS_GRANT)
_DELETE_FOR_KEY = delete(grants).where(of_key(grants))
_RETIRABLE = select(grants).where(_G.retiring_principal == bindparam("b_principal"))
_RETIRABLE_ORDER = (_G.grant_id, _G.region)  # (region, grant_id) is unique


def delete_key_grants(conn: Connection, account: str, region: str, key_id: str) -> None:
    """Delete every grant on the key, inside the caller's (the key delete's) transaction."""
    conn.execute(_DELETE_FOR_KEY, key_params(account, region, key_id))


def _after(stmt: Select[Any], after_grant_id: str | None) -> Select[Any]:
    return stmt if after_grant_id is None else stmt.where(_G.grant_id > after_grant_id)


class GrantSql(SqlBase):
    def insert_grant(self, grant: GrantRecord) -> None:
        with self._write() as conn:
            conn.execute(insert(grants), grant_values(grant))

    def get_grant(
        self, account: str, region: str, key_id: str, grant_id: str
    ) -> GrantRecord | None:
        params = key_params(account, region, key_id) | {"b_grant_id": grant_id}
        with self._read() as conn:
            row = conn.execute(_GET, params).first()
        return None if row is None else grant_from_row(row)

    def find_grant(self, region: str, grant_id: str) -> GrantRecord | None:
        with self._read() as conn:
            row = conn.execute(_FIND, {"b_region": region, "b_grant_id": grant_id}).first()
        return None if row is None else grant_from_row(row)

    def grant_by_name(self, account: str, region: str, key_id: str, name: str) -> list[GrantRecord]:
        params = key_params(account, region, key_id) | {"b_name": name}
        with self._read() as conn:
            return [grant_from_row(row) for row in conn.execute(_BY_NAME, params)]

    def list_grants(
        self,
        account: str,
        region: str,
        key_id: str,
        *,
        after_grant_id: str | None,
        limit: int,
        grant_id: str | None = None,
        grantee_principal: str | None = None,
    ) -> list[GrantRecord]:
        stmt = _after(_FOR_KEY, after_grant_id)
        if grant_id is not None:
            stmt = stmt.where(_G.grant_id == grant_id)
        if grantee_principal is not None:
            stmt = stmt.where(_G.grantee_principal == grantee_principal)
        with self._read() as conn:
            result = conn.execute(stmt.limit(limit), key_params(account, region, key_id))
            return [grant_from_row(row) for row in result]

    def list_retirable_grants(
        self,
        retiring_principal: str,
        after_grant_id: str | None,
        limit: int,
        *,
        region: str | None = None,
    ) -> list[GrantRecord]:
        stmt = _after(_RETIRABLE, after_grant_id)
        if region is not None:  # in SQL, so that a page is full when more grants exist
            stmt = stmt.where(_G.region == region)
        stmt = stmt.order_by(*_RETIRABLE_ORDER).limit(limit)
        with self._read() as conn:
            result = conn.execute(stmt, {"b_principal": retiring_principal})
            return [grant_from_row(row) for row in result]

    def grants_for_key(self, account: str, region: str, key_id: str) -> list[GrantRecord]:
        with self._read() as conn:
            result = conn.execute(_FOR_KEY, key_params(account, region, key_id))
            return [grant_from_row(row) for row in result]

    def count_grants(self, account: str, region: str, key_id: str) -> int:
        with self._read() as conn:
            return int(conn.execute(_COUNT, key_params(account, region, key_id)).scalar_one())

    def delete_grant(self, account: str, region: str, key_id: str, grant_id: str) -> bool:
        params = key_params(account, region, key_id) | {"b_grant_id": grant_id}
        with self._write() as conn:
            return conn.execute(_DELETE, params).rowcount > 0
