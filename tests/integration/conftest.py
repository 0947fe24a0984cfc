"""Live servers for the integration tests: one dev-mode server and one production-mode server
per session, each a real ``strongroom serve`` process spoken to over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.server import Server, dev_server, initialised_server


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``strongroom serve --dev`` server: unknown access keys are the dev account's root."""
    server = dev_server(tmp_path_factory.mktemp("dev") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A production-mode server: only the access key ``strongroom init`` wrote is accepted."""
    server = initialised_server(tmp_path_factory.mktemp("prod") / "data")
    yield server
    server.stop()


@pytest.fixture
def kms(dev: Server) -> Any:
    """A boto3 KMS client for the dev server (region us-east-1)."""
    return dev.client()


@pytest.fixture
def prod_kms(prod: Server) -> Any:
    """A boto3 KMS client for the production-mode server, signing with the real secret."""
    return prod.client()


@pytest.fixture
def key_id(kms: Any) -> str:
    """A fresh symmetric key on the dev server."""
    return str(kms.create_key()["KeyMetadata"]["KeyId"])


@pytest.fixture
def fresh_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="module")
def own_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dev server for one test module alone: for tests that reset it or move its clock."""
    server = dev_server(tmp_path_factory.mktemp("own-dev") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def unchecked_kms(dev: Server) -> Any:
    """A dev-server KMS client with botocore's client-side parameter validation turned off, to
    reach the server's own validation (e.g. a 4097-byte plaintext, NumberOfBytes 0)."""
    return dev.client(validate=False)


@pytest.fixture(scope="session")
def session_kms(dev: Server) -> Any:
    """One dev-server KMS client for a whole session (for module-scoped fixtures)."""
    return dev.client()
