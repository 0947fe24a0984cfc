"""Integrated services in SQL: the ``services`` table behind the service methods of ``Storage``.

A registration is looked up by name (the CLI, AWS-managed keys) and by principal ARN (the
authenticator, on every forwarded request; the unique index serves it). Listing is by name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select

from strongroom.domain.identity import ServiceRecord
from strongroom.storage.rows import record_from_row, record_values
from strongroom.storage.schema import services
from strongroom.storage.sqlbase import SqlBase

__all__ = ["IntegratedServicesSql"]

_S = services.c
_BY_NAME = select(services).where(_S.name == bindparam("b_name"))
_BY_PRINCIPAL = select(services).where(_S.principal_arn == bindparam("b_arn"))
_ALL = select(services).order_by(_S.name)
_DELETE = delete(services).where(_S.name == bindparam("b_name"))


def _from_row(row: Row[Any]) -> ServiceRecord:
    return record_from_row(ServiceRecord, row, created_at=float)


class IntegratedServicesSql(SqlBase):
    def insert_service(self, service: ServiceRecord) -> None:
        with self._write() as conn:
            conn.execute(insert(services), record_values(service))

    def get_service(self, name: str) -> ServiceRecord | None:
        with self._read() as conn:
            row = conn.execute(_BY_NAME, {"b_name": name}).first()
        return None if row is None else _from_row(row)

    def service_for_principal(self, principal_arn: str) -> ServiceRecord | None:
        with self._read() as conn:
            row = conn.execute(_BY_PRINCIPAL, {"b_arn": principal_arn}).first()
        return None if row is None else _from_row(row)

    def list_services(self) -> list[ServiceRecord]:
        with self._read() as conn:
            return [_from_row(row) for row in conn.execute(_ALL)]

    def delete_service(self, name: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(_DELETE, {"b_name": name}).rowcount)
