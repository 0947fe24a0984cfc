"""The events AWS logs without a caller (``AwsServiceEvent``), over the wire: an automatic and an
on-demand rotation, the end of a deletion window, expired imported material and a replica's
creation each leave exactly one service event in the trail, with the key's ARN and account, the
details AWS shows, no request id, and the time of the service's (moved) clock."""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

import orjson
import pytest

from strongroom.audit.trail import read_events
from tests.integration.server import Server
from tests.integration.test_import import external_key, import_material

DAY = 86_400


@pytest.fixture(scope="module")
def server(own_dev: Server) -> Server:
    """This module's own dev server: its clock moves and its trail holds only these tests."""
    return own_dev


def advance(server: Server, seconds: float) -> float:
    """Move the dev clock (the due work runs at once); returns the server's new time."""
    status, body = server.post("/_strongroom/clock", orjson.dumps({"advance_seconds": seconds}))
    assert status == 200, body
    return float(orjson.loads(body)["now"])


def service_events(server: Server, arn: str) -> list[dict[str, Any]]:
    """The trail's service events about the key ``arn``."""
    return [
        event
        for event in read_events(server.data_dir / "trail")
        if event["eventType"] == "AwsServiceEvent"
        and any(r["ARN"] == arn for r in event.get("resources", ()))
    ]


def api_events(server: Server, name: str, request_id: str) -> list[dict[str, Any]]:
    return [
        event
        for event in read_events(server.data_dir / "trail")
        if event["eventName"] == name and event.get("requestID") == request_id
    ]


def epoch(event_time: str) -> float:
    parsed = datetime.datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ")
    return parsed.replace(tzinfo=datetime.UTC).timestamp()


def check_shape(event: dict[str, Any], name: str, arn: str) -> None:
    """What every service event has, as AWS's examples show it."""
    region, account = arn.split(":")[3], arn.split(":")[4]
    assert event["eventName"] == name
    assert event["eventType"] == "AwsServiceEvent"
    assert event["eventSource"] == "kms.amazonaws.com"
    assert event["awsRegion"] == region
    assert event["userIdentity"] == {"accountId": account, "invokedBy": "AWS Internal"}
    assert event["sourceIPAddress"] == event["userAgent"] == "AWS Internal"
    assert event["requestParameters"] is None
    assert event["resources"] == [{"accountId": account, "type": "AWS::KMS::Key", "ARN": arn}]
    assert event["recipientAccountId"] == account
    assert event["readOnly"] is False
    assert event["managementEvent"] is True
    assert event["eventCategory"] == "Management"
    assert "requestID" not in event
    assert "errorCode" not in event


def check_moved_time(event: dict[str, Any], advanced: float, server_after: float) -> None:
    """The event's time is the moved clock's: at least real now + the advance (less a minute
    of slack), and not after the server's time once the work was done."""
    at = epoch(event["eventTime"])
    assert at >= time.time() + advanced - 60
    assert at <= server_after + 1


def test_automatic_rotation(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    arn, before = meta["Arn"], meta["CurrentKeyMaterialId"]
    kms.enable_key_rotation(KeyId=arn, RotationPeriodInDays=90)
    assert service_events(server, arn) == []

    after = advance(server, 91 * DAY)
    [event] = service_events(server, arn)
    check_shape(event, "RotateKey", arn)
    current = kms.describe_key(KeyId=arn)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert current != before
    assert event["serviceEventDetails"] == {
        "rotationType": "AUTOMATIC",
        "keyOrigin": "AWS_KMS",
        "previousKeyMaterialId": before,
        "currentKeyMaterialId": current,
        "keyId": meta["KeyId"],
    }
    assert event["responseElements"] is None
    check_moved_time(event, 91 * DAY, after)

    advance(server, 60)  # the next sweep finds nothing due: still one event
    assert len(service_events(server, arn)) == 1


def test_on_demand_rotation(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    arn, before = meta["Arn"], meta["CurrentKeyMaterialId"]
    server_before = advance(server, 0)
    answer = kms.rotate_key_on_demand(KeyId=arn)
    server_after = advance(server, 0)

    [event] = service_events(server, arn)
    check_shape(event, "RotateKey", arn)
    current = kms.describe_key(KeyId=arn)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert event["serviceEventDetails"] == {
        "rotationType": "ON_DEMAND",
        "keyOrigin": "AWS_KMS",
        "previousKeyMaterialId": before,
        "currentKeyMaterialId": current,
        "keyId": meta["KeyId"],
    }
    assert server_before - 1 <= epoch(event["eventTime"]) <= server_after + 1
    # The API call has its own event (with its request id), as AWS logs both.
    [call] = api_events(server, "RotateKeyOnDemand", answer["ResponseMetadata"]["RequestId"])
    assert call["eventType"] == "AwsApiCall"


def test_deletion_window_ending(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    arn = meta["Arn"]
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    advance(server, 6 * DAY)
    assert service_events(server, arn) == []

    after = advance(server, 2 * DAY)
    [event] = service_events(server, arn)
    check_shape(event, "DeleteKey", arn)
    assert "serviceEventDetails" not in event
    assert event["responseElements"] == {"keyId": arn}
    check_moved_time(event, 8 * DAY, after)

    advance(server, 60)
    assert len(service_events(server, arn)) == 1


def test_imported_material_expiring(server: Server) -> None:
    kms = server.client()
    meta = external_key(kms)
    arn = meta["Arn"]
    valid_to = advance(server, 0) + 3600
    material_id = import_material(kms, arn, os.urandom(32), ValidTo=valid_to)["KeyMaterialId"]
    advance(server, 1800)
    assert service_events(server, arn) == []

    after = advance(server, 1900)
    [event] = service_events(server, arn)
    check_shape(event, "DeleteExpiredKeyMaterial", arn)
    assert event["serviceEventDetails"] == {"keyId": meta["KeyId"], "keyMaterialId": material_id}
    assert event["responseElements"] is None
    check_moved_time(event, 3700, after)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingImport"

    advance(server, 60)
    assert len(service_events(server, arn)) == 1


def test_replicate_key(server: Server) -> None:
    kms = server.client()
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    server_before = advance(server, 0)
    answer = kms.replicate_key(KeyId=primary["Arn"], ReplicaRegion="eu-west-1")
    server_after = advance(server, 0)
    replica_arn = answer["ReplicaKeyMetadata"]["Arn"]
    assert ":eu-west-1:" in replica_arn

    [event] = service_events(server, replica_arn)
    check_shape(event, "CreateKey", replica_arn)
    assert event["serviceEventDetails"] == {
        "keyId": primary["KeyId"],
        "primaryKeyArn": primary["Arn"],
    }
    assert event["responseElements"] is None
    assert server_before - 1 <= epoch(event["eventTime"]) <= server_after + 1
    # The primary has no service event; the call itself is ReplicateKey's event, in its region.
    assert service_events(server, primary["Arn"]) == []
    [call] = api_events(server, "ReplicateKey", answer["ResponseMetadata"]["RequestId"])
    assert call["awsRegion"] == "us-east-1"
