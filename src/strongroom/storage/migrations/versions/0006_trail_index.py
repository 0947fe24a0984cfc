"""The audit trail's index: ``trail_events``, ``trail_event_resources`` and ``trail_index``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Written out in full (a migration is a frozen record of what it did). One row per event of the
trail (what a lookup filters on, and where the line is), the ARNs each names, and one row saying
how far the index has read (seq 0: nothing yet; the indexer reads the trail from its start, so a
data dir at 0005 gets its whole existing trail indexed). No existing row is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trail_events",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("event_time", sa.Float, nullable=False),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("event_source", sa.String(128), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("username", sa.String(256), nullable=True),
        sa.Column("principal_arn", sa.Text, nullable=True),
        sa.Column("access_key_id", sa.String(128), nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("error_code", sa.String(128), nullable=True),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_trail_events"),
    )
    op.create_index("ix_trail_events_account_seq", "trail_events", ["account", "seq"])
    op.create_index(
        "ix_trail_events_account_event_name_seq", "trail_events", ["account", "event_name", "seq"]
    )
    op.create_index("ix_trail_events_event_id", "trail_events", ["event_id"])
    op.create_table(
        "trail_event_resources",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("resource_type", sa.String(128), nullable=False),
        sa.Column("arn", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("seq", "position", name="pk_trail_event_resources"),
        sa.ForeignKeyConstraint(
            ["seq"], ["trail_events.seq"], name="fk_trail_event_resources_seq_trail_events"
        ),
    )
    op.create_index("ix_trail_event_resources_arn_seq", "trail_event_resources", ["arn", "seq"])
    index = op.create_table(
        "trail_index",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("tracking_since", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trail_index"),
        sa.CheckConstraint("id = 1", name="ck_trail_index_single_row"),
    )
    op.bulk_insert(index, [{"id": 1, "seq": 0, "segment": 0, "offset": 0}])


def downgrade() -> None:
    op.drop_table("trail_index")
    op.drop_index("ix_trail_event_resources_arn_seq", table_name="trail_event_resources")
    op.drop_table("trail_event_resources")
    op.drop_index("ix_trail_events_event_id", table_name="trail_events")
    op.drop_index("ix_trail_events_account_event_name_seq", table_name="trail_events")
    op.drop_index("ix_trail_events_account_seq", table_name="trail_events")
    op.drop_table("trail_events")
