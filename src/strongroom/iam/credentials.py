"""Accounts and access keys: creating them, and the random identifiers and secrets they carry.

Secret access keys are stored wrapped by the key store (purpose ``access-key:<id>``) and only
exist unwrapped in memory. STS session secrets use the same generators (see ``sessions``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from strongroom.domain.identity import AccessKeyRecord, AccountRecord
from strongroom.keystore.base import RootSecrets
from strongroom.storage.base import DuplicateError, Storage

__all__ = [
    "NewAccessKey",
    "create_access_key",
    "create_account",
    "ensure_account",
    "new_access_key_id",
    "new_secret_key",
    "random_account_id",
    "root_arn",
]

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def new_access_key_id(prefix: str = "AKIA") -> str:
    """``AKIA`` (long-term) or ``ASIA`` (STS session) + 16 upper-case base32 characters."""
    return prefix + "".join(secrets.choice(_B32) for _ in range(16))


def new_secret_key() -> str:
    """40 characters from AWS's secret-key alphabet (base64 letters)."""
    return "".join(secrets.choice(_B64) for _ in range(40))


def random_account_id() -> str:
    """A random 12-digit account id (never the all-zero dev account)."""
    while True:
        account = f"{secrets.randbelow(10**12):012d}"
        if account != "000000000000":
            return account


@dataclass(frozen=True)
class NewAccessKey:
    """A freshly created key pair. The secret is shown once and never stored in the clear."""

    access_key_id: str
    secret_access_key: str
    account: str

    def __repr__(self) -> str:
        return f"NewAccessKey(access_key_id={self.access_key_id!r}, account={self.account!r})"


def ensure_account(storage: Storage, account: str, now: float) -> None:
    if storage.get_account(account) is None:
        storage.insert_account(AccountRecord(account, now))


def create_access_key(
    storage: Storage,
    keystore: RootSecrets,
    account: str,
    now: float,
    *,
    principal_arn: str | None = None,
) -> NewAccessKey:
    """A new access key for ``principal_arn`` (default: ``account``'s root principal)."""
    access_key_id = new_access_key_id()
    secret = new_secret_key()
    wrapped = keystore.wrap_secret(secret.encode(), f"access-key:{access_key_id}")
    owner = principal_arn or root_arn(account)
    storage.insert_access_key(AccessKeyRecord(access_key_id, account, owner, wrapped, now))
    return NewAccessKey(access_key_id, secret, account)


def create_account(
    storage: Storage, keystore: RootSecrets, account: str, now: float
) -> NewAccessKey:
    """A new account and a first access key for its root.

    Raises :class:`DuplicateError` if the account exists already.
    """
    if storage.get_account(account) is not None:
        raise DuplicateError(f"account {account} exists already")
    storage.insert_account(AccountRecord(account, now))
    return create_access_key(storage, keystore, account, now)
