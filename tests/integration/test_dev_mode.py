"""Dev mode's own routes: reset and time travel, and their absence from a production server.

These tests reset and move the clock of a server of their own (``own_dev``), never the shared one.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from tests.integration.server import Server

REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
DAY = 86_400


def error_body(status: int, body: bytes) -> tuple[int, str, str]:
    assert b"Traceback" not in body
    data = orjson.loads(body)
    return status, str(data["__type"]), str(data.get("message"))


def populate(server: Server) -> dict[str, Any]:
    """A key with an alias and a tag in each region; returns the clients by region."""
    clients = {region: server.client(region=region) for region in REGIONS}
    for client in clients.values():
        key_id = client.create_key(Tags=[{"TagKey": "t", "TagValue": "v"}])["KeyMetadata"]["KeyId"]
        client.create_alias(AliasName="alias/dev-mode", TargetKeyId=key_id)
        client.encrypt(KeyId="alias/dev-mode", Plaintext=b"warm the caches")
    return clients


def test_health(own_dev: Server, prod: Server) -> None:
    for server, dev in ((own_dev, True), (prod, False)):
        with urllib.request.urlopen(server.endpoint + "/_strongroom/health", timeout=5) as reply:
            assert reply.status == 200
            assert orjson.loads(reply.read()) == {"status": "ok", "dev": dev}


def test_reset_wipes_every_region(own_dev: Server) -> None:
    clients = populate(own_dev)
    status, body = own_dev.post("/_strongroom/reset")
    assert (status, orjson.loads(body)) == (200, {"reset": True})
    for region, client in clients.items():
        assert client.list_keys()["Keys"] == [], region
        aliases = client.list_aliases()["Aliases"]
        assert [a for a in aliases if not a["AliasName"].startswith("alias/aws/")] == [], region
        with pytest.raises(ClientError) as caught:
            client.encrypt(KeyId="alias/dev-mode", Plaintext=b"x")
        assert caught.value.response["Error"]["Code"] == "NotFoundException"
    # The names are free again.
    populate(own_dev)
    own_dev.post("/_strongroom/reset")


def test_reset_leaves_the_server_usable(own_dev: Server) -> None:
    own_dev.post("/_strongroom/reset")
    kms = own_dev.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"after reset")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after reset"


def test_clock_moves_forward(own_dev: Server) -> None:
    status, body = own_dev.post("/_strongroom/clock", b'{"advance_seconds": 0}')
    assert status == 200
    before = orjson.loads(body)
    status, body = own_dev.post("/_strongroom/clock", b'{"advance_seconds": 3600.5}')
    assert status == 200
    after = orjson.loads(body)
    assert after["offset_seconds"] == pytest.approx(before["offset_seconds"] + 3600.5)
    assert after["now"] - before["now"] == pytest.approx(3600.5, abs=5)
    assert after["keys_deleted"] == 0
    kms = own_dev.client()
    created = kms.create_key()["KeyMetadata"]["CreationDate"].timestamp()
    assert created == pytest.approx(after["now"], abs=10)


def test_clock_reports_the_deleted_keys(own_dev: Server) -> None:
    kms = own_dev.client(region="eu-west-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    status, body = own_dev.post("/_strongroom/clock", orjson.dumps({"advance_seconds": 8 * DAY}))
    assert status == 200
    assert orjson.loads(body)["keys_deleted"] >= 1
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId=key_id)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"not json",
        b"[]",
        b'"x"',
        b"null",
        b'{"seconds": 5}',
        b'{"advance_seconds": 1e400}',
    ],
)
def test_clock_needs_advance_seconds(own_dev: Server, body: bytes) -> None:
    assert error_body(*own_dev.post("/_strongroom/clock", body)) == (
        400,
        "SerializationException",
        'Expected a JSON body {"advance_seconds": N}.',
    )


@pytest.mark.parametrize("value", [b'"10"', b"true", b"null", b"[1]", b'{"n": 1}'])
def test_clock_needs_a_number(own_dev: Server, value: bytes) -> None:
    body = b'{"advance_seconds": ' + value + b"}"
    assert error_body(*own_dev.post("/_strongroom/clock", body)) == (
        400,
        "SerializationException",
        "advance_seconds must be a non-negative number.",
    )


@pytest.mark.parametrize("value", [b"-1", b"-0.5", b"1e30", b"3153600001"])
def test_clock_refuses_out_of_range(own_dev: Server, value: bytes) -> None:
    status, code, message = error_body(
        *own_dev.post("/_strongroom/clock", b'{"advance_seconds": ' + value + b"}")
    )
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("advance_seconds must be a non-negative number")
    # The clock did not move, and dates still parse.
    assert own_dev.client().create_key()["KeyMetadata"]["CreationDate"].year < 2200


@pytest.mark.parametrize("path", ["/_strongroom/reset", "/_strongroom/clock"])
def test_dev_routes_refused_without_dev(prod: Server, prod_kms: Any, path: str) -> None:
    key_id = prod_kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_body(*prod.post(path, b'{"advance_seconds": 86400000}')) == (
        400,
        "UnknownOperationException",
        "This route is only served in dev mode (--dev).",
    )
    assert prod_kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert prod_kms.create_key()["KeyMetadata"]["CreationDate"].year < 2100


@pytest.mark.parametrize("path", ["/_strongroom/reset", "/_strongroom/clock", "/_strongroom/x"])
def test_dev_routes_answer_post_only(own_dev: Server, path: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(own_dev.endpoint + path, timeout=5)
    assert error_body(caught.value.code, caught.value.read())[:2] == (
        400,
        "UnknownOperationException",
    )
