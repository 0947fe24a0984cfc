"""The condition keys a KMS request carries (kms-spec.md section 7)."""

from __future__ import annotations

from types import MappingProxyType

from tests.unit.kms.helpers import a_key

from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.kms.condition_keys import ConditionKeys, request_keys

A = "111122223333"
KEY = a_key(A, "eu-west-1")
ALICE = Principal(
    account=A,
    arn=f"arn:aws:iam::{A}:user/alice",
    type=PrincipalType.USER,
    user_id="AIDAALICE",
    name="alice",
    tags=MappingProxyType({"Team": "blue"}),
)


def test_global_and_key_keys() -> None:
    caller = Caller(ALICE, "eu-west-1", "AKIA1", source_ip="10.1.2.3", secure_transport=True)
    keys = request_keys(
        caller,
        {"EncryptionContext": {"Tenant": "Blue"}, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        key=KEY,
        request_alias="alias/app",
        now=1_800_000_000.0,
    )
    assert keys["aws:PrincipalArn"] == ALICE.arn
    assert keys["aws:principalaccount"] == A
    assert keys["aws:principaltype"] == "User"
    assert keys["aws:userid"] == "AIDAALICE"
    assert keys["aws:username"] == "alice"
    assert keys["aws:principaltag/team"] == "blue"
    assert keys["aws:sourceip"] == "10.1.2.3"
    assert keys["aws:securetransport"] is True
    assert keys["aws:currenttime"] == "2027-01-15T08:00:00Z"
    assert keys["aws:epochtime"] == 1_800_000_000
    assert keys["aws:requestedregion"] == "eu-west-1"
    assert keys["kms:calleraccount"] == A
    assert keys["kms:encryptioncontext:tenant"] == "Blue"
    assert keys["kms:encryptioncontextkeys"] == ["Tenant"]
    assert keys["kms:encryptionalgorithm"] == "SYMMETRIC_DEFAULT"
    assert keys["kms:keyorigin"] == "AWS_KMS"
    assert keys["kms:keyspec"] == "SYMMETRIC_DEFAULT"
    assert keys["kms:keyusage"] == "ENCRYPT_DECRYPT"
    assert keys["kms:multiregion"] is False
    assert keys["kms:requestalias"] == "alias/app"
    assert "aws:resourcetag/team" not in keys


def test_create_key_parameters_describe_the_new_key() -> None:
    caller = Caller.root(A, "us-east-1")
    keys = request_keys(
        caller,
        {
            "Tags": [{"TagKey": "Env", "TagValue": "prod"}],
            "BypassPolicyLockoutSafetyCheck": True,
            "MacAlgorithm": "HMAC_SHA_256",
        },
        key=None,
        creating=True,
    )
    assert keys["kms:keyspec"] == "SYMMETRIC_DEFAULT"
    assert keys["kms:keyusage"] == "ENCRYPT_DECRYPT"
    assert keys["kms:keyorigin"] == "AWS_KMS"
    assert keys["aws:tagkeys"] == ["Env"]
    assert keys["aws:requesttag/env"] == "prod"
    assert keys["kms:bypasspolicylockoutsafetycheck"] is True
    assert keys["kms:macalgorithm"] == "HMAC_SHA_256"
    assert keys["aws:principaltype"] == "Account"
    assert "aws:username" not in keys


def test_costly_families_load_only_when_asked() -> None:
    calls: list[str] = []

    def tags() -> dict[str, str]:
        calls.append("tags")
        return {"Team": "blue"}

    def aliases() -> list[str]:
        calls.append("aliases")
        return ["alias/a", "alias/b"]

    keys = request_keys(
        Caller.root(A, "us-east-1"),
        {"PendingWindowInDays": 7},
        key=KEY,
        tags=tags,
        aliases=aliases,
    )
    assert keys["kms:schedulekeydeletionpendingwindowindays"] == 7
    assert calls == []
    assert keys["aws:resourcetag/team"] == "blue"
    assert keys["kms:ResourceAliases"] == ["alias/a", "alias/b"]
    assert keys.get("aws:resourcetag/missing") is None
    assert calls == ["tags", "aliases"]


def test_nothing_is_computed_until_read() -> None:
    built: list[bool] = []

    def build() -> dict[str, object]:
        built.append(True)
        return {"a": 1}

    keys = ConditionKeys(build)
    assert built == []
    assert keys["A"] == 1
    assert len(keys) == 1
    assert built == [True]
