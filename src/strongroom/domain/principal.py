"""The authenticated principal behind a request: an account root, an IAM user or an assumed role.

This is what policies are evaluated against (``aws:PrincipalArn``, ``aws:userid``,
``aws:PrincipalTag/*`` ...) and what error messages name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = ["Principal", "PrincipalType"]


class PrincipalType(StrEnum):
    """``aws:PrincipalType`` values."""

    ACCOUNT = "Account"  # the account root
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"


def _no_tags() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Principal:
    account: str
    arn: str  # root: arn:aws:iam::A:root; user: arn:aws:iam::A:user/path/name;
    #           assumed role: arn:aws:sts::A:assumed-role/ROLE/SESSION
    type: PrincipalType
    user_id: str  # aws:userid: root -> account id; user -> AIDA...; role -> AROA...:SESSION
    name: str | None = None  # user name (aws:username) or role name
    role_arn: str | None = None  # assumed roles: arn:aws:iam::A:role/path/ROLE
    session_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=_no_tags)  # principal tags incl. session tags
    partition: str = "aws"

    @property
    def is_root(self) -> bool:
        return self.type is PrincipalType.ACCOUNT

    @property
    def account_arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:root``: how policies name the whole account."""
        return f"arn:{self.partition}:iam::{self.account}:root"

    @classmethod
    def root(cls, account: str, partition: str = "aws") -> Principal:
        return cls(
            account=account,
            arn=f"arn:{partition}:iam::{account}:root",
            type=PrincipalType.ACCOUNT,
            user_id=account,
            partition=partition,
        )

    @classmethod
    def iam_user(
        cls,
        *,
        account: str,
        arn: str,
        user_id: str,
        name: str,
        tags: Mapping[str, str],
        partition: str = "aws",
    ) -> Principal:
        """An IAM user (``arn:aws:iam::A:user/PATH/NAME``) with its tags."""
        return cls(
            account=account,
            arn=arn,
            type=PrincipalType.USER,
            user_id=user_id,
            name=name,
            tags=MappingProxyType(dict(tags)),
            partition=partition,
        )

    @classmethod
    def assumed_role(
        cls,
        *,
        account: str,
        role_arn: str,
        role_id: str,
        session_name: str,
        tags: Mapping[str, str],
        partition: str = "aws",
    ) -> Principal:
        """A session of a role: ``arn:aws:sts::A:assumed-role/ROLE/SESSION``, user id
        ``ROLEID:SESSION``, with the role's tags merged with the session's."""
        role_name = role_arn.rsplit("/", 1)[-1]
        return cls(
            account=account,
            arn=f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}",
            type=PrincipalType.ASSUMED_ROLE,
            user_id=f"{role_id}:{session_name}",
            name=role_name,
            role_arn=role_arn,
            session_name=session_name,
            tags=MappingProxyType(dict(tags)),
            partition=partition,
        )
