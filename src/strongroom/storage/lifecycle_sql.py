"""The key lifecycle in SQL (revision 0005): rotation, imported material and multi-Region keys,
behind those methods of :class:`Storage`.

The writes that several workers or nodes may race are guarded in the statement or under a row
lock, so exactly one wins: ``apply_rotation`` (the key's current material is still the one read,
and the update names every region's key of that id), ``insert_replica`` (the primary's current
material is still the one copied, checked under ``FOR UPDATE``) and ``expire_material`` (the
material still has its bytes and is due).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, func, insert, select, update

from strongroom.domain.keys import KeyRecord, MaterialRecord, Rotation
from strongroom.storage import rows
from strongroom.storage.base import StorageError
from strongroom.storage.schema import key_materials, key_tags, keys
from strongroom.storage.sqlbase import SqlBase, key_params, of_key

__all__ = ["LifecycleSql", "insert_key_rows"]


class _Overtaken(Exception):
    """Another writer got there first (a guarded write found its row changed)."""


def insert_key_rows(
    conn: Connection, key: KeyRecord, materials: Sequence[MaterialRecord], tags: Mapping[str, str]
) -> None:
    """Insert a new key's rows (the key, its material versions, its tags) in the caller's
    transaction."""
    conn.execute(insert(keys), rows.key_values(key))
    if materials:
        values = [rows.material_values(key.account, key.region, m) for m in materials]
        conn.execute(insert(key_materials), values)
    if tags:
        conn.execute(insert(key_tags), rows.tag_values(key.account, key.region, key.key_id, tags))


class LifecycleSql(SqlBase):
    def insert_replica(
        self, replica: KeyRecord, materials: Sequence[MaterialRecord], tags: Mapping[str, str]
    ) -> bool:
        primary_region = replica.primary_region
        if primary_region is None or primary_region == replica.region:
            raise ValueError("the key record is not a multi-Region replica's")
        lock = (
            select(keys.c.current_material_id)
            .where(of_key(keys))
            .with_for_update()  # PostgreSQL: a rotation of the primary waits, or we do
        )
        try:
            with self._write() as conn:
                params = key_params(replica.account, primary_region, replica.key_id)
                current = conn.execute(lock, params).scalar_one_or_none()
                if current != replica.current_material_id:
                    raise _Overtaken
                insert_key_rows(conn, replica, materials, tags)
        except _Overtaken:
            return False
        return True

    def update_keys(self, records: Sequence[KeyRecord]) -> None:
        stmt = update(keys).where(of_key(keys))
        with self._write() as conn:
            for key in records:
                values = rows.key_mutable_values(key)
                result = conn.execute(
                    stmt.values(values), key_params(key.account, key.region, key.key_id)
                )
                if result.rowcount != 1:
                    raise StorageError("a key to update does not exist")

    def key_members(self, account: str, key_id: str) -> list[KeyRecord]:
        stmt = (
            select(keys)
            .where(keys.c.account == account, keys.c.key_id == key_id)
            .order_by(keys.c.region)
        )
        with self._read() as conn:
            return [rows.key_from_row(row) for row in conn.execute(stmt)]

    def keys_due_for_rotation(self, now: float) -> list[KeyRecord]:
        stmt = (
            select(keys)
            .where(keys.c.rotation_period_days.is_not(None), keys.c.next_rotation_date <= now)
            .order_by(keys.c.next_rotation_date, keys.c.account, keys.c.region, keys.c.key_id)
        )
        with self._read() as conn:
            return [rows.key_from_row(row) for row in conn.execute(stmt)]

    def apply_rotation(self, rotation: Rotation) -> bool:
        updates, expected_material_id = rotation.updates, rotation.expected_material_id
        guard = keys.c.current_material_id == bindparam("b_expected")
        if expected_material_id is None:
            guard = keys.c.current_material_id.is_(None)
        stmt = update(keys).where(of_key(keys), guard)
        try:
            with self._write() as conn:
                for key, material in updates:
                    params = key_params(key.account, key.region, key.key_id)
                    if expected_material_id is not None:
                        params["b_expected"] = expected_material_id
                    result = conn.execute(stmt.values(rows.key_rotation_values(key)), params)
                    if result.rowcount != 1:
                        raise _Overtaken  # leaves the transaction, which rolls it back
                    if material is not None:
                        values = rows.material_values(key.account, key.region, material)
                        conn.execute(insert(key_materials), values)
                for account, region, version in rotation.material_updates:
                    self._write_material(conn, account, region, version)
                if updates:
                    first = updates[0][0]
                    members = conn.execute(
                        select(func.count())
                        .select_from(keys)
                        .where(keys.c.account == first.account, keys.c.key_id == first.key_id)
                    ).scalar_one()
                    if members != len(updates):
                        raise _Overtaken  # a replica appeared: it must get the material too
        except _Overtaken:
            return False
        return True

    def update_material(self, account: str, region: str, material: MaterialRecord) -> None:
        with self._write() as conn:
            self._write_material(conn, account, region, material)

    @staticmethod
    def _write_material(
        conn: Connection, account: str, region: str, material: MaterialRecord
    ) -> None:
        stmt = (
            update(key_materials)
            .where(of_key(key_materials), key_materials.c.material_id == bindparam("b_material"))
            .values(rows.material_mutable_values(material))
        )
        params = key_params(account, region, material.key_id) | {"b_material": material.material_id}
        if conn.execute(stmt, params).rowcount != 1:
            raise StorageError("the material version to update does not exist")

    def expire_material(
        self, account: str, region: str, key_id: str, material_id: str, now: float
    ) -> bool:
        stmt = (
            update(key_materials)
            .where(
                of_key(key_materials),
                key_materials.c.material_id == bindparam("b_material"),
                key_materials.c.wrapped.is_not(None),
                key_materials.c.valid_to <= bindparam("b_now"),
            )
            .values(
                wrapped=None, import_state="PENDING_IMPORT", expiration_model=None, valid_to=None
            )
        )
        params = key_params(account, region, key_id) | {"b_material": material_id, "b_now": now}
        with self._write() as conn:
            return bool(conn.execute(stmt, params).rowcount == 1)

    def materials_due_to_expire(self, now: float) -> list[tuple[str, str, MaterialRecord]]:
        stmt = (
            select(key_materials)
            .where(key_materials.c.valid_to <= now, key_materials.c.wrapped.is_not(None))
            .order_by(key_materials.c.valid_to)
        )
        with self._read() as conn:
            return [
                (row.account, row.region, rows.material_from_row(row)) for row in conn.execute(stmt)
            ]
