"""The tables, as SQLAlchemy Core metadata: the one description of the schema the code queries.

IAM names are unique per account case-insensitively but kept as given: each named identity row
holds its ``name`` as given and ``name_key``, the lower-cased name that the keys are built on.
Inline policies, attachments and tags belong to a user, group or role (``owner_kind``,
``owner_key``); storage deletes them with their owner, in the owner's delete transaction.

Migrations (``storage/migrations/versions``) create these tables; a unit test checks that the
migrated database and this metadata agree. Enumerations are stored as their string values and
timestamps as float seconds since the epoch, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

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
    UniqueConstraint,
    false,
)

__all__ = [
    "OWNER_KINDS",
    "access_keys",
    "accounts",
    "aliases",
    "audit_digests",
    "audit_events",
    "audit_trail",
    "changes",
    "grants",
    "iam_group_members",
    "iam_groups",
    "iam_inline_policies",
    "iam_managed_policies",
    "iam_policy_attachments",
    "iam_principal_tags",
    "iam_roles",
    "iam_users",
    "key_materials",
    "key_tags",
    "keys",
    "meta",
    "metadata",
    "services",
    "sts_sessions",
    "trail_event_resources",
    "trail_events",
    "trail_index",
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


def _of_key(**foreign_key: Any) -> list[Column[Any] | ForeignKeyConstraint]:
    """The columns of rows that belong to a key (its account, region and id), which lead their
    primary key; the key must exist."""
    return [
        Column("account", String(12), primary_key=True),
        Column("region", REGION, primary_key=True),
        Column("key_id", ID, primary_key=True),
        ForeignKeyConstraint(["account", "region", "key_id"], KEY_FK, **foreign_key),
    ]


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
    Index(None, "principal_arn"),
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
    Column("rotation_period_days", Integer, nullable=True),  # revision 0005
    Column("next_rotation_date", Float, nullable=True),
    Column("primary_region", REGION, nullable=True),
    Column("expiration_model", ENUM, nullable=True),
    Column("valid_to", Float, nullable=True),
    Index(None, "state", "deletion_date"),
    Index(None, "region", "key_id"),  # find_key (revision 0003)
    Index(None, "next_rotation_date"),  # keys_due_for_rotation (revision 0005)
    Index(None, "account", "key_id"),  # key_members (revision 0005)
)

key_materials = Table(
    "key_materials",
    metadata,
    *_of_key(),
    Column("material_id", ID, primary_key=True),
    Column("wrapped", LargeBinary, nullable=True),  # NULL: deleted imported material (0005)
    Column("created_at", Float, nullable=False),
    Column("rotation_type", ENUM, nullable=True),  # revision 0005
    Column("import_state", ENUM, nullable=True),
    Column("expiration_model", ENUM, nullable=True),
    Column("valid_to", Float, nullable=True),
    Column("description", String(256), nullable=True),
    Column("pending_rotation", Boolean, nullable=False, server_default=false()),
    Column("rotated_at", Float, nullable=True),
    Index(None, "valid_to"),  # materials_due_to_expire (revision 0005)
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
    *_of_key(),
    Column("tag_key", String(128), primary_key=True),
    Column("tag_value", String(256), nullable=False),
)


# -- IAM and STS (revision 0002) ----------------------------------------------------------------
IAM_NAME = String(128)
IAM_PATH = String(512)
OWNER_KINDS = ("user", "group", "role")


def _account(primary_key: bool) -> Column[str]:
    return Column(
        "account",
        String(12),
        ForeignKey("accounts.account"),
        primary_key=primary_key,
        nullable=False,
    )


def _named(*columns: Column[Any]) -> list[Column[Any]]:
    """The columns every named IAM entity starts with; the key is (account, name_key)."""
    return [
        _account(primary_key=True),
        Column("name_key", IAM_NAME, primary_key=True),
        Column("name", IAM_NAME, nullable=False),
        Column("path", IAM_PATH, nullable=False),
        *columns,
        Column("arn", Text, nullable=False),
        Column("created_at", Float, nullable=False),
    ]


def _owned() -> list[Column[Any] | CheckConstraint]:
    """The owner columns of rows that belong to a user, group or role."""
    return [
        _account(primary_key=True),
        Column("owner_kind", String(16), primary_key=True),
        Column("owner_key", IAM_NAME, primary_key=True),
        CheckConstraint("owner_kind IN ('user', 'group', 'role')", name="owner_kind"),
    ]


iam_users = Table("iam_users", metadata, *_named(Column("user_id", ID, nullable=False)))

iam_groups = Table("iam_groups", metadata, *_named(Column("group_id", ID, nullable=False)))

iam_roles = Table(
    "iam_roles",
    metadata,
    *_named(
        Column("role_id", ID, nullable=False),
        Column("trust_policy", Text, nullable=False),
        Column("max_session_duration", Integer, nullable=False),
        Column("description", Text, nullable=False),
    ),
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("group_key", IAM_NAME, primary_key=True),
    Column("user_key", IAM_NAME, primary_key=True),
    ForeignKeyConstraint(
        ["account", "group_key"],
        ["iam_groups.account", "iam_groups.name_key"],
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["account", "user_key"],
        ["iam_users.account", "iam_users.name_key"],
        ondelete="CASCADE",
    ),
    Index(None, "account", "user_key"),
)

iam_managed_policies = Table(
    "iam_managed_policies",
    metadata,
    Column("arn", Text, primary_key=True),
    _account(primary_key=False),
    Column("name_key", IAM_NAME, nullable=False),
    Column("name", IAM_NAME, nullable=False),
    Column("path", IAM_PATH, nullable=False),
    Column("policy_id", ID, nullable=False),
    Column("document", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("account", "name_key"),
)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    *_owned(),
    Column("name_key", IAM_NAME, primary_key=True),
    Column("owner_name", IAM_NAME, nullable=False),
    Column("name", IAM_NAME, nullable=False),
    Column("document", Text, nullable=False),
)

iam_policy_attachments = Table(
    "iam_policy_attachments",
    metadata,
    *_owned(),
    Column(
        "policy_arn",
        Text,
        ForeignKey("iam_managed_policies.arn", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index(None, "policy_arn"),
)

iam_principal_tags = Table(
    "iam_principal_tags",
    metadata,
    *_owned(),
    Column("tag_key", String(128), primary_key=True),
    Column("tag_value", String(256), nullable=False),
)

sts_sessions = Table(
    "sts_sessions",
    metadata,
    Column("access_key_id", ID, primary_key=True),
    _account(primary_key=False),
    Column("wrapped_secret", LargeBinary, nullable=False),
    Column("token_sha256", LargeBinary, nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("principal_type", ENUM, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("name", IAM_NAME, nullable=True),
    Column("role_arn", Text, nullable=True),
    Column("session_name", IAM_NAME, nullable=True),
    Column("session_tags", Text, nullable=False),  # a JSON object of strings
    Column("source_access_key_id", ID, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index(None, "expires_at"),
)


# -- KMS grants (revision 0003) -----------------------------------------------------------------
# The primary key leads with the key's identity, so it serves ``grants_for_key``, ``list_grants``
# and ``count_grants``; grant ids are unique per region, so a grant token (which names only the
# grant) finds exactly one row. JSON columns hold ``operations`` (an array, in the caller's
# order) and the encryption-context constraints (objects, NULL when absent).
grants = Table(
    "grants",
    metadata,
    *_of_key(ondelete="CASCADE"),
    Column("grant_id", ID, primary_key=True),
    Column("name", String(256), nullable=True),
    Column("grantee_principal", Text, nullable=False),
    Column("retiring_principal", Text, nullable=True),
    Column("operations", Text, nullable=False),
    Column("context_equals", Text, nullable=True),
    Column("context_subset", Text, nullable=True),
    Column("issuing_account", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("for_aws_resource", Boolean, nullable=False),
    UniqueConstraint("region", "grant_id"),
    Index(None, "retiring_principal", "grant_id", "region"),
    Index(None, "account", "region", "key_id", "name", "grant_id"),
)


# -- integrated services (revision 0004) --------------------------------------------------------
# A service registered to call KMS on behalf of its users (docs/integrated-services.md). The
# authenticator finds a caller's registration by its principal ARN, so that is unique too.
services = Table(
    "services",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("via_name", String(256), nullable=False),
    Column("signing_name", String(64), nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("principal_arn"),
)


# -- the audit trail's index (revision 0006) ----------------------------------------------------
# One row per event committed to the trail (docs/audit.md, "The index"): what a lookup filters
# on, and where the line is (segment number, byte offset, length), so a lookup reads just those
# lines. ``seq`` is the trail's. ``trail_index`` is one row: how far the index has read; the
# indexer that moves it from the value it read is the one that writes the range's rows.
trail_events = Table(
    "trail_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_time", Float, nullable=False),
    Column("account", String(12), nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("event_source", String(128), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("username", String(256), nullable=True),
    Column("principal_arn", Text, nullable=True),
    Column("access_key_id", ID, nullable=True),
    Column("event_id", String(64), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("error_code", String(128), nullable=True),
    Column("segment", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("length", Integer, nullable=False),
    Index(None, "account", "seq"),
    Index(None, "account", "event_name", "seq"),
    Index(None, "event_id"),
)

trail_event_resources = Table(
    "trail_event_resources",
    metadata,
    Column("seq", BigInteger, ForeignKey("trail_events.seq"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("resource_type", String(128), nullable=False),
    Column("arn", Text, nullable=False),
    Index(None, "arn", "seq"),
)

trail_index = Table(
    "trail_index",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("segment", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("tracking_since", Float, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)


# -- the audit trail in the database (revision 0007) --------------------------------------------
# With ``audit_store = "database"`` (PostgreSQL's default) the trail itself is here, one chain
# for every node (docs/audit.md, "The trail in the database"): ``audit_events`` holds each line,
# byte for byte the line a trail file would hold, under its seq; ``audit_trail`` is one row, the
# chain's head (the last seq and hash), locked by each append so that nodes append one at a
# time; ``audit_digests`` holds the signed digests, byte for byte a digest file, by number.
audit_trail = Table(
    "audit_trail",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("started", Float, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("line", LargeBinary, nullable=False),
)

audit_digests = Table(
    "audit_digests",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("written_at", Float, nullable=False),
    Column("body", LargeBinary, nullable=False),
)
