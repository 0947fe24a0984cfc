"""Integrated services: the ``services`` table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Written out in full (a migration is a frozen record of what it did). Adds the ``services`` table
(a registered service's name, its ``kms:ViaService`` name, its SigV4 signing name and the IAM
principal it calls as); no existing row is touched, so a data dir at 0003 upgrades in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("via_name", sa.String(256), nullable=False),
        sa.Column("signing_name", sa.String(64), nullable=False),
        sa.Column("principal_arn", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_services"),
        sa.UniqueConstraint("principal_arn", name="uq_services_principal_arn"),
    )


def downgrade() -> None:
    op.drop_table("services")
