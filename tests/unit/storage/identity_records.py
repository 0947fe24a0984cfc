"""IAM and STS record factories for the identity storage tests (one place, realistic values)."""

from __future__ import annotations

from strongroom.domain.identity import (
    GroupRecord,
    InlinePolicyRecord,
    ManagedPolicyRecord,
    OwnerKind,
    RoleRecord,
    SessionRecord,
    UserRecord,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
DOC = '{"Version": "2012-10-17", "Statement": []}'


def user(name: str, path: str = "/", account: str = ACCOUNT) -> UserRecord:
    arn = f"arn:aws:iam::{account}:user{path}{name}"
    return UserRecord(account, name, path, f"AIDA{name.upper():X<17}"[:21], arn, 10.5)


def group(name: str, path: str = "/", account: str = ACCOUNT) -> GroupRecord:
    arn = f"arn:aws:iam::{account}:group{path}{name}"
    return GroupRecord(account, name, path, f"AGPA{name.upper():X<17}"[:21], arn, 11.5)


def role(name: str, path: str = "/", account: str = ACCOUNT) -> RoleRecord:
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}'
    return RoleRecord(
        account, name, path, f"AROA{name.upper():X<17}"[:21], arn, trust, 3600, "a role", 12.5
    )


def managed(name: str, path: str = "/", account: str = ACCOUNT) -> ManagedPolicyRecord:
    arn = f"arn:aws:iam::{account}:policy{path}{name}"
    return ManagedPolicyRecord(
        account, name, path, f"ANPA{name.upper():X<17}"[:21], arn, DOC, "", 13.0, 14.0
    )


def inline(kind: OwnerKind, owner: str, name: str, document: str = DOC) -> InlinePolicyRecord:
    return InlinePolicyRecord(ACCOUNT, kind, owner, name, document)


def session(access_key_id: str, expires_at: float, **tags: str) -> SessionRecord:
    return SessionRecord(
        access_key_id=access_key_id,
        wrapped_secret=b"\x00wrapped-secret\xff",
        token_sha256=bytes(range(32)),
        account=ACCOUNT,
        principal_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/{access_key_id}",
        principal_type="AssumedRole",
        user_id=f"AROAADMIN:{access_key_id}",
        name="Admin",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/Admin",
        session_name=access_key_id,
        session_tags=dict(tags),
        source_access_key_id="AKIAEXAMPLE",
        created_at=expires_at - 3600,
        expires_at=expires_at,
    )
