"""The key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, deletion, description,
and reading the key policy."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from strongroom.crypto import keyspecs
from strongroom.domain.actions import Action, Governed
from strongroom.domain.caller import Caller
from strongroom.domain.keys import (
    KeyManager,
    KeyRecord,
    KeySpec,
    KeyState,
    KeyUsage,
    MaterialRecord,
    Origin,
)
from strongroom.errors import (
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.keystore.base import new_material_id
from strongroom.kms.paging import page
from strongroom.kms.partitions import CHINA, partition_of
from strongroom.kms.policies import validate_new_policy
from strongroom.kms.policy_text import default_key_policy
from strongroom.kms.repository import StorageError
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state
from strongroom.kms.tags import check_tags

__all__ = [
    "algorithm_fields",
    "key_metadata",
    "members_of",
    "multi_region_configuration",
    "new_symmetric_key",
    "store_new_key",
]

DAY = 86_400


def key_metadata(key: KeyRecord, members: Sequence[KeyRecord] = ()) -> dict[str, Any]:
    """AWS's KeyMetadata for a key (kms-spec.md 2.4). ``members`` are a multi-Region key's
    primary and replicas (``storage.key_members``), for its MultiRegionConfiguration."""
    meta: dict[str, Any] = {
        "AWSAccountId": key.account,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": key.created_at,
        "Enabled": key.state is KeyState.ENABLED,
        "Description": key.description,
        "KeyUsage": key.key_usage.value,
        "KeyState": key.state.value,
        "Origin": key.origin.value,
        "KeyManager": key.key_manager.value,
        "CustomerMasterKeySpec": key.key_spec.value,
        "KeySpec": key.key_spec.value,
        "MultiRegion": key.multi_region,
    }
    meta.update(algorithm_fields(key))
    if key.state is KeyState.PENDING_DELETION and key.deletion_date is not None:
        meta["DeletionDate"] = key.deletion_date
    if key.state is KeyState.PENDING_REPLICA_DELETION and key.pending_window_days is not None:
        meta["PendingDeletionWindowInDays"] = key.pending_window_days
    if key.current_material_id is not None and key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        # AWS shows it only for symmetric encryption keys (the keys that rotate).
        meta["CurrentKeyMaterialId"] = key.current_material_id
    if key.expiration_model is not None:
        meta["ExpirationModel"] = key.expiration_model
    if key.valid_to is not None:
        meta["ValidTo"] = key.valid_to
    if key.multi_region:
        meta["MultiRegionConfiguration"] = multi_region_configuration(key, members or (key,))
    return meta


def multi_region_configuration(key: KeyRecord, members: Sequence[KeyRecord]) -> dict[str, Any]:
    """PRIMARY or REPLICA, the primary key and the replicas (kms-spec.md 14)."""
    primary_region = key.primary_region or key.region

    def ref(member: KeyRecord) -> dict[str, str]:
        return {"Arn": member.arn, "Region": member.region}

    primary = [m for m in members if m.region == primary_region]
    return {
        "MultiRegionKeyType": "PRIMARY" if key.region == primary_region else "REPLICA",
        "PrimaryKey": ref(primary[0])
        if primary
        else {
            "Arn": key.arn.replace(f":{key.region}:", f":{primary_region}:", 1),
            "Region": primary_region,
        },
        "ReplicaKeys": [ref(m) for m in members if m.region != primary_region],
    }


def members_of(svc: KmsService, key: KeyRecord) -> list[KeyRecord]:
    """A multi-Region key's primary and replicas, ordered by region (just ``key`` for any
    other key)."""
    if not key.multi_region:
        return [key]
    found = (
        svc.get_key(m.account, m.region, m.key_id)
        for m in svc.keys.read.key_members(key.account, key.key_id)
    )
    # A member whose deletion window has passed is deleted on this read, as by any other.
    return [member for member in found if member is not None]


def _key_spec(p: dict[str, Any]) -> str:
    spec = p.get("KeySpec")
    legacy = p.get("CustomerMasterKeySpec")
    if spec is not None and legacy is not None and spec != legacy:
        raise ValidationException(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
            "CustomerMasterKeySpec is deprecated."
        )
    return str(spec or legacy or KeySpec.SYMMETRIC_DEFAULT.value)


def algorithm_fields(key: KeyRecord) -> dict[str, list[str]]:
    """The one algorithm list a key's usage exposes (``EncryptionAlgorithms``,
    ``SigningAlgorithms``, ...), as DescribeKey and GetPublicKey show it."""
    usage = key.key_usage.value
    return {keyspecs.ALGORITHM_FIELD[usage]: list(keyspecs.algorithms(key.key_spec.value, usage))}


def _spec_and_usage(p: dict[str, Any], region: str) -> tuple[KeySpec, KeyUsage]:
    """The new key's spec and usage: the usage must be named for every spec but
    SYMMETRIC_DEFAULT and be one AWS allows for the spec (kms-spec.md 4.2). SM2 outside the
    China Regions gets AWS's answer there (recorded); the other specs Strongroom cannot serve are
    refused with the reason."""
    spec = _key_spec(p)
    usage = p.get("KeyUsage")
    if spec != KeySpec.SYMMETRIC_DEFAULT and usage is None:
        raise ValidationException(
            "You must specify a KeyUsage value for all KMS keys except for symmetric "
            "encryption keys."
        )
    usage = str(usage or KeyUsage.ENCRYPT_DECRYPT.value)
    if usage not in keyspecs.usages(spec):
        raise ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec}.")
    if spec == "SM2" and partition_of(region) != CHINA:
        raise UnsupportedOperationException("KeySpec SM2 is not supported in this Region")
    if spec in keyspecs.UNSUPPORTED_SPECS:
        raise UnsupportedOperationException(keyspecs.UNSUPPORTED_SPECS[spec])
    return KeySpec(spec), KeyUsage(usage)


def _check_create(p: dict[str, Any], region: str) -> tuple[KeySpec, KeyUsage, Origin]:
    spec, usage = _spec_and_usage(p, region)
    origin = str(p.get("Origin", Origin.AWS_KMS.value))
    if origin not in (Origin.AWS_KMS, Origin.EXTERNAL) or p.get("CustomKeyStoreId"):
        raise UnsupportedOperationException(
            f"Origin {origin} and custom key stores are not yet supported by Strongroom."
        )
    if p.get("XksKeyId"):
        raise ValidationException("XksKeyId is valid only for keys in an external key store.")
    return spec, usage, Origin(origin)


def new_symmetric_key(
    caller: Caller,
    now: float,
    *,
    description: str,
    policy: str,
    key_manager: KeyManager = KeyManager.CUSTOMER,
    key_spec: KeySpec = KeySpec.SYMMETRIC_DEFAULT,
    key_usage: KeyUsage = KeyUsage.ENCRYPT_DECRYPT,
    origin: Origin = Origin.AWS_KMS,
    multi_region: bool = False,
) -> KeyRecord:
    """The record of a new key (SYMMETRIC_DEFAULT unless ``key_spec`` says otherwise) in the
    caller's account and region (not yet stored; :func:`store_new_key` gives it material of its
    spec and stores it). A key of Origin EXTERNAL starts in PendingImport with no material; a
    multi-Region key has an ``mrk-`` id and is its own primary."""
    key_id = f"mrk-{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())
    external = origin is Origin.EXTERNAL
    return KeyRecord(
        account=caller.account,
        region=caller.region,
        key_id=key_id,
        arn=caller.key_arn(key_id),
        created_at=now,
        state=KeyState.PENDING_IMPORT if external else KeyState.ENABLED,
        description=description,
        key_spec=key_spec,
        key_usage=key_usage,
        origin=origin,
        key_manager=key_manager,
        policy=policy,
        current_material_id=None if external else new_material_id(),
        multi_region=multi_region,
        primary_region=caller.region if multi_region else None,
    )


def store_new_key(svc: KmsService, key: KeyRecord, tags: dict[str, str]) -> None:
    """Generate the key's first material version (of the key's spec; none for a key awaiting
    import), wrap it, and store key, material and tags."""
    record = None
    if key.current_material_id is not None:
        material_id = key.current_material_id
        wrapped = svc.keystore.create_material(key, material_id)
        record = MaterialRecord(key.key_id, material_id, wrapped, key.created_at)
    svc.keys.insert_key(key, record, tags)


def create_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    spec, usage, origin = _check_create(p, caller.region)
    svc.access.authorize_account(caller, "kms:CreateKey", p, creating=True)
    tags = check_tags(p.get("Tags", []))
    if tags:
        svc.access.authorize_account(caller, "kms:TagResource", p, creating=True)
    key = new_symmetric_key(
        caller,
        svc.clock.now(),
        description=p.get("Description", ""),
        policy=default_key_policy(caller.partition, caller.account),
        key_spec=spec,
        key_usage=usage,
        origin=origin,
        multi_region=bool(p.get("MultiRegion", False)),
    )
    if "Policy" in p:
        key = dataclasses.replace(key, policy=validate_new_policy(svc, caller, key, p["Policy"], p))
    store_new_key(svc, key, tags)
    return {"KeyMetadata": key_metadata(key)}


def describe_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(svc, caller, p["KeyId"], action="DescribeKey", allow_alias=True, params=p)
    return {"KeyMetadata": key_metadata(key, members_of(svc, key))}


# The operations GetKeyLastUsage reports (botocore's KeyLastUsageTrackingOperation): the action
# table's cryptographic operations on a key.
LAST_USAGE_OPERATIONS = frozenset(
    a.value
    for a in Action
    if a.traits.cryptographic and a.traits.governed is Governed.KEY and not a.traits.permission_only
)


def get_key_last_usage(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """The key's last successful cryptographic operation, from the audit trail's index (brought
    up to date first, so a use answered before this call is in it): its name, time, CloudTrail
    event id and KMS request id. Tracking starts when the key was created, or when the trail
    began if that is later. Without a trail nothing is tracked: an empty ``KeyLastUsage`` with
    tracking starting now, so that a client reads "no record since tracking began", never "not
    used since it was created"."""
    key = authorized_key(
        svc, caller, p["KeyId"], action="GetKeyLastUsage", allow_alias=False, params=p
    )
    usage: dict[str, Any] = {}
    tracking = svc.clock.now()
    if svc.trail_index is not None:
        svc.trail_index()
        since = svc.keys.read.trail_index_position().tracking_since
        tracking = key.created_at if since is None else max(key.created_at, since)
        used = svc.keys.read.last_key_use(key.account, key.arn, LAST_USAGE_OPERATIONS)
        if used is not None:
            usage = {
                "Operation": used.event_name,
                "Timestamp": used.event_time,
                "CloudTrailEventId": used.event_id,
            }
            if used.request_id is not None:
                usage["KmsRequestId"] = used.request_id
    return {
        "KeyId": key.key_id,
        "KeyLastUsage": usage,
        "TrackingStartDate": tracking,
        "KeyCreationDate": key.created_at,
    }


