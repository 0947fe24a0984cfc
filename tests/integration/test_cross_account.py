"""Across accounts, only what AWS allows: cryptographic operations, DescribeKey, GetPublicKey,
GetKeyRotationStatus and the grant operations (kms-spec.md 6.2 step 4, the action table's
``cross_account`` trait). Every management operation on another account's key is refused with
AccessDeniedException, even when that key's policy grants ``kms:*`` to the calling account, and
the key is left as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from strongroom.domain.actions import Action, Governed
from tests.integration.expect import aws_error
from tests.integration.server import Server, create_account, initialised_server

A = "111122223333"
B = "444455556666"
REGION = "us-east-1"

# kms:* for both accounts' roots: the policy would allow anything, so a refusal is the rule's.
SHARED = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "both accounts",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root"]},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("cross") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def kms_b(server: Server) -> Any:
    access, secret = create_account(server, B)
    return server.client("kms", access_key=access, secret_key=secret)


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    """Account A's keys, shared with B by policy: symmetric, multi-Region, imported-material."""
    kms = server.client("kms")

    def arn(**params: Any) -> str:
        return str(kms.create_key(Policy=SHARED, **params)["KeyMetadata"]["Arn"])

    return {
        "symmetric": arn(Description="shared"),
        "mrk": arn(MultiRegion=True),
        "external": arn(Origin="EXTERNAL"),
    }


def key_id(arn: str) -> dict[str, Any]:
    return {"KeyId": arn}


# Each management operation: which of A's keys it is tried on, and its parameters for that key.
Params = Callable[[str], dict[str, Any]]
MANAGEMENT: dict[str, tuple[str, Params]] = {
    "CancelKeyDeletion": ("symmetric", key_id),
    "CreateAlias": (
        "symmetric",
        lambda arn: {"AliasName": "alias/b-points-at-a", "TargetKeyId": arn},
    ),
    "DeleteImportedKeyMaterial": ("external", key_id),
    "DisableKey": ("symmetric", key_id),
    "DisableKeyRotation": ("symmetric", key_id),
    "EnableKey": ("symmetric", key_id),
    "EnableKeyRotation": ("symmetric", key_id),
    "GetKeyLastUsage": ("symmetric", key_id),
    "GetKeyPolicy": ("symmetric", lambda arn: {"KeyId": arn, "PolicyName": "default"}),
    "GetParametersForImport": (
        "external",
        lambda arn: {
            "KeyId": arn,
            "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
            "WrappingKeySpec": "RSA_2048",
        },
    ),
    "ImportKeyMaterial": (
        "external",
        lambda arn: {
            "KeyId": arn,
            "ImportToken": b"\x00" * 64,
            "EncryptedKeyMaterial": b"\x00" * 256,
            "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
        },
    ),
    "ListKeyPolicies": ("symmetric", key_id),
    "ListKeyRotations": ("symmetric", key_id),
    "ListResourceTags": ("symmetric", key_id),
    "PutKeyPolicy": (
        "symmetric",
        lambda arn: {"KeyId": arn, "PolicyName": "default", "Policy": SHARED},
    ),
    "ReplicateKey": ("mrk", lambda arn: {"KeyId": arn, "ReplicaRegion": "us-west-2"}),
    "RotateKeyOnDemand": ("symmetric", key_id),
    "ScheduleKeyDeletion": ("symmetric", lambda arn: {"KeyId": arn, "PendingWindowInDays": 7}),
    "TagResource": (
        "symmetric",
        lambda arn: {"KeyId": arn, "Tags": [{"TagKey": "k", "TagValue": "v"}]},
    ),
    "UntagResource": ("symmetric", lambda arn: {"KeyId": arn, "TagKeys": ["k"]}),
    "UpdateKeyDescription": ("symmetric", lambda arn: {"KeyId": arn, "Description": "b"}),
    "UpdatePrimaryRegion": ("mrk", lambda arn: {"KeyId": arn, "PrimaryRegion": "us-west-2"}),
}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def test_the_table_covers_every_served_management_operation() -> None:
    """Every key operation the table marks as not cross-account is tried below (DeleteAlias and
    UpdateAlias name only the caller's own aliases)."""
    management = {
        a.value
        for a in Action
        if a.traits.governed is Governed.KEY
        and not a.traits.cross_account
        and not a.traits.permission_only
    }
    assert management - set(MANAGEMENT) == {"DeleteAlias", "UpdateAlias"}


@pytest.mark.parametrize("operation", sorted(MANAGEMENT))
def test_a_management_operation_on_another_accounts_key_is_refused(
    server: Server, kms_b: Any, keys: dict[str, str], operation: str
) -> None:
    kind, params = MANAGEMENT[operation]
    before = server.client("kms").describe_key(KeyId=keys[kind])["KeyMetadata"]
    code, message, status = aws_error(getattr(kms_b, _snake(operation)), **params(keys[kind]))
    assert (code, status) == ("AccessDeniedException", 400), message
    assert message.startswith(f"User: arn:aws:iam::{B}:root is not authorized to perform: kms:")
    assert f"kms:{operation} on resource: {keys[kind]}" in message
    after = server.client("kms").describe_key(KeyId=keys[kind])["KeyMetadata"]
    assert after == before


def test_what_aws_allows_across_accounts_works(kms_b: Any, keys: dict[str, str]) -> None:
    """The same policy lets B use A's key: DescribeKey, Encrypt and Decrypt, GetKeyRotationStatus,
    CreateGrant, ListGrants, RevokeGrant."""
    arn = keys["symmetric"]
    assert kms_b.describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn
    blob = kms_b.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    assert kms_b.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert kms_b.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is False
    grant = kms_b.create_grant(
        KeyId=arn, GranteePrincipal=f"arn:aws:iam::{B}:root", Operations=["Decrypt"]
    )
    assert any(g["GrantId"] == grant["GrantId"] for g in kms_b.list_grants(KeyId=arn)["Grants"])
    kms_b.revoke_grant(KeyId=arn, GrantId=grant["GrantId"])


def test_the_caller_accounts_own_alias_cannot_point_at_another_accounts_key(
    server: Server, kms_b: Any, keys: dict[str, str]
) -> None:
    """Nothing of B's was created by the refused CreateAlias either."""
    aliases = kms_b.list_aliases()["Aliases"]
    assert not [a for a in aliases if a["AliasName"] == "alias/b-points-at-a"]
