"""A small trail of realistic events for the query and tail tests, in the shapes of AWS's
CloudTrail examples (ct_examples.py): API calls by an IAM user and by an assumed-role session,
a denied call, a call by alias, a cross-account call and a service event."""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.unit.audit.ct_examples import ENCRYPT, ROTATE_KEY

from strongroom.audit.trail import iso_time

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
KEY_1 = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_2 = "0987dcba-09fe-87dc-65ba-ab0987654321"
ARN_1 = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{KEY_1}"
ARN_2 = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{KEY_2}"
ALIAS = "alias/payments"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/Alice"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/build-42"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Deployer"
ALICE_KEY_ID = "AKIAALICEEXAMPLE0001"
SESSION_KEY_ID = "ASIASESSIONEXAMPLE01"


def _resources(*arns: str) -> list[dict[str, str]]:
    return [{"accountId": a.split(":")[4], "type": "AWS::KMS::Key", "ARN": a} for a in arns]


def _call(request_id: str, when: str, name: str, key_arn: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(ENCRYPT)
    event.update(
        eventName=name,
        eventTime=when,
        requestID=request_id,
        eventID=f"event-{request_id}",
        resources=_resources(key_arn),
    )
    event["userIdentity"]["accessKeyId"] = ALICE_KEY_ID
    event["requestParameters"]["keyId"] = key_arn
    event["requestParameters"].update(changes.pop("requestParameters", {}))
    event.update(changes)
    return event


def _session_identity() -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEROLEID:build-42",
        "arn": SESSION,
        "accountId": ACCOUNT,
        "accessKeyId": SESSION_KEY_ID,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEROLEID",
                "arn": ROLE,
                "accountId": ACCOUNT,
                "userName": "Deployer",
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2025-05-20T20:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def trail_events() -> list[dict[str, Any]]:
    """Seven events, oldest first; ``requestID`` r1 … r7 (the rotation has none: AWS's
    service events carry no request id), the last one ten minutes ago."""
    rotate = copy.deepcopy(ROTATE_KEY)
    rotate.update(
        eventTime="2025-05-20T21:30:00Z",
        eventID="event-rotate",
        resources=_resources(ARN_2),
        serviceEventDetails={**rotate["serviceEventDetails"], "keyId": KEY_2},
    )
    return [
        _call("r1", "2025-05-20T20:46:16Z", "Encrypt", ARN_1),
        _call(
            "r2",
            "2025-05-20T20:50:00Z",
            "Decrypt",
            ARN_1,
            userIdentity=_session_identity(),
            requestParameters={"encryptionContext": {"Department": "Finance"}},
            errorCode="AccessDeniedException",
            errorMessage="User is not authorized to perform: kms:Decrypt",
        ),
        _call(
            "r3",
            "2025-05-20T21:00:00Z",
            "GenerateDataKey",
            ARN_2,
            requestParameters={"keyId": ALIAS, "keySpec": "AES_256"},
            userIdentity=_session_identity(),
        ),
        rotate,
        _call(
            "r5",
            "2025-05-20T22:00:00Z",
            "Decrypt",
            ARN_2,
            recipientAccountId=OTHER_ACCOUNT,
            requestParameters={"encryptionContext": {"Department": "Finance", "Team": "Ops"}},
        ),
        _call(
            "r6",
            "2025-05-20T22:10:00Z",
            "Encrypt",
            ARN_2,
            errorCode="DisabledException",
            errorMessage=f"{ARN_2} is disabled.",
        ),
        _call("r7", iso_time(time.time() - 600), "Encrypt", ARN_1),
    ]


# (filter arguments, the events (eventID without "event-") that match, oldest first)
QUERY_CASES: list[tuple[list[str], list[str]]] = [
    ([], ["r1", "r2", "r3", "rotate", "r5", "r6", "r7"]),
    (["--event-name", "Decrypt"], ["r2", "r5"]),
    (["--event-name", "Decrypt", "--event-name", "GenerateDataKey"], ["r2", "r3", "r5"]),
    (["--key", KEY_1], ["r1", "r2", "r7"]),
    (["--key", ARN_2], ["r3", "rotate", "r5", "r6"]),
    (["--key", ALIAS], ["r3"]),
    (["--principal", ALICE], ["r1", "r5", "r6", "r7"]),
    (["--principal", "build-42"], ["r2", "r3"]),
    (["--access-key-id", SESSION_KEY_ID], ["r2", "r3"]),
    (["--start", "2025-05-20T21:00:00Z", "--end", "2025-05-20T22:00:00"], ["r3", "rotate", "r5"]),
    (["--start", "-1h"], ["r7"]),
    (["--end", "-2d"], ["r1", "r2", "r3", "rotate", "r5", "r6"]),
    (["--error"], ["r2", "r6"]),
    (["--error", "DisabledException"], ["r6"]),
    (["--context", "Department=Finance"], ["r2", "r5"]),
    (["--context", "Department=Finance", "--context", "Team=Ops"], ["r5"]),
    (["--account", OTHER_ACCOUNT], ["r5"]),
    (["--event-name", "Encrypt", "--key", KEY_1, "--principal", "Alice"], ["r1", "r7"]),
    (["--key", ARN_2, "--error", "--event-name", "Encrypt"], ["r6"]),
    (["--key", ARN_2, "--limit", "2"], ["r3", "rotate"]),
    (["--limit", "0"], []),
    (["--event-name", "CreateKey"], []),
    # names, role names, alias ARNs, context pairs; whole values only, never fragments
    (["--principal", "Alice"], ["r1", "r5", "r6", "r7"]),
    (["--principal", "Deployer"], ["r2", "r3"]),
    (["--principal", "arn:aws:iam::111122223333:role/Deployer"], ["r2", "r3"]),
    (["--key", "arn:aws:kms:us-west-2:111122223333:alias/payments"], []),
    (["--context", "Department=Engineering"], ["r1", "r3", "r6", "r7"]),
    (["--error", "AccessDenied"], []),
    (["--access-key-id", "AKIAALICEEXAMPLE000"], []),
]
