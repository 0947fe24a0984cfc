"""The storage implementation: one SQLAlchemy Core body for SQLite and PostgreSQL.

Each public method is one transaction, opened by :class:`~strongroom.storage.sqlbase.SqlBase`
(writes bump the change counter, driver errors become :class:`StorageError`). This module holds
the key-side methods; IAM and STS come from ``identity_sql`` and ``policy_sql``, grants from
``grant_sql``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from strongroom.domain.identity import AccessKeyRecord, AccountRecord
from strongroom.domain.keys import AliasRecord, KeyRecord, KeyState, MaterialRecord
from strongroom.storage import rows
from strongroom.storage.base import StorageError
from strongroom.storage.grant_sql import GrantSql, delete_key_grants
from strongroom.storage.identity_sql import PrincipalSql
from strongroom.storage.integrated_services_sql import IntegratedServicesSql
from strongroom.storage.lifecycle_sql import LifecycleSql, insert_key_rows
from strongroom.storage.policy_sql import PolicySql
from strongroom.storage.schema import (
    access_keys,
    accounts,
    aliases,
    grants,
    key_materials,
    key_tags,
    keys,
    meta,
)
from strongroom.storage.sqlbase import key_params, of_key
from strongroom.storage.trail_index_sql import TrailIndexSql

__all__ = ["SqlStorage"]


_GET_META = select(meta.c.value).where(meta.c.name == bindparam("b_name"))
_GET_ACCOUNT = select(accounts).where(accounts.c.account == bindparam("b_account"))
_GET_ACCESS_KEY = select(access_keys).where(access_keys.c.access_key_id == bindparam("id"))


_GET_KEY = select(keys).where(of_key(keys))
_FIND_KEY = (
    select(keys)
    .where(keys.c.region == bindparam("b_region"), keys.c.key_id == bindparam("b_key_id"))
    .limit(1)
)
_GET_MATERIALS = (
    select(key_materials)
    .where(of_key(key_materials))
    .order_by(key_materials.c.created_at, key_materials.c.material_id)
)
_ALIAS_PK = (
    (aliases.c.account == bindparam("b_account"))
    & (aliases.c.region == bindparam("b_region"))
    & (aliases.c.name == bindparam("b_name"))
)
_GET_ALIAS = select(aliases).where(_ALIAS_PK)
_GET_TAGS = select(key_tags.c.tag_key, key_tags.c.tag_value).where(of_key(key_tags))


class SqlStorage(
    PrincipalSql, PolicySql, GrantSql, IntegratedServicesSql, LifecycleSql, TrailIndexSql
):
    """:class:`~strongroom.storage.base.Storage` and :class:`~strongroom.storage.identity.
    IdentityStorage` on SQLite or PostgreSQL (see ``engine``); the identity methods come from
    the ``identity_sql`` and ``policy_sql`` mixins, the grants from ``grant_sql``, integrated
    services from ``integrated_services_sql``, rotation, imported material and multi-Region
    keys from ``lifecycle_sql``, the audit trail's index from ``trail_index_sql``, the
    transactions from ``sqlbase``."""

    # -- lifecycle ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._write() as conn:
            for table in (grants, key_tags, aliases, key_materials, keys):
                conn.execute(delete(table))

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        with self._read() as conn:
            value: str | None = conn.execute(_GET_META, {"b_name": name}).scalar()
            return value

    def set_meta(self, name: str, value: str) -> None:
        stmt = self._backend.upsert(meta).values(name=name, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=[meta.c.name], set_={"value": value})
        with self._write() as conn:
            conn.execute(stmt)

    # -- accounts and access keys ---------------------------------------------------------------
    def insert_account(self, account: AccountRecord) -> None:
        with self._write() as conn:
            conn.execute(
                insert(accounts), {"account": account.account, "created_at": account.created_at}
            )

    def get_account(self, account: str) -> AccountRecord | None:
        with self._read() as conn:
            row = conn.execute(_GET_ACCOUNT, {"b_account": account}).first()
        return None if row is None else rows.account_from_row(row)

    def insert_access_key(self, key: AccessKeyRecord) -> None:
        with self._write() as conn:
            conn.execute(insert(access_keys), rows.access_key_values(key))

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        with self._read() as conn:
            row = conn.execute(_GET_ACCESS_KEY, {"id": access_key_id}).first()
        return None if row is None else rows.access_key_from_row(row)

    # -- keys -----------------------------------------------------------------------------------
    def insert_key(
        self,
        key: KeyRecord,
        material: MaterialRecord | Sequence[MaterialRecord] | None,
        tags: Mapping[str, str],
    ) -> None:
        if material is None:
            materials: Sequence[MaterialRecord] = ()
        elif isinstance(material, MaterialRecord):
            materials = (material,)
        else:
            materials = material
        with self._write() as conn:
            insert_key_rows(conn, key, materials, tags)

    def get_key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        with self._read() as conn:
            row = conn.execute(_GET_KEY, key_params(account, region, key_id)).first()
        return None if row is None else rows.key_from_row(row)

    def find_key(self, region: str, key_id: str) -> KeyRecord | None:
        with self._read() as conn:
            row = conn.execute(_FIND_KEY, {"b_region": region, "b_key_id": key_id}).first()
        return None if row is None else rows.key_from_row(row)

    def update_key(self, key: KeyRecord) -> None:
        stmt = update(keys).where(of_key(keys)).values(rows.key_mutable_values(key))
        with self._write() as conn:
            result = conn.execute(stmt, key_params(key.account, key.region, key.key_id))
            if result.rowcount != 1:
                raise StorageError("the key to update does not exist")

    def update_key_in_state(self, key: KeyRecord, expected: KeyState) -> bool:
        stmt = (
            update(keys)
            .where(of_key(keys), keys.c.state == bindparam("b_state"))
            .values(rows.key_mutable_values(key))
        )
        params = key_params(key.account, key.region, key.key_id) | {"b_state": expected.value}
        with self._write() as conn:
            return bool(conn.execute(stmt, params).rowcount == 1)

    def list_keys(
        self, account: str, region: str, after_key_id: str | None, limit: int
    ) -> list[KeyRecord]:
        stmt = select(keys).where(keys.c.account == account, keys.c.region == region)
        if after_key_id is not None:
            stmt = stmt.where(keys.c.key_id > after_key_id)
        stmt = stmt.order_by(keys.c.key_id).limit(limit)
        with self._read() as conn:
            return [rows.key_from_row(row) for row in conn.execute(stmt)]

    def delete_key(self, account: str, region: str, key_id: str) -> None:
        with self._write() as conn:
            self._delete_key(conn, account, region, key_id)

    def delete_due_key(self, account: str, region: str, key_id: str, now: float) -> bool:
        due = (
            select(keys.c.key_id)
            .where(
                of_key(keys),
                keys.c.state == KeyState.PENDING_DELETION.value,
                keys.c.deletion_date <= bindparam("b_now"),
            )
            .with_for_update()  # PostgreSQL: a CancelKeyDeletion waits, or we do
        )
        with self._write() as conn:
            params = key_params(account, region, key_id) | {"b_now": now}
            if conn.execute(due, params).first() is None:
                return False  # cancelled, rescheduled or deleted by another worker meanwhile
            self._delete_key(conn, account, region, key_id)
        return True

    @staticmethod
    def _delete_key(conn: Connection, account: str, region: str, key_id: str) -> None:
        ident = key_params(account, region, key_id)
        by_target = delete(aliases).where(
            aliases.c.account == account,
            aliases.c.region == region,
            aliases.c.target_key_id == key_id,
        )
        delete_key_grants(conn, account, region, key_id)
        conn.execute(delete(key_tags).where(of_key(key_tags)), ident)
        conn.execute(by_target)
        conn.execute(delete(key_materials).where(of_key(key_materials)), ident)
        conn.execute(delete(keys).where(of_key(keys)), ident)

    def keys_due_for_deletion(self, now: float) -> list[KeyRecord]:
        stmt = (
            select(keys)
            .where(keys.c.state == KeyState.PENDING_DELETION.value, keys.c.deletion_date <= now)
            .order_by(keys.c.deletion_date, keys.c.account, keys.c.region, keys.c.key_id)
        )
        with self._read() as conn:
            return [rows.key_from_row(row) for row in conn.execute(stmt)]

    def keys_managed_by(self, key_manager: str) -> list[KeyRecord]:
        stmt = (
            select(keys)
            .where(keys.c.key_manager == key_manager)
            .order_by(keys.c.account, keys.c.region, keys.c.key_id)
        )
        with self._read() as conn:
            return [rows.key_from_row(row) for row in conn.execute(stmt)]

    # -- material versions ----------------------------------------------------------------------
    def insert_material(
        self, account: str, region: str, key_id: str, material: MaterialRecord
    ) -> None:
        if material.key_id != key_id:
            raise ValueError("the material belongs to another key")
        with self._write() as conn:
            conn.execute(insert(key_materials), rows.material_values(account, region, material))

    def get_materials(self, account: str, region: str, key_id: str) -> list[MaterialRecord]:
        with self._read() as conn:
            result = conn.execute(_GET_MATERIALS, key_params(account, region, key_id))
            return [rows.material_from_row(row) for row in result]

    # -- aliases --------------------------------------------------------------------------------
    def insert_alias(self, alias: AliasRecord) -> None:
        with self._write() as conn:
            conn.execute(insert(aliases), rows.alias_values(alias))

    def get_alias(self, account: str, region: str, name: str) -> AliasRecord | None:
        with self._read() as conn:
            params = {"b_account": account, "b_region": region, "b_name": name}
            row = conn.execute(_GET_ALIAS, params).first()
        return None if row is None else rows.alias_from_row(row)

    def update_alias(self, alias: AliasRecord) -> None:
        values = {"target_key_id": alias.target_key_id, "updated_at": alias.updated_at}
        params = {"b_account": alias.account, "b_region": alias.region, "b_name": alias.name}
        with self._write() as conn:
            result = conn.execute(update(aliases).where(_ALIAS_PK).values(values), params)
            if result.rowcount != 1:
                raise StorageError("the alias to update does not exist")

    def delete_alias(self, account: str, region: str, name: str) -> bool:
        params = {"b_account": account, "b_region": region, "b_name": name}
        with self._write() as conn:
            return conn.execute(delete(aliases).where(_ALIAS_PK), params).rowcount > 0

    def list_aliases(
        self,
        account: str,
        region: str,
        target_key_id: str | None,
        after_name: str | None,
        limit: int,
    ) -> list[AliasRecord]:
        stmt = select(aliases).where(aliases.c.account == account, aliases.c.region == region)
        if target_key_id is not None:
            stmt = stmt.where(aliases.c.target_key_id == target_key_id)
        if after_name is not None:
            stmt = stmt.where(aliases.c.name > after_name)
        stmt = stmt.order_by(aliases.c.name).limit(limit)
        with self._read() as conn:
            return [rows.alias_from_row(row) for row in conn.execute(stmt)]

    # -- tags -----------------------------------------------------------------------------------
    def get_tags(self, account: str, region: str, key_id: str) -> dict[str, str]:
        with self._read() as conn:
            result = conn.execute(_GET_TAGS, key_params(account, region, key_id))
            return {row.tag_key: row.tag_value for row in result}

    def put_tags(self, account: str, region: str, key_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        stmt = self._backend.upsert(key_tags)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key_tags.primary_key.columns),
            set_={"tag_value": stmt.excluded.tag_value},
        )
        with self._write() as conn:
            conn.execute(stmt, rows.tag_values(account, region, key_id, tags))

    def delete_tags(self, account: str, region: str, key_id: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        stmt = delete(key_tags).where(
            of_key(key_tags), key_tags.c.tag_key.in_(bindparam("tag_keys", expanding=True))
        )
        with self._write() as conn:
            conn.execute(stmt, key_params(account, region, key_id) | {"tag_keys": list(keys)})
