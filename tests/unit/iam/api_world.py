"""Shared by the IAM API tests: a real IamService over SQLite in tmp_path, the real key store and
policy engine, and ``run`` to call an operation with model-validated parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom import errors
from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.iam.api import call
from strongroom.iam.credentials import ensure_account
from strongroom.iam.service import IamService
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.protocol.shapes import ServiceModel
from strongroom.storage import SqlStorage, migrate, open_storage

ACCOUNT = "111122223333"
MODEL = ServiceModel.load("iam")
ROOT = Caller.root(ACCOUNT, "us-east-1")
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SqlStorage]:
    url = f"sqlite:///{tmp_path / 'iam.db'}"
    migrate(url)
    found = open_storage(url)
    ensure_account(found, ACCOUNT, 0.0)
    yield found
    found.close()


@pytest.fixture
def iam(storage: SqlStorage, tmp_path: Path) -> IamService:
    keystore = SoftwareKeyStore(RootKey.generate(tmp_path / "root.key"))
    return IamService(storage, keystore, Clock())


def run(iam: IamService, action: str, caller: Caller = ROOT, **params: Any) -> dict[str, Any]:
    """Validate ``params`` against the model, as the server does, and call the operation."""
    iam.clear_caches()
    return call(iam, caller, action, MODEL.validate(action, params))


def refused(error: type[errors.ServiceError], iam: IamService, action: str, **params: Any) -> str:
    with pytest.raises(error) as caught:
        run(iam, action, **params)
    return str(caught.value.message)


def allow(action: str, resource: str = "*", effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def user_caller(iam: IamService, name: str) -> Caller:
    user = iam.storage.get_user(ACCOUNT, name)
    assert user is not None
    principal = Principal(ACCOUNT, user.arn, PrincipalType.USER, user.user_id, name=user.name)
    return Caller(principal, "us-east-1", "AKIAUSER")