def list_keys(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    svc.access.authorize_account(caller, "kms:ListKeys", p)
    svc.deletions.sweep()

    def fetch(after: str | None, limit: int) -> list[KeyRecord]:
        return svc.keys.read.list_keys(caller.account, caller.region, after, limit)

    rows, paging = page(fetch, lambda k: k.key_id, p, listing="keys", default=100, maximum=1000)
    return {"Keys": [{"KeyId": k.key_id, "KeyArn": k.arn} for k in rows], **paging}


def _save(svc: KmsService, key: KeyRecord) -> None:
    try:
        svc.keys.update_key(key)
    except StorageError:  # deleted meanwhile (its deletion window passed as we wrote)
        raise NotFoundException(f"Key '{key.arn}' does not exist") from None


def _save_deletion(
    svc: KmsService, key: KeyRecord, state: KeyState, deletion_date: float | None, days: int | None
) -> KeyRecord:
    """Write ``key`` in ``state`` with its deletion fields (the date its window ends, the window's
    length in days); returns what was written."""
    key = dataclasses.replace(
        key, state=state, deletion_date=deletion_date, pending_window_days=days
    )
    _save(svc, key)
    return key


def _switch(
    svc: KmsService, caller: Caller, p: dict[str, Any], action: Action, state: KeyState
) -> dict[str, Any]:
    """EnableKey and DisableKey: the key in ``state`` (nothing written if it is already)."""
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=False, params=p)
    require_state(key, action)
    if key.state is not state:
        _save(svc, dataclasses.replace(key, state=state))
    return {}


