"""Key rotation over HTTP (kms-spec.md section 10, scenario 23): the automatic schedule, on-demand
rotation and its limits, ListKeyRotations, AWS's errors, ciphertexts that outlive rotations, and
the scheduler's one rotation of a key that fell due while the server was down (2 workers).

Tests that need no time travel run on the production-mode server; those that move the dev clock
run on a dev server of their own.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from strongroom.config import sqlite_url
from strongroom.kms.service import CLOCK_OFFSET_META
from strongroom.server.app import SWEEP_SECONDS
from strongroom.storage import open_storage
from tests.integration.expect import aws_error
from tests.integration.server import Server, free_port, raw_post

DAY = 86_400
MINUTE = 60


def _raw(server: Server, operation: str, **params: Any) -> dict[str, Any]:
    """An operation's JSON answer as sent (dates stay the numbers on the wire)."""
    reply = raw_post(server, f"TrentService.{operation}", orjson.dumps(params))
    assert reply.status == 200, reply.body
    answer: dict[str, Any] = reply.json()
    return answer


def _status(server: Server, key_id: str) -> dict[str, Any]:
    return _raw(server, "GetKeyRotationStatus", KeyId=key_id)


def _rotations(server: Server, key_id: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _raw(server, "ListKeyRotations", KeyId=key_id, **params)[
        "Rotations"
    ]
    return found


def _advance(server: Server, seconds: float) -> dict[str, Any]:
    status, body = server.post("/_strongroom/clock", orjson.dumps({"advance_seconds": seconds}))
    assert status == 200, body
    answer: dict[str, Any] = orjson.loads(body)
    return answer


def _data_key(kms: Any, key_id: str) -> dict[str, Any]:
    """A data key under ``key_id``: its plaintext, its ciphertext and the material id used."""
    out = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    return {k: out[k] for k in ("Plaintext", "CiphertextBlob", "KeyMaterialId")}


def _opens(kms: Any, data_key: dict[str, Any]) -> None:
    """The ciphertext decrypts to its data key, and Decrypt names the material that made it."""
    opened = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])
    assert opened["Plaintext"] == data_key["Plaintext"]
    assert opened["KeyMaterialId"] == data_key["KeyMaterialId"]


# -- the schedule (production-mode server) --------------------------------------------------------


def test_enable_change_and_disable_automatic_rotation(prod: Server, prod_kms: Any) -> None:
    key = prod_kms.create_key()["KeyMetadata"]
    key_id, arn = key["KeyId"], key["Arn"]
    assert _status(prod, key_id) == {"KeyRotationEnabled": False, "KeyId": arn}
    before = time.time()
    assert prod_kms.enable_key_rotation(KeyId=key_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    status = _status(prod, arn)
    assert set(status) == {
        "KeyRotationEnabled",
        "KeyId",
        "RotationPeriodInDays",
        "NextRotationDate",
    }
    assert (status["KeyRotationEnabled"], status["KeyId"]) == (True, arn)
    assert status["RotationPeriodInDays"] == 365
    first = status["NextRotationDate"]
    assert before + 365 * DAY - 1 <= first <= time.time() + 365 * DAY + 1
    # boto3 parses the date: a timezone-aware datetime a year from now.
    parsed = prod_kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"]
    assert parsed.timestamp() == pytest.approx(first, abs=0.001)
    # The same period again leaves the schedule alone; a new one counts from the same start.
    prod_kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=365)
    assert _status(prod, key_id)["NextRotationDate"] == first
    prod_kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=2560)
    status = _status(prod, key_id)
    assert status["RotationPeriodInDays"] == 2560
    assert status["NextRotationDate"] == pytest.approx(first + (2560 - 365) * DAY, abs=0.001)
    prod_kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    assert _status(prod, key_id)["RotationPeriodInDays"] == 90
    prod_kms.disable_key_rotation(KeyId=key_id)
    assert _status(prod, key_id) == {"KeyRotationEnabled": False, "KeyId": arn}
    prod_kms.disable_key_rotation(KeyId=key_id)  # already off: still a success
    # Rotation off: no rotation has happened, and the key's material is the first one.
    (only,) = _rotations(prod, key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert only == {
        "KeyId": key_id,
        "KeyMaterialId": key["CurrentKeyMaterialId"],
        "KeyMaterialState": "CURRENT",
    }
    assert _rotations(prod, key_id) == []


@pytest.mark.parametrize("days", [89, 2561, 0])
def test_the_period_must_be_90_to_2560_days(prod: Server, days: int) -> None:
    kms = prod.client(validate=False)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    code, message, status = aws_error(
        kms.enable_key_rotation, KeyId=key_id, RotationPeriodInDays=days
    )
    bound = "greater than or equal to 90" if days < 90 else "less than or equal to 2560"
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        f"1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to "
        f"satisfy constraint: Member must have value {bound}"
    )
    assert _status(prod, key_id)["KeyRotationEnabled"] is False


