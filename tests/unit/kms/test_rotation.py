"""Key rotation over a real service, database and key store: the schedule, on-demand rotation,
the scheduler's exactly-once rotation, multi-Region members, imported material, the listing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from tests.unit.kms.helpers import race, raw, software

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.domain.identity import ServiceRecord
from strongroom.domain.keys import KeyManager, KeyRecord, KeyState, MaterialRecord, Origin
from strongroom.errors import (
    AccessDeniedException,
    ConflictException,
    DisabledException,
    InvalidMarkerException,
    KMSInvalidStateException,
    LimitExceededException,
    UnsupportedOperationException,
)
from strongroom.keystore.base import new_material_id
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.keys import new_symmetric_key, store_new_key
from strongroom.kms.managed_keys import managed_key_policy
from strongroom.kms.operations import call
from strongroom.kms.policy_text import default_key_policy
from strongroom.kms.rotation import (
    MANAGED_ROTATION_SECONDS,
    ON_DEMAND_ROTATION_LIMIT,
    _rotate_automatically,
    rotate_due_keys,
)
from strongroom.kms.service import KmsService
from strongroom.storage import open_storage

DAY = 86_400
REPLICA_REGION = "eu-west-1"


def _managed_key(svc: KmsService, caller: Caller, *, policy: str | None = None) -> KeyRecord:
    """An AWS-managed key as ``managed_keys`` makes one: yearly rotation scheduled."""
    now = svc.clock.now()
    key = new_symmetric_key(
        caller,
        now,
        description="Default key that protects my objects",
        policy=policy or default_key_policy(caller.partition, caller.account),
        key_manager=KeyManager.AWS,
    )
    key = dataclasses.replace(
        key, rotation_period_days=365, next_rotation_date=now + MANAGED_ROTATION_SECONDS
    )
    store_new_key(svc, key, {})
    return key


def _travel(svc: KmsService, seconds: float) -> None:
    svc.refresh()
    svc.set_clock_offset(svc.clock.advance(seconds))
    svc.refresh()


def _key(svc: KmsService, caller: Caller, key_id: str, region: str | None = None) -> KeyRecord:
    svc.refresh()
    key = svc.keys.get_key(caller.account, region or caller.region, key_id)
    assert key is not None
    return key


def _new_key(svc: KmsService, caller: Caller, **params: Any) -> dict[str, Any]:
    meta: dict[str, Any] = call(svc, caller, "CreateKey", params)["KeyMetadata"]
    return meta


def _rotations(svc: KmsService, caller: Caller, key_id: str, **params: Any) -> list[Any]:
    found: list[Any] = call(svc, caller, "ListKeyRotations", {"KeyId": key_id, **params})[
        "Rotations"
    ]
    return found


# -- the scheduler --------------------------------------------------------------------------------


def test_a_managed_key_rotates_after_a_year(svc: KmsService, caller: Caller) -> None:
    key = _managed_key(svc, caller)
    customer = _new_key(svc, caller)
    old_blob = call(svc, caller, "Encrypt", {"KeyId": key.key_id, "Plaintext": b"year one"})
    _travel(svc, MANAGED_ROTATION_SECONDS - DAY)
    assert rotate_due_keys(svc) == 0
    _travel(svc, 2 * DAY)
    assert rotate_due_keys(svc) == 1
    assert rotate_due_keys(svc) == 0  # the new version is not due
    rotated = _key(svc, caller, key.key_id)
    assert rotated.current_material_id not in (None, key.current_material_id)
    assert rotated.next_rotation_date == pytest.approx(svc.clock.now() + 365 * DAY, abs=5)
    assert len(svc.keys.read.get_materials(key.account, key.region, key.key_id)) == 2
    opened = call(svc, caller, "Decrypt", {"CiphertextBlob": old_blob["CiphertextBlob"]})
    assert opened["Plaintext"] == b"year one"
    assert opened["KeyMaterialId"] == key.current_material_id
    new_blob = call(svc, caller, "GenerateDataKey", {"KeyId": key.key_id, "KeySpec": "AES_256"})
    assert new_blob["KeyMaterialId"] == rotated.current_material_id
    unchanged = _key(svc, caller, customer["KeyId"])
    assert unchanged.current_material_id == customer["CurrentKeyMaterialId"]
    (entry,) = _rotations(svc, caller, key.key_id)
    assert entry["RotationType"] == "AUTOMATIC"
    assert entry["KeyMaterialId"] == rotated.current_material_id


def test_managed_keys_report_yearly_rotation_and_refuse_changes(
    svc: KmsService, caller: Caller
) -> None:
    s3 = ServiceRecord("s3", "s3.us-east-1.amazonaws.com", "s3", "arn:aws:iam::1:role/s3", 0.0)
    key = _managed_key(svc, caller, policy=managed_key_policy("aws", caller.account, s3))
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key.key_id})
    assert status == {
        "KeyRotationEnabled": True,
        "KeyId": key.arn,
        "RotationPeriodInDays": 365,
        "NextRotationDate": key.next_rotation_date,
    }
    assert _rotations(svc, caller, key.key_id) == []
    # AWS's managed-key policy allows nobody to change the key: ordinary authorization refuses.
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
        with pytest.raises(AccessDeniedException):
            call(svc, caller, operation, {"KeyId": key.key_id})
    # Even under a policy that allowed it, the schedule of a managed key is not the caller's.
    lax = _managed_key(svc, caller)
    with pytest.raises(UnsupportedOperationException) as info:
        call(svc, caller, "EnableKeyRotation", {"KeyId": lax.key_id})
    assert info.value.message == (
        f"{lax.arn} is an AWS managed key. You cannot enable automatic rotation of an AWS "
        "managed key; KMS rotates it every year."
    )
    with pytest.raises(UnsupportedOperationException, match="perform on-demand rotation of"):
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": lax.key_id})


def test_keys_pending_deletion_do_not_rotate(svc: KmsService, caller: Caller) -> None:
    key = _managed_key(svc, caller)
    svc.keys.update_key(
        dataclasses.replace(key, state=KeyState.PENDING_DELETION, deletion_date=1e12)
    )
    _travel(svc, 2 * MANAGED_ROTATION_SECONDS)
    assert rotate_due_keys(svc) == 0
    assert _key(svc, caller, key.key_id).current_material_id == key.current_material_id


def test_a_disabled_key_waits_and_rotates_once_when_enabled(
    svc: KmsService, caller: Caller
) -> None:
    meta = _new_key(svc, caller)
    call(svc, caller, "EnableKeyRotation", {"KeyId": meta["KeyId"], "RotationPeriodInDays": 90})
    call(svc, caller, "DisableKey", {"KeyId": meta["KeyId"]})
    _travel(svc, 300 * DAY)  # more than three periods
    assert rotate_due_keys(svc) == 0
    assert _rotations(svc, caller, meta["KeyId"]) == []
    call(svc, caller, "EnableKey", {"KeyId": meta["KeyId"]})
    assert rotate_due_keys(svc) == 1  # overdue: at once, and only once
    assert rotate_due_keys(svc) == 0
    key = _key(svc, caller, meta["KeyId"])
    (entry,) = _rotations(svc, caller, meta["KeyId"])
    assert entry["RotationType"] == "AUTOMATIC"
    assert key.next_rotation_date == entry["RotationDate"] + 90 * DAY


def test_a_rotation_overtaken_by_another_worker_writes_nothing(
    svc: KmsService, caller: Caller
) -> None:
    meta = _new_key(svc, caller)
    call(svc, caller, "EnableKeyRotation", {"KeyId": meta["KeyId"], "RotationPeriodInDays": 90})
    _travel(svc, 91 * DAY)
    stale = _key(svc, caller, meta["KeyId"])  # what a slower worker read
    assert rotate_due_keys(svc) == 1  # the faster worker
    assert _rotate_automatically(svc, stale, svc.clock.now()) is False
    assert len(_rotations(svc, caller, meta["KeyId"])) == 1
    assert len(svc.keys.read.get_materials(stale.account, stale.region, stale.key_id)) == 2


def test_workers_racing_rotate_a_due_key_exactly_once(
    svc: KmsService, caller: Caller, db_url: str, keystore: SoftwareKeyStore
) -> None:
    meta = _new_key(svc, caller)
    call(svc, caller, "EnableKeyRotation", {"KeyId": meta["KeyId"], "RotationPeriodInDays": 90})
    _travel(svc, 200 * DAY)
    offset = svc.clock.offset
    workers = [
        KmsService(open_storage(db_url), keystore, Clock(offset), dev=True) for _ in range(4)
    ]
    assert race(workers, rotate_due_keys) == [0, 0, 0, 1]
    assert [r["RotationType"] for r in _rotations(svc, caller, meta["KeyId"])] == ["AUTOMATIC"]


# -- the schedule ---------------------------------------------------------------------------------


def test_enable_disable_and_status(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller)
    key_id, arn = meta["KeyId"], meta["Arn"]
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})
    assert status == {"KeyRotationEnabled": False, "KeyId": arn}
    enabled_at = svc.clock.now()
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id})
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": arn})
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 365
    first = status["NextRotationDate"]
    assert enabled_at + 365 * DAY <= first <= svc.clock.now() + 365 * DAY
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 365})
    assert call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})["NextRotationDate"] == first
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 180})
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})
    assert status["RotationPeriodInDays"] == 180
    assert status["NextRotationDate"] == first - 365 * DAY + 180 * DAY  # same cycle start
    call(svc, caller, "DisableKeyRotation", {"KeyId": key_id})
    assert call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id}) == {
        "KeyRotationEnabled": False,
        "KeyId": arn,
    }
    call(svc, caller, "DisableKeyRotation", {"KeyId": key_id})  # idempotent


def test_status_is_false_while_pending_deletion_and_returns_after(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _new_key(svc, caller)["KeyId"]
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 100})
    call(svc, caller, "ScheduleKeyDeletion", {"KeyId": key_id, "PendingWindowInDays": 7})
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})
    assert status["KeyRotationEnabled"] is False
    arn = _key(svc, caller, key_id).arn
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
        with pytest.raises(KMSInvalidStateException) as info:
            call(svc, caller, operation, {"KeyId": key_id})
        assert info.value.message == f"{arn} is pending deletion."
    call(svc, caller, "CancelKeyDeletion", {"KeyId": key_id})
    status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 100)


def test_keys_that_cannot_rotate(svc: KmsService, caller: Caller) -> None:
    rsa = _new_key(svc, caller, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    hmac = _new_key(svc, caller, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    external = _new_key(svc, caller, Origin="EXTERNAL")
    for meta, spec in ((rsa, "RSA_2048"), (hmac, "HMAC_256")):
        for operation in ("EnableKeyRotation", "DisableKeyRotation", "ListKeyRotations"):
            with pytest.raises(UnsupportedOperationException) as info:
                call(svc, caller, operation, {"KeyId": meta["KeyId"]})
            assert info.value.message == (
                f"{meta['Arn']} key spec is {spec} which is not valid for this operation."
            )
        status = call(svc, caller, "GetKeyRotationStatus", {"KeyId": meta["KeyId"]})
        assert status == {"KeyRotationEnabled": False, "KeyId": meta["Arn"]}
        # RotateKeyOnDemand: AWS's answer has no message at all.
        with pytest.raises(UnsupportedOperationException) as info:
            call(svc, caller, "RotateKeyOnDemand", {"KeyId": meta["KeyId"]})
        assert info.value.message is None
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus"):
        with pytest.raises(UnsupportedOperationException) as info:
            call(svc, caller, operation, {"KeyId": external["KeyId"]})
        assert info.value.message == (
            f"{external['Arn']} origin is EXTERNAL which is not valid for this operation."
        )
    assert _rotations(svc, caller, external["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL") == []
    with pytest.raises(KMSInvalidStateException, match="is pending import"):
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": external["KeyId"]})


def test_a_disabled_key_refuses_schedule_changes(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller)
    call(svc, caller, "DisableKey", {"KeyId": meta["KeyId"]})
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
        with pytest.raises(DisabledException) as info:
            call(svc, caller, operation, {"KeyId": meta["KeyId"]})
        assert info.value.message == f"{meta['Arn']} is disabled."


# -- on demand --------------------------------------------------------------------------------


def test_on_demand_rotation_up_to_the_limit(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller)
    key_id = meta["KeyId"]

    def encrypt(n: int) -> dict[str, Any]:
        blob = call(svc, caller, "Encrypt", {"KeyId": key_id, "Plaintext": f"v{n}".encode()})
        current = call(svc, caller, "DescribeKey", {"KeyId": key_id})["KeyMetadata"]
        return {**blob, "KeyMaterialId": current["CurrentKeyMaterialId"]}

    blobs = [encrypt(0)]
    for n in range(ON_DEMAND_ROTATION_LIMIT):
        assert call(svc, caller, "RotateKeyOnDemand", {"KeyId": key_id}) == {"KeyId": meta["Arn"]}
        if n < 2:
            blobs.append(encrypt(n + 1))
    with pytest.raises(LimitExceededException) as info:
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": key_id})
    assert info.value.message == (
        "The on-demand rotations limit has been reached for the given keyId. No more on-demand "
        f"rotations can be performed for this key: {meta['Arn']}"
    )
    ids = [blob["KeyMaterialId"] for blob in blobs]
    assert len(set(ids)) == 3
    for n, blob in enumerate(blobs):
        opened = call(svc, caller, "Decrypt", {"CiphertextBlob": blob["CiphertextBlob"]})
        assert (opened["Plaintext"], opened["KeyMaterialId"]) == (f"v{n}".encode(), ids[n])
    rotations = _rotations(svc, caller, key_id, Limit=1000)
    assert len(rotations) == ON_DEMAND_ROTATION_LIMIT
    assert {r["RotationType"] for r in rotations} == {"ON_DEMAND"}
    assert rotations[0]["KeyMaterialId"] == ids[1]
    assert [r["KeyMaterialState"] for r in rotations][-2:] == ["NON_CURRENT", "CURRENT"]


def test_on_demand_rotation_does_not_move_the_schedule(svc: KmsService, caller: Caller) -> None:
    key_id = _new_key(svc, caller)["KeyId"]
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 90})
    before = call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id})
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": key_id})
    assert call(svc, caller, "GetKeyRotationStatus", {"KeyId": key_id}) == before


def test_conflict_when_an_automatic_rotation_is_near(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller)
    call(svc, caller, "EnableKeyRotation", {"KeyId": meta["KeyId"], "RotationPeriodInDays": 90})
    _travel(svc, 90 * DAY - 19 * 60)  # due in 19 minutes
    with pytest.raises(ConflictException) as info:
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": meta["KeyId"]})
    assert info.value.message == (
        f"{meta['Arn']} has an automatic rotation in progress or scheduled to begin within the "
        "next 20 minutes. Try again after it completes."
    )
    assert rotate_due_keys(svc) == 0
    _travel(svc, 20 * 60)
    assert rotate_due_keys(svc) == 1
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": meta["KeyId"]})  # 90 days away again


# -- multi-Region keys ----------------------------------------------------------------------------


def _replicate(svc: KmsService, primary: KeyRecord) -> KeyRecord:
    """A replica as the multi-Region contract makes one: the primary's material rows, same ids,
    each wrapped for the replica's ARN, the same current material and rotation fields."""
    arn = primary.arn.replace(f":{primary.region}:", f":{REPLICA_REGION}:", 1)
    replica = dataclasses.replace(primary, region=REPLICA_REGION, arn=arn, policy=primary.policy)
    rows = []
    for row in svc.keys.read.get_materials(primary.account, primary.region, primary.key_id):
        material = raw(svc, primary, row.material_id)
        wrapped = software(svc).wrap_material(material, arn, row.material_id)
        rows.append(dataclasses.replace(row, wrapped=wrapped))
    svc.keys.insert_key(replica, rows, {})
    return replica


