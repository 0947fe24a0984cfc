"""Fixtures of the audit tests: one real audit signer for the session, and its public key."""

from __future__ import annotations

import pytest
from tests.unit.audit.helpers import make_signer

from strongroom.audit.digest import Signer
from strongroom.crypto.trail_signature import public_pem


@pytest.fixture(scope="session")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return make_signer(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def public_key(signer: Signer) -> bytes:
    return public_pem(signer.public_key_der())
