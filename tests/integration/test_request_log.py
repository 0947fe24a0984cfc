"""The request record over HTTP: with ``--request-log`` every call (KMS, IAM, STS, admin; allowed,
denied or refused) writes one JSON line with its request id, who called, what was decided and by
what, the key and material it used, and how it ended; and never a secret."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.server import Server, initialised_server

CONTEXT = {"tenant": "blue"}
PLAINTEXT = b"request-log-plaintext-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("record") / "data", "--request-log")
    yield started
    started.stop()


def _lines(server: Server, request_id: str, wait: float = 5.0) -> list[dict[str, Any]]:
    """The log lines of ``request_id`` (the line is written just after the reply is sent)."""
    deadline = time.monotonic() + wait
    while True:
        found = [
            json.loads(line)
            for line in server.log_path.read_text().splitlines()
            if line.startswith("{") and request_id in line
        ]
        if found or time.monotonic() > deadline:
            return [line for line in found if line["requestId"] == request_id]
        time.sleep(0.05)


def _one(server: Server, request_id: str) -> dict[str, Any]:
    (line,) = _lines(server, request_id)
    return line


def _request_id(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


def test_an_encrypt_is_recorded_with_its_decision_key_and_material(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key(Description="recorded")["KeyMetadata"]
    reply = kms.encrypt(KeyId=meta["Arn"], Plaintext=PLAINTEXT, EncryptionContext=CONTEXT)
    line = _one(server, _request_id(reply))
    assert line["eventSource"] == "kms"
    assert line["eventName"] == "Encrypt"
    assert line["awsRegion"] == "us-east-1"
    assert line["status"] == 200
    assert "errorCode" not in line
    assert line["userIdentity"]["type"] == "Root"
    assert line["userIdentity"]["arn"].endswith(":root")
    assert line["userIdentity"]["accessKeyId"] == server.access_key
    assert line["keyMaterialId"] == meta["CurrentKeyMaterialId"]
    (decision,) = line["decisions"]
    assert decision == {
        "action": "kms:Encrypt",
        "resource": meta["Arn"],
        "allowed": True,
        "by": ["key policy/Enable IAM User Permissions"],
    }
    assert line["requestParameters"] == {"KeyId": meta["Arn"], "EncryptionContext": CONTEXT}
    assert line["durationMs"] >= 0
    assert line["userAgent"].startswith("Boto3/")


def test_a_denied_call_is_recorded_with_its_error(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    kms = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    arn = server.client().create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(Exception) as caught:
        kms.describe_key(KeyId=arn)
    response = caught.value.response  # type: ignore[attr-defined]
    line = _one(server, _request_id(response))
    assert line["status"] == 400
    assert line["errorCode"] == "AccessDeniedException"
    assert line["userIdentity"]["type"] == "IAMUser"
    assert line["userIdentity"]["arn"].endswith(":user/nobody")
    assert line["userIdentity"]["accessKeyId"] == key["AccessKeyId"]
    # The key policy's root statement delegated to identity policies, and none allowed it.
    assert line["decisions"] == [
        {
            "action": "kms:DescribeKey",
            "resource": arn,
            "allowed": False,
            "by": ["key policy/Enable IAM User Permissions"],
        }
    ]


def test_a_call_a_grant_allowed_names_the_grant(server: Server) -> None:
    iam = server.client("iam")
    user = iam.create_user(UserName="grantee")["User"]
    key = iam.create_access_key(UserName="grantee")["AccessKey"]
    owner = server.client()
    arn = owner.create_key()["KeyMetadata"]["Arn"]
    grant_id = owner.create_grant(KeyId=arn, GranteePrincipal=user["Arn"], Operations=["Encrypt"])[
        "GrantId"
    ]
    kms = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    for _ in range(2):  # the second is decided from the memo, and recorded the same
        line = _one(server, _request_id(kms.encrypt(KeyId=arn, Plaintext=PLAINTEXT)))
        assert line["decisions"] == [
            {
                "action": "kms:Encrypt",
                "resource": arn,
                "allowed": True,
                "by": [f"grant {grant_id}/#1"],
            }
        ]


def test_iam_sts_and_refused_requests_are_recorded(server: Server) -> None:
    created = server.client("iam").create_user(UserName="recorded-user")
    line = _one(server, _request_id(created))
    assert (line["eventSource"], line["eventName"], line["status"]) == ("iam", "CreateUser", 200)
    assert line["requestParameters"] == {"UserName": "recorded-user"}
    assert line["decisions"][0]["action"] == "iam:CreateUser"

    identity = server.client("sts").get_caller_identity()
    line = _one(server, _request_id(identity))
    assert (line["eventSource"], line["eventName"]) == ("sts", "GetCallerIdentity")

    kms = server.client(validate=False)
    with pytest.raises(Exception) as caught:
        kms.encrypt(KeyId="alias/none", Plaintext=b"")
    line = _one(server, _request_id(caught.value.response))  # type: ignore[attr-defined]
    assert line["status"] == 400
    assert line["errorCode"] == "ValidationException"
    assert line["decisions"] == []


def test_a_role_session_is_recorded_as_cloudtrails_assumed_role(server: Server) -> None:
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    iam.create_user(UserName="assumer")
    user_key = iam.create_access_key(UserName="assumer")["AccessKey"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
             "Action": "sts:AssumeRole"}
        ],
    }  # fmt: skip
    role_arn = iam.create_role(RoleName="logged", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    iam.put_user_policy(UserName="assumer", PolicyName="a", PolicyDocument=json.dumps(allow))
    sts = server.client(
        "sts", access_key=user_key["AccessKeyId"], secret_key=user_key["SecretAccessKey"]
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="job")["Credentials"]
    session = server.client(
        "sts",
        access_key=creds["AccessKeyId"],
        secret_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    line = _one(server, _request_id(session.get_caller_identity()))
    identity = line["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{account}:assumed-role/logged/job"
    assert identity["accessKeyId"] == creds["AccessKeyId"]
    assert identity["sessionCredentials"] is True
    assert creds["SessionToken"] not in server.log_path.read_text()
    assert creds["SecretAccessKey"] not in server.log_path.read_text()


def test_an_unsigned_caller_is_recorded_without_a_principal(server: Server) -> None:
    stranger = server.client(access_key="AKIAUNKNOWNUNKNOWN00", secret_key="x" * 40)
    with pytest.raises(Exception) as caught:
        stranger.list_keys()
    response = caught.value.response  # type: ignore[attr-defined]
    line = _one(server, _request_id(response))
    assert line["status"] == 400
    assert line["userIdentity"] == {"accessKeyId": "AKIAUNKNOWNUNKNOWN00"}
    assert line["errorCode"] == response["Error"]["Code"]


def test_no_line_holds_a_secret(server: Server) -> None:
    """Plaintext (raw or base64), data keys, ciphertexts and secret keys are nowhere."""
    kms = server.client()
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=arn, Plaintext=PLAINTEXT)["CiphertextBlob"]
    data_key = kms.generate_data_key(KeyId=arn, KeySpec="AES_256")
    decrypted = kms.decrypt(CiphertextBlob=blob)
    assert _lines(server, _request_id(decrypted))
    iam = server.client("iam")
    iam.create_user(UserName="secretive")
    secret = iam.create_access_key(UserName="secretive")["AccessKey"]["SecretAccessKey"]
    text = server.log_path.read_text()
    for value in (PLAINTEXT, blob, data_key["Plaintext"], data_key["CiphertextBlob"]):
        assert base64.b64encode(value).decode() not in text
        assert value.decode("latin-1") not in text
    assert secret not in text
    assert server.secret_key not in text


def test_the_log_is_off_unless_asked_for(tmp_path_factory: pytest.TempPathFactory) -> None:
    quiet = initialised_server(tmp_path_factory.mktemp("quiet") / "data")
    try:
        reply = quiet.client().list_keys()
        assert _lines(quiet, _request_id(reply), wait=0.5) == []
    finally:
        quiet.stop()


def test_a_stopped_server_writes_its_last_lines(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Lines wait to be written together (up to 50 ms); a server that stops writes those
    waiting, so every call it answered is in the log."""
    stopping = initialised_server(tmp_path_factory.mktemp("stopping") / "data", "--request-log")
    try:
        client = stopping.client()
        ids = [_request_id(client.list_keys()) for _ in range(40)]
    finally:
        stopping.stop()
    logged = {
        json.loads(line)["requestId"]
        for line in stopping.log_path.read_text().splitlines()
        if line.startswith("{")
    }
    assert set(ids) <= logged
