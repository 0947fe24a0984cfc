"""More of KMS authorization over HTTP: the two halves of ReEncrypt and of alias operations,
tag and alias condition keys, the explain API and CLI, and the scenarios through the AWS CLI."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.expect import aws_error
from tests.integration.server import AWS, STRONGROOM, Server, initialised_server
from tests.integration.test_authorization import (
    DENIED,
    ROOT_STATEMENT,
    A,
    Keys,
    allow,
    client,
    doc,
    new_key,
    new_user,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("authz-keys") / "data")
    yield started
    started.stop()


def grant(server: Server, user: str, *statements: dict[str, Any]) -> None:
    client(server, "iam").put_user_policy(
        UserName=user, PolicyName="p", PolicyDocument=doc(*statements)
    )


def test_reencrypt_needs_both_halves(server: Server) -> None:
    keys = new_user(server, "reencryptor")
    source, destination = new_key(server), new_key(server)
    blob = client(server, "kms").encrypt(KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    kms = client(server, "kms", keys)
    grant(server, "reencryptor", allow("kms:ReEncryptFrom", source))
    code, message, _ = aws_error(kms.re_encrypt, CiphertextBlob=blob, DestinationKeyId=destination)
    assert code == DENIED
    assert f"kms:ReEncryptTo on resource: {destination}" in message
    grant(server, "reencryptor", allow("kms:ReEncrypt*"))
    out = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert out["KeyId"] == destination


def test_alias_operations_need_the_alias_and_the_key(server: Server) -> None:
    keys = new_user(server, "aliaser")
    key = new_key(server)
    kms = client(server, "kms", keys)
    alias_arn = f"arn:aws:kms:us-east-1:{A}:alias/team-key"
    grant(server, "aliaser", allow("kms:CreateAlias", key))
    code, message, _ = aws_error(kms.create_alias, AliasName="alias/team-key", TargetKeyId=key)
    assert code == DENIED
    assert f"kms:CreateAlias on resource: {alias_arn}" in message
    grant(server, "aliaser", allow("kms:CreateAlias", [key, alias_arn]))
    kms.create_alias(AliasName="alias/team-key", TargetKeyId=key)


def test_resource_tag_and_alias_conditions(server: Server) -> None:
    keys = new_user(server, "tagged")
    tagged = client(server, "kms").create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])
    blue = tagged["KeyMetadata"]["Arn"]
    other = new_key(server)
    client(server, "kms").create_alias(AliasName="alias/blue-app", TargetKeyId=other)
    grant(
        server,
        "tagged",
        allow("kms:Encrypt", Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}}),
        allow(
            "kms:DescribeKey",
            Condition={"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/blue-*"}},
        ),
        allow(
            "kms:GenerateDataKey",
            Condition={"StringEquals": {"kms:RequestAlias": "alias/blue-app"}},
        ),
    )
    kms = client(server, "kms", keys)
    assert kms.encrypt(KeyId=blue, Plaintext=b"x")["KeyId"] == blue
    assert aws_error(kms.encrypt, KeyId=other, Plaintext=b"x")[0] == DENIED
    assert kms.describe_key(KeyId=other)["KeyMetadata"]["Arn"] == other
    assert aws_error(kms.describe_key, KeyId=blue)[0] == DENIED
    assert kms.generate_data_key(KeyId="alias/blue-app", KeySpec="AES_256")["KeyId"] == other
    assert aws_error(kms.generate_data_key, KeyId=other, KeySpec="AES_256")[0] == DENIED


def _explain(server: Server, body: dict[str, Any], keys: Keys | None = None) -> tuple[int, Any]:
    access, secret = keys or (server.access_key, server.secret_key)
    data = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=data,
        headers={
            "X-Amz-Target": "StrongroomAdmin.ExplainDecision",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(access, secret), "kms", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        request.url, data=data, headers=dict(request.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def test_explain_api_and_cli(server: Server) -> None:
    keys = new_user(server, "explained")
    tenant = {
        "Sid": "Tenant blue",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:user/explained"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "blue"}},
    }
    key = new_key(server, doc(ROOT_STATEMENT, tenant))
    user_arn = f"arn:aws:iam::{A}:user/explained"
    status, allowed = _explain(
        server,
        {"PrincipalArn": user_arn, "Action": "kms:Decrypt", "KeyId": key,
         "EncryptionContext": {"tenant": "blue"}},
    )  # fmt: skip
    assert status == 200
    assert allowed["Decision"] == "ALLOW"
    assert allowed["Statements"][0]["Sid"] == "Tenant blue"
    status, denied = _explain(
        server, {"PrincipalArn": user_arn, "Action": "kms:Decrypt", "KeyId": key}
    )
    assert denied["Decision"] == "DENY"
    assert denied["Denial"] == "NO_IDENTITY_ALLOW"
    status, refused = _explain(
        server, {"PrincipalArn": user_arn, "Action": "kms:Decrypt", "KeyId": key}, keys
    )
    assert (status, refused["__type"]) == (400, DENIED)

    def explain_cli(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [STRONGROOM, "policy", "explain", "--data-dir", str(server.data_dir),
             "--principal", user_arn, "--action", "kms:Decrypt", "--key", key, *extra],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    yes = explain_cli("--context", "tenant=blue")
    assert yes.returncode == 0, yes.stderr
    assert yes.stdout.startswith("ALLOW")
    assert '"Tenant blue"' in yes.stdout or "'Tenant blue'" in yes.stdout
    no = explain_cli("--context", "tenant=red")
    assert no.returncode == 1
    assert "because no identity-based policy allows the kms:Decrypt action" in no.stdout


def test_group_and_lockout_scenarios_with_the_aws_cli(server: Server) -> None:
    keys = new_user(server, "cli-user")
    key = new_key(server)
    user_env = {**server.cli_env(), "AWS_ACCESS_KEY_ID": keys[0], "AWS_SECRET_ACCESS_KEY": keys[1]}

    def as_user(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
            env=user_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    denied = as_user("kms", "describe-key", "--key-id", key)
    assert denied.returncode != 0
    assert DENIED in denied.stderr
    for args in (
        ("iam", "create-group", "--group-name", "cli-group"),
        ("iam", "put-group-policy", "--group-name", "cli-group", "--policy-name", "d",
         "--policy-document", doc(allow("kms:DescribeKey"))),
        ("iam", "add-user-to-group", "--group-name", "cli-group", "--user-name", "cli-user"),
    ):  # fmt: skip
        server.aws(*args, check=True)
    allowed = as_user("kms", "describe-key", "--key-id", key)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["KeyMetadata"]["Arn"] == key
    lockout = doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/cli-user"},
         "Action": "kms:*", "Resource": "*"}
    )  # fmt: skip
    refused = server.aws("kms", "put-key-policy", "--key-id", key, "--policy-name", "default",
                         "--policy", lockout)  # fmt: skip
    assert refused.returncode != 0
    assert "The new key policy will not allow you to update the key policy in the future" in (
        refused.stderr
    )
    server.aws("kms", "put-key-policy", "--key-id", key, "--policy-name", "default", "--policy",
               lockout, "--bypass-policy-lockout-safety-check", check=True)  # fmt: skip
    assert as_user("kms", "describe-key", "--key-id", key).returncode == 0
    assert server.aws("kms", "describe-key", "--key-id", key).returncode != 0


def test_explain_sees_the_defaults_a_real_request_sees(server: Server) -> None:
    """A policy on kms:EncryptionAlgorithm = SYMMETRIC_DEFAULT allows Encrypt without the member,
    both for the real request and for the explanation; one naming another algorithm does not."""
    keys = new_user(server, "defaults")
    user_arn = f"arn:aws:iam::{A}:user/defaults"

    def allow(algorithm: str) -> dict[str, Any]:
        return {
            "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": algorithm}},
        }  # fmt: skip

    defaulted = new_key(server, doc(ROOT_STATEMENT, allow("SYMMETRIC_DEFAULT")))
    other = new_key(server, doc(ROOT_STATEMENT, allow("RSAES_OAEP_SHA_256")))
    user = server.client(access_key=keys[0], secret_key=keys[1])
    assert user.encrypt(KeyId=defaulted, Plaintext=b"x")["KeyId"].endswith(defaulted)
    with pytest.raises(ClientError):
        user.encrypt(KeyId=other, Plaintext=b"x")
    body = {"PrincipalArn": user_arn, "Action": "kms:Encrypt"}
    assert _explain(server, {**body, "KeyId": defaulted})[1]["Decision"] == "ALLOW"
    assert _explain(server, {**body, "KeyId": other})[1]["Decision"] == "DENY"
