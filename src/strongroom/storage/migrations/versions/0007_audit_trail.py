"""The audit trail in the database: ``audit_trail``, ``audit_events`` and ``audit_digests``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

Written out in full (a migration is a frozen record of what it did). The chain's head (one row:
seq 0, the 32 zero bytes the first line chains from), one row per line, one row per signed
digest. Created on every backend; the server writes them only with ``audit_store =
"database"`` (PostgreSQL). No existing row is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.Column("started", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_trail"),
        sa.CheckConstraint("id = 1", name="ck_audit_trail_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": bytes(32), "started": None}])
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("line", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.create_table(
        "audit_digests",
        sa.Column("number", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("written_at", sa.Float, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_audit_digests"),
    )


def downgrade() -> None:
    op.drop_table("audit_digests")
    op.drop_table("audit_events")
    op.drop_table("audit_trail")
