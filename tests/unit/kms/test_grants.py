"""Grant operations and grants in authorization, against a real service (SQLite, software keys)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import (
    AccessDeniedException,
    DisabledException,
    DryRunOperationException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    LimitExceededException,
    NotFoundException,
    ValidationException,
)
from strongroom.kms import grants
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService

A = "111122223333"
B = "444455556666"
REGION = "us-east-1"


def user(name: str, account: str = A) -> Caller:
    principal = Principal(
        account=account,
        arn=f"arn:aws:iam::{account}:user/{name}",
        type=PrincipalType.USER,
        user_id=f"AIDA{name.upper()}",
        name=name,
    )
    return Caller(principal, REGION, f"AKIA{name.upper()}")


def session(role: str, name: str) -> Caller:
    principal = Principal(
        account=A,
        arn=f"arn:aws:sts::{A}:assumed-role/{role}/{name}",
        type=PrincipalType.ASSUMED_ROLE,
        user_id=f"AROA:{name}",
        name=role,
        role_arn=f"arn:aws:iam::{A}:role/{role}",
        session_name=name,
    )
    return Caller(principal, REGION, "ASIASESSION", session_token=True)


def run(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    svc.refresh()
    return call(svc, caller, op, params)


@pytest.fixture
def key(svc: KmsService, caller: Caller) -> str:
    return str(run(svc, caller, "CreateKey")["KeyMetadata"]["Arn"])


def grant(
    svc: KmsService,
    key: str,
    grantee: Caller,
    *ops: str,
    caller: Caller | None = None,
    **extra: Any,
) -> dict[str, Any]:
    owner = caller or Caller.root(A, REGION)
    return run(
        svc,
        owner,
        "CreateGrant",
        KeyId=key,
        GranteePrincipal=grantee.principal_arn,
        Operations=list(ops or ("Encrypt",)),
        **extra,
    )


def test_a_grantee_without_policy_access_encrypts_through_its_grant(
    svc: KmsService, key: str
) -> None:
    bob = user("bob")
    with pytest.raises(AccessDeniedException):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x")
    out = grant(svc, key, bob, "Encrypt", "Decrypt")
    assert len(out["GrantId"]) == 64
    assert out["GrantToken"]
    blob = run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert run(svc, bob, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"x"
    with pytest.raises(AccessDeniedException):
        run(svc, bob, "GenerateDataKey", KeyId=key, KeySpec="AES_256")
    with pytest.raises(AccessDeniedException):
        run(svc, user("carol"), "Encrypt", KeyId=key, Plaintext=b"x")


def test_a_grant_to_a_role_serves_its_sessions_and_a_session_grant_only_that_session(
    svc: KmsService, key: str
) -> None:
    ops = run(
        svc,
        Caller.root(A, REGION),
        "CreateGrant",
        KeyId=key,
        Operations=["Encrypt"],
        GranteePrincipal=f"arn:aws:iam::{A}:role/app",
    )
    assert ops["GrantId"]
    run(svc, session("app", "one"), "Encrypt", KeyId=key, Plaintext=b"x")
    grant(svc, key, session("other", "s1"))
    run(svc, session("other", "s1"), "Encrypt", KeyId=key, Plaintext=b"x")
    with pytest.raises(AccessDeniedException):
        run(svc, session("other", "s2"), "Encrypt", KeyId=key, Plaintext=b"x")


def test_a_cross_account_grantee_needs_only_the_grant(svc: KmsService, key: str) -> None:
    stranger = user("eve", B)
    with pytest.raises(AccessDeniedException):
        run(svc, stranger, "Encrypt", KeyId=key, Plaintext=b"x")
    grant(svc, key, stranger)
    run(svc, stranger, "Encrypt", KeyId=key, Plaintext=b"x")


def test_grant_tokens_are_checked_and_usable(svc: KmsService, key: str, caller: Caller) -> None:
    bob = user("bob")
    token = grant(svc, key, bob)["GrantToken"]
    run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", GrantTokens=[token])
    forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    for bad in (forged, "not-a-token", "AQ"):
        with pytest.raises(InvalidGrantTokenException):
            run(svc, caller, "Encrypt", KeyId=key, Plaintext=b"x", GrantTokens=[bad])
    other_key = str(run(svc, caller, "CreateKey")["KeyMetadata"]["Arn"])
    with pytest.raises(AccessDeniedException):  # a token only serves its own key
        run(svc, bob, "Encrypt", KeyId=other_key, Plaintext=b"x", GrantTokens=[token])


def test_a_token_of_a_retired_grant_is_invalid(svc: KmsService, key: str) -> None:
    bob = user("bob")
    token = grant(svc, key, bob, "Encrypt", "RetireGrant")["GrantToken"]
    run(svc, bob, "RetireGrant", GrantToken=token)
    with pytest.raises(InvalidGrantTokenException):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", GrantTokens=[token])


@pytest.mark.parametrize("kind", ["EncryptionContextEquals", "EncryptionContextSubset"])
def test_constraints_hold_or_refuse(svc: KmsService, key: str, kind: str) -> None:
    bob = user("bob")
    grant(svc, key, bob, "Encrypt", "DescribeKey", Constraints={kind: {"tenant": "blue"}})
    run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "blue"})
    run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext={"TENANT": "blue"})
    run(svc, bob, "DescribeKey", KeyId=key)  # constraints do not apply to DescribeKey
    for refused in ({"tenant": "red"}, {"tenant": "BLUE"}, {}):
        with pytest.raises(AccessDeniedException):
            run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext=refused)
    wider = {"tenant": "blue", "app": "x"}
    if kind == "EncryptionContextSubset":
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext=wider)
    else:
        with pytest.raises(AccessDeniedException):
            run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext=wider)


def _deny_bob(key_policy_account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{key_policy_account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:Encrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/bob"}
                    },
                },
            ],
        }
    )


def test_an_explicit_deny_beats_a_grant(svc: KmsService, key: str, caller: Caller) -> None:
    bob = user("bob")
    token = grant(svc, key, bob)["GrantToken"]
    run(svc, caller, "PutKeyPolicy", KeyId=key, Policy=_deny_bob(A), PolicyName="default")
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", GrantTokens=[token])


def test_the_decision_names_the_grant(svc: KmsService, key: str) -> None:
    bob = user("bob")
    grant_id = grant(svc, key, bob, Name="for-bob")["GrantId"]
    svc.refresh()
    record = svc.get_key(A, REGION, key.rsplit("/", 1)[1])
    assert record is not None
    decision = svc.access.decide_key(bob, "kms:Encrypt", record, {})
    assert decision.allowed
    assert decision.grants == (grant_id,)
    assert f"grant {grant_id}" in decision.explain()
    run(svc, Caller.root(A, REGION), "RevokeGrant", KeyId=key, GrantId=grant_id)
    with pytest.raises(AccessDeniedException):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x")


def test_name_makes_create_grant_idempotent(svc: KmsService, key: str) -> None:
    bob = user("bob")
    first = grant(svc, key, bob, Name="app-1")
    again = grant(svc, key, bob, Name="app-1")
    assert again["GrantId"] == first["GrantId"]
    assert again["GrantToken"] != first["GrantToken"]
    assert grant(svc, key, bob, "Decrypt", Name="app-1")["GrantId"] != first["GrantId"]
    assert grant(svc, key, bob)["GrantId"] != grant(svc, key, bob)["GrantId"]
    listed = run(svc, Caller.root(A, REGION), "ListGrants", KeyId=key)["Grants"]
    assert len(listed) == 4


def test_operations_must_suit_the_key(svc: KmsService, key: str) -> None:
    with pytest.raises(ValidationException, match="Sign"):
        grant(svc, key, user("bob"), "Encrypt", "Sign")
    allowed = ("GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "ReEncryptFrom")
    grant(svc, key, user("bob"), *allowed)


def test_only_one_context_constraint(svc: KmsService, key: str) -> None:
    both = {"EncryptionContextEquals": {"a": "1"}, "EncryptionContextSubset": {"a": "1"}}
    with pytest.raises(ValidationException):
        grant(svc, key, user("bob"), Constraints=both)


def test_create_grant_needs_permission_and_an_enabled_key(
    svc: KmsService, key: str, caller: Caller
) -> None:
    with pytest.raises(AccessDeniedException):
        grant(svc, key, user("bob"), caller=user("mallory"))
    run(svc, caller, "DisableKey", KeyId=key)
    with pytest.raises(DisabledException):
        grant(svc, key, user("bob"))


def test_a_grant_with_create_grant_delegates_no_more_than_it_holds(
    svc: KmsService, key: str
) -> None:
    bob, carol = user("bob"), user("carol")
    subset = {"EncryptionContextSubset": {"tenant": "blue"}}
    grant(svc, key, bob, "Encrypt", "Decrypt", "CreateGrant", Constraints=subset)
    stricter = {"EncryptionContextEquals": {"tenant": "blue", "app": "x"}}
    grant(svc, key, carol, "Encrypt", caller=bob, Constraints=stricter)
    with pytest.raises(AccessDeniedException):  # an operation bob does not hold
        grant(svc, key, carol, "GenerateDataKey", caller=bob, Constraints=subset)
    with pytest.raises(AccessDeniedException):  # no constraint: broader than bob's grant
        grant(svc, key, carol, "Encrypt", caller=bob)


def test_limit_on_grants_per_key(
    svc: KmsService, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grants, "MAX_GRANTS_PER_KEY", 2)
    grant(svc, key, user("bob"), Name="one")
    grant(svc, key, user("bob"), Name="two")
    grant(svc, key, user("bob"), Name="two")  # idempotent: no new grant
    with pytest.raises(LimitExceededException):
        grant(svc, key, user("bob"))


def test_dry_run_changes_nothing(svc: KmsService, key: str, caller: Caller) -> None:
    bob = user("bob")
    with pytest.raises(DryRunOperationException):
        grant(svc, key, bob, DryRun=True)
    assert run(svc, caller, "ListGrants", KeyId=key)["Grants"] == []
    with pytest.raises(AccessDeniedException):
        grant(svc, key, bob, caller=user("mallory"), DryRun=True)
    grant_id = grant(svc, key, bob, RetiringPrincipal=caller.principal_arn)["GrantId"]
    for op in ("RetireGrant", "RevokeGrant"):
        with pytest.raises(DryRunOperationException):
            run(svc, caller, op, KeyId=key, GrantId=grant_id, DryRun=True)
    with pytest.raises(DryRunOperationException):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", DryRun=True)
    assert len(run(svc, caller, "ListGrants", KeyId=key)["Grants"]) == 1


def test_who_may_retire_and_revoke(svc: KmsService, key: str, caller: Caller) -> None:
    bob, carol, mallory = user("bob"), user("carol"), user("mallory")
    by_retiree = grant(svc, key, bob, RetiringPrincipal=carol.principal_arn)["GrantId"]
    with pytest.raises(AccessDeniedException):
        run(svc, bob, "RetireGrant", KeyId=key, GrantId=by_retiree)  # no RetireGrant op
    with pytest.raises(AccessDeniedException):
        run(svc, mallory, "RetireGrant", KeyId=key, GrantId=by_retiree)
    with pytest.raises(AccessDeniedException):
        run(svc, mallory, "RevokeGrant", KeyId=key, GrantId=by_retiree)
    run(svc, carol, "RetireGrant", KeyId=key, GrantId=by_retiree)
    with pytest.raises(NotFoundException):
        run(svc, carol, "RetireGrant", KeyId=key, GrantId=by_retiree)
    by_grantee = grant(svc, key, bob, "Encrypt", "RetireGrant")["GrantId"]
    run(svc, bob, "RetireGrant", KeyId=key, GrantId=by_grantee)
    by_root = grant(svc, key, bob)["GrantId"]
    run(svc, caller, "RetireGrant", KeyId=key, GrantId=by_root)
    revoked = grant(svc, key, bob)["GrantId"]
    run(svc, caller, "RevokeGrant", KeyId=key, GrantId=revoked)
    assert run(svc, caller, "ListGrants", KeyId=key)["Grants"] == []
    with pytest.raises(InvalidGrantIdException):
        run(svc, caller, "RevokeGrant", KeyId=key, GrantId="nope")


def test_list_grants_pages_and_filters(svc: KmsService, key: str, caller: Caller) -> None:
    bob, carol = user("bob"), user("carol")
    ids = {grant(svc, key, bob, RetiringPrincipal=carol.principal_arn)["GrantId"] for _ in range(5)}
    ids.add(grant(svc, key, carol, Constraints={"EncryptionContextEquals": {"a": "b"}})["GrantId"])
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"KeyId": key, "Limit": 2}
    while True:
        out = run(svc, caller, "ListGrants", **params)
        seen += out["Grants"]
        if not out["Truncated"]:
            break
        params["Marker"] = out["NextMarker"]
    assert {g["GrantId"] for g in seen} == ids
    entry = next(g for g in seen if g["GranteePrincipal"] == carol.principal_arn)
    assert entry["KeyId"] == key
    assert entry["IssuingAccount"] == f"arn:aws:iam::{A}:root"
    assert entry["Constraints"] == {"EncryptionContextEquals": {"a": "b"}}
    assert "RetiringPrincipal" not in entry
    assert "Name" not in entry
    only = run(svc, caller, "ListGrants", KeyId=key, GranteePrincipal=carol.principal_arn)
    assert [g["GrantId"] for g in only["Grants"]] == [entry["GrantId"]]
    retirable = run(svc, caller, "ListRetirableGrants", RetiringPrincipal=carol.principal_arn)
    assert len(retirable["Grants"]) == 5


def test_a_remembered_grant_allow_never_hides_a_conditional_deny(
    svc: KmsService, key: str, caller: Caller
) -> None:
    bob = user("bob")
    grant(svc, key, bob)
    policy = json.loads(_deny_bob(A))
    policy["Statement"][1]["Condition"] = {"StringEquals": {"kms:EncryptionContext:tenant": "red"}}
    run(svc, caller, "PutKeyPolicy", KeyId=key, Policy=json.dumps(policy), PolicyName="default")
    for _ in range(2):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "blue"})
        with pytest.raises(AccessDeniedException, match="explicit deny"):
            run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "red"})


def test_a_remembered_grant_allow_ends_with_the_grant(svc: KmsService, key: str) -> None:
    bob = user("bob")
    grant_id = grant(svc, key, bob)["GrantId"]
    for _ in range(2):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x")
    run(svc, Caller.root(A, REGION), "RevokeGrant", KeyId=key, GrantId=grant_id)
    with pytest.raises(AccessDeniedException):
        run(svc, bob, "Encrypt", KeyId=key, Plaintext=b"x")


def test_any_of_the_grantees_create_grant_grants_may_cover_the_child(
    svc: KmsService, key: str
) -> None:
    bob, carol = user("bob"), user("carol")
    narrow = {"EncryptionContextEquals": {"tenant": "blue"}}
    grant(svc, key, bob, "Encrypt", "CreateGrant", Constraints=narrow)
    grant(svc, key, bob, "Decrypt", "CreateGrant")
    grant(svc, key, carol, "Decrypt", caller=bob)
    grant(svc, key, carol, "Encrypt", caller=bob, Constraints=narrow)
    with pytest.raises(AccessDeniedException):  # neither grant covers both operations
        grant(svc, key, carol, "Encrypt", "Decrypt", caller=bob, Constraints=narrow)


def test_list_retirable_grants_pages_are_full_whatever_other_regions_hold(
    svc: KmsService, caller: Caller
) -> None:
    """Grants retirable by carol in two regions, their ids interleaved: paging one region with
    Limit 1 returns every grant of that region, one per page, and no other region's."""
    carol, bob = user("carol"), user("bob")
    west = dataclasses.replace(caller, region="us-west-2")
    expected: dict[str, set[str]] = {REGION: set(), "us-west-2": set()}
    for owner in (caller, west, caller, west, caller, west):
        arn = str(run(svc, owner, "CreateKey")["KeyMetadata"]["Arn"])
        root = Caller.root(A, owner.region)
        made = grant(svc, arn, bob, caller=root, RetiringPrincipal=carol.principal_arn)
        expected[owner.region].add(made["GrantId"])
    for region, ids in expected.items():
        asker = dataclasses.replace(caller, region=region)
        seen: list[str] = []
        params: dict[str, Any] = {"RetiringPrincipal": carol.principal_arn, "Limit": 1}
        while True:
            out = run(svc, asker, "ListRetirableGrants", **params)
            assert len(out["Grants"]) == 1 or not out["Truncated"]
            seen += [g["GrantId"] for g in out["Grants"]]
            if not out["Truncated"]:
                break
            params["Marker"] = out["NextMarker"]
        assert sorted(seen) == sorted(ids), region
