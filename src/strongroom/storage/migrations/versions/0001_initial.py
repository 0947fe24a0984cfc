"""The first schema: meta, change counter, accounts, access keys, keys, materials, aliases, tags.

Revision ID: 0001
Revises:
Create Date: 2026-05-09

Written out in full rather than imported from ``schema.py``: a migration is a frozen record of
what it did. ``tests/unit/storage`` checks that the migrated database matches ``schema.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KEY_FK = ["keys.account", "keys.region", "keys.key_id"]
KEY_COLS = ["account", "region", "key_id"]


def _key_identity() -> list[sa.Column[str]]:
    return [
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_meta"),
    )
    changes = op.create_table(
        "changes",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("counter", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.CheckConstraint("id = 1", name="ck_changes_single_row"),
    )
    op.bulk_insert(changes, [{"id": 1, "counter": 0}])
    op.create_table(
        "accounts",
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_accounts"),
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(128), nullable=False),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("principal_arn", sa.Text, nullable=False),
        sa.Column("wrapped_secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
        sa.ForeignKeyConstraint(
            ["account"], ["accounts.account"], name="fk_access_keys_account_accounts"
        ),
    )
    _create_keys()
    _create_key_children()


def _create_keys() -> None:
    op.create_table(
        "keys",
        *_key_identity(),
        sa.Column("arn", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("key_spec", sa.String(64), nullable=False),
        sa.Column("key_usage", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("key_manager", sa.String(64), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("current_material_id", sa.String(128), nullable=True),
        sa.Column("deletion_date", sa.Float, nullable=True),
        sa.Column("pending_window_days", sa.Integer, nullable=True),
        sa.Column("multi_region", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint(*KEY_COLS, name="pk_keys"),
        sa.ForeignKeyConstraint(["account"], ["accounts.account"], name="fk_keys_account_accounts"),
    )
    op.create_index("ix_keys_state_deletion_date", "keys", ["state", "deletion_date"])


def _create_key_children() -> None:
    op.create_table(
        "key_materials",
        *_key_identity(),
        sa.Column("material_id", sa.String(128), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(*KEY_COLS, "material_id", name="pk_key_materials"),
        sa.ForeignKeyConstraint(KEY_COLS, KEY_FK, name="fk_key_materials_account_keys"),
    )
    op.create_table(
        "aliases",
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("target_key_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("account", "region", "name", name="pk_aliases"),
        sa.ForeignKeyConstraint(
            ["account", "region", "target_key_id"], KEY_FK, name="fk_aliases_account_keys"
        ),
    )
    op.create_index(
        "ix_aliases_account_region_target_key_id",
        "aliases",
        ["account", "region", "target_key_id"],
    )
    op.create_table(
        "key_tags",
        *_key_identity(),
        sa.Column("tag_key", sa.String(128), nullable=False),
        sa.Column("tag_value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint(*KEY_COLS, "tag_key", name="pk_key_tags"),
        sa.ForeignKeyConstraint(KEY_COLS, KEY_FK, name="fk_key_tags_account_keys"),
    )


def downgrade() -> None:
    for table in ("key_tags", "aliases", "key_materials", "keys"):
        op.drop_table(table)
    for table in ("access_keys", "accounts", "changes", "meta"):
        op.drop_table(table)
