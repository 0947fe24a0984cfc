"""The key policy AWS's console writes for a new key: the account statement that enables IAM
policies, then statements for the key administrators, the key users, and the key users' grants
for AWS resources (kms-spec.md 6.4).

One function builds it so that ``strongroom keys create`` and the web console offer the same text.
It is printed as AWS prints key policies (Jackson's default pretty printer: ``" : "``, arrays on one
line, ``[ {`` / ``}, {`` / ``} ]`` around statements), so GetKeyPolicy returns what AWS would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["CONSOLE_POLICY_ID", "console_key_policy", "pretty_policy"]

CONSOLE_POLICY_ID = "key-consolepolicy-3"

_ADMIN_ACTIONS = (
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
)
_SYMMETRIC_USE = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
_USE_BY_USAGE: dict[str, tuple[str, ...]] = {
    "ENCRYPT_DECRYPT": (
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:DescribeKey",
        "kms:GetPublicKey",
    ),
    "SIGN_VERIFY": ("kms:DescribeKey", "kms:GetPublicKey", "kms:Sign", "kms:Verify"),
    "GENERATE_VERIFY_MAC": ("kms:DescribeKey", "kms:GenerateMac", "kms:VerifyMac"),
    "KEY_AGREEMENT": ("kms:DescribeKey", "kms:GetPublicKey", "kms:DeriveSharedSecret"),
    "ENCAPSULATE_DECAPSULATE": (
        "kms:DescribeKey",
        "kms:GetPublicKey",
        "kms:Encapsulate",
        "kms:Decapsulate",
    ),
}
_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")

Json = str | bool | list["Json"] | dict[str, "Json"]


def _default_usage(key_spec: str) -> str:
    if key_spec.startswith("HMAC_"):
        return "GENERATE_VERIFY_MAC"
    if key_spec.startswith(("ECC_", "ML_DSA_")):
        return "SIGN_VERIFY"
    if key_spec.startswith("ML_KEM_"):
        return "ENCAPSULATE_DECAPSULATE"
    return "ENCRYPT_DECRYPT"


def _principal(arns: Sequence[str]) -> dict[str, Json]:
    """One ARN as a string, several as a list: as the console sends them."""
    return {"AWS": arns[0] if len(arns) == 1 else list(arns)}


def _statement(sid: str, arns: Sequence[str], actions: Sequence[str]) -> dict[str, Json]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": _principal(arns),
        "Action": list(actions),
        "Resource": "*",
    }


def _admin_actions(key_spec: str, origin: str, multi_region: bool) -> list[str]:
    actions = list(_ADMIN_ACTIONS)
    if key_spec == "SYMMETRIC_DEFAULT":
        actions.append("kms:RotateKeyOnDemand")
    if origin == "EXTERNAL":
        actions.append("kms:ImportKeyMaterial")  # DeleteImportedKeyMaterial is in kms:Delete*
    if multi_region:
        actions += ["kms:ReplicateKey", "kms:UpdatePrimaryRegion"]
    return actions


def _user_statements(users: Sequence[str], key_spec: str, key_usage: str) -> list[dict[str, Json]]:
    if key_spec == "SYMMETRIC_DEFAULT":
        use = _statement("Allow use of the key", users, _SYMMETRIC_USE)
        grants = _statement("Allow attachment of persistent resources", users, _GRANT_ACTIONS)
        grants["Condition"] = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        return [use, grants]
    try:
        actions = _USE_BY_USAGE[key_usage]
    except KeyError:
        raise ValueError(f"unknown key usage {key_usage!r}") from None
    return [_statement("Allow use of the key", users, actions)]


def console_key_policy(
    account: str,
    *,
    admins: Sequence[str],
    users: Sequence[str],
    partition: str = "aws",
    key_spec: str = "SYMMETRIC_DEFAULT",
    origin: str = "AWS_KMS",
    multi_region: bool = False,
    key_usage: str | None = None,
) -> str:
    """The policy text AWS's console stores for a key with these administrators and users.

    A statement whose principal list would be empty is left out, as the console does. The grants
    statement (``kms:GrantIsForAWSResource``) is only written for symmetric encryption keys.
    ``key_usage`` defaults to the key spec's usual one (ECC and ML-DSA: SIGN_VERIFY).
    """
    usage = key_usage or _default_usage(key_spec)
    root = f"arn:{partition}:iam::{account}:root"
    statements: list[Json] = [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if admins:
        actions = _admin_actions(key_spec, origin, multi_region)
        statements.append(_statement("Allow access for Key Administrators", admins, actions))
    if users:
        statements += _user_statements(users, key_spec, usage)
    document: dict[str, Json] = {
        "Id": CONSOLE_POLICY_ID,
        "Version": "2012-10-17",
        "Statement": statements,
    }
    return pretty_policy(document)


def pretty_policy(value: Json, level: int = 0) -> str:
    """``value`` as AWS prints a key policy (Jackson's default pretty printer)."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        inner = "  " * (level + 1)
        members = ",\n".join(
            f"{inner}{json.dumps(k, ensure_ascii=False)} : {pretty_policy(v, level + 1)}"
            for k, v in value.items()
        )
        return "{\n" + members + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(pretty_policy(v, level) for v in value) + " ]"
    return json.dumps(value, ensure_ascii=False)
