"""GetKeyLastUsage: AWS's answer for a key with no recorded use (the audit trail will record
uses): an empty KeyLastUsage, tracking that starts no earlier than the key, its creation date;
AWS's errors for an alias, a missing key and another account's key."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server, create_account, initialised_server

B = "444455556666"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("usage") / "data")
    yield started
    started.stop()


def test_a_key_with_no_recorded_use(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    for key_id in (meta["KeyId"], meta["Arn"]):
        usage = kms.get_key_last_usage(KeyId=key_id)
        assert usage["KeyId"] == meta["KeyId"]
        assert usage["KeyLastUsage"] == {}
        assert usage["KeyCreationDate"] == meta["CreationDate"]
        # Tracking starts now: a client reads "no record since tracking began", not "unused".
        assert usage["TrackingStartDate"] >= meta["CreationDate"]
        now = datetime.datetime.now(datetime.UTC)
        assert abs((usage["TrackingStartDate"] - now).total_seconds()) < 60


def test_the_aws_cli_reads_it(server: Server) -> None:
    key_id = server.client().create_key()["KeyMetadata"]["KeyId"]
    done = server.aws("kms", "get-key-last-usage", "--key-id", key_id, check=True)
    assert json.loads(done.stdout)["KeyLastUsage"] == {}


def test_errors(server: Server) -> None:
    kms = server.client()
    kms.create_alias(AliasName="alias/usage", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    assert aws_error(kms.get_key_last_usage, KeyId="alias/usage")[:2] == (
        "NotFoundException",
        "Invalid keyId 'alias/usage'",
    )
    missing = "11111111-2222-3333-4444-555555555555"
    assert aws_error(kms.get_key_last_usage, KeyId=missing)[0] == "NotFoundException"


def test_not_across_accounts(server: Server) -> None:
    """Cross-account use: No, even with a key policy that allows the other account."""
    access, secret = create_account(server, B)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in ("111122223333", B)]},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    arn = server.client().create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    other = server.client(access_key=access, secret_key=secret)
    code, message, status = aws_error(other.get_key_last_usage, KeyId=arn)
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"kms:GetKeyLastUsage on resource: {arn}" in message
