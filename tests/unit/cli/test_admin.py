"""``strongroom admin create-account`` / ``create-access-key``: new accounts and root keys that
authenticate, printed once; existing accounts refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner, Result

from strongroom.cli.admin import admin
from strongroom.cli.init import initialise
from strongroom.config import load_settings
from strongroom.domain.principal import Principal
from strongroom.iam.auth import Authenticator
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import open_storage


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    initialise(tmp_path / "kms", "111122223333", "us-east-1")
    return tmp_path / "kms"


def _run(*args: str) -> Result:
    return CliRunner().invoke(admin, list(args), catch_exceptions=False)


def _credentials(output: str) -> tuple[str, str]:
    key_id = re.search(r"aws_access_key_id = (\S+)", output)
    secret = re.search(r"aws_secret_access_key = (\S+)", output)
    assert key_id is not None
    assert secret is not None
    return key_id.group(1), secret.group(1)


def _principal_of(data_dir: Path, key_id: str, secret: str) -> Principal:
    """Authenticate a request signed with the printed credentials, as the server would."""
    settings = load_settings(data_dir)
    storage = open_storage(settings.database_url)
    try:
        auth = Authenticator(storage, SoftwareKeyStore(RootKey.load(settings.root_key_path)))
        request = AWSRequest(method="POST", url="http://localhost/", data=b"{}", headers={})
        SigV4Auth(Credentials(key_id, secret), "kms", "us-east-1").add_auth(request)
        headers = {"host": "localhost", **{k.lower(): str(v) for k, v in request.headers.items()}}
        return auth.authenticate("POST", "/", "", headers, b"{}").principal
    finally:
        storage.close()


def test_create_account_prints_working_root_credentials(data_dir: Path) -> None:
    result = _run("create-account", "--data-dir", str(data_dir), "--account-id", "444455556666")
    assert result.exit_code == 0, result.output
    assert "[strongroom-444455556666]" in result.output
    key_id, secret = _credentials(result.output)
    assert key_id.startswith("AKIA")
    assert len(secret) == 40
    assert _principal_of(data_dir, key_id, secret) == Principal.root("444455556666")


def test_create_account_refuses_an_existing_or_malformed_id(data_dir: Path) -> None:
    result = _run("create-account", "--data-dir", str(data_dir), "--account-id", "111122223333")
    assert result.exit_code != 0
    assert "111122223333 exists already" in result.output
    result = _run("create-account", "--data-dir", str(data_dir), "--account-id", "12345")
    assert result.exit_code != 0
    assert "12 digits" in result.output


def test_create_account_picks_a_random_id(data_dir: Path) -> None:
    first = _run("create-account", "--data-dir", str(data_dir))
    second = _run("create-account", "--data-dir", str(data_dir))
    ids = [re.search(r"Account:\s+(\d{12})", r.output) for r in (first, second)]
    assert ids[0] is not None
    assert ids[1] is not None
    assert ids[0].group(1) != ids[1].group(1)
    key_id, secret = _credentials(second.output)
    assert _principal_of(data_dir, key_id, secret) == Principal.root(ids[1].group(1))


def test_create_access_key_for_an_existing_account_only(data_dir: Path) -> None:
    result = _run("create-access-key", "--data-dir", str(data_dir), "--account-id", "111122223333")
    assert result.exit_code == 0, result.output
    key_id, secret = _credentials(result.output)
    assert _principal_of(data_dir, key_id, secret) == Principal.root("111122223333")
    missing = _run("create-access-key", "--data-dir", str(data_dir), "--account-id", "999999999999")
    assert missing.exit_code != 0
    assert "no account 999999999999" in missing.output


def test_refuses_a_directory_that_is_not_initialised(tmp_path: Path) -> None:
    result = _run("create-account", "--data-dir", str(tmp_path))
    assert result.exit_code != 0
    assert "not a Strongroom data directory" in result.output


def test_register_and_list_services(data_dir: Path) -> None:
    arn = "arn:aws:iam::111122223333:user/objects-service"
    args = ["--data-dir", str(data_dir), "--name", "objects", "--via-name", "objects.strongroom"]
    result = _run("register-service", *args, "--signing-name", "s3", "--principal", arn)
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(
        admin, ["register-service", *args, "--signing-name", "s3", "--principal", arn]
    )
    assert again.exit_code != 0
    assert "registered already" in again.output
    kms = CliRunner().invoke(
        admin, ["register-service", *args, "--signing-name", "kms", "--principal", arn + "2"]
    )
    assert kms.exit_code != 0
    listed = _run("list-services", "--data-dir", str(data_dir))
    assert listed.output.split() == ["objects", "objects.strongroom", "s3", arn]