def enable_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    return _switch(svc, caller, p, Action.ENABLE_KEY, KeyState.ENABLED)


def disable_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    return _switch(svc, caller, p, Action.DISABLE_KEY, KeyState.DISABLED)


def schedule_key_deletion(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """Schedule a key's deletion. A multi-Region primary that still has replicas waits in
    PendingReplicaDeletion, with no deletion date: its window begins when its last replica is
    deleted (``KmsService.sweep_deletions``). Replicas are scheduled like any other key."""
    key = authorized_key(
        svc, caller, p["KeyId"], action="ScheduleKeyDeletion", allow_alias=False, params=p
    )
    days = int(p.get("PendingWindowInDays", 30))
    if not 7 <= days <= 30:
        raise ValidationException("PendingWindowInDays must be between 7 and 30")
    require_state(key, Action.SCHEDULE_KEY_DELETION)
    dry_run(p)

    def has_replicas(key: KeyRecord) -> bool:
        if not key.multi_region or key.primary_region != key.region:
            return False
        return any(member.region != key.region for member in members_of(svc, key))

    answer: dict[str, Any] = {"KeyId": key.arn}
    if has_replicas(key):
        key = _save_deletion(svc, key, KeyState.PENDING_REPLICA_DELETION, None, days)
        if has_replicas(key):
            return answer | {"KeyState": key.state.value, "PendingWindowInDays": days}
        # The last replica was deleted while this was written: the window begins now.
    deletion_date = svc.clock.now() + days * DAY
    key = _save_deletion(svc, key, KeyState.PENDING_DELETION, deletion_date, days)
    return answer | {
        "DeletionDate": deletion_date,
        "KeyState": key.state.value,
        "PendingWindowInDays": days,
    }


def cancel_key_deletion(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """PendingDeletion or PendingReplicaDeletion -> Disabled (never straight back to Enabled)."""
    key = authorized_key(
        svc, caller, p["KeyId"], action="CancelKeyDeletion", allow_alias=False, params=p
    )
    require_state(key, Action.CANCEL_KEY_DELETION)
    key = _save_deletion(svc, key, KeyState.DISABLED, None, None)
    return {"KeyId": key.arn}


def update_key_description(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="UpdateKeyDescription", allow_alias=False, params=p
    )
    require_state(key, Action.UPDATE_KEY_DESCRIPTION)
    _save(svc, dataclasses.replace(key, description=p["Description"]))
    return {}
