"""Multi-Region keys: ReplicateKey and UpdatePrimaryRegion (kms-spec.md section 14).

A multi-Region key is one record per region, each with the same ``mrk-`` id, the same material
versions (same ids, same bytes, each copy wrapped for its own region's key ARN, so a ciphertext,
signature or MAC made by one member is valid with every other) and ``primary_region`` naming
the primary, the same in every member. Policy, description, tags, aliases, grants, enabled state
and deletion schedule are each member's own.

Regions are SigV4 scopes here: a replica can be made in any region of the primary's partition.
Replication happens at once, inside the ReplicateKey request, so the replica is Enabled (or
PendingImport) when the answer arrives; AWS's transient ``Creating`` state, and ``Updating``
during UpdatePrimaryRegion, never occur. As AWS does, the replica's creation is also recorded as
a CreateKey service event in the replica's region (besides the ReplicateKey call's own event).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyState, MaterialRecord, Origin, key_arn
from strongroom.errors import (
    AlreadyExistsException,
    KMSInternalException,
    NotFoundException,
    UnsupportedOperationException,
)
from strongroom.keystore.base import KeyHandle
from strongroom.kms.keys import key_metadata, members_of
from strongroom.kms.partitions import partition_of
from strongroom.kms.policies import validate_new_policy
from strongroom.kms.policy_text import default_key_policy
from strongroom.kms.repository import DuplicateError
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.service_events import key_event
from strongroom.kms.states import require_state
from strongroom.kms.tags import check_tags

__all__ = ["replicate_key", "update_primary_region"]

PENDING_IMPORT = "PENDING_IMPORT"  # MaterialRecord.import_state of material not yet imported


def _require_primary(key: KeyRecord, operation: str) -> None:
    if not key.multi_region:
        raise UnsupportedOperationException(
            f"{key.arn} is not a multi-Region key. {operation} works only on multi-Region keys."
        )
    if not key.is_primary:
        raise UnsupportedOperationException(
            f"{key.arn} is a multi-Region replica key. {operation} works only on the primary "
            f"key, which is in {key.primary_region}."
        )


def _in_region(caller: Caller, region: str) -> Caller:
    """The caller as seen by another region of the deployment (its requests' kms:CreateKey,
    aws:RequestedRegion... are evaluated there)."""
    return dataclasses.replace(caller, region=region)


def _replica_record(primary: KeyRecord, there: Caller, p: dict[str, Any], now: float) -> KeyRecord:
    """The replica of ``primary`` in ``there.region``: the shared properties (id, spec, usage,
    origin, material, rotation schedule, primary region) and its own policy, description,
    state and creation date."""
    external = primary.origin is Origin.EXTERNAL
    return dataclasses.replace(
        primary,
        region=there.region,
        arn=key_arn(there.partition, there.region, primary.account, primary.key_id),
        created_at=now,
        state=KeyState.PENDING_IMPORT if external else KeyState.ENABLED,
        description=p.get("Description", ""),
        policy=default_key_policy(there.partition, primary.account),
        deletion_date=None,
        pending_window_days=None,
        expiration_model=None if external else primary.expiration_model,
        valid_to=None if external else primary.valid_to,
    )


def _copied_materials(
    svc: KmsService, primary: KeyRecord, replica: KeyRecord
) -> list[MaterialRecord]:
    """Every material version of the primary for the replica: the same ids and bytes, wrapped
    for the replica's ARN. An imported key's replica gets the rows without bytes, awaiting the
    import of the same material."""
    copies = []
    for material in svc.keys.read.get_materials(primary.account, primary.region, primary.key_id):
        if replica.origin is Origin.EXTERNAL:
            copies.append(
                dataclasses.replace(
                    material,
                    wrapped=None,
                    import_state=PENDING_IMPORT,
                    expiration_model=None,
                    valid_to=None,
                )
            )
            continue
        if material.wrapped is None:
            copies.append(material)
            continue
        wrapped = svc.keystore.copy_material(KeyHandle(primary, material), replica)
        copies.append(dataclasses.replace(material, wrapped=wrapped))
    return copies


_COPY_ATTEMPTS = 5


def _already_exists(primary: KeyRecord, existing: KeyRecord) -> AlreadyExistsException:
    if existing.region == primary.region:
        return AlreadyExistsException(
            f"{primary.arn} is the primary key, in {primary.region}: a replica must be in "
            "another region."
        )
    message = f"A replica of {primary.key_id} already exists in {existing.region}: {existing.arn}"
    if existing.state in {KeyState.PENDING_DELETION, KeyState.PENDING_REPLICA_DELETION}:
        return AlreadyExistsException(
            f"{message}, pending deletion. Cancel its deletion, or replicate again once it is "
            "deleted."
        )
    return AlreadyExistsException(f"{message}.")


def replicate_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """Make a replica of a multi-Region primary key in another region of its partition.

    Needs kms:ReplicateKey on the primary (in its region), kms:CreateKey in the replica's
    region and, with Tags, kms:TagResource there too (both identity-policy permissions, seen
    with the primary's KeySpec, KeyUsage, Origin and MultiRegion true)."""
    primary = authorized_key(
        svc, caller, p["KeyId"], action="ReplicateKey", allow_alias=False, params=p
    )
    if primary.is_replica:  # AWS's answer, recorded (a single-Region key: see _require_primary)
        raise UnsupportedOperationException(f"{primary.arn} is not a multi-region primary key.")
    _require_primary(primary, "ReplicateKey")
    require_state(primary, Action.REPLICATE_KEY)
    region = str(p["ReplicaRegion"])
    if partition_of(region) != partition_of(primary.region):
        raise UnsupportedOperationException(
            f"The replica region {region} is in the {partition_of(region)} partition, not in "
            f"the {partition_of(primary.region)} partition of the primary key's region "
            f"{primary.region}."
        )
    existing = svc.get_key(primary.account, region, primary.key_id)
    if existing is not None:
        raise _already_exists(primary, existing)
    there = _in_region(caller, region)
    view = {
        **p,
        "KeySpec": primary.key_spec.value,
        "KeyUsage": primary.key_usage.value,
        "Origin": primary.origin.value,
        "MultiRegion": True,
        "MultiRegionKeyType": "REPLICA",
    }
    svc.access.authorize_account(there, "kms:CreateKey", view, creating=True)
    tags = check_tags(p.get("Tags", []))
    if tags:
        svc.access.authorize_account(there, "kms:TagResource", view, creating=True)
    replica = _replica_record(primary, there, p, svc.clock.now())
    if "Policy" in p:
        policy = validate_new_policy(svc, there, replica, p["Policy"], p)
        replica = dataclasses.replace(replica, policy=policy)
    for _ in range(_COPY_ATTEMPTS):
        try:
            # Written only while the primary's current material is still the replica's.
            copied = svc.keys.insert_replica(
                replica, _copied_materials(svc, primary, replica), tags
            )
        except DuplicateError:  # a concurrent ReplicateKey into the same region won
            raced = svc.get_key(primary.account, region, primary.key_id)
            raise _already_exists(primary, raced or replica) from None
        if copied:
            break
        # The primary rotated while its materials were copied: copy them again.
        fresh = svc.keys.get_key(primary.account, primary.region, primary.key_id)
        if fresh is None:
            raise NotFoundException(f"Key '{primary.arn}' does not exist")
        primary = fresh
        replica = dataclasses.replace(
            replica, current_material_id=primary.current_material_id,
            rotation_period_days=primary.rotation_period_days,
            next_rotation_date=primary.next_rotation_date,
        )  # fmt: skip
    else:
        raise KMSInternalException("The primary key kept rotating while it was replicated.")
    details = {"keyId": replica.key_id, "primaryKeyArn": primary.arn}
    svc.emit([key_event("CreateKey", replica, replica.created_at, details)])
    metadata = key_metadata(replica, members_of(svc, replica))
    # AWS answers while the replica is still being created: it has no current material yet
    # (DescribeKey shows it once it has), and ReplicaTags only when the request tagged it.
    metadata.pop("CurrentKeyMaterialId", None)
    answer: dict[str, Any] = {"ReplicaKeyMetadata": metadata, "ReplicaPolicy": replica.policy}
    if tags:
        answer["ReplicaTags"] = [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
    return answer


def update_primary_region(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """Make the replica in ``PrimaryRegion`` the primary, and the current primary a replica:
    ``primary_region`` changes in every member in one transaction.

    Needs kms:UpdatePrimaryRegion on the current primary (in its region) and on the replica
    (in the new primary region); kms:PrimaryRegion is the request's PrimaryRegion."""
    primary = authorized_key(
        svc, caller, p["KeyId"], action="UpdatePrimaryRegion", allow_alias=False, params=p
    )
    _require_primary(primary, "UpdatePrimaryRegion")
    region = str(p["PrimaryRegion"])
    if region == primary.region:
        raise UnsupportedOperationException(
            f"{primary.arn} is already the primary key: PrimaryRegion must name the region of "
            "one of its replicas."
        )
    target = svc.get_key(primary.account, region, primary.key_id)
    if target is None:
        arn = key_arn(caller.partition, region, primary.account, primary.key_id)
        raise NotFoundException(f"Key '{arn}' does not exist")
    svc.access.authorize_key(_in_region(caller, region), "kms:UpdatePrimaryRegion", target, p)
    require_state(primary, Action.UPDATE_PRIMARY_REGION)
    require_state(target, Action.UPDATE_PRIMARY_REGION)
    members = members_of(svc, primary)
    svc.keys.update_keys([dataclasses.replace(m, primary_region=region) for m in members])
    return {}
