"""AWS-managed keys over HTTP (docs/integrated-services.md): ``alias/aws/<service>`` created on
a registered service's first forwarded use, locked to the service by its policy, and a policy,
state and alias that nobody can change."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import STRONGROOM, initialised_server
from tests.integration.test_via_service import VIA, World, _call, _user, _via

ALIAS = "alias/aws/objects"


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = initialised_server(tmp_path_factory.mktemp("managed") / "data")
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


def _first_use(world: World) -> dict[str, Any]:
    reply = _call(
        world, "GenerateDataKey", {"KeyId": ALIAS, "KeySpec": "AES_256"}, _via(world.alice)
    )
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result


def test_no_key_until_the_service_uses_it(managed: World) -> None:
    alice = managed.server.client("kms", access_key=managed.alice[0], secret_key=managed.alice[1])
    assert aws_error(alice.describe_key, KeyId=ALIAS)[0] == "NotFoundException"
    other = _call(managed, "DescribeKey", {"KeyId": "alias/aws/other"}, _via(managed.alice))
    assert other.error[1] == "NotFoundException"


def test_created_on_first_use_and_usable_only_through_the_service(managed: World) -> None:
    first = _first_use(managed)
    again = _first_use(managed)
    assert first["KeyId"] == again["KeyId"]
    root = managed.server.client("kms")
    meta = root.describe_key(KeyId=ALIAS)["KeyMetadata"]
    assert (meta["Arn"], meta["KeyManager"], meta["KeyState"]) == (first["KeyId"], "AWS", "Enabled")
    names = [a["AliasName"] for a in root.list_aliases(KeyId=meta["KeyId"])["Aliases"]]
    assert names == [ALIAS]
    blob = first["CiphertextBlob"]
    through = _call(managed, "Decrypt", {"CiphertextBlob": blob}, _via(managed.alice))
    assert through.json()["Plaintext"] == first["Plaintext"]
    alice = managed.server.client("kms", access_key=managed.alice[0], secret_key=managed.alice[1])
    denied = aws_error(alice.decrypt, CiphertextBlob=base64.b64decode(blob))
    assert denied[0] == "AccessDeniedException"


def test_the_policy_is_awss_managed_key_policy(managed: World) -> None:
    key_id = _first_use(managed)["KeyId"]
    text = managed.server.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")
    statements = json.loads(text["Policy"])["Statement"]
    assert statements[0]["Sid"] == (
        "Allow access through objects for all principals in the account that are authorized "
        "to use objects"
    )
    assert statements[0]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": managed.account,
        "kms:ViaService": VIA,
    }
    assert statements[1]["Sid"] == "Allow direct access to key metadata to the account"


def test_nobody_can_change_delete_disable_or_alias_it(managed: World) -> None:
    key_id = _first_use(managed)["KeyId"]
    root = managed.server.client("kms")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    refusals = {
        "put": aws_error(root.put_key_policy, KeyId=key_id, PolicyName="default", Policy=policy),
        "delete": aws_error(root.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=7),
        "disable": aws_error(root.disable_key, KeyId=key_id),
        "update-alias": aws_error(root.update_alias, AliasName=ALIAS, TargetKeyId=key_id),
        "delete-alias": aws_error(root.delete_alias, AliasName=ALIAS),
        "create-alias": aws_error(root.create_alias, AliasName="alias/aws/x", TargetKeyId=key_id),
    }
    codes = {name: found[0] for name, found in refusals.items()}
    assert codes == {
        "put": "AccessDeniedException",
        "delete": "AccessDeniedException",
        "disable": "AccessDeniedException",
        "update-alias": "NotAuthorizedException",
        "delete-alias": "NotAuthorizedException",
        "create-alias": "NotAuthorizedException",
    }
    assert root.describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"
