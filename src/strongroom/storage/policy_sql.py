"""IAM policies and principal tags in SQL: inline policies, managed policies, attachments, tags.

Inline policies, attachments and tags belong to a user, group or role named by kind, so no
foreign key can guard them; instead every write that adds one locks its owner's row (``FOR
SHARE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers) and the owner's
delete locks the row ``FOR UPDATE`` and removes them in the same transaction
(:func:`delete_owned`), so a concurrent delete can never leave one behind. Attachments also go
with their managed policy, by foreign key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select

from strongroom.domain.identity import InlinePolicyRecord, ManagedPolicyRecord, OwnerKind
from strongroom.storage.base import StorageError
from strongroom.storage.identity_rows import fold, inline_from_row, inline_values, named_values
from strongroom.storage.rows import record_from_row
from strongroom.storage.schema import (
    iam_groups,
    iam_inline_policies,
    iam_managed_policies,
    iam_policy_attachments,
    iam_principal_tags,
    iam_roles,
    iam_users,
)
from strongroom.storage.sqlbase import SqlBase, by_name

__all__ = ["OWNERS", "PolicySql", "delete_owned"]

OWNERS: dict[OwnerKind, Table] = {
    OwnerKind.USER: iam_users,
    OwnerKind.GROUP: iam_groups,
    OwnerKind.ROLE: iam_roles,
}
_OWNED = (iam_inline_policies, iam_policy_attachments, iam_principal_tags)
_POLICIES = iam_managed_policies
_ATTACHED = iam_policy_attachments


def _of_owner(table: Table, account: str, kind: OwnerKind, owner: str) -> Any:
    c = table.c
    return (c.account == account) & (c.owner_kind == kind.value) & (c.owner_key == fold(owner))


def _lock_owner(conn: Connection, account: str, kind: OwnerKind, owner: str) -> str:
    """The owner's name as stored, its row locked against a delete until the commit."""
    table = OWNERS[kind]
    stmt = select(table.c.name).where(table.c.account == account, table.c.name_key == fold(owner))
    name: str | None = conn.execute(stmt.with_for_update(read=True)).scalar()
    if name is None:
        raise StorageError(f"the {kind.value} the change refers to does not exist")
    return name


def delete_owned(conn: Connection, account: str, kind: OwnerKind, owner: str) -> None:
    """Delete the inline policies, attachments and tags of an owner (in its delete transaction)."""
    for table in _OWNED:
        conn.execute(delete(table).where(_of_owner(table, account, kind, owner)))


