"""CloudTrail LookupEvents on Strongroom's port, with boto3 and the AWS CLI: the events of the
trail, found by a lookup attribute, newest first, in pages; each account sees only its own;
identity policies decide (``cloudtrail:LookupEvents``); AWS's errors for bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server, create_account, initialised_server

B = "444455556666"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("lookup") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def decrypts(server: Server) -> list[str]:
    """Three Decrypts of one key (their request ids, oldest first) and a few other calls."""
    kms = server.client()
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    return [kms.decrypt(CiphertextBlob=blob)["ResponseMetadata"]["RequestId"] for _ in range(3)]


def test_boto3_finds_the_decrypts_newest_first(server: Server, decrypts: list[str]) -> None:
    trail = server.client("cloudtrail")
    found = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}]
    )["Events"]
    assert [e["EventName"] for e in found] == ["Decrypt"] * 3
    events = [json.loads(e["CloudTrailEvent"]) for e in found]
    assert [e["requestID"] for e in events] == decrypts[::-1]
    first = found[0]
    assert first["EventId"] == events[0]["eventID"]
    assert first["EventSource"] == "kms.amazonaws.com"
    assert (first["ReadOnly"], first["Username"]) == ("true", "root")
    assert first["AccessKeyId"] == events[0]["userIdentity"]["accessKeyId"]
    assert first["Resources"] == [
        {"ResourceType": "AWS::KMS::Key", "ResourceName": events[0]["resources"][0]["ARN"]}
    ]
    by_key = trail.lookup_events(
        LookupAttributes=[
            {
                "AttributeKey": "ResourceName",
                "AttributeValue": first["Resources"][0]["ResourceName"],
            }
        ]
    )["Events"]
    assert [e["EventName"] for e in by_key] == [
        "Decrypt",
        "Decrypt",
        "Decrypt",
        "Encrypt",
        "CreateKey",
    ]


def test_pages(server: Server, decrypts: list[str]) -> None:
    trail = server.client("cloudtrail")
    attributes = [{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}]
    page = trail.lookup_events(LookupAttributes=attributes, MaxResults=2)
    assert len(page["Events"]) == 2
    rest = trail.lookup_events(
        LookupAttributes=attributes, MaxResults=2, NextToken=page["NextToken"]
    )
    ids = [json.loads(e["CloudTrailEvent"])["requestID"] for e in page["Events"] + rest["Events"]]
    assert ids == decrypts[::-1]
    pages = trail.get_paginator("lookup_events").paginate(
        LookupAttributes=attributes, PaginationConfig={"PageSize": 1}
    )
    assert sum(len(p["Events"]) for p in pages) == 3


def test_the_aws_cli_and_another_account(server: Server, decrypts: list[str]) -> None:
    args = (
        "cloudtrail", "lookup-events", "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=Decrypt",
    )  # fmt: skip
    done = server.aws(*args, check=True)
    found = json.loads(done.stdout)["Events"]
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in found] == decrypts[::-1]
    access, secret = create_account(server, B)
    env = {"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret}
    done = server.aws(*args, env=env, check=True)
    assert json.loads(done.stdout)["Events"] == []
    other = server.client("cloudtrail", access_key=access, secret_key=secret)
    assert all(
        json.loads(e["CloudTrailEvent"])["recipientAccountId"] == B
        for e in other.lookup_events()["Events"]
    )


def test_identity_policies_decide(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = server.client(
        "cloudtrail", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]
    )
    code, message, status = aws_error(reader.lookup_events)
    assert (code, status) == ("AccessDeniedException", 400)
    assert "cloudtrail:LookupEvents" in message
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps(policy))
    found = reader.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "reader"}]
    )["Events"]
    # Its own denied call is there, under its name.
    assert found[0]["EventName"] == "LookupEvents"
    assert json.loads(found[-1]["CloudTrailEvent"])["errorCode"] == "AccessDeniedException"


def test_errors(server: Server) -> None:
    trail = server.client("cloudtrail")
    two = [
        {"AttributeKey": "EventName", "AttributeValue": "Decrypt"},
        {"AttributeKey": "Username", "AttributeValue": "root"},
    ]
    assert aws_error(trail.lookup_events, LookupAttributes=two)[0] == (
        "InvalidLookupAttributesException"
    )
    assert aws_error(trail.lookup_events, NextToken="not-a-token")[0] == (
        "InvalidNextTokenException"
    )
    assert aws_error(trail.lookup_events, StartTime=2000000000, EndTime=1000000000)[0] == (
        "InvalidTimeRangeException"
    )
    unchecked = server.client("cloudtrail", validate=False)
    assert aws_error(unchecked.lookup_events, MaxResults=51)[:1] == ("ValidationException",)
