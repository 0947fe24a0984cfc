"""STS over HTTP with boto3 and the AWS CLI: users' keys, AssumeRole as AWS authorizes it (same
account and cross-account), temporary credentials on KMS, and their expiry and token checks."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.expect import error_of
from tests.integration.server import (
    AWS,
    Server,
    create_account,
    dev_server,
    initialised_server,
)

INVALID = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"
OTHER = "444455556666"
Keys = tuple[str, str]  # (access key id, secret access key)


def _trust(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("sts") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def account(server: Server) -> str:
    identity = server.client("sts").get_caller_identity()
    return str(identity["Account"])


@pytest.fixture(scope="module")
def other_root(server: Server) -> Keys:
    """A second account on the same data dir, made by ``strongroom admin`` beside the server."""
    return create_account(server, OTHER)


def _as(server: Server, service: str, keys: Keys | None = None) -> Any:
    """A client signing with ``keys`` (default: the server's root credentials)."""
    if keys is None:
        return server.client(service)
    return server.client(service, access_key=keys[0], secret_key=keys[1])


def _user(server: Server, name: str, root: Keys | None = None) -> tuple[Any, Keys]:
    """A new user in the account of the ``root`` credentials (default: the server's)."""
    iam = _as(server, "iam", root)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return iam, (key["AccessKeyId"], key["SecretAccessKey"])


def _role(server: Server, name: str, trusted: str) -> str:
    role = server.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=_trust(trusted))
    return str(role["Role"]["Arn"])


def _temporary(server: Server, credentials: dict[str, Any], service: str) -> Any:
    return server.client(
        service,
        access_key=credentials["AccessKeyId"],
        secret_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_caller_identity_of_root_and_user(server: Server, account: str) -> None:
    assert server.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:root"
    _, alice = _user(server, "alice")
    identity = _as(server, "sts", alice).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{account}:user/alice"
    assert identity["UserId"].startswith("AIDA")
    assert identity["Account"] == account


def test_inactive_key_is_refused(server: Server) -> None:
    iam, carol = _user(server, "carol")
    iam.update_access_key(UserName="carol", AccessKeyId=carol[0], Status="Inactive")
    sts = _as(server, "sts", carol)
    assert error_of(sts.get_caller_identity) == (403, "InvalidClientTokenId", INVALID)
    kms = _as(server, "kms", carol)
    assert error_of(kms.list_keys) == (400, "UnrecognizedClientException", INVALID)


def test_assume_role_trusting_the_user_and_its_credentials_on_kms(
    server: Server, account: str
) -> None:
    iam, dave = _user(server, "dave")
    role = iam.create_role(
        RoleName="crypto",
        AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{account}:user/dave"),
        MaxSessionDuration=7200,
    )["Role"]
    iam.put_role_policy(RoleName="crypto", PolicyName="kms", PolicyDocument=_allow("kms:*"))
    result = _as(server, "sts", dave).assume_role(
        RoleArn=role["Arn"], RoleSessionName="job-1", DurationSeconds=7200
    )
    session_arn = f"arn:aws:sts::{account}:assumed-role/crypto/job-1"
    assert result["AssumedRoleUser"]["Arn"] == session_arn
    assert result["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:job-1"
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    identity = _temporary(server, creds, "sts").get_caller_identity()
    assert identity["Arn"] == session_arn
    kms = _temporary(server, creds, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"
    too_long = _as(server, "sts", dave).assume_role
    assert error_of(
        too_long, RoleArn=role["Arn"], RoleSessionName="job-2", DurationSeconds=7201
    ) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


def test_trust_naming_the_account_needs_the_users_identity_policy(
    server: Server, account: str
) -> None:
    iam, erin = _user(server, "erin")
    role_arn = iam.create_role(
        RoleName="delegated", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{account}:root")
    )["Role"]["Arn"]
    sts = _as(server, "sts", erin)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="try") == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::{account}:user/erin is not authorized to perform: sts:AssumeRole "
        f"on resource: {role_arn}",
    )
    iam.put_user_policy(
        UserName="erin", PolicyName="assume", PolicyDocument=_allow("sts:AssumeRole", role_arn)
    )
    result = sts.assume_role(RoleArn=role_arn, RoleSessionName="try")
    assert result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/delegated/try")


def test_root_cannot_assume_roles(server: Server, account: str) -> None:
    role_arn = _role(server, "noroot", f"arn:aws:iam::{account}:root")
    sts = server.client("sts")
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="root") == (
        403,
        "AccessDenied",
        "Roles may not be assumed by root accounts.",
    )


