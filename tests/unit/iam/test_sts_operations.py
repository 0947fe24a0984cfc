"""STS operations over real storage, key store and policy engine: GetCallerIdentity's shapes,
GetSessionToken's durations, and AssumeRole's authorization exactly as AWS decides it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from iam_world import (  # type: ignore[import-not-found]
    ACCOUNT,
    OTHER,
    TRUST_USER,
    World,
    sign,
)

from strongroom.domain.caller import Caller
from strongroom.domain.identity import InlinePolicyRecord, OwnerKind
from strongroom.domain.principal import PrincipalType
from strongroom.errors import AccessDeniedException, ValidationException
from strongroom.iam.sts import OPERATIONS

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _trust(principal: str, *, action: Any = "sts:AssumeRole", **extra: Any) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _call(world: World, caller: Caller, operation: str, **params: Any) -> dict[str, Any]:
    return OPERATIONS[operation](world.iam, caller, params)


def _as(world: World, key_id: str, secret: str, token: str | None = None) -> Caller:
    caller: Caller = world.authenticate(
        sign(key_id, secret, token=token, service="sts"), service="sts"
    )
    return caller


def _alice(world: World) -> Caller:
    return _as(world, world.alice_key.access_key_id, world.alice_key.secret_access_key)


def _from(world: World, result: dict[str, Any]) -> Caller:
    creds = result["Credentials"]
    return _as(world, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def _allow(world: World, user: str, action: str, resource: str, effect: str = "Allow") -> None:
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
        }
    )
    account = ACCOUNT if user == "alice" else OTHER
    world.storage.put_inline_policy(
        InlinePolicyRecord(account, OwnerKind.USER, user, f"p-{effect}", document)
    )
    world.changed()


def _denied(world: World, caller: Caller, role_arn: str, action: str = "sts:AssumeRole") -> None:
    with pytest.raises(AccessDeniedException) as info:
        _call(world, caller, "AssumeRole", RoleArn=role_arn, RoleSessionName="s1")
    assert info.value.message == (
        f"User: {caller.principal.arn} is not authorized to perform: {action} "
        f"on resource: {role_arn}"
    )


# -- GetCallerIdentity ---------------------------------------------------------------------------


def test_caller_identity_of_root_user_and_assumed_role(world: World) -> None:
    root = _as(world, world.root_key.access_key_id, world.root_key.secret_access_key)
    assert _call(world, root, "GetCallerIdentity") == {
        "UserId": ACCOUNT,
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:root",
    }
    assert _call(world, _alice(world), "GetCallerIdentity") == {
        "UserId": world.alice.user_id,
        "Account": ACCOUNT,
        "Arn": ALICE,
    }
    role = world.role("ops", TRUST_USER)
    result = _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="me")
    assert _call(world, _from(world, result), "GetCallerIdentity") == {
        "UserId": f"{role.role_id}:me",
        "Account": ACCOUNT,
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/me",
    }


# -- GetSessionToken -----------------------------------------------------------------------------


def test_session_token_durations(world: World) -> None:
    now = world.clock.now()
    user = _call(world, _alice(world), "GetSessionToken")["Credentials"]
    assert user["Expiration"] == pytest.approx(now + 43200, abs=2)
    short = _call(world, _alice(world), "GetSessionToken", DurationSeconds=900)["Credentials"]
    assert short["Expiration"] == pytest.approx(now + 900, abs=2)
    root = _as(world, world.root_key.access_key_id, world.root_key.secret_access_key)
    capped = _call(world, root, "GetSessionToken", DurationSeconds=129600)["Credentials"]
    assert capped["Expiration"] == pytest.approx(now + 3600, abs=2)


def test_session_token_acts_as_the_user_and_cannot_make_another(world: World) -> None:
    session = _from(world, _call(world, _alice(world), "GetSessionToken"))
    assert session.principal.arn == ALICE
    assert session.principal.type is PrincipalType.USER
    with pytest.raises(AccessDeniedException, match="Cannot call GetSessionToken with session"):
        _call(world, session, "GetSessionToken")


# -- AssumeRole: who may ---------------------------------------------------------------------------


def test_root_may_not_assume_roles(world: World) -> None:
    role = world.role("ops", _trust(f"arn:aws:iam::{ACCOUNT}:root"))
    root = _as(world, world.root_key.access_key_id, world.root_key.secret_access_key)
    with pytest.raises(
        AccessDeniedException, match=r"^Roles may not be assumed by root accounts\.$"
    ):
        _call(world, root, "AssumeRole", RoleArn=role.arn, RoleSessionName="s1")


def test_trust_naming_the_user_is_enough_in_the_same_account(world: World) -> None:
    role = world.role("ops", TRUST_USER)
    result = _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="s-1")
    assert result["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role.role_id}:s-1",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/s-1",
    }
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert "PackedPolicySize" not in result
    session = _from(world, result)
    assert session.principal.role_arn == role.arn
    assert session.session_token


def test_trust_naming_the_account_needs_an_identity_policy(world: World) -> None:
    role = world.role("ops", _trust(f"arn:aws:iam::{ACCOUNT}:root"))
    _denied(world, _alice(world), role.arn)
    _allow(world, "alice", "sts:AssumeRole", role.arn)
    result = _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="s1")
    assert result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/ops/s1")


def test_identity_policy_alone_is_not_enough(world: World) -> None:
    role = world.role("ops", _trust(f"arn:aws:iam::{ACCOUNT}:user/someone-else"))
    _allow(world, "alice", "sts:*", "*")
    _denied(world, _alice(world), role.arn)


def test_explicit_deny_in_identity_or_trust_beats_every_allow(world: World) -> None:
    role = world.role("ops", TRUST_USER)
    _allow(world, "alice", "sts:AssumeRole", role.arn, effect="Deny")
    _denied(world, _alice(world), role.arn)
    trust = json.loads(TRUST_USER)
    trust["Statement"].append({**trust["Statement"][0], "Effect": "Deny"})
    other = world.role("ops2", json.dumps(trust))
    world.storage.delete_inline_policy(ACCOUNT, OwnerKind.USER, "alice", "p-Deny")
    world.changed()
    _denied(world, _alice(world), other.arn)


def test_missing_or_malformed_role(world: World) -> None:
    _denied(world, _alice(world), f"arn:aws:iam::{ACCOUNT}:role/nope")
    _denied(world, _alice(world), ALICE)
    with pytest.raises(ValidationException, match="Request ARN is invalid"):
        _call(
            world, _alice(world), "AssumeRole", RoleArn="not-an-arn-at-all-x", RoleSessionName="s1"
        )


@pytest.mark.parametrize("named", [f"arn:aws:iam::{OTHER}:user/bob", f"arn:aws:iam::{OTHER}:root"])
def test_cross_account_needs_trust_and_identity(world: World, named: str) -> None:
    role = world.role("shared", _trust(named))
    _, bob_key = world.user("bob", OTHER)
    bob = _as(world, bob_key.access_key_id, bob_key.secret_access_key)
    _denied(world, bob, role.arn)
    _allow(world, "bob", "sts:AssumeRole", role.arn)
    bob = _as(world, bob_key.access_key_id, bob_key.secret_access_key)
    result = _call(world, bob, "AssumeRole", RoleArn=role.arn, RoleSessionName="xa")
    session = _from(world, result)
    assert session.principal.account == ACCOUNT
    assert session.principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/shared/xa"


def test_role_chaining_and_its_one_hour(world: World) -> None:
    first = world.role("first", TRUST_USER, max_session=43200)
    second = world.role("second", _trust(first.arn), max_session=43200)
    session = _from(
        world, _call(world, _alice(world), "AssumeRole", RoleArn=first.arn, RoleSessionName="aa")
    )
    with pytest.raises(ValidationException, match="1 hour session limit for roles assumed by"):
        _call(
            world,
            session,
            "AssumeRole",
            RoleArn=second.arn,
            RoleSessionName="bb",
            DurationSeconds=3601,
        )
    chained = _call(world, session, "AssumeRole", RoleArn=second.arn, RoleSessionName="bb")
    assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/second/bb"


def test_duration_bounded_by_the_role(world: World) -> None:
    role = world.role("ops", TRUST_USER, max_session=7200)
    now = world.clock.now()
    result = _call(
        world,
        _alice(world),
        "AssumeRole",
        RoleArn=role.arn,
        RoleSessionName="s1",
        DurationSeconds=7200,
    )
    assert result["Credentials"]["Expiration"] == pytest.approx(now + 7200, abs=2)
    with pytest.raises(ValidationException) as info:
        _call(
            world,
            _alice(world),
            "AssumeRole",
            RoleArn=role.arn,
            RoleSessionName="s1",
            DurationSeconds=7201,
        )
    assert info.value.message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )


# -- AssumeRole: conditions and session tags -------------------------------------------------------


def test_external_id_condition(world: World) -> None:
    condition = {"StringEquals": {"sts:ExternalId": "tenant-42"}}
    role = world.role("ops", _trust(ALICE, Condition=condition))
    _denied(world, _alice(world), role.arn)
    params = {"RoleArn": role.arn, "RoleSessionName": "s1"}
    with pytest.raises(AccessDeniedException):
        _call(world, _alice(world), "AssumeRole", ExternalId="tenant-41", **params)
    assert _call(world, _alice(world), "AssumeRole", ExternalId="tenant-42", **params)


def test_source_ip_and_principal_tag_conditions(world: World) -> None:
    condition = {
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "StringEquals": {"aws:PrincipalTag/team": "blue"},
    }
    role = world.role("ops", _trust(ALICE, Condition=condition))
    world.storage.put_principal_tags(ACCOUNT, OwnerKind.USER, "alice", {"team": "blue"})
    world.changed()
    _denied(world, _alice(world), role.arn)  # from 127.0.0.1
    inside = dataclasses.replace(_alice(world), source_ip="10.9.8.7")
    assert _call(world, inside, "AssumeRole", RoleArn=role.arn, RoleSessionName="s1")


def test_session_tags_need_tag_session(world: World) -> None:
    tags = [{"Key": "project", "Value": "apollo"}]
    role = world.role("ops", TRUST_USER)
    with pytest.raises(AccessDeniedException, match="perform: sts:TagSession on resource"):
        _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="s1", Tags=tags)
    condition = {"StringEquals": {"aws:RequestTag/project": "apollo"}}
    tagged = world.role(
        "tagged", _trust(ALICE, action=["sts:AssumeRole", "sts:TagSession"], Condition=condition)
    )
    result = _call(
        world, _alice(world), "AssumeRole", RoleArn=tagged.arn, RoleSessionName="s1", Tags=tags
    )
    assert 0 < result["PackedPolicySize"] <= 100
    assert dict(_from(world, result).principal.tags) == {"project": "apollo"}
    other = [{"Key": "project", "Value": "zeus"}]
    with pytest.raises(AccessDeniedException):
        _call(
            world, _alice(world), "AssumeRole", RoleArn=tagged.arn, RoleSessionName="s1", Tags=other
        )


def test_refused_parameters(world: World) -> None:
    role = world.role("ops", TRUST_USER)
    params = {"RoleArn": role.arn, "RoleSessionName": "s1"}
    with pytest.raises(ValidationException, match="Session policies"):
        _call(world, _alice(world), "AssumeRole", Policy='{"Statement":[]}', **params)
    duplicate = [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
    with pytest.raises(ValidationException, match="Duplicate tag keys"):
        _call(world, _alice(world), "AssumeRole", Tags=duplicate, **params)
    with pytest.raises(ValidationException, match="regular expression pattern"):
        _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="bad name")
    with pytest.raises(ValidationException, match="length greater than or equal to 2"):
        _call(world, _alice(world), "AssumeRole", RoleArn=role.arn, RoleSessionName="b")