def test_keys_that_cannot_rotate(prod: Server, prod_kms: Any) -> None:
    rsa = prod_kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    hmac = prod_kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    for key in (rsa, hmac):
        refusal = (
            "UnsupportedOperationException",
            f"{key['Arn']} key spec is {key['KeySpec']} which is not valid for this operation.",
            400,
        )
        for operation in (
            prod_kms.enable_key_rotation,
            prod_kms.disable_key_rotation,
            prod_kms.list_key_rotations,
        ):
            assert aws_error(operation, KeyId=key["KeyId"]) == refusal
        # RotateKeyOnDemand: AWS's answer (recorded) has no message.
        assert aws_error(prod_kms.rotate_key_on_demand, KeyId=key["KeyId"]) == (
            "UnsupportedOperationException",
            "",
            400,
        )
        # GetKeyRotationStatus answers false for asymmetric and HMAC keys, as AWS does.
        assert _status(prod, key["KeyId"]) == {"KeyRotationEnabled": False, "KeyId": key["Arn"]}
    external = prod_kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    refusal = (
        "UnsupportedOperationException",
        f"{external['Arn']} origin is EXTERNAL which is not valid for this operation.",
        400,
    )
    for operation in (
        prod_kms.enable_key_rotation,
        prod_kms.disable_key_rotation,
        prod_kms.get_key_rotation_status,
    ):
        assert aws_error(operation, KeyId=external["KeyId"]) == refusal
    # On-demand rotation serves imported material, once there is some to rotate to.
    assert aws_error(prod_kms.rotate_key_on_demand, KeyId=external["KeyId"]) == (
        "KMSInvalidStateException",
        f"{external['Arn']} is pending import.",
        400,
    )
    assert _rotations(prod, external["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL") == []


def test_key_states_and_identifiers(prod: Server, prod_kms: Any) -> None:
    key = prod_kms.create_key()["KeyMetadata"]
    key_id, arn = key["KeyId"], key["Arn"]
    prod_kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=120)
    prod_kms.disable_key(KeyId=key_id)
    for operation in (
        prod_kms.enable_key_rotation,
        prod_kms.disable_key_rotation,
        prod_kms.rotate_key_on_demand,
    ):
        assert aws_error(operation, KeyId=key_id) == (
            "DisabledException",
            f"{arn} is disabled.",
            400,
        )
    assert _status(prod, key_id)["KeyRotationEnabled"] is True  # disabling keeps the schedule
    prod_kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    for operation in (
        prod_kms.enable_key_rotation,
        prod_kms.disable_key_rotation,
        prod_kms.rotate_key_on_demand,
    ):
        assert aws_error(operation, KeyId=key_id) == (
            "KMSInvalidStateException",
            f"{arn} is pending deletion.",
            400,
        )
    assert _status(prod, key_id) == {"KeyRotationEnabled": False, "KeyId": arn}
    assert _rotations(prod, key_id) == []  # listing works in every state
    prod_kms.cancel_key_deletion(KeyId=key_id)
    status = _status(prod, key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 120)
    alias = "alias/rotation-by-alias"
    prod_kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    assert aws_error(prod_kms.enable_key_rotation, KeyId=alias) == (
        "NotFoundException",
        f"Invalid keyId '{alias}'",
        400,
    )
    missing = "0b6a3c55-5b1d-4d8e-9f3e-3e2a3f6d9a10"
    code, message, _ = aws_error(prod_kms.rotate_key_on_demand, KeyId=missing)
    assert (code, message) == ("NotFoundException", f"Key '{arn.rsplit('/', 1)[0]}/{missing}' "
                                                     "does not exist")  # fmt: skip


# -- on demand (production-mode server) -----------------------------------------------------------


