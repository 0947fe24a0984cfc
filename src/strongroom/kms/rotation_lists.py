"""ListKeyRotations (kms-spec.md section 10): a key's material versions, oldest first.

``ROTATIONS_ONLY`` (the default) lists the versions that rotations made current;
``ALL_KEY_MATERIAL`` adds the first material and, for imported keys, the materials still
awaiting import or rotation. Each entry says whether the version is current; imported keys'
entries carry their import state and terms. Pages are opaque markers naming the key
(``kms/paging.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, MaterialRecord, Origin
from strongroom.errors import InvalidMarkerException
from strongroom.kms.paging import page
from strongroom.kms.resolve import authorized_key
from strongroom.kms.rotation import key_members, unsupported_kind
from strongroom.kms.service import KmsService

__all__ = ["list_key_rotations"]


def _material_state(key: KeyRecord, material: MaterialRecord, missing_elsewhere: set[str]) -> str:
    if material.material_id == key.current_material_id:
        return "CURRENT"
    if material.pending_rotation:
        if material.material_id in missing_elsewhere:
            return "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"
        return "PENDING_ROTATION"
    return "NON_CURRENT"


def _not_in_every_member(
    svc: KmsService, key: KeyRecord, materials: Sequence[MaterialRecord]
) -> set[str]:
    """Pending imported materials of a multi-Region key that some member does not hold."""
    pending = {m.material_id for m in materials if m.pending_rotation}
    if not pending or not key.multi_region:
        return set()
    missing: set[str] = set()
    for member in key_members(svc, key):
        held = {
            m.material_id
            for m in svc.keys.read.get_materials(member.account, member.region, member.key_id)
            if m.wrapped is not None
        }
        missing |= pending - held
    return missing


def _entry(key: KeyRecord, material: MaterialRecord, missing_elsewhere: set[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "KeyId": key.key_id,
        "KeyMaterialId": material.material_id,
        "KeyMaterialState": _material_state(key, material, missing_elsewhere),
    }
    if key.origin is Origin.EXTERNAL:
        if material.description is not None:
            entry["KeyMaterialDescription"] = material.description
        entry["ImportState"] = material.import_state or (
            "IMPORTED" if material.wrapped is not None else "PENDING_IMPORT"
        )
        if material.expiration_model is not None:
            entry["ExpirationModel"] = material.expiration_model
        if material.expiration_model == "KEY_MATERIAL_EXPIRES" and material.valid_to is not None:
            entry["ValidTo"] = material.valid_to
    if material.rotation_type is not None and not material.pending_rotation:
        entry["RotationDate"] = (
            material.rotated_at if material.rotated_at is not None else material.created_at
        )
        entry["RotationType"] = material.rotation_type
    return entry


def _order(material: MaterialRecord) -> tuple[int, float, str]:
    """Listing order: the materials in use by when they became current (the first material at
    the key's creation), then imported materials still awaiting rotation."""
    when = material.rotated_at if material.rotated_at is not None else material.created_at
    return (1 if material.pending_rotation else 0, when, material.material_id)


def _position(material: MaterialRecord) -> str:
    pending, when, material_id = _order(material)
    return f"{pending}/{when!r}/{material_id}"


def _after(position: str) -> tuple[int, float, str]:
    pending, _, rest = position.partition("/")
    when, _, material_id = rest.partition("/")
    try:
        return int(pending), float(when), material_id
    except ValueError:
        raise InvalidMarkerException("Invalid marker") from None


def list_key_rotations(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="ListKeyRotations", allow_alias=False, params=p
    )
    unsupported_kind(key)
    everything = p.get("IncludeKeyMaterial", "ROTATIONS_ONLY") == "ALL_KEY_MATERIAL"
    materials = svc.keys.read.get_materials(key.account, key.region, key.key_id)
    shown = sorted(
        (m for m in materials if everything or (m.rotation_type and not m.pending_rotation)),
        key=_order,
    )

    def fetch(after: str | None, limit: int) -> list[MaterialRecord]:
        rows = shown
        if after is not None:
            start = _after(after)
            rows = [m for m in rows if _order(m) > start]
        return rows[:limit]

    rows, paging = page(
        fetch, _position, p, listing=f"rotations/{key.key_id}", default=100, maximum=1000
    )
    missing = _not_in_every_member(svc, key, materials)
    return {"Rotations": [_entry(key, m, missing) for m in rows], **paging}
