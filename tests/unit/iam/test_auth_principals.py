"""Authentication resolves an access key to its full principal: root, IAM user, STS session;
inactive keys, deleted users and sessions without their token are refused."""

from __future__ import annotations

import pytest
from iam_world import ACCOUNT, TRUST_USER, World, sign  # type: ignore[import-not-found]

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import (
    ExpiredTokenException,
    InvalidSignatureException,
    UnrecognizedClientException,
)
from strongroom.iam.sessions import IssuedCredentials, issue_session

INVALID = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"


def _session(world: World, principal: Principal, duration: int = 900) -> IssuedCredentials:
    issued = issue_session(
        world.iam,
        principal,
        session_tags={},
        source_access_key_id="AKIATEST",
        duration_seconds=duration,
    )
    world.changed()
    return issued


def _alice(world: World) -> Principal:
    key = world.alice_key
    caller: Caller = world.authenticate(sign(key.access_key_id, key.secret_access_key))
    return caller.principal


def test_root_key_is_the_account_root(world: World) -> None:
    key = world.root_key
    caller = world.auth.authenticate(
        "POST",
        "/",
        "",
        sign(key.access_key_id, key.secret_access_key).headers,
        b"{}",
        source_ip="10.1.2.3",
        secure_transport=True,
    )
    assert caller.principal == Principal.root(ACCOUNT)
    assert (caller.source_ip, caller.secure_transport, caller.session_token) == (
        "10.1.2.3",
        True,
        False,
    )
    assert caller.region == "us-east-1"


def test_user_key_is_the_user_with_its_tags(world: World) -> None:
    world.storage.put_principal_tags(ACCOUNT, OwnerKind.USER, "alice", {"team": "blue"})
    world.changed()
    principal = _alice(world)
    assert principal.type is PrincipalType.USER
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert principal.user_id == world.alice.user_id
    assert principal.user_id.startswith("AIDA")
    assert principal.name == "alice"
    assert dict(principal.tags) == {"team": "blue"}


def test_wrong_secret_is_a_signature_mismatch(world: World) -> None:
    request = sign(world.alice_key.access_key_id, "x" * 40)
    with pytest.raises(InvalidSignatureException):
        world.authenticate(request)


@pytest.mark.parametrize("dev", [False, True])
def test_inactive_key_is_refused_even_in_dev_mode(
    world: World, dev_world: World, dev: bool
) -> None:
    w = dev_world if dev else world
    key = w.alice_key
    assert w.storage.update_access_key_status(key.access_key_id, "Inactive")
    w.changed()
    with pytest.raises(UnrecognizedClientException, match=INVALID):
        w.authenticate(sign(key.access_key_id, key.secret_access_key))
    assert w.storage.update_access_key_status(key.access_key_id, "Active")
    w.changed()
    assert w.authenticate(sign(key.access_key_id, key.secret_access_key)).principal.name == "alice"


def test_deleted_user_keys_stop_working(world: World) -> None:
    _alice(world)  # cached
    world.storage.delete_access_key(world.alice_key.access_key_id)
    world.storage.delete_user(ACCOUNT, "alice")
    world.changed()
    with pytest.raises(UnrecognizedClientException):
        _alice(world)


def test_token_with_a_long_term_key_is_refused(world: World) -> None:
    key = world.alice_key
    with pytest.raises(UnrecognizedClientException, match=INVALID):
        world.authenticate(sign(key.access_key_id, key.secret_access_key, token="abc"))


def test_dev_mode_takes_unknown_keys_as_its_root_but_never_an_unknown_session(
    dev_world: World,
) -> None:
    caller = dev_world.authenticate(sign("AKIAUNKNOWN", "whatever"))
    assert caller.principal == Principal.root("000000000000")
    assert dev_world.authenticate(sign("test", "test")).principal.is_root
    with pytest.raises(UnrecognizedClientException):
        dev_world.authenticate(sign("ASIAUNKNOWN0000000", "whatever", token="t"))