def test_a_multi_region_key_rotates_every_member(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller, MultiRegion=True)
    key_id = meta["KeyId"]
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 90})
    replica = _replicate(svc, _key(svc, caller, key_id))
    there = Caller.root(caller.account, REPLICA_REGION)
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
        with pytest.raises(UnsupportedOperationException) as info:
            call(svc, there, operation, {"KeyId": key_id})
        assert str(info.value.message).startswith(f"{replica.arn} is a multi-Region replica key.")
        assert str(info.value.message).endswith(f"use its primary key {meta['Arn']}.")
    shared = call(svc, there, "GetKeyRotationStatus", {"KeyId": key_id})
    assert shared["RotationPeriodInDays"] == 90
    assert shared["KeyId"] == replica.arn
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": key_id})
    _travel(svc, 91 * DAY)
    assert rotate_due_keys(svc) == 1  # the primary; the replica follows in the same write
    primary, copy = _key(svc, caller, key_id), _key(svc, caller, key_id, REPLICA_REGION)
    assert primary.current_material_id == copy.current_material_id
    assert primary.next_rotation_date == copy.next_rotation_date
    assert primary.rotation_period_days == copy.rotation_period_days == 90
    here = [(r["KeyMaterialId"], r["RotationType"]) for r in _rotations(svc, caller, key_id)]
    assert [t for _, t in here] == ["ON_DEMAND", "AUTOMATIC"]
    assert [(r["KeyMaterialId"], r["RotationType"]) for r in _rotations(svc, there, key_id)] == here
    blob = call(svc, caller, "Encrypt", {"KeyId": key_id, "Plaintext": b"across"})
    opened = call(svc, there, "Decrypt", {"CiphertextBlob": blob["CiphertextBlob"]})
    assert (opened["Plaintext"], opened["KeyMaterialId"]) == (b"across", here[-1][0])
    call(svc, caller, "DisableKeyRotation", {"KeyId": key_id})
    assert _key(svc, caller, key_id, REPLICA_REGION).rotation_period_days is None