def test_cross_account_role(server: Server, account: str, other_root: Keys) -> None:
    role_arn = _role(server, "partner", f"arn:aws:iam::{OTHER}:root")
    assert _as(server, "sts", other_root).get_caller_identity()["Account"] == OTHER
    other_iam, frank = _user(server, "frank", other_root)
    sts = _as(server, "sts", frank)
    code = error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="visit")[1]
    assert code == "AccessDenied"
    other_iam.put_user_policy(
        UserName="frank", PolicyName="go", PolicyDocument=_allow("sts:AssumeRole", role_arn)
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="visit")["Credentials"]
    identity = _temporary(server, creds, "sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/partner/visit"
    assert identity["Account"] == account


def test_session_token_missing_or_wrong(server: Server) -> None:
    _, gina = _user(server, "gina")
    creds = _as(server, "sts", gina).get_session_token(DurationSeconds=900)["Credentials"]
    bare = server.client(
        "kms", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"]
    )
    assert error_of(bare.list_keys) == (400, "UnrecognizedClientException", INVALID)
    wrong = _temporary(server, {**creds, "SessionToken": "A" * 356}, "kms")
    assert error_of(wrong.list_keys) == (400, "UnrecognizedClientException", INVALID)
    sts = _temporary(server, creds, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(":user/gina")


def _cli(server: Server, *args: str, **credentials: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    if "SessionToken" in credentials:
        env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    done = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_aws_cli_get_caller_identity_and_assume_role(server: Server, account: str) -> None:
    iam, hank = _user(server, "hank")
    role_arn = iam.create_role(
        RoleName="cli-role", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{account}:user/hank")
    )["Role"]["Arn"]
    keys = {"AccessKeyId": hank[0], "SecretAccessKey": hank[1]}
    assert _cli(server, "sts", "get-caller-identity", **keys)["Arn"].endswith(":user/hank")
    assumed = _cli(
        server, "sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli", **keys
    )
    identity = _cli(server, "sts", "get-caller-identity", **assumed["Credentials"])
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/cli-role/cli"


# -- expiry, on a dev server whose clock can be moved --------------------------------------------


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = dev_server(tmp_path_factory.mktemp("sts-dev") / "data")
    yield started
    started.stop()


def test_expired_session_on_the_dev_clock(moving: Server) -> None:
    iam, ivy = _user(moving, "ivy")  # the dev account's root creates a real, enforced user
    role_arn = iam.create_role(
        RoleName="short", AssumeRolePolicyDocument=_trust("arn:aws:iam::000000000000:user/ivy")
    )["Role"]["Arn"]
    creds = _as(moving, "sts", ivy).assume_role(
        RoleArn=role_arn, RoleSessionName="tick", DurationSeconds=900
    )["Credentials"]
    sts = _temporary(moving, creds, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/short/tick")
    status, _ = moving.post("/_strongroom/clock", json.dumps({"advance_seconds": 901}).encode())
    assert status == 200
    assert error_of(sts.get_caller_identity) == (403, "ExpiredToken", EXPIRED)
    kms = _temporary(moving, creds, "kms")
    assert error_of(kms.list_keys) == (400, "ExpiredTokenException", EXPIRED)
    # dev mode still takes unknown keys as its root, and never an unknown session
    assert moving.client("sts").get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    unknown = _temporary(moving, {**creds, "AccessKeyId": "ASIAUNKNOWNUNKNOWN00"}, "sts")
    assert error_of(unknown.get_caller_identity)[1] == "InvalidClientTokenId"
