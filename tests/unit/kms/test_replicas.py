"""Multi-Region keys in the KMS service (real SQLite storage and software key store): ReplicateKey,
UpdatePrimaryRegion, the deletion rules of primaries and replicas, and crypto across regions."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from tests.unit.kms.helpers import raw, software

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyState, MaterialRecord, Rotation
from strongroom.errors import (
    AlreadyExistsException,
    ClientError,
    DisabledException,
    KMSInvalidStateException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
)
from strongroom.kms.operations import call
from strongroom.kms.partitions import partition_of
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_state

DAY = 86_400
EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


def _request(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    svc.refresh()
    return call(svc, caller, op, dict(params))


def _fails(
    svc: KmsService, caller: Caller, op: str, error: type[ClientError], **params: Any
) -> str:
    with pytest.raises(error) as info:
        _request(svc, caller, op, **params)
    return str(info.value.message)


def _travel(svc: KmsService, seconds: float) -> None:
    svc.refresh()
    svc.set_clock_offset(svc.clock.advance(seconds))
    svc.refresh()


def _in(caller: Caller, region: str) -> Caller:
    return dataclasses.replace(caller, region=region)


def _stored(svc: KmsService, caller: Caller, region: str, key_id: str) -> KeyRecord:
    key = svc.keys.get_key(caller.account, region, key_id)
    assert key is not None
    return key


def _mrk(svc: KmsService, caller: Caller, **params: Any) -> dict[str, Any]:
    meta: dict[str, Any] = _request(svc, caller, "CreateKey", MultiRegion=True, **params)[
        "KeyMetadata"
    ]
    return meta


def _replicate(
    svc: KmsService, caller: Caller, key_id: str, region: str = WEST, **params: Any
) -> dict[str, Any]:
    return _request(svc, caller, "ReplicateKey", KeyId=key_id, ReplicaRegion=region, **params)


# --- ReplicateKey ------------------------------------------------------------------------------


def test_a_replica_shares_id_and_material_and_has_its_own_everything_else(
    svc: KmsService, caller: Caller
) -> None:
    primary = _mrk(svc, caller, Description="primary", Tags=[{"TagKey": "t", "TagValue": "p"}])
    key_id = primary["KeyId"]
    out = _replicate(svc, caller, key_id)
    replica = out["ReplicaKeyMetadata"]
    west_arn = primary["Arn"].replace(f":{EAST}:", f":{WEST}:")
    assert replica["KeyId"] == key_id
    assert replica["Arn"] == west_arn
    assert (replica["KeyState"], replica["Enabled"]) == ("Enabled", True)
    assert replica["Description"] == ""  # not copied
    assert "ReplicaTags" not in out  # not copied, and absent when the request has none
    # AWS answers before the replica has its material: no CurrentKeyMaterialId in the answer,
    # but the replica holds the primary's current material (DescribeKey shows it).
    assert "CurrentKeyMaterialId" not in replica
    west_meta = _request(svc, _in(caller, WEST), "DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert west_meta["CurrentKeyMaterialId"] == primary["CurrentKeyMaterialId"]
    assert replica["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": primary["Arn"], "Region": EAST},
        "ReplicaKeys": [{"Arn": west_arn, "Region": WEST}],
    }
    default_policy = _request(svc, caller, "GetKeyPolicy", KeyId=key_id)["Policy"]
    assert out["ReplicaPolicy"] == default_policy
    described = _request(svc, caller, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert described["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert described["MultiRegionConfiguration"]["ReplicaKeys"] == [
        {"Arn": west_arn, "Region": WEST}
    ]
    assert _request(svc, _in(caller, WEST), "ListResourceTags", KeyId=key_id)["Tags"] == []

    # Same material ids and bytes, each copy wrapped for its own key ARN.
    east = svc.keys.read.get_materials(caller.account, EAST, key_id)
    west = svc.keys.read.get_materials(caller.account, WEST, key_id)
    assert [m.material_id for m in east] == [m.material_id for m in west]
    assert east[0].wrapped != west[0].wrapped
    east_key, west_key = _stored(svc, caller, EAST, key_id), _stored(svc, caller, WEST, key_id)
    assert west_key.primary_region == EAST
    material_id = east[0].material_id
    assert raw(svc, east_key, material_id) == raw(svc, west_key, material_id)


def test_replica_policy_description_and_tags_come_from_the_request(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    policy = _request(svc, caller, "GetKeyPolicy", KeyId=key_id)["Policy"].replace(
        "key-default-1", "replica-policy"
    )
    out = _replicate(
        svc,
        caller,
        key_id,
        Policy=policy,
        Description="the west copy",
        Tags=[{"TagKey": "region", "TagValue": "west"}],
    )
    assert out["ReplicaPolicy"] == policy
    assert out["ReplicaKeyMetadata"]["Description"] == "the west copy"
    assert out["ReplicaTags"] == [{"TagKey": "region", "TagValue": "west"}]
    west = _in(caller, WEST)
    assert _request(svc, west, "GetKeyPolicy", KeyId=key_id)["Policy"] == policy
    assert _request(svc, west, "ListResourceTags", KeyId=key_id)["Tags"] == out["ReplicaTags"]
    assert _request(svc, caller, "ListResourceTags", KeyId=key_id)["Tags"] == []


def test_replicate_key_errors(svc: KmsService, caller: Caller) -> None:
    single = _request(svc, caller, "CreateKey")["KeyMetadata"]
    message = _fails(
        svc,
        caller,
        "ReplicateKey",
        UnsupportedOperationException,
        KeyId=single["KeyId"],
        ReplicaRegion=WEST,
    )
    assert message.startswith(f"{single['Arn']} is not a multi-Region key.")

    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    west = _in(caller, WEST)
    message = _fails(
        svc, west, "ReplicateKey", UnsupportedOperationException, KeyId=key_id, ReplicaRegion=EU
    )
    assert message == f"{_stored(svc, caller, WEST, key_id).arn} is not a multi-region primary key."

    message = _fails(
        svc, caller, "ReplicateKey", AlreadyExistsException, KeyId=key_id, ReplicaRegion=WEST
    )
    assert message.startswith(f"A replica of {key_id} already exists in {WEST}")
    message = _fails(
        svc, caller, "ReplicateKey", AlreadyExistsException, KeyId=key_id, ReplicaRegion=EAST
    )
    assert "is the primary key" in message
    message = _fails(
        svc,
        caller,
        "ReplicateKey",
        UnsupportedOperationException,
        KeyId=key_id,
        ReplicaRegion="cn-north-1",
    )
    assert "aws-cn partition" in message
    for tags, refusal in (
        ([{"TagKey": "aws:x", "TagValue": "y"}], "Tags beginning with aws: are reserved"),
        (
            [{"TagKey": "t", "TagValue": "1"}, {"TagKey": "t", "TagValue": "2"}],
            "Duplicate tag keys",
        ),
        ([{"TagKey": f"t{n}", "TagValue": ""} for n in range(51)], "Too many tags"),
    ):
        assert (
            _fails(
                svc, caller, "ReplicateKey", TagException, KeyId=key_id, ReplicaRegion=EU, Tags=tags
            )
            == refusal
        )
    lockout = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*"}]}'  # noqa: E501
    message = _fails(
        svc,
        caller,
        "ReplicateKey",
        MalformedPolicyDocumentException,
        KeyId=key_id,
        ReplicaRegion=EU,
        Policy=lockout,
    )
    assert "will not allow you to update the key policy" in message
    # None of the refused requests left a key behind.
    assert svc.keys.get_key(caller.account, EU, key_id) is None
    _replicate(svc, caller, key_id, EU, Policy=lockout, BypassPolicyLockoutSafetyCheck=True)

    missing = "mrk-" + "0" * 32
    message = _fails(
        svc, caller, "ReplicateKey", NotFoundException, KeyId=missing, ReplicaRegion=WEST
    )
    assert missing in message


def test_replicate_needs_an_enabled_primary(svc: KmsService, caller: Caller) -> None:
    meta = _mrk(svc, caller)
    key_id, arn = meta["KeyId"], meta["Arn"]
    _request(svc, caller, "DisableKey", KeyId=key_id)
    message = _fails(
        svc, caller, "ReplicateKey", DisabledException, KeyId=key_id, ReplicaRegion=WEST
    )
    assert message == f"{arn} is disabled."
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id)
    message = _fails(
        svc, caller, "ReplicateKey", KMSInvalidStateException, KeyId=key_id, ReplicaRegion=WEST
    )
    assert message == f"{arn} is pending deletion."
    external = _mrk(svc, caller, Origin="EXTERNAL")
    message = _fails(
        svc,
        caller,
        "ReplicateKey",
        KMSInvalidStateException,
        KeyId=external["KeyId"],
        ReplicaRegion=WEST,
    )
    assert message == f"{external['Arn']} is pending import."


def test_a_pending_deletion_replica_still_occupies_its_region(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    _request(svc, _in(caller, WEST), "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    message = _fails(
        svc, caller, "ReplicateKey", AlreadyExistsException, KeyId=key_id, ReplicaRegion=WEST
    )
    assert "pending deletion" in message
    _travel(svc, 7 * DAY + 1)
    # Once deleted, the region can hold a new replica, with the same shared properties.
    out = _replicate(svc, caller, key_id)
    assert out["ReplicaKeyMetadata"]["KeyState"] == "Enabled"


def test_an_imported_primary_gets_a_replica_awaiting_the_same_material(
    svc: KmsService, caller: Caller
) -> None:
    meta = _mrk(svc, caller, Origin="EXTERNAL")
    key_id = meta["KeyId"]
    # The state ImportKeyMaterial leaves: material present (written here through storage).
    key = _stored(svc, caller, EAST, key_id)
    material_id = "ab" * 32
    wrapped = software(svc).wrap_material(bytes(32), key.arn, material_id)
    svc.keys.insert_material(
        caller.account,
        EAST,
        key_id,
        MaterialRecord(
            key_id,
            material_id,
            wrapped,
            0.0,
            import_state="IMPORTED",
            expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE",
        ),
    )
    svc.keys.update_key(
        dataclasses.replace(
            key,
            state=KeyState.ENABLED,
            current_material_id=material_id,
            expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    )
    replica = _replicate(svc, caller, key_id)["ReplicaKeyMetadata"]
    assert (replica["KeyState"], replica["Enabled"], replica["Origin"]) == (
        "PendingImport",
        False,
        "EXTERNAL",
    )
    assert "ExpirationModel" not in replica
    (copy,) = svc.keys.read.get_materials(caller.account, WEST, key_id)
    assert (copy.material_id, copy.wrapped, copy.import_state) == (
        material_id,
        None,
        "PENDING_IMPORT",
    )
    assert _stored(svc, caller, WEST, key_id).current_material_id == material_id


def test_every_material_version_is_copied(svc: KmsService, caller: Caller) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    key = _stored(svc, caller, EAST, key_id)
    old = key.current_material_id
    assert old is not None
    blob = _request(svc, caller, "Encrypt", KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    # A second version, as a rotation writes it.
    newer = "cd" * 32
    material = MaterialRecord(
        key_id,
        newer,
        software(svc).wrap_material(os.urandom(32), key.arn, newer),
        1.0,
        rotation_type="ON_DEMAND",
    )
    assert svc.keys.apply_rotation(
        Rotation([(dataclasses.replace(key, current_material_id=newer), material)], old)
    )
    _replicate(svc, caller, key_id)
    west = _in(caller, WEST)
    copies = svc.keys.read.get_materials(caller.account, WEST, key_id)
    assert {m.material_id for m in copies} == {old, newer}
    assert {m.rotation_type for m in copies} == {None, "ON_DEMAND"}
    assert _request(svc, west, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"old"
    fresh = _request(svc, west, "Encrypt", KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    opened = _request(svc, caller, "Decrypt", CiphertextBlob=fresh)
    assert (opened["Plaintext"], opened["KeyMaterialId"]) == (b"new", newer)


# --- crypto across regions ---------------------------------------------------------------------


def test_ciphertexts_signatures_and_macs_cross_regions(svc: KmsService, caller: Caller) -> None:
    west = _in(caller, WEST)
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    context = {"purpose": "cross-region"}
    blob = _request(svc, caller, "Encrypt", KeyId=key_id, Plaintext=b"p", EncryptionContext=context)
    opened = _request(
        svc, west, "Decrypt", CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=context
    )
    assert opened["Plaintext"] == b"p"
    assert opened["KeyId"].split(":")[3] == WEST
    back = _request(svc, west, "Encrypt", KeyId=key_id, Plaintext=b"q")["CiphertextBlob"]
    assert _request(svc, caller, "Decrypt", CiphertextBlob=back)["Plaintext"] == b"q"

    hmac = _mrk(svc, caller, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    _replicate(svc, caller, hmac)
    mac = _request(
        svc, caller, "GenerateMac", KeyId=hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256"
    )["Mac"]
    verified = _request(
        svc, west, "VerifyMac", KeyId=hmac, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256"
    )
    assert verified["MacValid"] is True

    signer = _mrk(svc, caller, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyId"]
    _replicate(svc, caller, signer)
    signature = _request(
        svc, west, "Sign", KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    checked = _request(
        svc,
        caller,
        "Verify",
        KeyId=signer,
        Message=b"m",
        Signature=signature,
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert checked["SignatureValid"] is True
    east_public = _request(svc, caller, "GetPublicKey", KeyId=signer)["PublicKey"]
    assert _request(svc, west, "GetPublicKey", KeyId=signer)["PublicKey"] == east_public


# --- UpdatePrimaryRegion -----------------------------------------------------------------------


def test_update_primary_region_swaps_the_roles_in_every_member(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id, WEST)
    _replicate(svc, caller, key_id, EU)
    assert _request(svc, caller, "UpdatePrimaryRegion", KeyId=key_id, PrimaryRegion=WEST) == {}
    for region in (EAST, WEST, EU):
        assert _stored(svc, caller, region, key_id).primary_region == WEST
        config = _request(svc, _in(caller, region), "DescribeKey", KeyId=key_id)["KeyMetadata"][
            "MultiRegionConfiguration"
        ]
        assert config["MultiRegionKeyType"] == ("PRIMARY" if region == WEST else "REPLICA")
        assert config["PrimaryKey"]["Region"] == WEST
        assert sorted(r["Region"] for r in config["ReplicaKeys"]) == [EU, EAST]
    # The old primary is now a replica: it can neither replicate nor move the primary.
    _fails(
        svc,
        caller,
        "ReplicateKey",
        UnsupportedOperationException,
        KeyId=key_id,
        ReplicaRegion="ap-south-1",
    )
    _fails(
        svc,
        caller,
        "UpdatePrimaryRegion",
        UnsupportedOperationException,
        KeyId=key_id,
        PrimaryRegion=EU,
    )
    _replicate(svc, _in(caller, WEST), key_id, "ap-south-1")


def test_update_primary_region_errors(svc: KmsService, caller: Caller) -> None:
    single = _request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"]
    _fails(
        svc,
        caller,
        "UpdatePrimaryRegion",
        UnsupportedOperationException,
        KeyId=single,
        PrimaryRegion=WEST,
    )
    meta = _mrk(svc, caller)
    key_id = meta["KeyId"]
    message = _fails(
        svc, caller, "UpdatePrimaryRegion", NotFoundException, KeyId=key_id, PrimaryRegion=WEST
    )
    assert message == f"Key '{meta['Arn'].replace(EAST, WEST)}' does not exist"
    _fails(
        svc,
        caller,
        "UpdatePrimaryRegion",
        UnsupportedOperationException,
        KeyId=key_id,
        PrimaryRegion=EAST,
    )
    _replicate(svc, caller, key_id)
    west = _in(caller, WEST)
    _request(svc, west, "DisableKey", KeyId=key_id)
    message = _fails(
        svc, caller, "UpdatePrimaryRegion", DisabledException, KeyId=key_id, PrimaryRegion=WEST
    )
    assert message == f"{meta['Arn'].replace(EAST, WEST)} is disabled."
    _request(svc, west, "EnableKey", KeyId=key_id)
    _request(svc, caller, "DisableKey", KeyId=key_id)
    message = _fails(
        svc, caller, "UpdatePrimaryRegion", DisabledException, KeyId=key_id, PrimaryRegion=WEST
    )
    assert message == f"{meta['Arn']} is disabled."
    assert _stored(svc, caller, WEST, key_id).primary_region == EAST


# --- deletion ----------------------------------------------------------------------------------


def test_a_primary_waits_for_its_replicas_then_its_window_begins(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id, WEST)
    _replicate(svc, caller, key_id, EU)
    out = _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=10)
    assert out["KeyState"] == "PendingReplicaDeletion"
    assert out["PendingWindowInDays"] == 10
    assert "DeletionDate" not in out
    meta = _request(svc, caller, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingReplicaDeletion", False)
    assert "DeletionDate" not in meta
    message = _fails(svc, caller, "Encrypt", KMSInvalidStateException, KeyId=key_id, Plaintext=b"x")
    assert message.endswith("is pending replica deletion.")
    _fails(
        svc,
        caller,
        "ReplicateKey",
        KMSInvalidStateException,
        KeyId=key_id,
        ReplicaRegion="ap-south-1",
    )
    _fails(svc, caller, "ScheduleKeyDeletion", KMSInvalidStateException, KeyId=key_id)
    # The replicas still work, and are deleted on their own schedules.
    west, eu = _in(caller, WEST), _in(caller, EU)
    assert _request(svc, west, "Encrypt", KeyId=key_id, Plaintext=b"x")["KeyId"]
    _request(svc, west, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    replica_due = _request(svc, eu, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=20)[
        "DeletionDate"
    ]
    _travel(svc, 7 * DAY + 1)
    assert svc.deletions.sweep() == 1  # the west replica
    assert _stored(svc, caller, EAST, key_id).state is KeyState.PENDING_REPLICA_DELETION
    _travel(svc, 13 * DAY)
    assert svc.deletions.sweep() == 1  # the eu replica, the last one
    primary = _stored(svc, caller, EAST, key_id)
    assert primary.state is KeyState.PENDING_DELETION
    assert primary.deletion_date == replica_due + 10 * DAY
    meta = _request(svc, caller, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert meta["DeletionDate"] == replica_due + 10 * DAY
    assert meta["MultiRegionConfiguration"]["ReplicaKeys"] == []
    _travel(svc, 10 * DAY)
    assert svc.deletions.sweep() == 1
    assert svc.keys.read.key_members(caller.account, key_id) == []


def test_one_sweep_takes_the_replica_and_a_primary_already_due(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _request(svc, _in(caller, WEST), "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _travel(svc, 14 * DAY + 1)  # the server was down: both windows are over
    assert svc.deletions.sweep() == 2
    assert svc.keys.read.key_members(caller.account, key_id) == []


def test_reading_a_due_replica_deletes_it_and_starts_the_primary_window(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _request(svc, _in(caller, WEST), "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _travel(svc, 7 * DAY + 1)
    _fails(svc, _in(caller, WEST), "DescribeKey", NotFoundException, KeyId=key_id)
    assert _stored(svc, caller, EAST, key_id).state is KeyState.PENDING_DELETION


def test_cancelling_pending_replica_deletion_disables_the_primary(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id)
    assert _request(svc, caller, "CancelKeyDeletion", KeyId=key_id)["KeyId"].endswith(key_id)
    primary = _stored(svc, caller, EAST, key_id)
    assert (primary.state, primary.deletion_date, primary.pending_window_days) == (
        KeyState.DISABLED,
        None,
        None,
    )
    # Deleting the replica now leaves the primary as it is.
    west = _in(caller, WEST)
    _request(svc, west, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _travel(svc, 7 * DAY + 1)
    assert svc.deletions.sweep() == 1
    assert _stored(svc, caller, EAST, key_id).state is KeyState.DISABLED


def test_a_primary_without_replicas_and_a_replica_use_the_normal_window(
    svc: KmsService, caller: Caller
) -> None:
    lone = _mrk(svc, caller)["KeyId"]
    out = _request(svc, caller, "ScheduleKeyDeletion", KeyId=lone, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion"
    assert out["DeletionDate"] == pytest.approx(svc.clock.now() + 7 * DAY, abs=5)
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    out = _request(svc, _in(caller, WEST), "ScheduleKeyDeletion", KeyId=key_id)
    assert (out["KeyState"], out["PendingWindowInDays"]) == ("PendingDeletion", 30)
    assert out["DeletionDate"] == pytest.approx(svc.clock.now() + 30 * DAY, abs=5)
    assert _stored(svc, caller, EAST, key_id).state is KeyState.ENABLED


def test_list_keys_is_per_region(svc: KmsService, caller: Caller) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    for region in (EAST, WEST):
        listed = _request(svc, _in(caller, region), "ListKeys")["Keys"]
        assert {
            "KeyId": key_id,
            "KeyArn": f"arn:aws:kms:{region}:{caller.account}:key/{key_id}",
        } in listed
    assert key_id not in [k["KeyId"] for k in _request(svc, _in(caller, EU), "ListKeys")["Keys"]]


# --- small parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("xx-newplace-9", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-east-7", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@pytest.mark.parametrize(
    ("state", "error", "text"),
    [
        (KeyState.ENABLED, None, ""),
        (KeyState.DISABLED, DisabledException, "is disabled."),
        (KeyState.PENDING_DELETION, KMSInvalidStateException, "is pending deletion."),
        (
            KeyState.PENDING_REPLICA_DELETION,
            KMSInvalidStateException,
            "is pending replica deletion.",
        ),
        (KeyState.PENDING_IMPORT, KMSInvalidStateException, "is pending import."),
        (KeyState.CREATING, KMSInvalidStateException, "is creating."),
        (KeyState.UPDATING, KMSInvalidStateException, "is updating."),
    ],
)
def test_multi_region_operations_need_an_enabled_key(
    svc: KmsService,
    caller: Caller,
    state: KeyState,
    error: type[ClientError] | None,
    text: str,
) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    key = dataclasses.replace(_stored(svc, caller, EAST, key_id), state=state)
    if error is None:
        require_state(key, Action.REPLICATE_KEY)
        return
    with pytest.raises(error) as info:
        require_state(key, Action.REPLICATE_KEY)
    assert info.value.message == f"{key.arn} {text}"


# --- PendingDeletionWindowInDays and kms:MultiRegionKeyType ----------------------------------


def test_pending_replica_deletion_shows_its_window(svc: KmsService, caller: Caller) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=10)
    meta = _request(svc, caller, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert meta["PendingDeletionWindowInDays"] == 10
    west = _in(caller, WEST)
    _request(svc, west, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    assert (
        "PendingDeletionWindowInDays"
        not in (_request(svc, west, "DescribeKey", KeyId=key_id)["KeyMetadata"])
    )


def test_multi_region_key_type_condition_key(svc: KmsService, caller: Caller) -> None:
    key_id = _mrk(svc, caller)["KeyId"]
    _replicate(svc, caller, key_id)
    only_replicas = (
        '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},'
        ' "Action": "kms:*", "Resource": "*",'
        ' "Condition": {"StringEquals": {"kms:MultiRegionKeyType": "REPLICA"}}}]}'
    )
    east_key, west_key = _stored(svc, caller, EAST, key_id), _stored(svc, caller, WEST, key_id)
    west = _in(caller, WEST)
    assert svc.access.decide_key(west, "kms:Encrypt", west_key, {}, policy=only_replicas).allowed
    assert not svc.access.decide_key(
        caller, "kms:Encrypt", east_key, {}, policy=only_replicas
    ).allowed
