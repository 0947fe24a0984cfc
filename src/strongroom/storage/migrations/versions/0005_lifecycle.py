"""Rotation, imported key material and multi-Region keys: new columns on ``keys`` and
``key_materials``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

Written out in full (a migration is a frozen record of what it did).

``keys`` gains the automatic-rotation schedule (``rotation_period_days``, ``next_rotation_date``),
a multi-Region key's ``primary_region``, and an imported key's ``expiration_model`` and
``valid_to``. ``key_materials`` gains each version's rotation type, import state and terms, a
``pending_rotation`` flag and ``rotated_at``, and ``wrapped`` becomes nullable: imported material
that was deleted or expired keeps its row (its id proves a re-import is the same material) without
its bytes. AWS-managed keys, which always rotate yearly, get ``rotation_period_days`` 365 and a
``next_rotation_date`` a year after their newest material, so the one scheduler serves them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

YEAR_S = 365 * 86_400


def upgrade() -> None:
    # Plain ALTER TABLE on ``keys`` (SQLite adds and drops columns in place; a batch copy would
    # have to drop ``keys``, which other tables reference).
    op.add_column("keys", sa.Column("rotation_period_days", sa.Integer, nullable=True))
    op.add_column("keys", sa.Column("next_rotation_date", sa.Float, nullable=True))
    op.add_column("keys", sa.Column("primary_region", sa.String(32), nullable=True))
    op.add_column("keys", sa.Column("expiration_model", sa.String(64), nullable=True))
    op.add_column("keys", sa.Column("valid_to", sa.Float, nullable=True))
    op.create_index("ix_keys_next_rotation_date", "keys", ["next_rotation_date"])
    op.create_index("ix_keys_account_key_id", "keys", ["account", "key_id"])
    with op.batch_alter_table("key_materials") as batch:
        batch.alter_column("wrapped", existing_type=sa.LargeBinary, nullable=True)
        batch.add_column(sa.Column("rotation_type", sa.String(64), nullable=True))
        batch.add_column(sa.Column("import_state", sa.String(64), nullable=True))
        batch.add_column(sa.Column("expiration_model", sa.String(64), nullable=True))
        batch.add_column(sa.Column("valid_to", sa.Float, nullable=True))
        batch.add_column(sa.Column("description", sa.String(256), nullable=True))
        batch.add_column(
            sa.Column("pending_rotation", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("rotated_at", sa.Float, nullable=True))
    op.create_index("ix_key_materials_valid_to", "key_materials", ["valid_to"])
    op.execute(
        sa.text(
            "UPDATE keys SET rotation_period_days = 365, next_rotation_date = "
            "(SELECT MAX(m.created_at) FROM key_materials m WHERE m.account = keys.account "
            "AND m.region = keys.region AND m.key_id = keys.key_id) + :year "
            "WHERE key_manager = 'AWS'"
        ).bindparams(year=YEAR_S)
    )


def downgrade() -> None:
    op.drop_index("ix_key_materials_valid_to", table_name="key_materials")
    op.execute(sa.text("DELETE FROM key_materials WHERE wrapped IS NULL"))
    with op.batch_alter_table("key_materials") as batch:
        for column in (
            "rotated_at",
            "pending_rotation",
            "description",
            "valid_to",
            "expiration_model",
            "import_state",
            "rotation_type",
        ):
            batch.drop_column(column)
        batch.alter_column("wrapped", existing_type=sa.LargeBinary, nullable=False)
    op.drop_index("ix_keys_account_key_id", table_name="keys")
    op.drop_index("ix_keys_next_rotation_date", table_name="keys")
    for column in (
        "valid_to",
        "expiration_model",
        "primary_region",
        "next_rotation_date",
        "rotation_period_days",
    ):
        op.drop_column("keys", column)
