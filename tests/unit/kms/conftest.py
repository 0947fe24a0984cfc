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
from strongroom.storage import migrate, open_storage


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kms.db'}"
    migrate(url)
    return url


@pytest.fixture
def keystore(tmp_path: Path) -> SoftwareKeyStore:
    return SoftwareKeyStore(RootKey.generate(tmp_path / "root.key"))


@pytest.fixture
def svc(db_url: str, keystore: SoftwareKeyStore) -> Iterator[KmsService]:
    storage = open_storage(db_url)
    service = KmsService(storage, keystore, Clock(), dev=True)
    for account in ("111122223333", "444455556666"):
        ensure_account(storage, account, 0.0)
    service.refresh()
    yield service
    storage.close()


@pytest.fixture
def caller() -> Caller:
    return Caller.root("111122223333", "us-east-1", "AKIATEST")
