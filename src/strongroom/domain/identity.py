"""Identity records: accounts, access keys, users, groups, roles, policies, STS sessions and the
registered integrated services. Frozen; storage persists them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AccessKeyRecord",
    "AccountRecord",
    "GroupRecord",
    "InlinePolicyRecord",
    "ManagedPolicyRecord",
    "OwnerKind",
    "RoleRecord",
    "ServiceRecord",
    "SessionRecord",
    "UserRecord",
]


class OwnerKind(StrEnum):
    """What an inline policy, an attachment or a tag belongs to."""

    USER = "user"
    GROUP = "group"
    ROLE = "role"


@dataclass(frozen=True, slots=True)
class UserRecord:
    account: str
    name: str  # unique per account, case-insensitively (as IAM)
    path: str  # "/" by default
    user_id: str  # "AIDA" + 17 upper-case base32 characters
    arn: str  # arn:aws:iam::ACCOUNT:user{path}{name}
    created_at: float


@dataclass(frozen=True, slots=True)
class GroupRecord:
    account: str
    name: str
    path: str
    group_id: str  # "AGPA..."
    arn: str  # arn:aws:iam::ACCOUNT:group{path}{name}
    created_at: float


@dataclass(frozen=True, slots=True)
class RoleRecord:
    account: str
    name: str
    path: str
    role_id: str  # "AROA..."
    arn: str  # arn:aws:iam::ACCOUNT:role{path}{name}
    trust_policy: str  # the AssumeRolePolicyDocument, as given
    max_session_duration: int  # seconds, 3600..43200
    description: str
    created_at: float


@dataclass(frozen=True, slots=True)
class ManagedPolicyRecord:
    account: str
    name: str
    path: str
    policy_id: str  # "ANPA..."
    arn: str  # arn:aws:iam::ACCOUNT:policy{path}{name}
    document: str
    description: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class InlinePolicyRecord:
    account: str
    owner_kind: OwnerKind
    owner_name: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """Temporary credentials issued by STS (AssumeRole or GetSessionToken).

    The secret is wrapped by the key store (purpose ``sts-session:<access key id>``); the session
    token is kept only as its SHA-256 digest and compared in constant time.
    """

    access_key_id: str  # "ASIA..."
    wrapped_secret: bytes
    token_sha256: bytes
    account: str
    principal_arn: str  # the session's ARN (assumed-role ARN, or the user's / root's ARN)
    principal_type: str  # PrincipalType value
    user_id: str
    name: str | None  # role name or user name
    role_arn: str | None
    session_name: str | None
    session_tags: dict[str, str]
    source_access_key_id: str  # the long-term key (or session) that asked for it
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account: str
    created_at: float


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    """An access key. The secret is wrapped by the key store (purpose ``access-key:<id>``)."""

    access_key_id: str
    account: str
    principal_arn: str
    wrapped_secret: bytes
    created_at: float
    status: str = "Active"


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """A registered integrated service: its short ``name`` (``alias/aws/<name>``), the
    ``via_name`` that ``kms:ViaService`` carries, the SigV4 ``signing_name`` its own clients sign
    for, and the IAM principal it calls KMS as."""

    name: str
    via_name: str
    signing_name: str
    principal_arn: str
    created_at: float