# -- imported material ------------------------------------------------------------------------


def _imported_key(
    svc: KmsService, caller: Caller, *, pending: bool, multi_region: bool = False
) -> KeyRecord:
    """An EXTERNAL key with imported material, and NEW material awaiting rotation if asked."""
    now = svc.clock.now()
    first, second = new_material_id(), new_material_id()
    key = dataclasses.replace(
        new_symmetric_key(
            caller,
            now,
            description="",
            policy=default_key_policy(caller.partition, caller.account),
            origin=Origin.EXTERNAL,
            multi_region=multi_region,
        ),
        state=KeyState.ENABLED,
        current_material_id=first,
        expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )

    def row(material_id: str, **terms: Any) -> MaterialRecord:
        wrapped = software(svc).wrap_material(bytes(range(32)), key.arn, material_id)
        return MaterialRecord(key.key_id, material_id, wrapped, now, import_state="IMPORTED",
                              **terms)  # fmt: skip

    rows = [row(first, expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")]
    if pending:
        rows.append(
            row(
                second,
                expiration_model="KEY_MATERIAL_EXPIRES",
                valid_to=now + 30 * DAY,
                description="second",
                pending_rotation=True,
            )
        )
    svc.keys.insert_key(key, rows, {})
    return key


def test_on_demand_rotation_of_imported_material(svc: KmsService, caller: Caller) -> None:
    without = _imported_key(svc, caller, pending=False)
    with pytest.raises(KMSInvalidStateException) as info:
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": without.key_id})
    assert info.value.message == (
        f"No available key material pending rotation for the key: {without.arn}."
    )
    key = _imported_key(svc, caller, pending=True)
    listed = _rotations(svc, caller, key.key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert [r["KeyMaterialState"] for r in listed] == ["CURRENT", "PENDING_ROTATION"]
    assert "RotationType" not in listed[1]
    assert listed[1]["KeyMaterialDescription"] == "second"
    assert _rotations(svc, caller, key.key_id) == []
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": key.key_id})
    after = _key(svc, caller, key.key_id)
    assert after.current_material_id == listed[1]["KeyMaterialId"]
    assert after.expiration_model == "KEY_MATERIAL_EXPIRES"
    assert after.valid_to == listed[1]["ValidTo"]
    (entry,) = _rotations(svc, caller, key.key_id)
    assert entry["KeyMaterialId"] == after.current_material_id
    assert entry["RotationType"] == "ON_DEMAND"
    assert entry["KeyMaterialState"] == "CURRENT"
    assert entry["ImportState"] == "IMPORTED"
    assert entry["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert "RotationDate" in entry
    with pytest.raises(KMSInvalidStateException, match="No available key material pending"):
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": key.key_id})


def test_imported_material_rotates_in_every_region_once_imported_there(
    svc: KmsService, caller: Caller
) -> None:
    key = _imported_key(svc, caller, pending=True, multi_region=True)
    arn = key.arn.replace(f":{key.region}:", f":{REPLICA_REGION}:", 1)
    rows = svc.keys.read.get_materials(key.account, key.region, key.key_id)
    first, second = sorted(rows, key=lambda m: m.pending_rotation)
    replica_rows = [
        dataclasses.replace(first, wrapped=software(svc).wrap_material(bytes(range(32)), arn,
                                                                      first.material_id)),
        dataclasses.replace(second, wrapped=None, import_state="PENDING_IMPORT"),
    ]  # fmt: skip
    svc.keys.insert_key(dataclasses.replace(key, region=REPLICA_REGION, arn=arn), replica_rows, {})
    listed = _rotations(svc, caller, key.key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    states = [r["KeyMaterialState"] for r in listed]
    assert states == ["CURRENT", "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"]
    with pytest.raises(KMSInvalidStateException) as info:
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": key.key_id})
    assert info.value.message == (
        f"{key.arn} cannot rotate: the key material {second.material_id} is not imported into "
        f"{arn} (PENDING_MULTI_REGION_IMPORT_AND_ROTATION)."
    )
    imported = software(svc).wrap_material(bytes(range(32)), arn, second.material_id)
    svc.keys.update_material(
        key.account,
        REPLICA_REGION,
        dataclasses.replace(second, wrapped=imported, import_state="IMPORTED"),
    )
    listed = _rotations(svc, caller, key.key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert listed[1]["KeyMaterialState"] == "PENDING_ROTATION"
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": key.key_id})
    for region in (key.region, REPLICA_REGION):
        member = _key(svc, caller, key.key_id, region)
        assert member.current_material_id == second.material_id
        (entry,) = _rotations(svc, Caller.root(caller.account, region), key.key_id)
        assert (entry["KeyMaterialId"], entry["RotationType"]) == (second.material_id, "ON_DEMAND")


# -- the listing ------------------------------------------------------------------------------


def test_list_key_rotations_pages(svc: KmsService, caller: Caller) -> None:
    meta = _new_key(svc, caller)
    for _ in range(3):
        call(svc, caller, "RotateKeyOnDemand", {"KeyId": meta["KeyId"]})
    everything = _rotations(svc, caller, meta["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert everything[0] == {
        "KeyId": meta["KeyId"],
        "KeyMaterialId": meta["CurrentKeyMaterialId"],
        "KeyMaterialState": "NON_CURRENT",
    }
    seen, marker = [], None
    while True:
        params: dict[str, Any] = {"KeyId": meta["KeyId"], "Limit": 2}
        params |= {"IncludeKeyMaterial": "ALL_KEY_MATERIAL"}
        if marker:
            params["Marker"] = marker
        page = call(svc, caller, "ListKeyRotations", params)
        seen.extend(page["Rotations"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert seen == everything
    assert len(seen) == 4
    with pytest.raises(InvalidMarkerException):
        call(svc, caller, "ListKeyRotations", {"KeyId": meta["KeyId"], "Marker": "garbage"})


def test_a_worker_started_after_the_clock_moved_sees_the_offset(
    svc: KmsService, caller: Caller, db_url: str, keystore: SoftwareKeyStore
) -> None:
    """The dev clock's offset lives in the database: a server restarted after it moved (or
    moved while it was down) rotates what fell due, at its first sweep."""
    meta = _new_key(svc, caller)
    call(svc, caller, "EnableKeyRotation", {"KeyId": meta["KeyId"], "RotationPeriodInDays": 90})
    svc.set_clock_offset(95.0 * DAY)
    later = KmsService(open_storage(db_url), keystore, Clock(), dev=True)
    try:
        later.refresh()
        assert rotate_due_keys(later) == 1
        assert rotate_due_keys(later) == 0
    finally:
        later.close()
    assert [r["RotationType"] for r in _rotations(svc, caller, meta["KeyId"])] == ["AUTOMATIC"]
