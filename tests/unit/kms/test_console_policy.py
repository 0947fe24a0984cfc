"""The console's default key policy: AWS's exact text, its statements per key type, and that it
passes the policy language's checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strongroom.kms.console_policy import console_key_policy, pretty_policy
from strongroom.kms.policy_text import default_key_policy
from strongroom.policy.document import PolicyKind, parse_policy

ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/KMSAdminUser"
USER = f"arn:aws:iam::{ACCOUNT}:user/ExampleUser"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"

GOLDEN = """{
  "Id" : "key-consolepolicy-3",
  "Version" : "2012-10-17",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  }, {
    "Sid" : "Allow access for Key Administrators",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:user/KMSAdminUser"
    },
    "Action" : [ "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", \
"kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", \
"kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand" ],
    "Resource" : "*"
  }, {
    "Sid" : "Allow use of the key",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : [ "arn:aws:iam::111122223333:user/ExampleUser", \
"arn:aws:iam::111122223333:role/ExampleRole" ]
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", \
"kms:DescribeKey" ],
    "Resource" : "*"
  }, {
    "Sid" : "Allow attachment of persistent resources",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : [ "arn:aws:iam::111122223333:user/ExampleUser", \
"arn:aws:iam::111122223333:role/ExampleRole" ]
    },
    "Action" : [ "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant" ],
    "Resource" : "*",
    "Condition" : {
      "Bool" : {
        "kms:GrantIsForAWSResource" : "true"
      }
    }
  } ]
}"""

ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]


def _doc(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("admins", [ADMIN])
    kwargs.setdefault("users", [USER])
    text = console_key_policy(ACCOUNT, **kwargs)
    parse_policy(text, PolicyKind.RESOURCE)
    document: dict[str, Any] = json.loads(text)
    return document


def _by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_golden_text_for_a_symmetric_key() -> None:
    assert console_key_policy(ACCOUNT, admins=[ADMIN], users=[USER, ROLE]) == GOLDEN


def test_printer_reproduces_the_api_default_policy_byte_for_byte() -> None:
    text = default_key_policy("aws", ACCOUNT)
    assert pretty_policy(json.loads(text)) == text


def test_symmetric_statements_sids_actions_and_condition() -> None:
    document = _doc()
    assert document["Id"] == "key-consolepolicy-3"
    assert document["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in document["Statement"]]
    assert sids == [
        "Enable IAM User Permissions",
        "Allow access for Key Administrators",
        "Allow use of the key",
        "Allow attachment of persistent resources",
    ]
    statements = _by_sid(document)
    root = statements["Enable IAM User Permissions"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert (root["Action"], root["Resource"]) == ("kms:*", "*")
    admin = statements["Allow access for Key Administrators"]
    assert admin["Action"] == [*ADMIN_ACTIONS, "kms:RotateKeyOnDemand"]
    assert admin["Principal"] == {"AWS": ADMIN}
    grants = statements["Allow attachment of persistent resources"]
    assert grants["Action"] == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert all(s["Effect"] == "Allow" and s["Resource"] == "*" for s in document["Statement"])


def test_no_admins_no_users_leaves_only_the_account_statement() -> None:
    document = _doc(admins=[], users=[])
    assert [s["Sid"] for s in document["Statement"]] == ["Enable IAM User Permissions"]


def test_no_admins_drops_only_the_admin_statement() -> None:
    sids = list(_by_sid(_doc(admins=[])))
    assert "Allow access for Key Administrators" not in sids
    assert "Allow use of the key" in sids


def test_no_users_drops_use_and_grant_statements() -> None:
    sids = list(_by_sid(_doc(users=[])))
    assert sids == ["Enable IAM User Permissions", "Allow access for Key Administrators"]


def test_external_and_multi_region_admin_actions() -> None:
    admin = _by_sid(_doc(origin="EXTERNAL", multi_region=True))[
        "Allow access for Key Administrators"
    ]
    assert admin["Action"][-3:] == [
        "kms:ImportKeyMaterial",
        "kms:ReplicateKey",
        "kms:UpdatePrimaryRegion",
    ]


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "actions"),
    [
        ("HMAC_256", None, ["kms:DescribeKey", "kms:GenerateMac", "kms:VerifyMac"]),
        ("ECC_NIST_P256", None, ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign", "kms:Verify"]),
        (
            "RSA_2048",
            "ENCRYPT_DECRYPT",
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey", "kms:GetPublicKey"],
        ),
        (
            "RSA_2048",
            "SIGN_VERIFY",
            ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign", "kms:Verify"],
        ),
    ],
)
def test_other_key_types_have_their_use_actions_and_no_grant_statement(
    key_spec: str, key_usage: str | None, actions: list[str]
) -> None:
    statements = _by_sid(_doc(key_spec=key_spec, key_usage=key_usage))
    assert statements["Allow use of the key"]["Action"] == actions
    assert "Allow attachment of persistent resources" not in statements
    assert statements["Allow access for Key Administrators"]["Action"] == ADMIN_ACTIONS


def test_partition_is_used_for_the_root() -> None:
    root = _doc(partition="aws-cn")["Statement"][0]
    assert root["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}


def test_unknown_key_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key usage"):
        console_key_policy(ACCOUNT, admins=[], users=[USER], key_spec="RSA_2048", key_usage="X")
