"""A real KMS service over a real SQLite database and software key store (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.iam.credentials import ensure_account
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.service import KmsService
from strongroom.storage import SqlStorage, migrate, open_storage


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kms.db'}"
    migrate(url)
    return url


@pytest.fixture
def keystore(tmp_path: Path) -> SoftwareKeyStore:
    return SoftwareKeyStore(RootKey.generate(tmp_path / "root.key"))


@pytest.fixture
def storage(db_url: str) -> Iterator[SqlStorage]:
    """The service's database, with accounts 111122223333 and 444455556666 (tests that set up
    identities write here, as the IAM API would)."""
    opened = open_storage(db_url)
    for account in ("111122223333", "444455556666"):
        ensure_account(opened, account, 0.0)
    yield opened
    opened.close()


@pytest.fixture
def svc(storage: SqlStorage, keystore: SoftwareKeyStore) -> KmsService:
    service = KmsService(storage, keystore, Clock(), dev=True)
    service.refresh()
    return service


@pytest.fixture
def caller() -> Caller:
    return Caller.root("111122223333", "us-east-1", "AKIATEST")
