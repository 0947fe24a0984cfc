"""The IAM API driven by the AWS CLI (``aws iam ... --endpoint-url``): JSON output, decoded policy
documents, and AWS's error lines and exit status."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.server import Server

ACCOUNT = "000000000000"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
)


def ok(server: Server, *args: str) -> Any:
    done = server.aws("iam", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_users_keys_and_inline_policies(own_dev: Server) -> None:
    user = ok(own_dev, "create-user", "--user-name", "cli-alice", "--tags", "Key=t,Value=1")
    assert user["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-alice"
    assert user["User"]["CreateDate"].endswith("Z")
    assert ok(own_dev, "get-user", "--user-name", "cli-alice")["User"]["UserName"] == "cli-alice"
    assert "cli-alice" in [u["UserName"] for u in ok(own_dev, "list-users")["Users"]]
    key = ok(own_dev, "create-access-key", "--user-name", "cli-alice")["AccessKey"]
    assert key["Status"] == "Active"
    assert len(key["SecretAccessKey"]) == 40
    ok(
        own_dev,
        "put-user-policy",
        "--user-name",
        "cli-alice",
        "--policy-name",
        "p",
        "--policy-document",
        POLICY,
    )
    got = ok(own_dev, "get-user-policy", "--user-name", "cli-alice", "--policy-name", "p")
    assert got["PolicyDocument"] == json.loads(POLICY)
    ok(own_dev, "delete-user-policy", "--user-name", "cli-alice", "--policy-name", "p")
    ok(
        own_dev,
        "delete-access-key",
        "--user-name",
        "cli-alice",
        "--access-key-id",
        key["AccessKeyId"],
    )
    ok(own_dev, "delete-user", "--user-name", "cli-alice")


def test_groups_roles_and_managed_policies(own_dev: Server) -> None:
    ok(own_dev, "create-group", "--group-name", "cli-g")
    ok(
        own_dev,
        "create-role",
        "--role-name",
        "cli-r",
        "--assume-role-policy-document",
        TRUST,
        "--max-session-duration",
        "7200",
    )
    role = ok(own_dev, "get-role", "--role-name", "cli-r")["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    arn = ok(own_dev, "create-policy", "--policy-name", "cli-p", "--policy-document", POLICY)[
        "Policy"
    ]["Arn"]
    ok(own_dev, "attach-group-policy", "--group-name", "cli-g", "--policy-arn", arn)
    ok(own_dev, "attach-role-policy", "--role-name", "cli-r", "--policy-arn", arn)
    attached = ok(own_dev, "list-attached-role-policies", "--role-name", "cli-r")
    assert attached["AttachedPolicies"] == [{"PolicyName": "cli-p", "PolicyArn": arn}]
    assert ok(own_dev, "get-policy", "--policy-arn", arn)["Policy"]["AttachmentCount"] == 2
    ok(own_dev, "detach-group-policy", "--group-name", "cli-g", "--policy-arn", arn)
    ok(own_dev, "detach-role-policy", "--role-name", "cli-r", "--policy-arn", arn)
    ok(own_dev, "delete-policy", "--policy-arn", arn)
    ok(own_dev, "delete-role", "--role-name", "cli-r")
    ok(own_dev, "delete-group", "--group-name", "cli-g")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("get-user", "--user-name", "cli-nobody"),
            "An error occurred (NoSuchEntity) when calling the GetUser operation: "
            "The user with name cli-nobody cannot be found.",
        ),
        (
            ("create-role", "--role-name", "cli-bad", "--assume-role-policy-document", "{}"),
            "An error occurred (MalformedPolicyDocument) when calling the CreateRole operation",
        ),
    ],
)
def test_errors_as_the_cli_prints_them(own_dev: Server, args: tuple[str, ...], line: str) -> None:
    done = own_dev.aws("iam", *args)
    assert done.returncode == 255  # awscli v1: a service error
    assert line in done.stderr
