"""KMS authorization over HTTP, as AWS evaluates it (kms-spec.md 6-8): each scenario with the
allowed side and the denied side, through boto3 (and the AWS CLI where noted).

A production-mode server with two accounts; users, groups and roles made through the IAM API.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import AWS, Server, create_account, initialised_server

A = "111122223333"
B = "444455556666"
Keys = tuple[str, str]
DENIED = "AccessDeniedException"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


ROOT_STATEMENT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("authz") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def root_b(server: Server) -> Keys:
    return create_account(server, B)


def client(server: Server, service: str, keys: Keys | None = None) -> Any:
    if keys is None:
        return server.client(service)
    return server.client(service, access_key=keys[0], secret_key=keys[1])


def new_user(server: Server, name: str, root: Keys | None = None) -> Keys:
    iam = client(server, "iam", root)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def new_key(server: Server, policy: str | None = None, **extra: Any) -> str:
    kms = client(server, "kms")
    params: dict[str, Any] = {"Policy": policy, **extra} if policy else {}
    return str(kms.create_key(**params)["KeyMetadata"]["Arn"])


def test_a_user_allowed_only_through_its_group(server: Server) -> None:
    alice = new_user(server, "alice")
    iam = client(server, "iam")
    iam.create_group(GroupName="crypto-users")
    iam.put_group_policy(
        GroupName="crypto-users",
        PolicyName="use-keys",
        PolicyDocument=doc(allow(["kms:Encrypt", "kms:Decrypt"])),
    )
    key = new_key(server)
    kms = client(server, "kms", alice)
    code, message, status = aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")
    assert (code, status) == (DENIED, 400)
    assert message == (
        f"User: arn:aws:iam::{A}:user/alice is not authorized to perform: kms:Encrypt on "
        f"resource: {key} because no identity-based policy allows the kms:Encrypt action"
    )
    iam.add_user_to_group(GroupName="crypto-users", UserName="alice")
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert aws_error(kms.schedule_key_deletion, KeyId=key)[0] == DENIED
    iam.remove_user_from_group(GroupName="crypto-users", UserName="alice")
    assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")[0] == DENIED


def test_a_key_policy_without_the_root_statement_makes_identity_policies_useless(
    server: Server,
) -> None:
    bob = new_user(server, "bob")
    carol = new_user(server, "carol")
    iam = client(server, "iam")
    for user in ("bob", "carol"):
        iam.put_user_policy(UserName=user, PolicyName="all-kms", PolicyDocument=doc(allow("kms:*")))
    only_bob = doc(
        {
            "Sid": "Bob only",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:user/bob"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    key = new_key(server, only_bob, BypassPolicyLockoutSafetyCheck=True)
    assert client(server, "kms", bob).describe_key(KeyId=key)["KeyMetadata"]["Arn"] == key
    code, message, _ = aws_error(client(server, "kms", carol).describe_key, KeyId=key)
    assert code == DENIED
    assert message.endswith("because no resource-based policy allows the kms:DescribeKey action")
    # Not even the account root: the key policy does not name the account.
    assert aws_error(client(server, "kms").describe_key, KeyId=key)[0] == DENIED


def test_an_explicit_deny_beats_every_allow(server: Server) -> None:
    dan = new_user(server, "dan")
    iam = client(server, "iam")
    iam.put_user_policy(UserName="dan", PolicyName="all-kms", PolicyDocument=doc(allow("kms:*")))
    deny_decrypt = {
        "Sid": "No decrypting for dan",
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{A}:user/dan"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key = new_key(server, doc(ROOT_STATEMENT, deny_decrypt))
    kms = client(server, "kms", dan)
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    code, message, _ = aws_error(kms.decrypt, CiphertextBlob=blob)
    assert code == DENIED
    assert message.endswith("with an explicit deny in a resource-based policy")
    iam.put_user_policy(
        UserName="dan",
        PolicyName="no-encrypt",
        PolicyDocument=doc({"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}),
    )
    code, message, _ = aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")
    assert message.endswith("with an explicit deny in an identity-based policy")
    assert client(server, "kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_a_role_of_another_account_on_a_key_that_allows_that_account(
    server: Server, root_b: Keys
) -> None:
    # In account B: user erin may assume role "reader", whose policy allows Decrypt on the key.
    erin = new_user(server, "erin", root_b)
    iam_b = client(server, "iam", root_b)
    role_arn = iam_b.create_role(
        RoleName="reader",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:user/erin"},
             "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]  # fmt: skip
    allow_b = {
        "Sid": "Account B may decrypt",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
    }
    shared = new_key(server, doc(ROOT_STATEMENT, allow_b))
    private = new_key(server)
    kms_a = client(server, "kms")
    shared_blob = kms_a.encrypt(KeyId=shared, Plaintext=b"shared")["CiphertextBlob"]
    private_blob = kms_a.encrypt(KeyId=private, Plaintext=b"private")["CiphertextBlob"]
    creds = client(server, "sts", erin).assume_role(RoleArn=role_arn, RoleSessionName="job")[
        "Credentials"
    ]
    session = server.client(
        "kms",
        access_key=creds["AccessKeyId"],
        secret_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    # The role has no identity policy yet: the key policy alone is not enough across accounts.
    assert aws_error(session.decrypt, CiphertextBlob=shared_blob)[0] == DENIED
    iam_b.put_role_policy(
        RoleName="reader",
        PolicyName="decrypt-shared",
        PolicyDocument=doc(allow(["kms:Decrypt", "kms:DescribeKey"], f"arn:aws:kms:*:{A}:key/*")),
    )
    assert session.decrypt(CiphertextBlob=shared_blob)["Plaintext"] == b"shared"
    assert session.describe_key(KeyId=shared)["KeyMetadata"]["Arn"] == shared
    # The private key's policy does not allow account B.
    assert aws_error(session.decrypt, CiphertextBlob=private_blob)[0] == DENIED
    # Only the actions that can work across accounts ever do.
    assert aws_error(session.disable_key, KeyId=shared)[0] == DENIED


def test_an_encryption_context_condition_lets_one_tenant_through(server: Server) -> None:
    frank = new_user(server, "frank")
    blue_only = {
        "Sid": "Blue tenant only",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:user/frank"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "blue"}},
    }
    key = new_key(server, doc(ROOT_STATEMENT, blue_only))
    kms_root = client(server, "kms")
    blue = kms_root.encrypt(KeyId=key, Plaintext=b"b", EncryptionContext={"tenant": "blue"})
    red = kms_root.encrypt(KeyId=key, Plaintext=b"r", EncryptionContext={"tenant": "red"})
    kms = client(server, "kms", frank)
    out = kms.decrypt(CiphertextBlob=blue["CiphertextBlob"], EncryptionContext={"tenant": "blue"})
    assert out["Plaintext"] == b"b"
    code, _, _ = aws_error(
        kms.decrypt, CiphertextBlob=red["CiphertextBlob"], EncryptionContext={"tenant": "red"}
    )
    assert code == DENIED


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
        ({"NotIpAddress": {"aws:SourceIp": "127.0.0.1/32"}}, False),
        ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, True),
        ({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, False),
    ],
)
def test_source_ip_and_current_time_conditions(
    server: Server, condition: dict[str, Any], allowed: bool
) -> None:
    name = f"cond-{abs(hash(json.dumps(condition))) % 10**8}"
    keys = new_user(server, name)
    client(server, "iam").put_user_policy(
        UserName=name,
        PolicyName="conditional",
        PolicyDocument=doc(allow("kms:*", Condition=condition)),
    )
    key = new_key(server)
    kms = client(server, "kms", keys)
    if allowed:
        assert kms.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key
    else:
        assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")[0] == DENIED


def test_the_lockout_check_and_its_bypass(server: Server) -> None:
    kms = client(server, "kms")
    key = new_key(server)
    new_user(server, "grace")
    only_grace = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:user/grace"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    code, message, status = aws_error(kms.put_key_policy, KeyId=key, PolicyName="default",
                                      Policy=only_grace)  # fmt: skip
    assert (code, status) == ("MalformedPolicyDocumentException", 400)
    assert (
        message == "The new key policy will not allow you to update the key policy in the future."
    )
    code, _, _ = aws_error(kms.create_key, Policy=only_grace)
    assert code == "MalformedPolicyDocumentException"
    kms.put_key_policy(
        KeyId=key, PolicyName="default", Policy=only_grace, BypassPolicyLockoutSafetyCheck=True
    )
    assert aws_error(kms.get_key_policy, KeyId=key, PolicyName="default")[0] == DENIED


def test_key_policy_checks(server: Server) -> None:
    kms = client(server, "kms")
    key = new_key(server)
    ghost = doc({**ROOT_STATEMENT, "Principal": {"AWS": f"arn:aws:iam::{A}:user/nobody"}})
    code, message, _ = aws_error(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=ghost)
    assert (code, message) == (
        "MalformedPolicyDocumentException",
        "Policy contains a statement with one or more invalid principals.",
    )
    bad_operator = doc({**ROOT_STATEMENT, "Condition": {"StringEqualz": {"aws:username": "x"}}})
    code, _, _ = aws_error(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=bad_operator)
    assert code == "MalformedPolicyDocumentException"
    big = doc({**ROOT_STATEMENT, "Sid": "x" * 33_000})
    assert aws_error(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=big)[0] == (
        "LimitExceededException"
    )
    mine = doc(ROOT_STATEMENT, {**ROOT_STATEMENT, "Sid": "Second"})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=mine)
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == mine


def test_list_keys_needs_an_identity_policy(server: Server) -> None:
    heidi = new_user(server, "heidi")
    kms = client(server, "kms", heidi)
    code, message, _ = aws_error(kms.list_keys)
    assert code == DENIED
    assert message == (
        f"User: arn:aws:iam::{A}:user/heidi is not authorized to perform: kms:ListKeys on "
        "resource: * because no identity-based policy allows the kms:ListKeys action"
    )
    client(server, "iam").put_user_policy(
        UserName="heidi", PolicyName="list", PolicyDocument=doc(allow("kms:ListKeys"))
    )
    assert "Keys" in kms.list_keys()
    assert aws_error(kms.list_aliases)[0] == DENIED
    assert aws_error(kms.create_key)[0] == DENIED


def test_denials_with_the_aws_cli(server: Server) -> None:
    ivan = new_user(server, "ivan")
    env = {**server.cli_env(), "AWS_ACCESS_KEY_ID": ivan[0], "AWS_SECRET_ACCESS_KEY": ivan[1]}

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    denied = aws("kms", "list-keys")
    assert denied.returncode != 0
    assert "AccessDeniedException" in denied.stderr
    assert f"arn:aws:iam::{A}:user/ivan is not authorized to perform: kms:ListKeys" in denied.stderr
    server.aws(
        "iam", "put-user-policy", "--user-name", "ivan", "--policy-name", "list",
        "--policy-document", doc(allow("kms:ListKeys")), check=True,
    )  # fmt: skip
    allowed = aws("kms", "list-keys")
    assert allowed.returncode == 0, allowed.stderr
    assert "Keys" in json.loads(allowed.stdout)
