"""Key fields of AWS's CloudTrail examples for KMS, IAM and STS, quoted from AWS's pages (KMS
developer guide ``ct-<operation>``; CloudTrail user guide ``non-api-aws-service-events`` and
``cloudtrail-event-reference-user-identity``), as read in 2025. The tests compare the events
Strongroom builds against them, member by member."""

from __future__ import annotations

from typing import Any

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-encrypt.html
ENCRYPT: dict[str, Any] = {
    "eventVersion": "1.11",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn:aws:iam::111122223333:user/Alice",
        "accountId": "111122223333",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "userName": "Alice",
    },
    "eventTime": "2025-05-20T20:46:16Z",
    "eventSource": "kms.amazonaws.com",
    "eventName": "Encrypt",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.0",
    "requestParameters": {
        "encryptionContext": {"Department": "Engineering"},
        "keyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
    },
    "responseElements": None,
    "additionalEventData": {
        "keyMaterialId": "123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"
    },
    "requestID": "f3423043-63bc-11e4-bc2b-4198b6150d5c",
    "readOnly": True,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "111122223333",
}

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-createkey.html (responseElements)
CREATE_KEY_METADATA: dict[str, Any] = {
    "AWSAccountId": "111122223333",
    "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "creationDate": "Aug 10, 2022, 10:38:27 PM",
    "enabled": False,
    "description": "",
    "keyUsage": "ENCRYPT_DECRYPT",
    "keyState": "PendingImport",
    "origin": "EXTERNAL",
    "keyManager": "CUSTOMER",
    "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
    "keySpec": "SYMMETRIC_DEFAULT",
    "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
    "multiRegion": False,
}
CREATE_KEY_TIME = "2022-08-10T22:38:27Z"

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-creategrant.html
CREATE_GRANT_RESPONSE: dict[str, Any] = {
    "grantId": "f020fe75197b93991dc8491d6f19dd3cebb24ee62277a05914386724f3d48758",
    "keyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-enablekey.html
ENABLE_KEY_RESPONSE = {
    "keyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html
ROTATE_KEY: dict[str, Any] = {
    "userIdentity": {"accountId": "111122223333", "invokedBy": "AWS Internal"},
    "eventTime": "2021-01-14T01:41:59Z",
    "eventSource": "kms.amazonaws.com",
    "eventName": "RotateKey",
    "awsRegion": "us-west-2",
    "sourceIPAddress": "AWS Internal",
    "userAgent": "AWS Internal",
    "requestParameters": None,
    "responseElements": None,
    "readOnly": False,
    "resources": [
        {
            "accountId": "111122223333",
            "type": "AWS::KMS::Key",
            "ARN": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        }
    ],
    "eventType": "AwsServiceEvent",
    "recipientAccountId": "111122223333",
    "serviceEventDetails": {
        "rotationType": "AUTOMATIC",
        "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    },
    "eventCategory": "Management",
}

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html (2025, on demand)
ROTATE_KEY_ON_DEMAND_DETAILS = {
    "rotationType": "ON_DEMAND",
    "keyOrigin": "EXTERNAL",
    "previousKeyMaterialId": "123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
    "currentKeyMaterialId": "96083e4fb6dbc41d77578a213a6b6669c044dd4c143e96755396d2bf11fd6068",
    "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
}

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-delete-key.html ("on or after December
# 2022 include the key ARN ... in the responseElements.keyId value")
DELETE_KEY_RESPONSE = {
    "keyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

# https://docs.aws.amazon.com/kms/latest/developerguide/ct-deleteexpiredkeymaterial.html
DELETE_EXPIRED_KEY_MATERIAL_DETAILS = {
    "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "keyMaterialId": "123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
}

# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
ASSUMED_ROLE_ISSUER = {
    "type": "Role",
    "principalId": "AROAIDPPEZS35WEXAMPLE",
    "arn": "arn:aws:iam::123456789012:role/RoleToBeAssumed",
    "accountId": "123456789012",
    "userName": "RoleToBeAssumed",
}
