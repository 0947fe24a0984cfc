"""The tables, as SQLAlchemy Core metadata: the one description of the schema the code queries.

Migrations (``storage/migrations/versions``) create these tables; a unit test checks that the
migrated database and this metadata agree. Enumerations are stored as their string values and
timestamps as float seconds since the epoch, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "access_keys",
    "accounts",
    "aliases",
    "changes",
    "key_materials",
    "key_tags",
    "keys",
    "meta",
    "metadata",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ID = String(128)
REGION = String(32)
ENUM = String(64)
KEY_FK = ("keys.account", "keys.region", "keys.key_id")

meta = Table(
    "meta",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row, bumped by every write transaction on backends without a cheap native change marker
# (PostgreSQL); SQLite answers ``PRAGMA data_version`` instead.
changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("counter", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("created_at", Float, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", ID, primary_key=True),
    Column("account", String(12), ForeignKey("accounts.account"), nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("wrapped_secret", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),
)

keys = Table(
    "keys",
    metadata,
    Column("account", String(12), ForeignKey("accounts.account"), primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("key_id", ID, primary_key=True),
    Column("arn", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("state", ENUM, nullable=False),
    Column("description", Text, nullable=False),
    Column("key_spec", ENUM, nullable=False),
    Column("key_usage", ENUM, nullable=False),
    Column("origin", ENUM, nullable=False),
    Column("key_manager", ENUM, nullable=False),
    Column("policy", Text, nullable=False),
    Column("current_material_id", ID, nullable=True),
    Column("deletion_date", Float, nullable=True),
    Column("pending_window_days", Integer, nullable=True),
    Column("multi_region", Boolean, nullable=False),
    Index(None, "state", "deletion_date"),
)

key_materials = Table(
    "key_materials",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("key_id", ID, primary_key=True),
    Column("material_id", ID, primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["account", "region", "key_id"], KEY_FK),
)

aliases = Table(
    "aliases",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("target_key_id", ID, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    ForeignKeyConstraint(["account", "region", "target_key_id"], KEY_FK),
    Index(None, "account", "region", "target_key_id"),
)

key_tags = Table(
    "key_tags",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", REGION, primary_key=True),
    Column("key_id", ID, primary_key=True),
    Column("tag_key", String(128), primary_key=True),
    Column("tag_value", String(256), nullable=False),
    ForeignKeyConstraint(["account", "region", "key_id"], KEY_FK),
)
