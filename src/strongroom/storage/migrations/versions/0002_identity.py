"""IAM and STS: users, groups, memberships, roles, policies, attachments, tags, sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-10

Written out in full (a migration is a frozen record of what it did). Adds only new tables and one
index on ``access_keys.principal_arn``; no 0001 row is touched, so a data dir at 0001 upgrades
in place. Named IAM rows keep the name as given and ``name_key``, its lower-cased form, which the
unique keys are built on (IAM names are unique per account case-insensitively).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NAME = sa.String(128)
OWNER_CHECK = "owner_kind IN ('user', 'group', 'role')"
TABLES = (
    "sts_sessions",
    "iam_principal_tags",
    "iam_policy_attachments",
    "iam_inline_policies",
    "iam_managed_policies",
    "iam_group_members",
    "iam_roles",
    "iam_groups",
    "iam_users",
)


def _account(table: str) -> tuple[sa.Column[str], sa.ForeignKeyConstraint]:
    column = sa.Column("account", sa.String(12), nullable=False)
    fk = sa.ForeignKeyConstraint(
        ["account"], ["accounts.account"], name=f"fk_{table}_account_accounts"
    )
    return column, fk


def _create_named(table: str, *columns: sa.Column[Any]) -> None:
    account, fk = _account(table)
    op.create_table(
        table,
        account,
        sa.Column("name_key", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        *columns,
        sa.Column("arn", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("account", "name_key", name=f"pk_{table}"),
        fk,
    )


def _create_owned(
    table: str, *columns: sa.Column[Any], extra: tuple[sa.Constraint, ...] = ()
) -> None:
    account, fk = _account(table)
    op.create_table(
        table,
        account,
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_key", NAME, nullable=False),
        *columns,
        sa.CheckConstraint(OWNER_CHECK, name=f"ck_{table}_owner_kind"),
        fk,
        *extra,
    )


def upgrade() -> None:
    op.create_index("ix_access_keys_principal_arn", "access_keys", ["principal_arn"])
    _create_named("iam_users", sa.Column("user_id", sa.String(128), nullable=False))
    _create_named("iam_groups", sa.Column("group_id", sa.String(128), nullable=False))
    _create_named(
        "iam_roles",
        sa.Column("role_id", sa.String(128), nullable=False),
        sa.Column("trust_policy", sa.Text, nullable=False),
        sa.Column("max_session_duration", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    _create_members()
    _create_policies()
    _create_sessions()


def _create_members() -> None:
    op.create_table(
        "iam_group_members",
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("group_key", NAME, nullable=False),
        sa.Column("user_key", NAME, nullable=False),
        sa.PrimaryKeyConstraint("account", "group_key", "user_key", name="pk_iam_group_members"),
        sa.ForeignKeyConstraint(
            ["account", "group_key"],
            ["iam_groups.account", "iam_groups.name_key"],
            name="fk_iam_group_members_account_iam_groups",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account", "user_key"],
            ["iam_users.account", "iam_users.name_key"],
            name="fk_iam_group_members_account_iam_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_iam_group_members_account_user_key", "iam_group_members", ["account", "user_key"]
    )


def _create_policies() -> None:
    account, fk = _account("iam_managed_policies")
    op.create_table(
        "iam_managed_policies",
        sa.Column("arn", sa.Text, nullable=False),
        account,
        sa.Column("name_key", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("arn", name="pk_iam_managed_policies"),
        sa.UniqueConstraint("account", "name_key", name="uq_iam_managed_policies_account_name_key"),
        fk,
    )
    owner = ("account", "owner_kind", "owner_key")
    _create_owned(
        "iam_inline_policies",
        sa.Column("name_key", NAME, nullable=False),
        sa.Column("owner_name", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        extra=(sa.PrimaryKeyConstraint(*owner, "name_key", name="pk_iam_inline_policies"),),
    )
    _create_owned(
        "iam_policy_attachments",
        sa.Column("policy_arn", sa.Text, nullable=False),
        extra=(
            sa.PrimaryKeyConstraint(*owner, "policy_arn", name="pk_iam_policy_attachments"),
            sa.ForeignKeyConstraint(
                ["policy_arn"],
                ["iam_managed_policies.arn"],
                name="fk_iam_policy_attachments_policy_arn_iam_managed_policies",
                ondelete="CASCADE",
            ),
        ),
    )
    op.create_index(
        "ix_iam_policy_attachments_policy_arn", "iam_policy_attachments", ["policy_arn"]
    )
    _create_owned(
        "iam_principal_tags",
        sa.Column("tag_key", sa.String(128), nullable=False),
        sa.Column("tag_value", sa.String(256), nullable=False),
        extra=(sa.PrimaryKeyConstraint(*owner, "tag_key", name="pk_iam_principal_tags"),),
    )


def _create_sessions() -> None:
    account, fk = _account("sts_sessions")
    op.create_table(
        "sts_sessions",
        sa.Column("access_key_id", sa.String(128), nullable=False),
        account,
        sa.Column("wrapped_secret", sa.LargeBinary, nullable=False),
        sa.Column("token_sha256", sa.LargeBinary, nullable=False),
        sa.Column("principal_arn", sa.Text, nullable=False),
        sa.Column("principal_type", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("name", NAME, nullable=True),
        sa.Column("role_arn", sa.Text, nullable=True),
        sa.Column("session_name", NAME, nullable=True),
        sa.Column("session_tags", sa.Text, nullable=False),
        sa.Column("source_access_key_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_sts_sessions"),
        fk,
    )
    op.create_index("ix_sts_sessions_expires_at", "sts_sessions", ["expires_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    op.drop_index("ix_access_keys_principal_arn", table_name="access_keys")
