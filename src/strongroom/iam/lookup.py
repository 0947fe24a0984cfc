"""Principals from what storage knows: an IAM user's, a role session's, an account root's.

Used by authentication (a user's access key) and by ``policy explain`` (a principal ARN).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Protocol

from strongroom.domain.identity import AccountRecord, OwnerKind, RoleRecord, UserRecord
from strongroom.domain.principal import Principal, PrincipalType

__all__ = ["UnknownPrincipal", "principal_for_user", "principal_from_arn"]

_ARN = re.compile(r"arn:(?P<p>[\w-]+):(?P<svc>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)")


class PrincipalRecords(Protocol):
    """What resolving a principal reads: the account, the user or role, and its tags."""

    def get_account(self, account: str) -> AccountRecord | None: ...
    def get_user(self, account: str, name: str) -> UserRecord | None: ...
    def get_role(self, account: str, name: str) -> RoleRecord | None: ...
    def get_principal_tags(self, account: str, kind: OwnerKind, owner: str) -> dict[str, str]: ...


class UnknownPrincipal(Exception):
    """The ARN does not name a principal this server knows."""


def principal_for_user(
    storage: PrincipalRecords, user: UserRecord, partition: str = "aws"
) -> Principal:
    tags = storage.get_principal_tags(user.account, OwnerKind.USER, user.name)
    return Principal(
        account=user.account,
        arn=user.arn,
        type=PrincipalType.USER,
        user_id=user.user_id,
        name=user.name,
        tags=MappingProxyType(tags),
        partition=partition,
    )


def principal_from_arn(storage: PrincipalRecords, arn: str, session: str = "explain") -> Principal:
    """The principal an ARN (or a bare account id) names. A role ARN stands for a session of it."""
    if re.fullmatch(r"\d{12}", arn):
        arn = f"arn:aws:iam::{arn}:root"
    match = _ARN.fullmatch(arn)
    if match is None:
        raise UnknownPrincipal(f"{arn} is not an IAM or STS principal ARN")
    account, resource, partition = match["account"], match["resource"], match["p"]
    if storage.get_account(account) is None:
        raise UnknownPrincipal(f"account {account} does not exist")
    kind, _, rest = resource.partition("/")
    if match["svc"] == "iam" and resource == "root":
        return Principal.root(account, partition)
    if match["svc"] == "iam" and kind == "user":
        user = storage.get_user(account, rest.rsplit("/", 1)[-1])
        if user is None:
            raise UnknownPrincipal(f"no user {arn}")
        return principal_for_user(storage, user, partition)
    if kind in ("role", "assumed-role"):
        role_name = rest.rsplit("/", 1)[-1] if kind == "role" else rest.split("/", 1)[0]
        session = session if kind == "role" else rest.split("/", 1)[-1]
        role = storage.get_role(account, role_name)
        if role is None:
            raise UnknownPrincipal(f"no role {role_name} in account {account}")
        tags = storage.get_principal_tags(account, OwnerKind.ROLE, role.name)
        return Principal(
            account=account,
            arn=f"arn:{partition}:sts::{account}:assumed-role/{role.name}/{session}",
            type=PrincipalType.ASSUMED_ROLE,
            user_id=f"{role.role_id}:{session}",
            name=role.name,
            role_arn=role.arn,
            session_name=session,
            tags=MappingProxyType(tags),
            partition=partition,
        )
    raise UnknownPrincipal(f"{arn} is not a principal policies can name")
