"""GetKeyLastUsage from the audit trail's index: a key's last successful cryptographic
operation, its time, CloudTrail event id and KMS request id (the trail's event of that call),
tracking from the key's creation; a failed call and a management call are not uses; boto3 and
the AWS CLI read it; AWS's errors for an alias, a missing key and another account's key."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest

from strongroom.audit.trail import read_events
from tests.integration.expect import aws_error
from tests.integration.server import Server, create_account, initialised_server

B = "444455556666"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("usage") / "data")
    yield started
    started.stop()


def _event_of(server: Server, request_id: str) -> dict[str, object]:
    (found,) = [
        e for e in read_events(server.data_dir / "trail") if e.get("requestID") == request_id
    ]
    return found


def test_a_key_with_no_use_yet(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    kms.describe_key(KeyId=meta["KeyId"])  # a management call is not a use
    for key_id in (meta["KeyId"], meta["Arn"]):
        usage = kms.get_key_last_usage(KeyId=key_id)
        assert usage["KeyId"] == meta["KeyId"]
        assert usage["KeyLastUsage"] == {}
        assert usage["KeyCreationDate"] == meta["CreationDate"]
        # The trail began before the key: tracking starts with the key.
        assert usage["TrackingStartDate"] == meta["CreationDate"]


def test_the_last_successful_cryptographic_operation(server: Server) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    encrypted = kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"a": "b"})
    request_id = encrypted["ResponseMetadata"]["RequestId"]
    usage = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    event = _event_of(server, request_id)
    assert usage["Operation"] == "Encrypt"
    assert usage["KmsRequestId"] == request_id
    assert usage["CloudTrailEventId"] == event["eventID"]
    assert usage["Timestamp"] == datetime.datetime.fromisoformat(str(event["eventTime"]))
    now = datetime.datetime.now(datetime.UTC)
    assert abs((usage["Timestamp"] - now).total_seconds()) < 60
    # A Decrypt that fails (wrong context) is not a use; the next successful one is.
    blob = encrypted["CiphertextBlob"]
    assert aws_error(kms.decrypt, CiphertextBlob=blob)[0] == "InvalidCiphertextException"
    assert kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]["Operation"] == "Encrypt"
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})
    usage = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    assert (usage["Operation"], usage["KmsRequestId"]) == (
        "Decrypt",
        decrypted["ResponseMetadata"]["RequestId"],
    )


def test_the_aws_cli_shows_the_last_encrypt(server: Server) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    done = server.aws("kms", "get-key-last-usage", "--key-id", key_id, check=True)
    assert json.loads(done.stdout)["KeyLastUsage"] == {}
    request_id = kms.encrypt(KeyId=key_id, Plaintext=b"x")["ResponseMetadata"]["RequestId"]
    done = server.aws("kms", "get-key-last-usage", "--key-id", key_id, check=True)
    usage = json.loads(done.stdout)["KeyLastUsage"]
    assert set(usage) == {"Operation", "Timestamp", "CloudTrailEventId", "KmsRequestId"}
    assert (usage["Operation"], usage["KmsRequestId"]) == ("Encrypt", request_id)


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
