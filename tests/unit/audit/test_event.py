"""The audit event builder: records -> CloudTrail events, compared with AWS's examples
(tests/unit/audit/ct_examples.py), and never a secret in an event."""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.loaders import Loader
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.audit import ct_examples as aws

from strongroom.audit.event import events_for, service_event
from strongroom.domain.principal import Principal
from strongroom.domain.record import Decided, RequestRecord
from strongroom.protocol.shapes import ServiceModel

ACCOUNT, OTHER = "111122223333", "444455556666"
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{KEY}"
OTHER_ARN = f"arn:aws:kms:us-west-2:{OTHER}:key/0987dcba-09ba-87dc-65fe-0987654321ba"
ALICE = Principal.iam_user(
    account=ACCOUNT,
    arn=f"arn:aws:iam::{ACCOUNT}:user/Alice",
    user_id="EX_PRINCIPAL_ID",
    name="Alice",
    tags={},
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _epoch(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def _record(action: str, **fields: Any) -> RequestRecord:
    base: dict[str, Any] = {
        "request_id": "f3423043-63bc-11e4-bc2b-4198b6150d5c",
        "started": _epoch("2025-05-20T20:46:16Z") + 0.75,
        "source_ip": "192.0.2.0",
        "user_agent": "aws-cli/2.17",
        "action": action,
        "region": "us-east-1",
        "principal": ALICE,
        "access_key_id": "EXAMPLE_KEY_ID",
    }
    base.update(fields)
    return RequestRecord(**base)


def _subset(event: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Every member AWS's example shows is in the event with the same value."""
    for name, value in expected.items():
        assert event.get(name, "<absent>") == value, name


def _encrypt() -> RequestRecord:
    rec = _record(
        "Encrypt",
        request={
            "KeyId": KEY_ARN,
            "Plaintext": b"top secret plaintext",
            "EncryptionContext": {"Department": "Engineering"},
            "GrantTokens": ["grant-token-value"],
        },
        hidden=frozenset({"Plaintext"}),
        key_material_id="123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        response={"CiphertextBlob": b"ciphertext", "KeyId": KEY_ARN},
    )
    rec.decided(Decided("kms:Encrypt", KEY_ARN, True, ("key policy/Enable IAM",)))
    return rec


# -- one call, one event -----------------------------------------------------------------------


def test_encrypt_is_aws_s_encrypt_event() -> None:
    [event] = events_for(_encrypt())
    _subset(event, aws.ENCRYPT)
    assert event["userIdentity"]["principalId"] == "EX_PRINCIPAL_ID"
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    assert event["eventCategory"] == "Management"
    assert event["userAgent"] == "aws-cli/2.17"
    assert UUID.match(event["eventID"])
    assert "errorCode" not in event
    assert "tlsDetails" not in event
    assert "sharedEventID" not in event
    text = json.dumps(event)
    assert "top secret" not in text
    assert "grant-token-value" not in text


def test_each_event_has_its_own_event_id() -> None:
    record = _encrypt()
    ids = {events_for(record)[0]["eventID"] for _ in range(50)}
    assert len(ids) == 50


def test_decrypt_writes_its_default_algorithm_as_aws_does() -> None:
    rec = _record("Decrypt", request={"CiphertextBlob": b"c"}, hidden=frozenset({"CiphertextBlob"}))
    rec.decided(Decided("kms:Decrypt", KEY_ARN, True, ()))
    [event] = events_for(rec)
    assert event["requestParameters"] == {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert event["readOnly"] is True


def test_denied_decrypt_has_error_code_and_message() -> None:
    message = (
        f"User: {ALICE.arn} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN} "
        "because no identity-based policy allows the kms:Decrypt action"
    )
    rec = _record(
        "Decrypt",
        request={"CiphertextBlob": b"secret blob", "KeyId": KEY_ARN},
        hidden=frozenset({"CiphertextBlob"}),
        error_code="AccessDeniedException",
        error_message=message,
        status=400,
    )
    rec.decided(Decided("kms:Decrypt", KEY_ARN, False, ()))
    [event] = events_for(rec)
    assert event["errorCode"] == "AccessDeniedException"
    assert event["errorMessage"] == message
    assert event["responseElements"] is None
    assert event["resources"][0]["ARN"] == KEY_ARN


def test_an_error_without_message_has_no_error_message_member() -> None:
    rec = _record("ListKeys", error_code="KMSInternalException", error_message=None, status=500)
    [event] = events_for(rec)
    assert event["errorCode"] == "KMSInternalException"
    assert "errorMessage" not in event
    assert event["requestParameters"] is None
    assert "resources" not in event


def test_create_key_response_elements_are_aws_s() -> None:
    created = _epoch(aws.CREATE_KEY_TIME)
    metadata = {
        "AWSAccountId": ACCOUNT,
        "KeyId": KEY,
        "Arn": KEY_ARN,
        "CreationDate": created,
        "Enabled": False,
        "Description": "",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "PendingImport",
        "Origin": "EXTERNAL",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }
    rec = _record(
        "CreateKey",
        started=created,
        request={"Description": "", "Origin": "EXTERNAL", "BypassPolicyLockoutSafetyCheck": False},
        response={"KeyMetadata": metadata},
    )
    rec.decided(Decided("kms:CreateKey", "*", True, ()))
    [event] = events_for(rec)
    assert event["responseElements"] == {"keyMetadata": aws.CREATE_KEY_METADATA}
    assert event["requestParameters"] == {
        "description": "",
        "origin": "EXTERNAL",
        "bypassPolicyLockoutSafetyCheck": False,
    }
    assert event["eventTime"] == aws.CREATE_KEY_TIME
    assert event["readOnly"] is False
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]


def test_create_grant_shows_the_grant_id_and_key_never_the_token() -> None:
    grant_id = aws.CREATE_GRANT_RESPONSE["grantId"]
    rec = _record(
        "CreateGrant",
        request={"KeyId": KEY_ARN, "GranteePrincipal": ALICE.arn, "Operations": ["Encrypt"]},
        response={"GrantId": grant_id, "GrantToken": "AQpAM2Rh-grant-token"},
    )
    rec.decided(Decided("kms:CreateGrant", KEY_ARN, True, ()))
    [event] = events_for(rec)
    assert event["responseElements"] == aws.CREATE_GRANT_RESPONSE
    assert event["requestParameters"]["operations"] == ["Encrypt"]
    assert "grant-token" not in json.dumps(event)


def test_enable_key_shows_the_key_arn_as_aws_does_since_2022() -> None:
    rec = _record("EnableKey", request={"KeyId": KEY}, response={})
    rec.decided(Decided("kms:EnableKey", KEY_ARN, True, ()))
    [event] = events_for(rec)
    assert event["responseElements"] == aws.ENABLE_KEY_RESPONSE


def test_schedule_key_deletion_response_elements() -> None:
    deletion = _epoch("2021-04-12T18:58:30Z")
    rec = _record(
        "ScheduleKeyDeletion",
        request={"KeyId": KEY, "PendingWindowInDays": 20},
        response={
            "KeyId": KEY_ARN,
            "DeletionDate": deletion,
            "KeyState": "PendingDeletion",
            "PendingWindowInDays": 20,
        },
    )
    rec.decided(Decided("kms:ScheduleKeyDeletion", KEY_ARN, True, ()))
    [event] = events_for(rec)
    assert event["requestParameters"] == {"keyId": KEY, "pendingWindowInDays": 20}
    assert event["responseElements"] == {
        "keyId": KEY_ARN,
        "deletionDate": "Apr 12, 2021, 6:58:30 PM",
        "keyState": "PendingDeletion",
        "pendingWindowInDays": 20,
    }


def test_re_encrypt_names_both_keys() -> None:
    second = KEY_ARN.replace("1234abcd", "5678efab")
    rec = _record(
        "ReEncrypt",
        request={
            "CiphertextBlob": b"c",
            "DestinationKeyId": second,
            "SourceEncryptionContext": {"Dept": "A"},
        },
        hidden=frozenset({"CiphertextBlob"}),
    )
    rec.decided(Decided("kms:ReEncryptFrom", KEY_ARN, True, ()))
    rec.decided(Decided("kms:ReEncryptTo", second, True, ()))
    [event] = events_for(rec)
    assert [r["ARN"] for r in event["resources"]] == [KEY_ARN, second]
    assert event["requestParameters"]["sourceEncryptionContext"] == {"Dept": "A"}
    assert event["responseElements"] is None


# -- identities --------------------------------------------------------------------------------


def test_root_identity() -> None:
    rec = _encrypt()
    rec.principal = Principal.root(ACCOUNT)
    [event] = events_for(rec)
    assert event["userIdentity"] == {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "accessKeyId": "EXAMPLE_KEY_ID",
    }


def test_assumed_role_identity_has_its_session_context() -> None:
    issuer = aws.ASSUMED_ROLE_ISSUER
    role = Principal.assumed_role(
        account=issuer["accountId"],
        role_arn=issuer["arn"],
        role_id=issuer["principalId"],
        session_name="MySessionName",
        tags={},
    )
    created = _epoch("2013-11-02T01:06:28Z")
    rec = _encrypt()
    rec.principal, rec.access_key_id = role, "ASIAEXAMPLE"
    rec.session_credentials, rec.session_created = True, created
    event = events_for(rec)[0]  # the key is another account's: the caller's copy first
    identity = event["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["principalId"] == "AROAIDPPEZS35WEXAMPLE:MySessionName"
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName"
    assert identity["accessKeyId"] == "ASIAEXAMPLE"
    assert identity["sessionContext"]["sessionIssuer"] == issuer
    assert identity["sessionContext"]["attributes"] == {
        "creationDate": "2013-11-02T01:06:28Z",
        "mfaAuthenticated": "false",
    }
    assert event["recipientAccountId"] == "123456789012"


def test_user_with_session_token_credentials_has_session_attributes() -> None:
    rec = _encrypt()
    rec.session_credentials, rec.session_created = True, _epoch("2024-01-02T03:04:05Z")
    [event] = events_for(rec)
    assert event["userIdentity"]["userName"] == "Alice"
    assert event["userIdentity"]["sessionContext"] == {
        "attributes": {"creationDate": "2024-01-02T03:04:05Z", "mfaAuthenticated": "false"}
    }


def test_a_call_through_an_integrated_service_is_invoked_by_it() -> None:
    rec = _encrypt()
    rec.via_service = "objects.us-east-1.strongroom"
    [event] = events_for(rec)
    assert event["userIdentity"]["invokedBy"] == "objects.us-east-1.strongroom"
    assert event["userIdentity"]["userName"] == "Alice"


def test_a_call_refused_before_its_caller_was_known() -> None:
    rec = _record(
        "Encrypt",
        principal=None,
        access_key_id="AKIAUNKNOWN",
        region=None,
        error_code="UnrecognizedClientException",
        error_message="The security token included in the request is invalid.",
        status=400,
    )
    [event] = events_for(rec)
    assert event["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAUNKNOWN"}
    assert event["recipientAccountId"] is None
    assert event["awsRegion"] == "us-east-1"


def test_tls_call_has_tls_details() -> None:
    rec = _encrypt()
    rec.tls = True
    rec.tls_version, rec.tls_cipher = "TLSv1.3", "TLS_AES_256_GCM_SHA384"
    rec.host = "kms.example.internal:8400"
    [event] = events_for(rec)
    assert event["tlsDetails"] == {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_256_GCM_SHA384",
        "clientProvidedHostHeader": "kms.example.internal:8400",
    }
    rec.tls_version = rec.tls_cipher = rec.host = None
    [event] = events_for(rec)
    assert event["tlsDetails"] == {}


# -- cross-account -----------------------------------------------------------------------------


def test_a_call_on_another_account_s_key_is_delivered_to_both() -> None:
    rec = _encrypt()
    rec.request = {"KeyId": OTHER_ARN, "Plaintext": b"top secret plaintext"}
    rec.decisions = [Decided("kms:Encrypt", OTHER_ARN, True, ())]
    mine, theirs = events_for(rec)
    assert mine["recipientAccountId"] == ACCOUNT
    assert theirs["recipientAccountId"] == OTHER
    assert mine["sharedEventID"] == theirs["sharedEventID"]
    assert UUID.match(mine["sharedEventID"])
    assert mine["eventID"] != theirs["eventID"]
    assert mine["userIdentity"]["type"] == "IAMUser"
    assert theirs["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": "EX_PRINCIPAL_ID",
        "accountId": ACCOUNT,
    }
    assert theirs["resources"] == [{"accountId": OTHER, "type": "AWS::KMS::Key", "ARN": OTHER_ARN}]
    assert mine["requestID"] == theirs["requestID"] == rec.request_id


def test_a_denied_cross_account_call_is_delivered_to_both_too() -> None:
    rec = _encrypt()
    rec.decisions = [Decided("kms:Encrypt", OTHER_ARN, False, ())]
    rec.error_code, rec.error_message = "AccessDeniedException", "denied"
    assert [e["recipientAccountId"] for e in events_for(rec)] == [ACCOUNT, OTHER]


# -- IAM and STS -------------------------------------------------------------------------------


def test_iam_create_user() -> None:
    created = _epoch("2024-03-04T05:06:07Z")
    rec = _record(
        "CreateUser",
        service="iam",
        region="eu-west-1",
        request={"UserName": "Bob", "Path": "/"},
        response={
            "User": {
                "Path": "/",
                "UserName": "Bob",
                "UserId": "AIDABOB",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/Bob",
                "CreateDate": created,
            }
        },
    )
    [event] = events_for(rec)
    assert event["eventSource"] == "iam.amazonaws.com"
    assert event["awsRegion"] == "us-east-1"  # IAM is global
    assert event["requestParameters"] == {"userName": "Bob", "path": "/"}
    assert event["responseElements"] == {
        "user": {
            "path": "/",
            "userName": "Bob",
            "userId": "AIDABOB",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/Bob",
            "createDate": "Mar 4, 2024, 5:06:07 AM",
        }
    }
    assert event["readOnly"] is False
    assert "resources" not in event


def test_iam_create_access_key_never_shows_the_secret() -> None:
    rec = _record(
        "CreateAccessKey",
        service="iam",
        request={"UserName": "Bob"},
        response={
            "AccessKey": {
                "AccessKeyId": "AKIABOB",
                "Status": "Active",
                "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "CreateDate": 0.0,
                "UserName": "Bob",
            }
        },
    )
    [event] = events_for(rec)
    assert event["responseElements"]["accessKey"]["accessKeyId"] == "AKIABOB"
    assert "wJalrXUtnFEMI" not in json.dumps(event)


def test_iam_create_login_profile_never_shows_the_password() -> None:
    hidden = ServiceModel.load("iam").hidden_members("CreateLoginProfile")
    rec = _record(
        "CreateLoginProfile",
        service="iam",
        request={"UserName": "Bob", "Password": "hunter2-password"},
        hidden=hidden,
    )
    [event] = events_for(rec)
    assert event["requestParameters"] == {"userName": "Bob"}


def test_sts_assume_role_shows_credentials_without_secrets() -> None:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/Reader"
    expires = _epoch("2013-11-02T02:06:28Z")
    rec = _record(
        "AssumeRole",
        service="sts",
        request={"RoleArn": role_arn, "RoleSessionName": "s1", "DurationSeconds": 3600},
        response={
            "Credentials": {
                "AccessKeyId": "ASIANEW",
                "SecretAccessKey": "secret-access-key-value",
                "SessionToken": "session-token-value",
                "Expiration": expires,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAREADER:s1",
                "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Reader/s1",
            },
        },
    )
    [event] = events_for(rec)
    assert event["eventSource"] == "sts.amazonaws.com"
    assert event["requestParameters"] == {
        "roleArn": role_arn,
        "roleSessionName": "s1",
        "durationSeconds": 3600,
    }
    assert event["responseElements"] == {
        "credentials": {"accessKeyId": "ASIANEW", "expiration": "Nov 2, 2013, 2:06:28 AM"},
        "assumedRoleUser": {
            "assumedRoleId": "AROAREADER:s1",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Reader/s1",
        },
    }
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role_arn}]
    text = json.dumps(event)
    assert "secret-access-key-value" not in text
    assert "session-token-value" not in text


def test_admin_calls_have_their_own_event_source() -> None:
    rec = _record("POST /_strongroom/reset", service="admin", principal=None, region=None)
    [event] = events_for(rec)
    assert event["eventSource"] == "strongroom.admin"


# -- service events ----------------------------------------------------------------------------


def test_rotate_key_service_event_is_aws_s() -> None:
    event = service_event(
        "RotateKey",
        account=ACCOUNT,
        region="us-west-2",
        key_arn=KEY_ARN,
        event_time=_epoch("2021-01-14T01:41:59Z") + 0.5,
        service_event_details={"rotationType": "AUTOMATIC", "keyId": KEY},
    )
    _subset(event, aws.ROTATE_KEY)
    assert event["eventVersion"] == "1.11"
    assert "requestID" not in event
    assert "errorCode" not in event
    assert UUID.match(event["eventID"])
    assert event["managementEvent"] is True


def _in_us_west_2(name: str, when: str, **members: Any) -> dict[str, Any]:
    """A service event of KEY_ARN in us-west-2 at ``when`` (``members``: the optional ones)."""
    return service_event(
        name,
        account=ACCOUNT,
        region="us-west-2",
        key_arn=KEY_ARN,
        event_time=_epoch(when),
        **members,
    )


def test_rotate_key_details_and_delete_key_response_are_written_as_given() -> None:
    details = aws.ROTATE_KEY_ON_DEMAND_DETAILS
    rotated = _in_us_west_2("RotateKey", "2025-05-20T20:44:37Z", service_event_details=details)
    assert rotated["serviceEventDetails"] == aws.ROTATE_KEY_ON_DEMAND_DETAILS
    assert rotated["responseElements"] is None
    assert "additionalEventData" not in rotated
    response = aws.DELETE_KEY_RESPONSE
    deleted = _in_us_west_2("DeleteKey", "2025-05-20T20:44:37Z", response_elements=response)
    assert deleted["responseElements"] == aws.DELETE_KEY_RESPONSE
    assert "serviceEventDetails" not in deleted


@pytest.mark.parametrize("name", ["DeleteKey", "DeleteExpiredKeyMaterial", "CreateKey"])
def test_other_service_events(name: str) -> None:
    details = (
        aws.DELETE_EXPIRED_KEY_MATERIAL_DETAILS if name == "DeleteExpiredKeyMaterial" else None
    )
    event = _in_us_west_2(name, "2025-05-22T19:55:11Z", service_event_details=details)
    assert event["eventName"] == name
    assert event["eventType"] == "AwsServiceEvent"
    assert event["eventTime"] == "2025-05-22T19:55:11Z"
    assert event["userIdentity"] == {"accountId": ACCOUNT, "invokedBy": "AWS Internal"}
    assert event["resources"][0]["ARN"] == KEY_ARN
    assert event.get("serviceEventDetails") == details


# -- no secret, ever ---------------------------------------------------------------------------

_MODELS = {name: Loader().load_service_model(name, "service-2") for name in ("kms", "iam", "sts")}


def _filled(shapes: Mapping[str, Any], name: str, secret: str, depth: int = 0) -> Any:
    """A value of shape ``name``: every sensitive or binary member (at any depth) holds
    ``secret``, every other string a harmless word."""
    shape = shapes[name]
    kind = shape["type"]
    if kind == "blob":
        return secret.encode()
    if shape.get("sensitive") and kind in ("string", "timestamp"):
        return secret
    if depth > 4:
        return None
    if kind == "structure":
        return {
            member: _filled(shapes, ref["shape"], secret, depth + 1)
            for member, ref in shape.get("members", {}).items()
        }
    if kind == "list":
        return [_filled(shapes, shape["member"]["shape"], secret, depth + 1)]
    if kind == "map":
        return {"k": _filled(shapes, shape["value"]["shape"], secret, depth + 1)}
    return {"string": "word", "boolean": True, "integer": 7, "long": 7}.get(kind, 1.0)


_OPERATIONS = [
    (service, name)
    for service, model in _MODELS.items()
    for name, operation in model["operations"].items()
    if "input" in operation
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_OPERATIONS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=12, max_size=40),
    st.booleans(),
)
def test_no_sensitive_or_binary_value_ever_appears(
    op: tuple[str, str], secret: str, cross_account: bool
) -> None:
    service, name = op
    model = _MODELS[service]
    shapes, operation = model["shapes"], model["operations"][name]
    marker = f"SECRET{secret}"
    request = _filled(shapes, operation["input"]["shape"], marker)
    response = (
        _filled(shapes, operation["output"]["shape"], marker) if "output" in operation else {}
    )
    rec = _record(
        name,
        service=service,
        request=request,
        hidden=ServiceModel.load(service).hidden_members(name),
        response=response,
    )
    rec.decided(Decided(f"{service}:{name}", OTHER_ARN if cross_account else KEY_ARN, True, ()))
    text = json.dumps(events_for(rec))
    assert "SECRET" not in text
