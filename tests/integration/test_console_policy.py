"""The console's default key policy over HTTP: ``strongroom keys create`` run beside a live server,
then what its key administrators and key users may and may not do."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import STRONGROOM, Server, initialised_server

ACCOUNT = "111122223333"
DENIED = "AccessDeniedException"


@dataclass(frozen=True)
class Setup:
    server: Server
    key_arn: str
    admin: Any  # boto3 KMS clients signed as each user
    user: Any
    admin_arn: str
    user_arn: str


def _user_client(server: Server, name: str) -> tuple[Any, str]:
    iam = server.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    kms = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    return kms, str(arn)


def _keys_create(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STRONGROOM, "keys", "create", "--data-dir", str(server.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    server = initialised_server(tmp_path_factory.mktemp("console-policy") / "data")
    try:
        admin, admin_arn = _user_client(server, "key-admin")
        user, user_arn = _user_client(server, "key-user")
        done = _keys_create(server, "--admin", admin_arn, "--user", user_arn, "--description", "c")
        assert done.returncode == 0, done.stderr
        key_arn = str(json.loads(done.stdout)["Arn"])
        yield Setup(server, key_arn, admin, user, admin_arn, user_arn)
    finally:
        server.stop()


def test_the_server_serves_the_console_policy(setup: Setup) -> None:
    kms = setup.server.client()
    policy = json.loads(kms.get_key_policy(KeyId=setup.key_arn, PolicyName="default")["Policy"])
    assert policy["Id"] == "key-consolepolicy-3"
    assert [s["Sid"] for s in policy["Statement"]] == [
        "Enable IAM User Permissions",
        "Allow access for Key Administrators",
        "Allow use of the key",
        "Allow attachment of persistent resources",
    ]
    assert kms.describe_key(KeyId=setup.key_arn)["KeyMetadata"]["Description"] == "c"


def test_the_administrator_manages_but_cannot_use_the_key(setup: Setup) -> None:
    admin, key = setup.admin, setup.key_arn
    assert admin.describe_key(KeyId=key)["KeyMetadata"]["Arn"] == key
    policy = admin.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    admin.put_key_policy(KeyId=key, PolicyName="default", Policy=policy)
    code, message, status = aws_error(admin.encrypt, KeyId=key, Plaintext=b"secret")
    assert (code, status) == (DENIED, 400)
    assert f"User: {setup.admin_arn} is not authorized to perform: kms:Encrypt" in message
    admin.disable_key(KeyId=key)
    admin.enable_key(KeyId=key)


def test_the_key_user_encrypts_but_cannot_schedule_deletion(setup: Setup) -> None:
    user, key = setup.user, setup.key_arn
    blob = user.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert user.generate_data_key(KeyId=key, KeySpec="AES_256")["KeyId"] == key
    code, _, _ = aws_error(user.schedule_key_deletion, KeyId=key, PendingWindowInDays=7)
    assert code == DENIED
    code, _, _ = aws_error(user.put_key_policy, KeyId=key, PolicyName="default", Policy="{}")
    assert code == DENIED


def test_a_direct_create_grant_is_not_for_an_aws_resource(setup: Setup) -> None:
    """A plain client's CreateGrant has kms:GrantIsForAWSResource false, so the grants statement
    does not apply. Until CreateGrant is served the answer is UnsupportedOperationException."""
    code, _, _ = aws_error(
        setup.user.create_grant,
        KeyId=setup.key_arn,
        GranteePrincipal=setup.user_arn,
        Operations=["Decrypt"],
    )
    assert code in {DENIED, "UnsupportedOperationException"}


def test_an_unknown_principal_is_refused_with_awss_message(setup: Setup) -> None:
    done = _keys_create(setup.server, "--admin", f"arn:aws:iam::{ACCOUNT}:user/nobody")
    assert done.returncode == 1
    assert "MalformedPolicyDocumentException" in done.stderr
    assert "one or more invalid principals" in done.stderr
