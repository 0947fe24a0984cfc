"""Automatic rotation of AWS-managed keys: a new material version every year.

Rotation only appends: the new version becomes the key's current material (new ciphertexts use
it) and every earlier version stays, so old ciphertexts, which name their version, still decrypt.
Customer-managed rotation (EnableKeyRotation, RotateKeyOnDemand, ListKeyRotations) is the
rotation issue's; this is the part AWS-managed keys need from their first day.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from strongroom.errors import UnsupportedOperationException
from strongroom.keystore.base import new_material_id
from strongroom.kms.context import Caller
from strongroom.kms.model import KeyManager, KeyRecord, KeyState, MaterialRecord
from strongroom.kms.service import KmsService

__all__ = ["MANAGED_ROTATION_SECONDS", "rotate", "rotate_due_keys", "rotate_due_managed_keys"]

log = logging.getLogger(__name__)

MANAGED_ROTATION_SECONDS = 365 * 86_400  # AWS rotates AWS-managed keys every year


def rotate(svc: KmsService, key: KeyRecord) -> KeyRecord:
    """Append a new material version to ``key`` and make it current; returns the new record."""
    material_id = new_material_id()
    now = svc.clock.now()
    material = svc.keystore.new_material(key.key_spec.value)
    wrapped = svc.keystore.wrap_material(material, key.arn, material_id)
    svc.storage.insert_material(
        key.account, key.region, key.key_id, MaterialRecord(key.key_id, material_id, wrapped, now)
    )
    rotated = dataclasses.replace(key, current_material_id=material_id)
    svc.storage.update_key(rotated)
    svc.changed()
    log.info("rotated %s: new material version %s", key.arn, material_id)
    return rotated


def _current_since(svc: KmsService, key: KeyRecord) -> float:
    materials = svc.storage.get_materials(key.account, key.region, key.key_id)
    current = [m.created_at for m in materials if m.material_id == key.current_material_id]
    return current[0] if current else key.created_at


def rotate_due_managed_keys(svc: KmsService) -> int:
    """Rotate every AWS-managed key whose current material is a year old. Returns how many."""
    now = svc.clock.now()
    rotated = 0
    for key in svc.storage.keys_managed_by(KeyManager.AWS.value):
        if key.state is KeyState.PENDING_DELETION or key.current_material_id is None:
            continue
        if now - _current_since(svc, key) >= MANAGED_ROTATION_SECONDS:
            rotate(svc, key)
            rotated += 1
    return rotated


def rotate_due_keys(svc: KmsService) -> int:
    """(being built: issue 6; for now the AWS-managed keys' yearly rotation)."""
    return rotate_due_managed_keys(svc)


def enable_key_rotation(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("being built")


def disable_key_rotation(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("being built")


def get_key_rotation_status(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("being built")


def rotate_key_on_demand(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("being built")


def list_key_rotations(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("being built")
