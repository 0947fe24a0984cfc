"""A registered service acting for its user: the forwarded SigV4 proof and who the caller becomes
(docs/integrated-services.md), and every way the proof is refused."""

from __future__ import annotations

import base64
import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from iam_world import ACCOUNT, World  # type: ignore[import-not-found]

from strongroom.domain.caller import Caller
from strongroom.domain.identity import ServiceRecord
from strongroom.errors import (
    AccessDeniedException,
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
)
from strongroom.iam.credentials import NewAccessKey
from strongroom.kms.condition_keys import caller_keys

VIA = "objects.us-east-1.strongroom"


def _user_request(key: NewAccessKey, service: str = "s3", age: float = 0.0) -> dict[str, str]:
    """The three forwarding headers for a request ``key`` signed to the object store."""
    request = AWSRequest(
        method="PUT", url="http://objects.local/bucket/a%20key?acl", data=b"payload", headers={}
    )
    signer = SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), service, "us-east-1")
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=age)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        signer.add_auth(request)
    authorization = str(request.headers["Authorization"])
    del request.headers["Authorization"]
    canonical = signer.canonical_request(request)  # what the user signed, as the service sees it
    return {
        "x-strongroom-via-authorization": authorization,
        "x-strongroom-via-date": str(request.headers["X-Amz-Date"]),
        "x-strongroom-via-canonical-request": base64.b64encode(canonical.encode()).decode(),
    }


def _service_call(world: World, key: NewAccessKey, via: dict[str, str]) -> Caller:
    """The service's own KMS request, signed over the forwarding headers too."""
    request = AWSRequest(method="POST", url="http://localhost/", data=b"{}", headers=via)
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "kms", "us-east-1").add_auth(
        request
    )
    headers = {"host": "localhost"}
    headers.update({name.lower(): str(value) for name, value in request.headers.items()})
    caller: Caller = world.auth.authenticate("POST", "/", "", headers, b"{}")
    return caller


@pytest.fixture
def service_key(world: World) -> NewAccessKey:
    user, key = world.user("objects-service")
    world.storage.insert_service(ServiceRecord("objects", VIA, "s3", user.arn, 0.0))
    world.changed()
    found: NewAccessKey = key
    return found


def test_the_caller_becomes_the_user_via_the_service(
    world: World, service_key: NewAccessKey
) -> None:
    caller = _service_call(world, service_key, _user_request(world.alice_key))
    assert caller.principal_arn == world.alice.arn
    assert caller.account == ACCOUNT
    assert caller.access_key_id == world.alice_key.access_key_id
    assert (caller.via_service, caller.called_via) == (VIA, (VIA,))
    keys = caller_keys(caller, 0.0)
    assert keys["kms:viaservice"] == VIA
    assert keys["kms:calleraccount"] == ACCOUNT
    assert keys["aws:calledvia"] == [VIA]
    assert keys["aws:calledviafirst"] == keys["aws:calledvialast"] == VIA


def test_a_direct_call_carries_no_via_keys(world: World) -> None:
    caller = _service_call(world, world.alice_key, {})
    assert caller.via_service is None
    assert "kms:viaservice" not in caller_keys(caller, 0.0)


def test_a_signature_scoped_to_kms_is_not_accepted(world: World, service_key: NewAccessKey) -> None:
    with pytest.raises(InvalidSignatureException, match="correct service: 's3'"):
        _service_call(world, service_key, _user_request(world.alice_key, service="kms"))


def test_a_six_minute_old_signature_is_expired(world: World, service_key: NewAccessKey) -> None:
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        _service_call(world, service_key, _user_request(world.alice_key, age=360))


def test_a_tampered_canonical_request_is_refused(world: World, service_key: NewAccessKey) -> None:
    via = _user_request(world.alice_key)
    canonical = base64.b64decode(via["x-strongroom-via-canonical-request"]).replace(b"PUT", b"GET")
    via["x-strongroom-via-canonical-request"] = base64.b64encode(canonical).decode()
    with pytest.raises(InvalidSignatureException, match="forwarded"):
        _service_call(world, service_key, via)


def test_a_wrong_secret_is_refused(world: World, service_key: NewAccessKey) -> None:
    forged = NewAccessKey(world.alice_key.access_key_id, "x" * 40, ACCOUNT)
    with pytest.raises(InvalidSignatureException):
        _service_call(world, service_key, _user_request(forged))


def test_an_unregistered_caller_cannot_forward(world: World) -> None:
    _, bob_key = world.user("bob")
    with pytest.raises(AccessDeniedException, match="not a registered integrated service"):
        _service_call(world, bob_key, _user_request(world.alice_key))


def test_an_unknown_user_key_is_refused(world: World, service_key: NewAccessKey) -> None:
    ghost = NewAccessKey("AKIAGHOSTGHOSTGHOST1", "y" * 40, ACCOUNT)
    with pytest.raises(UnrecognizedClientException):
        _service_call(world, service_key, _user_request(ghost))


def test_a_missing_header_is_incomplete(world: World, service_key: NewAccessKey) -> None:
    via = _user_request(world.alice_key)
    del via["x-strongroom-via-date"]
    with pytest.raises(IncompleteSignatureException):
        _service_call(world, service_key, via)


def test_iam_requests_cannot_be_forwarded(world: World, service_key: NewAccessKey) -> None:
    request = AWSRequest(
        method="POST", url="http://localhost/", data=b"{}", headers=_user_request(world.alice_key)
    )
    creds = Credentials(service_key.access_key_id, service_key.secret_access_key)
    SigV4Auth(creds, "iam", "us-east-1").add_auth(request)
    headers = {"host": "localhost"}
    headers.update({name.lower(): str(value) for name, value in request.headers.items()})
    with pytest.raises(AccessDeniedException):
        world.auth.authenticate("POST", "/", "", headers, b"{}", service="iam")
