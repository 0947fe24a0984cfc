"""KMS grants, and an index for finding a key by region and id alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-11

Written out in full (a migration is a frozen record of what it did). Adds the ``grants`` table
and two indexes on it, and ``ix_keys_region_key_id`` (``find_key`` scanned ``keys`` before).
No existing row is touched, so a data dir at 0002 upgrades in place. A grant goes with its key
(``ON DELETE CASCADE``); grant ids are unique per region, since a grant token names only the grant.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEY_COLS = ["account", "region", "key_id"]
KEY_FK = ["keys.account", "keys.region", "keys.key_id"]


def upgrade() -> None:
    op.create_index("ix_keys_region_key_id", "keys", ["region", "key_id"])
    op.create_table(
        "grants",
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("grant_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("grantee_principal", sa.Text, nullable=False),
        sa.Column("retiring_principal", sa.Text, nullable=True),
        sa.Column("operations", sa.Text, nullable=False),
        sa.Column("context_equals", sa.Text, nullable=True),
        sa.Column("context_subset", sa.Text, nullable=True),
        sa.Column("issuing_account", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("for_aws_resource", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint(*KEY_COLS, "grant_id", name="pk_grants"),
        sa.ForeignKeyConstraint(
            KEY_COLS, KEY_FK, name="fk_grants_account_keys", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("region", "grant_id", name="uq_grants_region_grant_id"),
    )
    op.create_index(
        "ix_grants_retiring_principal_grant_id_region",
        "grants",
        ["retiring_principal", "grant_id", "region"],
    )
    op.create_index(
        "ix_grants_account_region_key_id_name_grant_id", "grants", [*KEY_COLS, "name", "grant_id"]
    )


def downgrade() -> None:
    op.drop_table("grants")  # its indexes go with it
    op.drop_index("ix_keys_region_key_id", table_name="keys")