def test_production_refuses_unknown_keys(world: World) -> None:
    with pytest.raises(UnrecognizedClientException, match=INVALID):
        world.authenticate(sign("AKIAUNKNOWN", "whatever"))


# -- sessions ------------------------------------------------------------------------------------


def test_session_token_signed_or_not_authenticates_as_the_user(world: World) -> None:
    issued = _session(world, _alice(world))
    for signed_token in (True, False):
        request = sign(
            issued.access_key_id,
            issued.secret_access_key,
            token=issued.session_token,
            sign_token=signed_token,
        )
        caller = world.authenticate(request)
        assert caller.principal.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
        assert caller.principal.type is PrincipalType.USER
        assert caller.session_token


@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 352])
def test_session_without_its_token_is_refused(world: World, token: str | None) -> None:
    issued = _session(world, Principal.root(ACCOUNT))
    request = sign(issued.access_key_id, issued.secret_access_key, token=token, sign_token=False)
    with pytest.raises(UnrecognizedClientException, match=INVALID):
        world.authenticate(request)


def test_session_expires_on_the_service_clock(world: World) -> None:
    issued = _session(world, Principal.root(ACCOUNT), duration=900)
    request = sign(issued.access_key_id, issued.secret_access_key, token=issued.session_token)
    assert world.authenticate(request).principal.is_root
    world.clock.advance(901)
    with pytest.raises(ExpiredTokenException, match=EXPIRED):
        world.authenticate(request)


def test_assumed_role_session_principal_and_merged_tags(world: World) -> None:
    role = world.role("ops", TRUST_USER)
    world.storage.put_principal_tags(
        ACCOUNT, OwnerKind.ROLE, "ops", {"Department": "Marketing", "cost": "1"}
    )
    session_tags = {"department": "engineering"}
    assumed = Principal.assumed_role(
        account=ACCOUNT,
        role_arn=role.arn,
        role_id=role.role_id,
        session_name="s1",
        tags=session_tags,
    )
    issued = issue_session(
        world.iam,
        assumed,
        session_tags=session_tags,
        source_access_key_id="AKIATEST",
        duration_seconds=900,
    )
    world.changed()
    request = sign(issued.access_key_id, issued.secret_access_key, token=issued.session_token)
    principal = world.authenticate(request).principal
    assert principal.type is PrincipalType.ASSUMED_ROLE
    assert principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/s1"
    assert principal.user_id == f"{role.role_id}:s1"
    assert principal.role_arn == role.arn
    assert principal.session_name == "s1"
    assert dict(principal.tags) == {"department": "engineering", "cost": "1"}
    # IAM calls are fine for a role session; the role's deletion ends the session
    to_iam = sign(
        issued.access_key_id, issued.secret_access_key, token=issued.session_token, service="iam"
    )
    assert world.authenticate(to_iam, service="iam").principal == principal
    world.storage.delete_role(ACCOUNT, "ops")
    world.changed()
    with pytest.raises(UnrecognizedClientException):
        world.authenticate(request)


def test_get_session_token_credentials_cannot_call_iam(world: World) -> None:
    issued = _session(world, _alice(world))
    request = sign(
        issued.access_key_id, issued.secret_access_key, token=issued.session_token, service="iam"
    )
    with pytest.raises(UnrecognizedClientException):
        world.authenticate(request, service="iam")


def test_session_secret_is_stored_wrapped_and_token_only_as_digest(world: World) -> None:
    issued = _session(world, Principal.root(ACCOUNT))
    record = world.storage.get_session(issued.access_key_id)
    assert record is not None
    assert issued.access_key_id.startswith("ASIA")
    assert len(issued.access_key_id) == 20
    assert len(issued.secret_access_key) == 40
    assert len(issued.session_token) >= 200
    assert issued.secret_access_key.encode() not in record.wrapped_secret
    assert issued.session_token.encode() not in record.token_sha256
    assert len(record.token_sha256) == 32
    assert issued.secret_access_key not in repr(issued)
    assert issued.session_token not in repr(issued)
