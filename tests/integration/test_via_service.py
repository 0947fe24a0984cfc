"""Integrated services over HTTP (docs/integrated-services.md): a registered service calls KMS
for a user with the user's forwarded SigV4 proof; ``kms:ViaService`` then lets a key be used
through the service only, and grants it creates carry ``kms:GrantIsForAWSResource``."""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.expect import aws_error
from tests.integration.server import STRONGROOM, Reply, Server, initialised_server, raw_post

VIA = "objects.us-east-1.strongroom"
Keys = tuple[str, str]


@dataclass(frozen=True)
class World:
    server: Server
    account: str
    service: Keys
    alice: Keys
    bob: Keys


def _user(server: Server, name: str) -> Keys:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = initialised_server(tmp_path_factory.mktemp("via") / "data")
    account = server.client("sts").get_caller_identity()["Account"]
    service = _user(server, "objects-service")
    subprocess.run(
        [STRONGROOM, "admin", "register-service", "--data-dir", str(server.data_dir),
         "--name", "objects", "--via-name", VIA, "--signing-name", "s3",
         "--principal", f"arn:aws:iam::{account}:user/objects-service"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    yield World(server, account, service, _user(server, "alice"), _user(server, "bob"))
    server.stop()


def _policy(account: str, *statements: dict[str, Any]) -> str:
    root = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


def _allow(principal: str, actions: list[str], condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": actions,
        "Resource": "*",
        "Condition": condition,
    }


def _key(world: World, *statements: dict[str, Any]) -> str:
    kms = world.server.client("kms")
    created = kms.create_key(Policy=_policy(world.account, *statements))
    return str(created["KeyMetadata"]["KeyId"])


def _via(user: Keys, *, service: str = "s3", age: float = 0.0) -> dict[str, str]:
    """What the object store forwards for a PUT that ``user`` signed to it ``age`` seconds ago."""
    request = AWSRequest(
        method="PUT", url="https://objects.example/bucket/report.pdf", data=b"file", headers={}
    )
    signer = SigV4Auth(Credentials(*user), service, "us-east-1")
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=age)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        signer.add_auth(request)
    authorization = str(request.headers["Authorization"])
    del request.headers["Authorization"]
    canonical = signer.canonical_request(request)
    return {
        "X-Strongroom-Via-Authorization": authorization,
        "X-Strongroom-Via-Date": str(request.headers["X-Amz-Date"]),
        "X-Strongroom-Via-Canonical-Request": base64.b64encode(canonical.encode()).decode(),
    }


def _call(world: World, operation: str, params: dict[str, Any], via: dict[str, str],
          caller: Keys | None = None) -> Reply:  # fmt: skip
    """``operation`` sent by the service (or ``caller``), signed over the forwarding headers."""
    access_key, secret_key = caller or world.service
    body = json.dumps(params).encode()
    return raw_post(
        world.server, f"TrentService.{operation}", body,
        headers=via, access_key=access_key, secret_key=secret_key,
    )  # fmt: skip


def _alice_via_only(world: World) -> str:
    alice_arn = f"arn:aws:iam::{world.account}:user/alice"
    return _key(
        world,
        _allow(alice_arn, ["kms:Encrypt"], {"StringEquals": {"kms:ViaService": VIA}}),
    )


def test_a_key_usable_through_the_service_and_refused_directly(world: World) -> None:
    key_id = _alice_via_only(world)
    params = {"KeyId": key_id, "Plaintext": base64.b64encode(b"secret").decode()}
    reply = _call(world, "Encrypt", params, _via(world.alice))
    assert reply.status == 200, reply.body
    assert reply.json()["KeyId"].endswith(key_id)
    alice_kms = world.server.client("kms", access_key=world.alice[0], secret_key=world.alice[1])
    denied = aws_error(alice_kms.encrypt, KeyId=key_id, Plaintext=b"secret")
    assert denied[0] == "AccessDeniedException"


def test_the_service_alone_cannot_use_the_key(world: World) -> None:
    key_id = _alice_via_only(world)
    params = {"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()}
    assert _call(world, "Encrypt", params, {}).error[1] == "AccessDeniedException"


def test_the_service_cannot_act_for_a_user_the_key_does_not_allow(world: World) -> None:
    key_id = _alice_via_only(world)
    params = {"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()}
    assert _call(world, "Encrypt", params, _via(world.bob)).error[1] == "AccessDeniedException"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("scoped-to-kms", "InvalidSignatureException"),
        ("six-minutes-old", "InvalidSignatureException"),
        ("tampered", "InvalidSignatureException"),
        ("unregistered-caller", "AccessDeniedException"),
        ("unknown-user-key", "UnrecognizedClientException"),
    ],
)
def test_forwarding_refusals(world: World, case: str, code: str) -> None:
    key_id = _alice_via_only(world)
    params = {"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()}
    via = _via(world.alice)
    caller = None
    if case == "scoped-to-kms":
        via = _via(world.alice, service="kms")
    elif case == "six-minutes-old":
        via = _via(world.alice, age=360)
    elif case == "tampered":
        canonical = base64.b64decode(via["X-Strongroom-Via-Canonical-Request"])
        tampered = canonical.replace(b"report.pdf", b"other.pdf")
        via["X-Strongroom-Via-Canonical-Request"] = base64.b64encode(tampered).decode()
    elif case == "unregistered-caller":
        caller = world.bob
    else:
        via = _via(("AKIAUNKNOWNUNKNOWN00", "s" * 40))
    reply = _call(world, "Encrypt", params, via, caller)
    assert reply.status in (400, 403)
    assert reply.error[1] == code


def test_a_grant_made_through_the_service_is_for_an_aws_resource(world: World) -> None:
    alice_arn = f"arn:aws:iam::{world.account}:user/alice"
    key_id = _key(
        world,
        _allow(
            alice_arn,
            ["kms:CreateGrant", "kms:RevokeGrant"],
            {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    )
    params = {"KeyId": key_id, "GranteePrincipal": alice_arn, "Operations": ["Decrypt"]}
    alice_kms = world.server.client("kms", access_key=world.alice[0], secret_key=world.alice[1])
    assert aws_error(alice_kms.create_grant, **params)[0] == "AccessDeniedException"
    reply = _call(world, "CreateGrant", params, _via(world.alice))
    assert reply.status == 200, reply.body
    grants = world.server.client("kms").list_grants(KeyId=key_id)["Grants"]
    assert [g["GrantId"] for g in grants] == [reply.json()["GrantId"]]
    assert grants[0]["IssuingAccount"] == f"arn:aws:iam::{world.account}:root"
    revoke = {"KeyId": key_id, "GrantId": reply.json()["GrantId"]}
    assert aws_error(alice_kms.revoke_grant, **revoke)[0] == "AccessDeniedException"
    assert _call(world, "RevokeGrant", revoke, _via(world.alice)).status == 200
    assert world.server.client("kms").list_grants(KeyId=key_id)["Grants"] == []
