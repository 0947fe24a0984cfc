"""AWS-managed keys rotate yearly: a new material version, and old ciphertexts still decrypt."""

from __future__ import annotations

import dataclasses

from strongroom.kms.context import Caller
from strongroom.kms.keys import new_symmetric_key, store_new_key
from strongroom.kms.model import KeyManager, KeyRecord, KeyState
from strongroom.kms.operations import call
from strongroom.kms.policy_text import default_key_policy
from strongroom.kms.rotation import MANAGED_ROTATION_SECONDS, rotate_due_managed_keys
from strongroom.kms.service import CLOCK_OFFSET_META, KmsService

DAY = 86_400


def _managed_key(svc: KmsService, caller: Caller) -> KeyRecord:
    key = new_symmetric_key(
        caller,
        svc.clock.now(),
        description="Default key that protects my objects",
        policy=default_key_policy(caller.partition, caller.account),
        key_manager=KeyManager.AWS,
    )
    store_new_key(svc, key, {})
    return key


def _travel(svc: KmsService, seconds: float) -> None:
    svc.refresh()
    svc.storage.set_meta(CLOCK_OFFSET_META, repr(svc.clock.advance(seconds)))
    svc.refresh()


def test_a_managed_key_rotates_after_a_year(svc: KmsService, caller: Caller) -> None:
    key = _managed_key(svc, caller)
    customer = call(svc, caller, "CreateKey", {})["KeyMetadata"]
    old_blob = call(svc, caller, "Encrypt", {"KeyId": key.key_id, "Plaintext": b"year one"})
    _travel(svc, MANAGED_ROTATION_SECONDS - DAY)
    assert rotate_due_managed_keys(svc) == 0
    _travel(svc, 2 * DAY)
    assert rotate_due_managed_keys(svc) == 1
    assert rotate_due_managed_keys(svc) == 0  # the new version is not due
    svc.refresh()
    rotated = svc.get_key(key.account, key.region, key.key_id)
    assert rotated is not None
    assert rotated.current_material_id not in (None, key.current_material_id)
    assert len(svc.storage.get_materials(key.account, key.region, key.key_id)) == 2
    opened = call(svc, caller, "Decrypt", {"CiphertextBlob": old_blob["CiphertextBlob"]})
    assert opened["Plaintext"] == b"year one"
    assert opened["KeyMaterialId"] == key.current_material_id
    new_blob = call(svc, caller, "GenerateDataKey", {"KeyId": key.key_id, "KeySpec": "AES_256"})
    assert new_blob["KeyMaterialId"] == rotated.current_material_id
    unchanged = svc.get_key(caller.account, caller.region, customer["KeyId"])
    assert unchanged is not None
    assert unchanged.current_material_id == customer["CurrentKeyMaterialId"]


def test_keys_pending_deletion_do_not_rotate(svc: KmsService, caller: Caller) -> None:
    key = _managed_key(svc, caller)
    svc.storage.update_key(
        dataclasses.replace(key, state=KeyState.PENDING_DELETION, deletion_date=1e12)
    )
    _travel(svc, 2 * MANAGED_ROTATION_SECONDS)
    assert rotate_due_managed_keys(svc) == 0