class PolicySql(SqlBase):
    # -- inline policies --------------------------------------------------------------------------
    def put_inline_policy(self, policy: InlinePolicyRecord) -> None:
        stmt = self._backend.upsert(iam_inline_policies)
        replace = {name: stmt.excluded[name] for name in ("owner_name", "name", "document")}
        pk = list(iam_inline_policies.primary_key.columns)
        stmt = stmt.on_conflict_do_update(index_elements=pk, set_=replace)
        with self._write() as conn:
            owner = _lock_owner(conn, policy.account, policy.owner_kind, policy.owner_name)
            conn.execute(stmt, inline_values(policy, owner))

    def get_inline_policy(
        self, account: str, kind: OwnerKind, owner: str, name: str
    ) -> InlinePolicyRecord | None:
        table = iam_inline_policies
        stmt = select(table).where(_of_owner(table, account, kind, owner))
        with self._read() as conn:
            row = conn.execute(stmt.where(table.c.name_key == fold(name))).first()
        return None if row is None else inline_from_row(row)

    def delete_inline_policy(self, account: str, kind: OwnerKind, owner: str, name: str) -> bool:
        table = iam_inline_policies
        stmt = delete(table).where(_of_owner(table, account, kind, owner))
        with self._write() as conn:
            return conn.execute(stmt.where(table.c.name_key == fold(name))).rowcount > 0

    def list_inline_policies(
        self, account: str, kind: OwnerKind, owner: str
    ) -> list[InlinePolicyRecord]:
        table = iam_inline_policies
        stmt = select(table).where(_of_owner(table, account, kind, owner))
        with self._read() as conn:
            return by_name(inline_from_row(row) for row in conn.execute(stmt))

    # -- managed policies and attachments ---------------------------------------------------------
    def insert_managed_policy(self, policy: ManagedPolicyRecord) -> None:
        with self._write() as conn:
            conn.execute(_POLICIES.insert(), named_values(policy))

    def get_managed_policy(self, arn: str) -> ManagedPolicyRecord | None:
        with self._read() as conn:
            row = conn.execute(select(_POLICIES).where(_POLICIES.c.arn == arn)).first()
        return None if row is None else record_from_row(ManagedPolicyRecord, row)

    def list_managed_policies(self, account: str) -> list[ManagedPolicyRecord]:
        stmt = select(_POLICIES).where(_POLICIES.c.account == account)
        with self._read() as conn:
            return by_name(record_from_row(ManagedPolicyRecord, r) for r in conn.execute(stmt))

    def delete_managed_policy(self, arn: str) -> bool:
        with self._write() as conn:  # its attachments go by ON DELETE CASCADE
            return conn.execute(delete(_POLICIES).where(_POLICIES.c.arn == arn)).rowcount > 0

    def attach_policy(self, account: str, kind: OwnerKind, owner: str, policy_arn: str) -> None:
        stmt = self._backend.upsert(_ATTACHED).on_conflict_do_nothing()
        values = {"account": account, "owner_kind": kind.value, "owner_key": fold(owner)}
        with self._write() as conn:
            _lock_owner(conn, account, kind, owner)
            conn.execute(stmt, values | {"policy_arn": policy_arn})

    def detach_policy(self, account: str, kind: OwnerKind, owner: str, policy_arn: str) -> bool:
        stmt = delete(_ATTACHED).where(_of_owner(_ATTACHED, account, kind, owner))
        with self._write() as conn:
            return conn.execute(stmt.where(_ATTACHED.c.policy_arn == policy_arn)).rowcount > 0

    def list_attached_policies(
        self, account: str, kind: OwnerKind, owner: str
    ) -> list[ManagedPolicyRecord]:
        joined = _POLICIES.join(_ATTACHED, _ATTACHED.c.policy_arn == _POLICIES.c.arn)
        stmt = select(_POLICIES).select_from(joined)
        stmt = stmt.where(_of_owner(_ATTACHED, account, kind, owner))
        with self._read() as conn:
            return by_name(record_from_row(ManagedPolicyRecord, r) for r in conn.execute(stmt))

    def count_policy_attachments(self, policy_arn: str) -> int:
        stmt = select(func.count()).where(_ATTACHED.c.policy_arn == policy_arn)
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    # -- tags on users and roles ------------------------------------------------------------------
    def get_principal_tags(self, account: str, kind: OwnerKind, owner: str) -> dict[str, str]:
        table = iam_principal_tags
        stmt = select(table.c.tag_key, table.c.tag_value)
        stmt = stmt.where(_of_owner(table, account, kind, owner))
        with self._read() as conn:
            return {row.tag_key: row.tag_value for row in conn.execute(stmt)}

    def put_principal_tags(
        self, account: str, kind: OwnerKind, owner: str, tags: Mapping[str, str]
    ) -> None:
        if not tags:
            return
        table = iam_principal_tags
        stmt = self._backend.upsert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={"tag_value": stmt.excluded.tag_value},
        )
        ident = {"account": account, "owner_kind": kind.value, "owner_key": fold(owner)}
        with self._write() as conn:
            _lock_owner(conn, account, kind, owner)
            conn.execute(stmt, [ident | {"tag_key": k, "tag_value": v} for k, v in tags.items()])

    def delete_principal_tags(
        self, account: str, kind: OwnerKind, owner: str, keys: Sequence[str]
    ) -> None:
        if not keys:
            return
        table = iam_principal_tags
        stmt = delete(table).where(_of_owner(table, account, kind, owner))
        with self._write() as conn:
            conn.execute(stmt.where(table.c.tag_key.in_(list(keys))))