def test_on_demand_rotations_up_to_the_limit(prod: Server, prod_kms: Any) -> None:
    key = prod_kms.create_key()["KeyMetadata"]
    key_id = key["KeyId"]
    keys = [_data_key(prod_kms, key_id)]
    assert keys[0]["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    for n in range(25):
        answer = prod_kms.rotate_key_on_demand(KeyId=key_id)
        assert answer["KeyId"] == key["Arn"]
        if n < 3:
            keys.append(_data_key(prod_kms, key_id))
    assert aws_error(prod_kms.rotate_key_on_demand, KeyId=key_id) == (
        "LimitExceededException",
        "The on-demand rotations limit has been reached for the given keyId. No more on-demand "
        f"rotations can be performed for this key: {key['Arn']}",
        400,
    )
    assert len({k["KeyMaterialId"] for k in keys}) == 4
    for data_key in keys:
        _opens(prod_kms, data_key)
    rotations = _rotations(prod, key_id)
    assert len(rotations) == 25
    assert [r["KeyMaterialId"] for r in rotations[:3]] == [k["KeyMaterialId"] for k in keys[1:]]
    assert {r["RotationType"] for r in rotations} == {"ON_DEMAND"}
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT"] * 24 + ["CURRENT"]
    current = prod_kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert rotations[-1]["KeyMaterialId"] == current
    assert _data_key(prod_kms, key_id)["KeyMaterialId"] == current  # new encryptions: newest
    # The rotations are dated, in order, and on-demand rotation left the schedule off.
    dates = [r["RotationDate"] for r in rotations]
    assert dates == sorted(dates)
    assert key["CreationDate"].timestamp() - 0.001 <= dates[0] <= time.time() + 1
    assert _status(prod, key_id)["KeyRotationEnabled"] is False


def test_list_key_rotations_pages(prod: Server, prod_kms: Any) -> None:
    key_id = prod_kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(4):
        prod_kms.rotate_key_on_demand(KeyId=key_id)
    everything = _rotations(prod, key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert len(everything) == 5
    assert "RotationType" not in everything[0]  # the first material came with the key
    assert everything[1:] == _rotations(prod, key_id)
    seen: list[dict[str, Any]] = []
    marker = None
    pages = 0
    while True:
        params: dict[str, Any] = {"KeyId": key_id, "Limit": 2}
        params |= {"IncludeKeyMaterial": "ALL_KEY_MATERIAL"}
        if marker is not None:
            params["Marker"] = marker
        page = _raw(prod, "ListKeyRotations", **params)
        pages += 1
        assert len(page["Rotations"]) <= 2
        seen.extend(page["Rotations"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert (pages, seen) == (3, everything)
    paginator = prod_kms.get_paginator("list_key_rotations")
    listed = [
        r["KeyMaterialId"]
        for p in paginator.paginate(KeyId=key_id, PaginationConfig={"PageSize": 3})
        for r in p["Rotations"]
    ]
    assert listed == [r["KeyMaterialId"] for r in everything[1:]]
    assert aws_error(prod_kms.list_key_rotations, KeyId=key_id, Marker="not-a-marker") == (
        "InvalidMarkerException",
        "Invalid marker",
        400,
    )
    other = prod_kms.create_key()["KeyMetadata"]["KeyId"]
    assert marker is not None
    assert aws_error(prod_kms.list_key_rotations, KeyId=other, Marker=marker)[0] == (
        "InvalidMarkerException"
    )


def test_the_aws_cli(prod: Server, prod_kms: Any) -> None:
    key = prod_kms.create_key()["KeyMetadata"]
    done = prod.aws(
        "kms", "enable-key-rotation", "--key-id", key["KeyId"], "--rotation-period-in-days", "120"
    )
    assert done.returncode == 0, done.stderr
    done = prod.aws("kms", "get-key-rotation-status", "--key-id", key["Arn"])
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["KeyRotationEnabled"], out["KeyId"], out["RotationPeriodInDays"]) == (
        True,
        key["Arn"],
        120,
    )
    assert out["NextRotationDate"]  # the CLI prints the date
    rsa = prod_kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    refused = prod.aws("kms", "enable-key-rotation", "--key-id", rsa["KeyId"])
    assert refused.returncode != 0
    assert "UnsupportedOperationException" in refused.stderr
    assert "key spec is RSA_2048 which is not valid for this operation." in refused.stderr


# -- time travel (a dev server of this module's own) ----------------------------------------------


def test_ciphertexts_outlive_three_rotations(own_dev: Server) -> None:
    kms = own_dev.client()
    key = kms.create_key()["KeyMetadata"]
    key_id = key["KeyId"]
    keys = [_data_key(kms, key_id)]
    kms.rotate_key_on_demand(KeyId=key_id)  # 1: on demand
    keys.append(_data_key(kms, key_id))
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    scheduled = _status(own_dev, key_id)["NextRotationDate"]
    assert _advance(own_dev, 89 * DAY)["keys_rotated"] >= 0
    assert len(_rotations(own_dev, key_id)) == 1  # not yet due
    moved = _advance(own_dev, 2 * DAY)  # 2: automatic, done by the clock's sweep
    assert moved["keys_rotated"] >= 1
    keys.append(_data_key(kms, key_id))
    kms.rotate_key_on_demand(KeyId=key_id)  # 3: on demand again
    keys.append(_data_key(kms, key_id))
    for data_key in keys:
        _opens(kms, data_key)
    rotations = _rotations(own_dev, key_id)
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND", "AUTOMATIC", "ON_DEMAND"]
    assert [r["KeyMaterialId"] for r in rotations] == [k["KeyMaterialId"] for k in keys[1:]]
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT", "NON_CURRENT", "CURRENT"]
    assert keys[0]["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    assert len({k["KeyMaterialId"] for k in keys}) == 4
    current = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert current == keys[-1]["KeyMaterialId"]
    # The automatic rotation happened when the clock reached its date, and set the next one.
    automatic = rotations[1]["RotationDate"]
    assert scheduled <= automatic <= moved["now"] + 1
    assert _status(own_dev, key_id)["NextRotationDate"] == pytest.approx(
        automatic + 90 * DAY, abs=0.001
    )
    # The on-demand rotation did not move the schedule.
    assert rotations[2]["RotationDate"] < _status(own_dev, key_id)["NextRotationDate"]


def test_on_demand_rotation_conflicts_with_a_near_automatic_one(own_dev: Server) -> None:
    kms = own_dev.client()
    key = kms.create_key()["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    _advance(own_dev, 90 * DAY - 15 * MINUTE)  # the automatic rotation is 15 minutes away
    assert aws_error(kms.rotate_key_on_demand, KeyId=key["KeyId"]) == (
        "ConflictException",
        f"{key['Arn']} has an automatic rotation in progress or scheduled to begin within the "
        "next 20 minutes. Try again after it completes.",
        400,
    )
    _advance(own_dev, 16 * MINUTE)
    assert [r["RotationType"] for r in _rotations(own_dev, key["KeyId"])] == ["AUTOMATIC"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])  # the next one is 90 days away
    assert [r["RotationType"] for r in _rotations(own_dev, key["KeyId"])] == [
        "AUTOMATIC",
        "ON_DEMAND",
    ]


def test_a_disabled_key_rotates_when_enabled_again(own_dev: Server) -> None:
    kms = own_dev.client()
    key = kms.create_key()["KeyMetadata"]
    old = _data_key(kms, key["KeyId"])
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    kms.disable_key(KeyId=key["KeyId"])
    _advance(own_dev, 200 * DAY)  # two periods and more pass while the key is disabled
    assert _rotations(own_dev, key["KeyId"]) == []
    kms.enable_key(KeyId=key["KeyId"])
    _advance(own_dev, 0)  # the next sweep (here the clock's) rotates the overdue key, once
    (rotation,) = _rotations(own_dev, key["KeyId"])
    assert rotation["RotationType"] == "AUTOMATIC"
    assert _status(own_dev, key["KeyId"])["NextRotationDate"] == pytest.approx(
        rotation["RotationDate"] + 90 * DAY, abs=0.001
    )
    _opens(kms, old)
    assert _data_key(kms, key["KeyId"])["KeyMaterialId"] == rotation["KeyMaterialId"]


def test_a_rotation_due_while_down_happens_once_with_two_workers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, free_port(), ["--dev", "--data-dir", str(data), "--workers", "2"])
    server.start()
    try:
        kms = server.client()
        key = kms.create_key()["KeyMetadata"]
        key_id = key["KeyId"]
        old = _data_key(kms, key_id)
        kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
        before = _status(server, key_id)
        server.stop()
        # While the server is down, its dev clock moves 200 days: two periods and more.
        storage = open_storage(sqlite_url(data))
        try:
            offset = float(storage.get_meta(CLOCK_OFFSET_META) or 0.0)
            storage.set_meta(CLOCK_OFFSET_META, repr(offset + 200 * DAY))
        finally:
            storage.close()
        server.start()
        deadline = time.monotonic() + 6 * SWEEP_SECONDS
        while not _rotations(server, key_id) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2 * SWEEP_SECONDS + 1)  # both workers sweep again: nothing more is due
        (rotation,) = _rotations(server, key_id)
        assert rotation["RotationType"] == "AUTOMATIC"
        assert rotation["RotationDate"] >= before["NextRotationDate"] + 100 * DAY
        after = _status(server, key_id)
        assert after["RotationPeriodInDays"] == 90
        assert after["NextRotationDate"] == pytest.approx(
            rotation["RotationDate"] + 90 * DAY, abs=0.001
        )
        assert after["NextRotationDate"] > time.time() + offset + 200 * DAY + 89 * DAY
        _opens(kms, old)
        assert _data_key(kms, key_id)["KeyMaterialId"] == rotation["KeyMaterialId"]
        everything = _rotations(server, key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
        assert [r["KeyMaterialId"] for r in everything] == [
            old["KeyMaterialId"],
            rotation["KeyMaterialId"],
        ]
    finally:
        server.stop()
