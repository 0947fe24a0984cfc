"""Key rotation (kms-spec.md section 10): automatic and on-demand, and the scheduler.

Rotation only appends: the new material version becomes the key's current material (new
ciphertexts use it) and every earlier version stays, so old ciphertexts, which name their
version, still decrypt. Only symmetric encryption keys rotate. Automatic rotation
(EnableKeyRotation, 90 to 2560 days, 365 by default) is for keys whose material KMS made
(Origin AWS_KMS); on-demand rotation (RotateKeyOnDemand, at most 25 per key) also serves keys
with imported material, by making the NEW material imported for it current. AWS-managed keys
rotate every 365 days through the same scheduler; their schedule cannot be changed.

A multi-Region key rotates as one: only its primary can be rotated or have its schedule set, and
each rotation writes the same material (the same id, wrapped for each member's ARN) and the same
schedule into every member in one guarded storage write.

The scheduler (:func:`rotate_due_keys`, run by every worker's sweeper and by the dev clock)
rotates each due key exactly once, whatever the number of workers or nodes: it writes the new
material only if the key's current material is still the one it read (``apply_rotation``); a
worker that loses that race writes nothing.

Each rotation, automatic or on demand, is recorded as a RotateKey service event in each member's
region, by the call whose write happened (after it happened).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import (
    KeyManager,
    KeyRecord,
    KeySpec,
    KeyState,
    MaterialRecord,
    Origin,
    Rotation,
)
from strongroom.errors import (
    ConflictException,
    KMSInvalidStateException,
    LimitExceededException,
    NotFoundException,
    UnsupportedOperationException,
)
from strongroom.keystore.base import KeyHandle, new_material_id
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.service_events import key_event
from strongroom.kms.states import require_origin, require_state

__all__ = [
    "AUTOMATIC",
    "CONFLICT_WINDOW_SECONDS",
    "DEFAULT_ROTATION_PERIOD_DAYS",
    "MANAGED_ROTATION_SECONDS",
    "ON_DEMAND_ROTATION_LIMIT",
    "disable_key_rotation",
    "enable_key_rotation",
    "get_key_rotation_status",
    "key_members",
    "rotate_due_keys",
    "rotate_key_on_demand",
    "unsupported_kind",
]

log = logging.getLogger(__name__)

DAY = 86_400
DEFAULT_ROTATION_PERIOD_DAYS = 365
MANAGED_ROTATION_SECONDS = 365 * DAY  # AWS rotates AWS-managed keys every year
# AWS's current API reference and developer guide say 25 (an older quota page said 10).
ON_DEMAND_ROTATION_LIMIT = 25
# RotateKeyOnDemand is refused while an automatic rotation is due within 20 minutes.
CONFLICT_WINDOW_SECONDS = 20 * 60
AUTOMATIC = "AUTOMATIC"
ON_DEMAND = "ON_DEMAND"
_ATTEMPTS = 5  # on-demand rotation: tries when another writer rotated the key meanwhile


# -- which keys can rotate --------------------------------------------------------------------


def _primary_arn(key: KeyRecord) -> str:
    region = key.primary_region or key.region
    return key.arn.replace(f":{key.region}:", f":{region}:", 1)


def unsupported_kind(key: KeyRecord) -> None:
    """The key's origin or spec cannot rotate at all (any rotation operation)."""
    require_origin(key, Origin.AWS_KMS, Origin.EXTERNAL)
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException(
            f"{key.arn} key spec is {key.key_spec.value} which is not valid for this operation."
        )


def _not_external(key: KeyRecord) -> None:
    """Automatic rotation is only for material KMS made."""
    require_origin(key, Origin.AWS_KMS)


def _customer_primary(key: KeyRecord, what: str) -> None:
    """The schedule of an AWS-managed key is fixed, and a multi-Region key's rotation is set
    and performed on its primary only."""
    if key.key_manager is KeyManager.AWS:
        raise UnsupportedOperationException(
            f"{key.arn} is an AWS managed key. You cannot {what} of an AWS managed key; "
            "KMS rotates it every year."
        )
    if key.is_replica:
        raise UnsupportedOperationException(
            f"{key.arn} is a multi-Region replica key. You cannot {what} of a replica key; "
            f"use its primary key {_primary_arn(key)}."
        )


