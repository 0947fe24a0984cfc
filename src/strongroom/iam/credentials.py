"""Accounts and access keys: creating them, and finding an access key's secret to verify with.

Secret access keys are stored wrapped by the key store (purpose ``access-key:<id>``) and only
exist unwrapped in memory.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from strongroom.keystore.base import KeyStore
from strongroom.kms.model import AccessKeyRecord, AccountRecord
from strongroom.storage.base import Storage

__all__ = ["NewAccessKey", "create_access_key", "ensure_account", "root_arn"]

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


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
    storage: Storage, keystore: KeyStore, account: str, now: float
) -> NewAccessKey:
    """A new access key for ``account``'s root principal."""
    access_key_id = "AKIA" + "".join(secrets.choice(_B32) for _ in range(16))
    secret = secrets.token_urlsafe(30)[:40]
    wrapped = keystore.wrap_secret(secret.encode(), f"access-key:{access_key_id}")
    storage.insert_access_key(
        AccessKeyRecord(access_key_id, account, root_arn(account), wrapped, now)
    )
    return NewAccessKey(access_key_id, secret, account)
