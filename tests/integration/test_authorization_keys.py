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
from tests.integration.server import (
    AWS,
    STRONGROOM,
    Reply,
    Server,
    create_account,
    initialised_server,
    raw_post,
)
from tests.integration.test_authorization import (
    DENIED,
    ROOT_STATEMENT,
    A,
    B,
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


# -- ExplainDecision: one account learns nothing of another's; a model-checked input --------------

EXPLAIN = "StrongroomAdmin.ExplainDecision"
NOT_FOUND = "NotFoundException"
MISSING_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def root_b(server: Server) -> Keys:
    """The root of a second account, B, beside the server's own account A."""
    return create_account(server, B)


@pytest.fixture(scope="module")
def victim(server: Server) -> dict[str, str]:
    """In account A: user ``victim`` with an inline policy (its name and Sid are A's secrets), a
    key whose policy names the user, and ``alias/a-key`` for it."""
    new_user(server, "victim")
    secret = {"Sid": "VictimSecretSid", **allow("kms:*")}
    client(server, "iam").put_user_policy(
        UserName="victim", PolicyName="victim-secret-policy", PolicyDocument=doc(secret)
    )
    key = new_key(server)
    client(server, "kms").create_alias(AliasName="alias/a-key", TargetKeyId=key)
    return {"arn": f"arn:aws:iam::{A}:user/victim", "key": key}


def _explain_raw(server: Server, body: bytes, keys: Keys | None = None) -> Reply:
    """ExplainDecision as raw bytes both ways, signed by botocore as ``_explain`` signs it."""
    access, secret = keys or (server.access_key, server.secret_key)
    reply = raw_post(server, EXPLAIN, body, access_key=access, secret_key=secret)
    assert reply.status != 500, reply.body
    assert b"Traceback" not in reply.body
    if reply.status != 200:
        assert reply.headers["x-amzn-errortype"] == reply.json()["__type"]
    return reply


def _explain_json(server: Server, body: dict[str, Any], keys: Keys | None = None) -> Reply:
    return _explain_raw(server, json.dumps(body).encode(), keys)


def _shape(reply: Reply, name: str) -> tuple[int, str, bytes]:
    """An error reply with ``name`` (the ARN or key id it was asked about) taken out: what is
    left must not depend on whether it exists."""
    assert name.encode() in reply.body
    return reply.status, reply.headers["x-amzn-errortype"], reply.body.replace(name.encode(), b"@")


def test_explain_refuses_another_accounts_principal_as_a_missing_one(
    server: Server, root_b: Keys, victim: dict[str, str]
) -> None:
    """The reproducer: B's root, with A's account id in the ARN's account field and its own in
    a user path, gets no decision of A's, and nothing tells it A's user exists."""
    reproducer = f"arn:aws:iam::{A}:user/::{B}:/victim"
    body = {"PrincipalArn": reproducer, "Action": "kms:Decrypt", "KeyId": "alias/a-key"}
    reply = _explain_json(server, body, root_b)
    assert reply.error == (400, NOT_FOUND, f"Principal {reproducer} is not found.")
    for secret in (b"VictimSecretSid", b"victim-secret-policy", b"Decision"):
        assert secret not in reply.body
    shapes = set()
    for arn in (
        victim["arn"],  # A's real user
        f"arn:aws:iam::{A}:root",  # A's root
        reproducer,
        f"arn:aws:iam::{A}:user/nobody-anywhere",  # no such user in A
        f"arn:aws:iam::{B}:user/victim",  # no such user in B, the caller's own account
        "arn:aws:iam::999999999999:user/victim",  # no such account
    ):
        for key in ({}, {"KeyId": "alias/a-key"}, {"KeyId": victim["key"]}):
            asked = {"PrincipalArn": arn, "Action": "kms:Decrypt", **key}
            shapes.add(_shape(_explain_json(server, asked, root_b), arn))
    missing = b'{"__type":"NotFoundException","message":"Principal @ is not found."}'
    assert shapes == {(400, NOT_FOUND, missing)}


def test_explain_still_answers_for_the_callers_own_principals(
    server: Server, root_b: Keys, victim: dict[str, str]
) -> None:
    body = {"PrincipalArn": victim["arn"], "Action": "kms:Decrypt", "KeyId": "alias/a-key"}
    reply = _explain_json(server, body)
    assert reply.status == 200
    assert reply.json()["Decision"] == "ALLOW"
    assert "VictimSecretSid" in [s["Sid"] for s in reply.json()["Statements"]]
    # B's root, for B's own user and key.
    new_user(server, "b-user", root_b)
    b_key = client(server, "kms", root_b).create_key()["KeyMetadata"]["Arn"]
    own = _explain_json(
        server,
        {"PrincipalArn": f"arn:aws:iam::{B}:user/b-user", "Action": "kms:Decrypt", "KeyId": b_key},
        root_b,
    )
    assert own.status == 200
    assert own.json()["Decision"] == "DENY"
    assert own.json()["Denial"] == "NO_IDENTITY_ALLOW"
    root = _explain_json(
        server, {"PrincipalArn": f"arn:aws:iam::{B}:root", "Action": "kms:Decrypt"}, root_b
    )
    assert (root.status, root.json()["Decision"]) == (200, "ALLOW")
    # In A itself, the reproducer's path is not the user's: no such principal.
    reproducer = f"arn:aws:iam::{A}:user/::{B}:/victim"
    mismatch = _explain_json(server, {"PrincipalArn": reproducer, "Action": "kms:Decrypt"})
    assert mismatch.error == (400, NOT_FOUND, f"Principal {reproducer} is not found.")


def _encrypt_raw(server: Server, body: dict[str, Any] | bytes) -> Reply:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw_post(server, "TrentService.Encrypt", data)


@pytest.mark.parametrize(
    "mistake",
    [
        {"KeyId": 5},
        {"KeyId": ["x"]},
        {"KeyId": {"a": "b"}},
        {"EncryptionContext": "x"},
        {"EncryptionContext": {"a": 1}},
        {"EncryptionContext": ["a"]},
        {"EncryptionAlgorithm": 7},
    ],
)
def test_explain_answers_wrong_types_as_encrypt_does(
    server: Server, victim: dict[str, str], mistake: dict[str, Any]
) -> None:
    """A KeyId that is no string, an EncryptionContext that is no map of strings (the victim's
    key policy leaves Decrypt to identity policies, so grants would be consulted): 400, as
    Encrypt answers the same member, never 500."""
    body = {"PrincipalArn": victim["arn"], "Action": "kms:Decrypt", "KeyId": victim["key"]}
    explained = _explain_json(server, {**body, **mistake})
    encrypted = _encrypt_raw(server, {"KeyId": victim["key"], "Plaintext": "eA==", **mistake})
    assert explained.status == 400
    assert explained.error[1] in ("SerializationException", "ValidationException")
    assert explained.error == encrypted.error
    assert explained.body == encrypted.body


@pytest.mark.parametrize(
    ("body", "same_as"),
    [
        (b"[]", b"[]"),
        (b'"text"', b'"text"'),
        (b"not json", b"not json"),
        (b'{"Action": "kms:Decrypt"}', b'{"Plaintext": "eA=="}'),
        (
            b'{"PrincipalArn": null, "Action": "kms:Decrypt"}',
            b'{"KeyId": null, "Plaintext": "eA=="}',
        ),
    ],
)
def test_explain_answers_malformed_bodies_and_missing_members_as_encrypt_does(
    server: Server, body: bytes, same_as: bytes
) -> None:
    explained = _explain_raw(server, body)
    encrypted = _encrypt_raw(server, same_as)
    assert explained.status == encrypted.status == 400
    assert explained.error[1] == encrypted.error[1]
    assert explained.error[1] in ("SerializationException", "ValidationException")
    assert explained.body == encrypted.body.replace(b"keyId", b"principalArn")


def test_explain_validates_every_member_and_drops_unknown_ones_as_kms_does(
    server: Server, victim: dict[str, str]
) -> None:
    """Unknown members: Encrypt ignores them (AWS's JSON protocol does), and so does the target;
    modelled members are held to the model's constraints (an enum here)."""
    body = {"PrincipalArn": victim["arn"], "Action": "kms:Decrypt", "KeyId": victim["key"]}
    encrypted = _encrypt_raw(server, {"KeyId": victim["key"], "Plaintext": "eA==", "Bogus": 1})
    assert encrypted.status == 200
    plain, extra = _explain_json(server, body), _explain_json(server, {**body, "Bogus": [1]})
    assert (plain.status, extra.status) == (200, 200)
    assert plain.json() == extra.json()
    missing = _explain_json(server, {"PrincipalArn": victim["arn"]})
    assert missing.error == (
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'action' failed to satisfy constraint: "
        "Member must not be null",
    )
    bad_enum = _explain_json(server, {**body, "EncryptionAlgorithm": "ROT13"})
    assert bad_enum.error[:2] == (400, "ValidationException")
    assert "at 'encryptionAlgorithm' failed to satisfy constraint" in str(bad_enum.error[2])
    empty_key = _explain_json(server, {**body, "KeyId": ""})
    assert empty_key.error[:2] == (400, "ValidationException")
    not_root = _explain_json(server, {**body, "KeyId": 5}, new_user(server, "typo-user"))
    assert not_root.error[:2] == (400, "SerializationException")


def _resource(arn: str) -> str:
    """``key/<id>`` or ``alias/<name>`` of a KMS ARN."""
    return arn.split(":", 5)[5]


def test_explain_does_not_reveal_another_accounts_keys_or_aliases(
    server: Server, root_b: Keys, victim: dict[str, str]
) -> None:
    """B's root, about its own principal, names A's real key (or alias) by ARN: the answer is
    byte for byte the one for a key (alias) A does not have, which is what Encrypt answers B
    for that missing key (alias)."""
    b_root = f"arn:aws:iam::{B}:root"
    region = "arn:aws:kms:us-east-1"
    cases = [
        (victim["key"], f"{region}:{A}:key/{MISSING_KEY}"),
        (f"{region}:{A}:alias/a-key", f"{region}:{A}:alias/nope"),
    ]
    for present, absent in cases:
        asked = [
            _explain_json(
                server, {"PrincipalArn": b_root, "Action": "kms:Decrypt", "KeyId": key}, root_b
            )
            for key in (present, absent)
        ]
        kms = raw_post(
            server,
            "TrentService.Encrypt",
            json.dumps({"KeyId": absent, "Plaintext": "eA=="}).encode(),
            access_key=root_b[0],
            secret_key=root_b[1],
        )
        assert kms.error[:2] == (400, NOT_FOUND)
        assert _shape(asked[0], _resource(present)) == _shape(asked[1], _resource(absent))
        assert _shape(asked[1], absent) == _shape(kms, absent)
    # The same key and alias by A's own root: found, and explained.
    for key in (victim["key"], f"{region}:{A}:alias/a-key"):
        body = {"PrincipalArn": victim["arn"], "Action": "kms:Decrypt", "KeyId": key}
        assert _explain_json(server, body).json()["Decision"] == "ALLOW"