def key_members(svc: KmsService, key: KeyRecord) -> list[KeyRecord]:
    """Every record that holds the key's material: its primary and replicas, or just itself."""
    if not key.multi_region:
        return [key]
    return svc.keys.read.key_members(key.account, key.key_id) or [key]


# -- EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus -----------------------------


def _schedule_key(
    svc: KmsService, caller: Caller, p: dict[str, Any], action: str, what: str
) -> KeyRecord:
    view = p
    if action == "EnableKeyRotation" and "RotationPeriodInDays" not in p:
        # kms:RotationPeriodInDays sees the default (365) when the request leaves it out.
        view = {**p, "RotationPeriodInDays": DEFAULT_ROTATION_PERIOD_DAYS}
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=False, params=view)
    _not_external(key)
    unsupported_kind(key)
    _customer_primary(key, what)
    require_state(key, Action(action))
    return key


def _write_schedule(
    svc: KmsService, key: KeyRecord, period: int | None, next_date: float | None
) -> None:
    members = [
        dataclasses.replace(m, rotation_period_days=period, next_rotation_date=next_date)
        for m in key_members(svc, key)
    ]
    svc.keys.update_keys(members)


def enable_key_rotation(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _schedule_key(svc, caller, p, "EnableKeyRotation", "enable automatic rotation")
    period = int(p.get("RotationPeriodInDays", DEFAULT_ROTATION_PERIOD_DAYS))
    now = svc.clock.now()
    old = key.rotation_period_days
    if old == period:
        return {}  # already on with this period: the schedule stands
    if old is None or key.next_rotation_date is None:
        next_date = now + period * DAY  # the first rotation: one period after enabling
    else:
        # A new period counts from the start of the current cycle (the last automatic rotation
        # or the enabling); if that is already past, the next sweep rotates the key.
        next_date = key.next_rotation_date - old * DAY + period * DAY
    _write_schedule(svc, key, period, next_date)
    log.info("automatic rotation of %s: every %d days, next at %.0f", key.arn, period, next_date)
    return {}


def disable_key_rotation(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _schedule_key(svc, caller, p, "DisableKeyRotation", "disable automatic rotation")
    if key.rotation_period_days is not None:
        _write_schedule(svc, key, None, None)
        log.info("automatic rotation of %s: off", key.arn)
    return {}


def get_key_rotation_status(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="GetKeyRotationStatus", allow_alias=False, params=p
    )
    _not_external(key)
    off: dict[str, Any] = {"KeyRotationEnabled": False, "KeyId": key.arn}
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        return off  # asymmetric and HMAC keys: AWS answers false
    if key.state in (KeyState.PENDING_DELETION, KeyState.PENDING_REPLICA_DELETION):
        return off  # the schedule is kept, and shown again if the deletion is cancelled
    period, next_date = key.rotation_period_days, key.next_rotation_date
    if key.key_manager is KeyManager.AWS:
        period = DEFAULT_ROTATION_PERIOD_DAYS
        next_date = next_date if next_date is not None else key.created_at + period * DAY
    if period is None or next_date is None:
        return off
    return {
        "KeyRotationEnabled": True,
        "KeyId": key.arn,
        "RotationPeriodInDays": period,
        "NextRotationDate": next_date,
    }


# -- rotating ---------------------------------------------------------------------------------


def _new_version(
    svc: KmsService,
    members: Sequence[KeyRecord],
    now: float,
    rotation_type: str,
    **schedule: Any,
) -> list[tuple[KeyRecord, MaterialRecord | None]]:
    """Fresh material of the key's spec, the same id and bytes for every member, each copy
    wrapped for its member's ARN; each member record pointing at it."""
    material_id = new_material_id()
    first = members[0]
    made = MaterialRecord(
        first.key_id,
        material_id,
        svc.keystore.create_material(first, material_id),
        now,
        rotation_type=rotation_type,
        rotated_at=now,
    )
    updates: list[tuple[KeyRecord, MaterialRecord | None]] = []
    for member in members:
        record = made
        if member is not first:
            wrapped = svc.keystore.copy_material(KeyHandle(first, made), member)
            record = dataclasses.replace(made, wrapped=wrapped)
        updates.append(
            (dataclasses.replace(member, current_material_id=material_id, **schedule), record)
        )
    return updates


def _record_rotation(
    svc: KmsService,
    updates: Sequence[tuple[KeyRecord, MaterialRecord | None]],
    rotation_type: str,
    previous: str | None,
    now: float,
) -> None:
    """RotateKey, as AWS logs it, for each member a rotation wrote (its ``updates``)."""
    svc.emit(
        [
            key_event(
                "RotateKey",
                member,
                now,
                {
                    "rotationType": rotation_type,
                    "keyOrigin": member.origin.value,
                    "previousKeyMaterialId": previous,
                    "currentKeyMaterialId": member.current_material_id,
                    "keyId": member.key_id,
                },
            )
            for member, _ in updates
        ]
    )


def _rotate_automatically(svc: KmsService, key: KeyRecord, now: float) -> bool:
    """Rotate a due key (a primary) unless another worker did since ``key`` was read."""
    members = key_members(svc, key)
    primary = next((m for m in members if m.region == key.region), key)
    if primary.state is not KeyState.ENABLED or primary.rotation_period_days is None:
        return False
    if any(m.current_material_id != primary.current_material_id for m in members):
        log.warning("not rotating %s: its Regions disagree on the current material", key.arn)
        return False
    next_date = now + primary.rotation_period_days * DAY  # one rotation, however late
    updates = _new_version(svc, members, now, AUTOMATIC, next_rotation_date=next_date)
    if not svc.keys.apply_rotation(Rotation(updates, key.current_material_id)):
        log.debug("rotation of %s was done by another worker", key.arn)
        return False
    new_id = updates[0][0].current_material_id
    log.info("rotated %s (automatic): new material version %s", key.arn, new_id)
    _record_rotation(svc, updates, AUTOMATIC, key.current_material_id, now)
    return True


def rotate_due_keys(svc: KmsService) -> int:
    """Rotate every key whose automatic rotation is due (AWS-managed keys included): Enabled
    primaries only; a Disabled key waits and rotates at the first sweep after it is enabled
    again; a key pending deletion never rotates. Returns how many keys this call rotated."""
    now = svc.clock.now()
    rotated = 0
    for key in svc.keys.read.keys_due_for_rotation(now):
        if (
            key.is_replica
            or key.state is not KeyState.ENABLED
            or key.origin is not Origin.AWS_KMS
            or key.key_spec is not KeySpec.SYMMETRIC_DEFAULT
            or key.current_material_id is None
        ):
            continue
        try:
            if _rotate_automatically(svc, key, now):
                rotated += 1
        except Exception:  # one key's failure must not hold back the others
            log.exception("automatic rotation of %s failed; the next sweep retries", key.arn)
    return rotated


# -- RotateKeyOnDemand ------------------------------------------------------------------------


def _check_on_demand(key: KeyRecord) -> None:
    """State first, then kind: AWS answers an asymmetric key (and, by the same rule, an HMAC
    key) with UnsupportedOperationException and no message at all."""
    if key.state is KeyState.UPDATING:
        raise KMSInvalidStateException(f"{key.arn} is updating.")
    require_state(key, Action.ROTATE_KEY_ON_DEMAND)
    require_origin(key, Origin.AWS_KMS, Origin.EXTERNAL)
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException(None)
    _customer_primary(key, "perform on-demand rotation")


def _check_limit_and_schedule(
    key: KeyRecord, materials: Sequence[MaterialRecord], now: float
) -> None:
    done = sum(1 for m in materials if m.rotation_type == ON_DEMAND)
    if done >= ON_DEMAND_ROTATION_LIMIT:
        raise LimitExceededException(
            "The on-demand rotations limit has been reached for the given keyId. No more "
            f"on-demand rotations can be performed for this key: {key.arn}"
        )
    due = key.next_rotation_date
    if (
        key.rotation_period_days is not None
        and due is not None
        and due - now <= CONFLICT_WINDOW_SECONDS
    ):
        raise ConflictException(
            f"{key.arn} has an automatic rotation in progress or scheduled to begin within "
            "the next 20 minutes. Try again after it completes."
        )


def _earliest_expiry(materials: Sequence[MaterialRecord]) -> float | None:
    ends = [
        m.valid_to
        for m in materials
        if not m.pending_rotation and m.valid_to is not None and m.wrapped is not None
    ]
    return min(ends) if ends else None


def _promote_imported(
    svc: KmsService, members: Sequence[KeyRecord], materials: Sequence[MaterialRecord]
) -> tuple[list[tuple[KeyRecord, MaterialRecord | None]], MaterialRecord]:
    """For a key with imported material: the NEW material imported for rotation (state
    PENDING_ROTATION) becomes current in every member; nothing is generated."""
    primary = members[0]
    pending = [
        m for m in materials if m.pending_rotation and m.material_id != primary.current_material_id
    ]
    if not pending:
        raise KMSInvalidStateException(
            f"No available key material pending rotation for the key: {primary.arn}."
        )
    chosen = max(pending, key=lambda m: (m.created_at, m.material_id))
    updates: list[tuple[KeyRecord, MaterialRecord | None]] = []
    for member in members:
        rows = svc.keys.read.get_materials(member.account, member.region, member.key_id)
        held = {m.material_id: m for m in rows}
        copy = held.get(chosen.material_id)
        if copy is None or copy.wrapped is None:
            raise KMSInvalidStateException(
                f"{primary.arn} cannot rotate: the key material {chosen.material_id} is not "
                f"imported into {member.arn} (PENDING_MULTI_REGION_IMPORT_AND_ROTATION)."
            )
        others = [m for m in rows if m.material_id != copy.material_id]
        valid_to = _earliest_expiry([*others, dataclasses.replace(copy, pending_rotation=False)])
        updates.append(
            (
                dataclasses.replace(
                    member,
                    current_material_id=copy.material_id,
                    valid_to=valid_to,
                    expiration_model="KEY_MATERIAL_EXPIRES"
                    if valid_to is not None
                    else copy.expiration_model or member.expiration_model,
                ),
                None,
            )
        )
    return updates, chosen


def rotate_key_on_demand(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="RotateKeyOnDemand", allow_alias=False, params=p
    )
    for _ in range(_ATTEMPTS):
        _check_on_demand(key)
        now = svc.clock.now()
        members = sorted(key_members(svc, key), key=lambda m: m.region != key.region)
        primary = members[0]
        materials = svc.keys.read.get_materials(key.account, key.region, key.key_id)
        _check_limit_and_schedule(primary, materials, now)
        promoted: MaterialRecord | None = None
        if primary.origin is Origin.EXTERNAL:
            updates, promoted = _promote_imported(svc, members, materials)
        else:
            updates = _new_version(svc, members, now, ON_DEMAND)
        marked = (
            _mark_rotated(svc, [m for m, _ in updates], promoted.material_id, now)
            if promoted is not None
            else []
        )
        if svc.keys.apply_rotation(Rotation(updates, primary.current_material_id, marked)):
            log.info(
                "rotated %s (on demand): material version %s",
                key.arn,
                updates[0][0].current_material_id,
            )
            _record_rotation(svc, updates, ON_DEMAND, primary.current_material_id, now)
            return {"KeyId": key.arn}
        # Another writer rotated first (the failed write dropped the caches): read it again.
        fresh = svc.keys.get_key(key.account, key.region, key.key_id)
        if fresh is None:
            raise NotFoundException(f"Key '{key.arn}' does not exist")
        key = fresh
    raise ConflictException(
        f"{key.arn} is being rotated by another request. Try again after it completes."
    )


def _mark_rotated(
    svc: KmsService, members: Sequence[KeyRecord], material_id: str, now: float
) -> list[tuple[str, str, MaterialRecord]]:
    """The promoted material's row in every member, no longer pending and marked as rotated
    in on demand (written in the same transaction as the rotation)."""
    marked = []
    for member in members:
        for material in svc.keys.read.get_materials(member.account, member.region, member.key_id):
            if material.material_id == material_id:
                done = dataclasses.replace(
                    material, pending_rotation=False, rotation_type=ON_DEMAND, rotated_at=now
                )
                marked.append((member.account, member.region, done))
    return marked
