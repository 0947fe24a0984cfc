"""IAM principals and STS sessions in SQL: accounts, users, groups, roles, access keys, sessions.

Names are looked up by ``name_key`` (the lower-cased name), so ``get_user("ALICE")`` finds the
user created as ``Alice`` and returns it as stored. Deleting a user, group or role removes,
in the same transaction, its inline policies, attachments and tags (:func:`delete_owned`), its
group memberships (foreign keys, ``ON DELETE CASCADE``) and, for a user, its access keys.
:meth:`get_session` is on the path of every request signed with temporary credentials: one
primary-key lookup with a statement compiled once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, func, select, update

from strongroom.domain.identity import (
    AccessKeyRecord,
    AccountRecord,
    GroupRecord,
    ManagedPolicyRecord,
    OwnerKind,
    RoleRecord,
    SessionRecord,
    UserRecord,
)
from strongroom.storage import rows
from strongroom.storage.base import StorageError
from strongroom.storage.identity_rows import fold, named_values, session_from_row, session_values
from strongroom.storage.policy_sql import OWNERS, delete_owned
from strongroom.storage.rows import record_from_row
from strongroom.storage.schema import (
    access_keys,
    accounts,
    iam_group_members,
    iam_groups,
    iam_roles,
    iam_users,
    sts_sessions,
)
from strongroom.storage.sqlbase import SqlBase, by_name

__all__ = ["PrincipalSql"]

P = TypeVar("P", UserRecord, GroupRecord, RoleRecord, ManagedPolicyRecord)

_GET_SESSION = select(sts_sessions).where(sts_sessions.c.access_key_id == bindparam("id"))
_MEMBERS = iam_group_members
_MEMBER_USERS = iam_users.join(
    _MEMBERS,
    (_MEMBERS.c.account == iam_users.c.account) & (_MEMBERS.c.user_key == iam_users.c.name_key),
)
_MEMBER_GROUPS = iam_groups.join(
    _MEMBERS,
    (_MEMBERS.c.account == iam_groups.c.account) & (_MEMBERS.c.group_key == iam_groups.c.name_key),
)


def _named(table: Table, account: str, name: str) -> Any:
    return (table.c.account == account) & (table.c.name_key == fold(name))


class PrincipalSql(SqlBase):
    # -- shared by users, groups and roles --------------------------------------------------------
    def _insert_named(self, table: Table, record: UserRecord | GroupRecord | RoleRecord) -> None:
        with self._write() as conn:
            conn.execute(table.insert(), named_values(record))

    def _get_named(self, table: Table, kind: type[P], account: str, name: str) -> P | None:
        with self._read() as conn:
            row = conn.execute(select(table).where(_named(table, account, name))).first()
        return None if row is None else record_from_row(kind, row)

    def _list_named(self, table: Table, kind: type[P], account: str, prefix: str) -> list[P]:
        stmt = select(table).where(table.c.account == account)
        if prefix != "/":
            stmt = stmt.where(func.substr(table.c.path, 1, len(prefix)) == prefix)
        with self._read() as conn:
            return by_name(record_from_row(kind, row) for row in conn.execute(stmt))

    def _delete_named(self, kind: OwnerKind, account: str, name: str) -> bool:
        table = OWNERS[kind]
        where = _named(table, account, name)
        with self._write() as conn:
            arn = conn.execute(select(table.c.arn).where(where).with_for_update()).scalar()
            if arn is None:
                return False
            delete_owned(conn, account, kind, name)
            sessions = sts_sessions.c
            if kind is OwnerKind.USER:
                keys = access_keys.c
                conn.execute(
                    delete(access_keys).where(keys.account == account, keys.principal_arn == arn)
                )
            # A user's GetSessionToken sessions and a role's AssumeRole sessions go with it.
            owner = {OwnerKind.USER: sessions.principal_arn, OwnerKind.ROLE: sessions.role_arn}
            if kind in owner:
                owned = delete(sts_sessions).where(sessions.account == account, owner[kind] == arn)
                conn.execute(owned)
            conn.execute(delete(table).where(where))  # memberships: ON DELETE CASCADE
        return True

    # -- accounts ---------------------------------------------------------------------------------
    def list_accounts(self) -> list[AccountRecord]:
        with self._read() as conn:
            result = conn.execute(select(accounts).order_by(accounts.c.account))
            return [rows.account_from_row(row) for row in result]

    # -- users ------------------------------------------------------------------------------------
    def insert_user(self, user: UserRecord) -> None:
        self._insert_named(iam_users, user)

    def get_user(self, account: str, name: str) -> UserRecord | None:
        return self._get_named(iam_users, UserRecord, account, name)

    def list_users(self, account: str, path_prefix: str = "/") -> list[UserRecord]:
        return self._list_named(iam_users, UserRecord, account, path_prefix)

    def delete_user(self, account: str, name: str) -> bool:
        return self._delete_named(OwnerKind.USER, account, name)

    # -- groups -----------------------------------------------------------------------------------
    def insert_group(self, group: GroupRecord) -> None:
        self._insert_named(iam_groups, group)

    def get_group(self, account: str, name: str) -> GroupRecord | None:
        return self._get_named(iam_groups, GroupRecord, account, name)

    def list_groups(self, account: str, path_prefix: str = "/") -> list[GroupRecord]:
        return self._list_named(iam_groups, GroupRecord, account, path_prefix)

    def delete_group(self, account: str, name: str) -> bool:
        return self._delete_named(OwnerKind.GROUP, account, name)

    def add_user_to_group(self, account: str, group: str, user: str) -> None:
        """Idempotent; :class:`StorageError` when the group or the user does not exist."""
        stmt = self._backend.upsert(_MEMBERS).on_conflict_do_nothing()
        values = {"account": account, "group_key": fold(group), "user_key": fold(user)}
        with self._write() as conn:
            conn.execute(stmt, values)

    def remove_user_from_group(self, account: str, group: str, user: str) -> bool:
        c = _MEMBERS.c
        stmt = delete(_MEMBERS).where(
            c.account == account, c.group_key == fold(group), c.user_key == fold(user)
        )
        with self._write() as conn:
            return conn.execute(stmt).rowcount > 0

    def list_group_members(self, account: str, group: str) -> list[UserRecord]:
        c = _MEMBERS.c
        stmt = select(iam_users).select_from(_MEMBER_USERS)
        stmt = stmt.where(c.account == account, c.group_key == fold(group))
        with self._read() as conn:
            return by_name(record_from_row(UserRecord, row) for row in conn.execute(stmt))

    def list_groups_for_user(self, account: str, user: str) -> list[GroupRecord]:
        c = _MEMBERS.c
        stmt = select(iam_groups).select_from(_MEMBER_GROUPS)
        stmt = stmt.where(c.account == account, c.user_key == fold(user))
        with self._read() as conn:
            return by_name(record_from_row(GroupRecord, row) for row in conn.execute(stmt))

    # -- roles ------------------------------------------------------------------------------------
    def insert_role(self, role: RoleRecord) -> None:
        self._insert_named(iam_roles, role)

    def get_role(self, account: str, name: str) -> RoleRecord | None:
        return self._get_named(iam_roles, RoleRecord, account, name)

    def list_roles(self, account: str, path_prefix: str = "/") -> list[RoleRecord]:
        return self._list_named(iam_roles, RoleRecord, account, path_prefix)

    def update_role(self, role: RoleRecord) -> None:
        """Write the mutable fields: trust policy, maximum session duration, description."""
        values = {
            "trust_policy": role.trust_policy,
            "max_session_duration": role.max_session_duration,
            "description": role.description,
        }
        stmt = update(iam_roles).where(_named(iam_roles, role.account, role.name)).values(values)
        with self._write() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise StorageError("the role to update does not exist")

    def delete_role(self, account: str, name: str) -> bool:
        return self._delete_named(OwnerKind.ROLE, account, name)

    # -- access keys (long-term) ------------------------------------------------------------------
    def list_access_keys(self, principal_arn: str) -> list[AccessKeyRecord]:
        c = access_keys.c
        stmt = select(access_keys).where(c.principal_arn == principal_arn)
        stmt = stmt.order_by(c.created_at, c.access_key_id)
        with self._read() as conn:
            return [rows.access_key_from_row(row) for row in conn.execute(stmt)]

    def update_access_key_status(self, access_key_id: str, status: str) -> bool:
        stmt = update(access_keys).where(access_keys.c.access_key_id == access_key_id)
        with self._write() as conn:
            return conn.execute(stmt.values(status=status)).rowcount > 0

    def delete_access_key(self, access_key_id: str) -> bool:
        stmt = delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        with self._write() as conn:
            return conn.execute(stmt).rowcount > 0

    # -- STS sessions -----------------------------------------------------------------------------
    def insert_session(self, session: SessionRecord) -> None:
        with self._write() as conn:
            conn.execute(sts_sessions.insert(), session_values(session))

    def get_session(self, access_key_id: str) -> SessionRecord | None:
        with self._read() as conn:
            row = conn.execute(_GET_SESSION, {"id": access_key_id}).first()
        return None if row is None else session_from_row(row)

    def delete_expired_sessions(self, now: float) -> int:
        """Delete the sessions whose ``expires_at`` is at or before ``now``; how many went."""
        stmt = delete(sts_sessions).where(sts_sessions.c.expires_at <= now)
        with self._write() as conn:
            return int(conn.execute(stmt).rowcount)
