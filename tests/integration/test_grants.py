"""Grants over HTTP (kms-spec.md section 9): users made through IAM, a production-mode server,
boto3 and the AWS CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server, dev_server, initialised_server, raw_post

A = "111122223333"
DENIED = "AccessDeniedException"
Keys = tuple[str, str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("grants") / "data")
    yield started
    started.stop()


def client(server: Server, keys: Keys | None = None) -> Any:
    if keys is None:
        return server.client("kms")
    return server.client("kms", access_key=keys[0], secret_key=keys[1])


def new_user(server: Server, name: str) -> tuple[Keys, str]:
    """A user with no policy at all: only grants can let it use a key."""
    iam = server.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return (key["AccessKeyId"], key["SecretAccessKey"]), str(arn)


def new_key(server: Server) -> str:
    return str(client(server).create_key()["KeyMetadata"]["Arn"])


def test_a_grantee_without_policy_access_encrypts_through_a_grant(server: Server) -> None:
    keys, arn = new_user(server, "grantee-1")
    key, kms, root = new_key(server), client(server, keys), client(server)
    assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")[0] == DENIED
    created = root.create_grant(KeyId=key, GranteePrincipal=arn, Operations=["Encrypt", "Decrypt"])
    assert len(created["GrantId"]) == 64
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert aws_error(kms.generate_data_key, KeyId=key, KeySpec="AES_256")[0] == DENIED


def test_a_grant_token_authorizes_and_a_forged_one_is_refused(server: Server) -> None:
    keys, arn = new_user(server, "grantee-2")
    key, kms = new_key(server), client(server, keys)
    token = client(server).create_grant(KeyId=key, GranteePrincipal=arn, Operations=["Encrypt"])[
        "GrantToken"
    ]
    kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=[token])
    forged = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    code, message, status = aws_error(kms.encrypt, KeyId=key, Plaintext=b"x", GrantTokens=[forged])
    assert (code, status) == ("InvalidGrantTokenException", 400)
    assert "invalid" in message


@pytest.mark.parametrize("kind", ["EncryptionContextEquals", "EncryptionContextSubset"])
def test_a_constrained_grant_refuses_another_context(server: Server, kind: str) -> None:
    keys, arn = new_user(server, f"grantee-{kind}")
    key, kms = new_key(server), client(server, keys)
    client(server).create_grant(
        KeyId=key,
        GranteePrincipal=arn,
        Operations=["Encrypt"],
        Constraints={kind: {"tenant": "blue"}},
    )
    kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "blue"})
    refused = aws_error(kms.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "red"})
    assert refused[0] == DENIED
    assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x")[0] == DENIED


def test_retire_by_the_retiring_principal_revoke_by_root_refuse_others(server: Server) -> None:
    grantee_keys, grantee = new_user(server, "grantee-3")
    retiree_keys, retiree = new_user(server, "retiree-3")
    other_keys, _ = new_user(server, "other-3")
    key, root = new_key(server), client(server)

    def make() -> str:
        out = root.create_grant(
            KeyId=key, GranteePrincipal=grantee, RetiringPrincipal=retiree, Operations=["Encrypt"]
        )
        return str(out["GrantId"])

    first, second = make(), make()
    for keys in (other_keys, grantee_keys):
        assert aws_error(client(server, keys).retire_grant, KeyId=key, GrantId=first)[0] == DENIED
    assert aws_error(client(server, other_keys).revoke_grant, KeyId=key, GrantId=first)[0] == DENIED
    client(server, retiree_keys).retire_grant(KeyId=key, GrantId=first)
    root.revoke_grant(KeyId=key, GrantId=second)
    assert root.list_grants(KeyId=key)["Grants"] == []
    missing = aws_error(root.revoke_grant, KeyId=key, GrantId=second)
    assert missing[0] == "NotFoundException"
    assert aws_error(client(server, grantee_keys).encrypt, KeyId=key, Plaintext=b"x")[0] == DENIED


def test_name_makes_create_grant_idempotent(server: Server) -> None:
    _, arn = new_user(server, "grantee-4")
    key, root = new_key(server), client(server)
    params = {"KeyId": key, "GranteePrincipal": arn, "Operations": ["Decrypt"], "Name": "app-4"}
    first, again = root.create_grant(**params), root.create_grant(**params)
    assert first["GrantId"] == again["GrantId"]
    assert first["GrantToken"] != again["GrantToken"]
    [listed] = root.list_grants(KeyId=key)["Grants"]
    assert (listed["Name"], listed["GranteePrincipal"], listed["Operations"]) == (
        "app-4",
        arn,
        ["Decrypt"],
    )
    assert listed["KeyId"] == key
    assert listed["IssuingAccount"] == f"arn:aws:iam::{A}:root"


def test_list_grants_and_retirable_grants_page(server: Server) -> None:
    _, grantee = new_user(server, "grantee-5")
    _, retiree = new_user(server, "retiree-5")
    key, root = new_key(server), client(server)
    made = {
        root.create_grant(
            KeyId=key, GranteePrincipal=grantee, RetiringPrincipal=retiree, Operations=["Encrypt"]
        )["GrantId"]
        for _ in range(5)
    }
    first = root.list_grants(KeyId=key, Limit=2)
    assert first["Truncated"]
    assert len(first["Grants"]) == 2
    paginator = root.get_paginator("list_grants")
    listed = [
        g["GrantId"] for page in paginator.paginate(KeyId=key, Limit=2) for g in page["Grants"]
    ]
    assert sorted(listed) == sorted(made)
    retirable = root.get_paginator("list_retirable_grants").paginate(
        RetiringPrincipal=retiree, PaginationConfig={"PageSize": 3}
    )
    assert {g["GrantId"] for page in retirable for g in page["Grants"]} == made
    bad = aws_error(root.list_grants, KeyId=key, Marker="bm90LW91cnM=")
    assert bad[0] == "InvalidMarkerException"


def test_dry_run_changes_nothing(server: Server) -> None:
    keys, arn = new_user(server, "grantee-6")
    key, root = new_key(server), client(server)
    code = aws_error(root.create_grant, KeyId=key, GranteePrincipal=arn, Operations=["Encrypt"],
                     DryRun=True)[0]  # fmt: skip
    assert code == "DryRunOperationException"
    assert root.list_grants(KeyId=key)["Grants"] == []
    assert aws_error(client(server, keys).create_grant, KeyId=key, GranteePrincipal=arn,
                     Operations=["Encrypt"], DryRun=True)[0] == DENIED  # fmt: skip
    root.create_grant(KeyId=key, GranteePrincipal=arn, Operations=["Encrypt"])
    kms = client(server, keys)
    assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x", DryRun=True)[0] == (
        "DryRunOperationException"
    )
    assert aws_error(kms.decrypt, CiphertextBlob=b"x" * 64, KeyId=key, DryRun=True,
                     DryRunModifiers=["IGNORE_CIPHERTEXT"])[0] == DENIED  # fmt: skip
    [grant] = root.list_grants(KeyId=key)["Grants"]
    for call in (root.retire_grant, root.revoke_grant):
        code = aws_error(call, KeyId=key, GrantId=grant["GrantId"], DryRun=True)[0]
        assert code == "DryRunOperationException"
    assert root.list_grants(KeyId=key)["Grants"] == [grant]


def test_dry_run_on_schedule_key_deletion_changes_nothing(server: Server) -> None:
    """botocore's model has no DryRun on ScheduleKeyDeletion (so SDKs cannot even send it);
    Strongroom honours it anyway: a destructive call must not run when asked for a dry run."""
    key = new_key(server)
    target = "TrentService.ScheduleKeyDeletion"

    def schedule(days: int, keys: Keys | None = None) -> tuple[int, str, str | None]:
        body = json.dumps({"KeyId": key, "PendingWindowInDays": days, "DryRun": True}).encode()
        if keys is None:
            return raw_post(server, target, body).error
        return raw_post(server, target, body, access_key=keys[0], secret_key=keys[1]).error

    assert schedule(7)[:2] == (400, "DryRunOperationException")
    assert schedule(3)[:2] == (400, "ValidationException")
    keys, _ = new_user(server, "dry-runner")
    assert schedule(7, keys)[1] == DENIED
    assert client(server).describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


def test_an_explicit_deny_in_the_key_policy_beats_a_grant(server: Server) -> None:
    keys, arn = new_user(server, "grantee-7")
    key, root = new_key(server), client(server)
    token = root.create_grant(KeyId=key, GranteePrincipal=arn, Operations=["Encrypt"])["GrantToken"]
    policy = json.loads(root.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"].append(
        {
            "Sid": "No encrypting for grantee-7",
            "Effect": "Deny",
            "Principal": {"AWS": arn},
            "Action": "kms:Encrypt",
            "Resource": "*",
        }
    )
    root.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    code, message, _ = aws_error(
        client(server, keys).encrypt, KeyId=key, Plaintext=b"x", GrantTokens=[token]
    )
    assert code == DENIED
    assert "explicit deny" in message


def test_a_grant_for_an_operation_the_key_cannot_do(server: Server) -> None:
    _, arn = new_user(server, "grantee-8")
    code, message, _ = aws_error(
        client(server).create_grant,
        KeyId=new_key(server),
        GranteePrincipal=arn,
        Operations=["Encrypt", "Sign"],
    )
    assert code == "ValidationException"
    assert "Sign" in message


def test_grants_with_the_aws_cli(server: Server) -> None:
    _, arn = new_user(server, "grantee-9")
    key = new_key(server)

    def aws(*args: str) -> Any:
        done: subprocess.CompletedProcess[str] = server.aws("kms", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    created = aws("create-grant", "--key-id", key, "--grantee-principal", arn,
                  "--operations", "Encrypt", "Decrypt", "--retiring-principal",
                  f"arn:aws:iam::{A}:root")  # fmt: skip
    listed = aws("list-grants", "--key-id", key)
    assert [g["GrantId"] for g in listed["Grants"]] == [created["GrantId"]]
    aws("retire-grant", "--grant-token", created["GrantToken"])
    assert aws("list-grants", "--key-id", key)["Grants"] == []


def test_grants_are_removed_with_their_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    dev = dev_server(tmp_path_factory.mktemp("grants-dev") / "data")
    try:
        kms = dev.client()
        key = kms.create_key()["KeyMetadata"]["Arn"]
        retiree = f"arn:aws:iam::{A}:user/retiree-10"
        kms.create_grant(
            KeyId=key, GranteePrincipal=retiree, RetiringPrincipal=retiree, Operations=["Encrypt"]
        )
        assert len(kms.list_retirable_grants(RetiringPrincipal=retiree)["Grants"]) == 1
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        status, body = dev.post("/_strongroom/clock", orjson.dumps({"advance_seconds": 8 * 86400}))
        assert status == 200, body
        assert aws_error(kms.list_grants, KeyId=key)[0] == "NotFoundException"
        assert kms.list_retirable_grants(RetiringPrincipal=retiree)["Grants"] == []
    finally:
        dev.stop()
