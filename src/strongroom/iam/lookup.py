"""Principals from what storage knows: an IAM user's, a role session's, an account root's.

Used by authentication (a user's access key) and by ``policy explain`` (a principal ARN).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from strongroom.domain.identity import AccountRecord, OwnerKind, RoleRecord, UserRecord
from strongroom.domain.principal import Principal

__all__ = [
    "PrincipalArn",
    "UnknownPrincipal",
    "parse_principal_arn",
    "principal_for_arn",
    "principal_for_user",
    "principal_from_arn",
]

# IAM's own grammar (the IAM and STS models' userNameType, roleNameType, pathType and
# roleSessionNameType): a name is 1-64 of [\w+=,.@-], a path "/" or "/.../" of printable ASCII
# (512 at most), a session name 2-64 of [\w+=,.@-]. ASCII only, as IAM's Java patterns are.
_NAME = r"[\w+=,.@-]{1,64}"
_PRINCIPAL_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):"
    r"(?:iam::(?P<account>[0-9]{12}):(?:(?P<root>root)"
    rf"|(?P<kind>user|role)(?P<path>/(?:[\x21-\x7e]{{1,510}}/)?)(?P<name>{_NAME}))"
    r"|(?:iam|sts)::(?P<session_account>[0-9]{12}):"
    rf"assumed-role/(?P<role>{_NAME})/(?P<session>[\w+=,.@-]{{2,64}}))",
    re.ASCII,
)


class PrincipalRecords(Protocol):
    """What resolving a principal reads: the account, the user or role, and its tags."""

    def get_account(self, account: str) -> AccountRecord | None: ...
    def get_user(self, account: str, name: str) -> UserRecord | None: ...
    def get_role(self, account: str, name: str) -> RoleRecord | None: ...
    def get_principal_tags(self, account: str, kind: OwnerKind, owner: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class PrincipalArn:
    """A principal ARN taken apart: ``arn:P:iam::A:root``, ``arn:P:iam::A:user/PATH/NAME``,
    ``arn:P:iam::A:role/PATH/NAME`` or ``arn:P:sts::A:assumed-role/ROLE/SESSION``."""

    arn: str  # as given
    partition: str
    account: str  # exactly the twelve digits of the account field
    kind: str  # "root", "user", "role" or "assumed-role"
    path: str = "/"  # users and roles
    name: str = ""  # the user's or the role's name
    session: str = ""  # assumed roles


class UnknownPrincipal(Exception):
    """The ARN does not name a principal this server knows."""


def parse_principal_arn(arn: str) -> PrincipalArn | None:
    """The parts of a principal ARN, or None for any string that is not one, whole."""
    match = _PRINCIPAL_ARN.fullmatch(arn)
    if match is None:
        return None
    partition = match["partition"]
    if match["root"]:
        return PrincipalArn(arn, partition, match["account"], "root")
    if match["kind"]:
        return PrincipalArn(
            arn, partition, match["account"], match["kind"], match["path"], match["name"]
        )
    return PrincipalArn(
        arn,
        partition,
        match["session_account"],
        "assumed-role",
        name=match["role"],
        session=match["session"],
    )


def principal_for_user(
    storage: PrincipalRecords, user: UserRecord, partition: str = "aws"
) -> Principal:
    tags = storage.get_principal_tags(user.account, OwnerKind.USER, user.name)
    return Principal.iam_user(
        account=user.account,
        arn=user.arn,
        user_id=user.user_id,
        name=user.name,
        tags=tags,
        partition=partition,
    )


def principal_from_arn(storage: PrincipalRecords, arn: str, session: str = "explain") -> Principal:
    """The principal an ARN (or a bare account id) names. A role ARN stands for a session of it."""
    if re.fullmatch(r"[0-9]{12}", arn):
        arn = f"arn:aws:iam::{arn}:root"
    parsed = parse_principal_arn(arn)
    if parsed is None:
        raise UnknownPrincipal(f"{arn} is not an IAM or STS principal ARN policies can name")
    return principal_for_arn(storage, parsed, session)


def principal_for_arn(
    storage: PrincipalRecords, arn: PrincipalArn, session: str = "explain"
) -> Principal:
    """The principal a parsed ARN names, looked up in its account (and nowhere else); a user's
    or a role's path must be the one it has. A role ARN stands for a session of it."""
    account, partition = arn.account, arn.partition
    if storage.get_account(account) is None:
        raise UnknownPrincipal(f"account {account} does not exist")
    if arn.kind == "root":
        return Principal.root(account, partition)
    if arn.kind == "user":
        user = storage.get_user(account, arn.name)
        if user is None or user.path != arn.path:
            raise UnknownPrincipal(f"no user {arn.arn}")
        return principal_for_user(storage, user, partition)
    role = storage.get_role(account, arn.name)
    if role is None or (arn.kind == "role" and role.path != arn.path):
        raise UnknownPrincipal(f"no role {arn.arn}")
    if arn.kind == "assumed-role":
        session = arn.session
    tags = storage.get_principal_tags(account, OwnerKind.ROLE, role.name)
    return Principal.assumed_role(
        account=account,
        role_arn=role.arn,
        role_id=role.role_id,
        session_name=session,
        tags=tags,
        partition=partition,
    )
