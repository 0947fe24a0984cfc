"""Conversions between rows and the domain records: the one place that knows column names.

Enumerations are written as their string values and read back through the enum, so a value the
code no longer knows fails loudly instead of travelling on as a bare string.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from strongroom.domain.identity import AccessKeyRecord, AccountRecord
from strongroom.domain.keys import (
    AliasRecord,
    KeyManager,
    KeyRecord,
    KeySpec,
    KeyState,
    KeyUsage,
    MaterialRecord,
    Origin,
)

__all__ = [
    "access_key_from_row",
    "access_key_values",
    "account_from_row",
    "alias_from_row",
    "alias_values",
    "key_from_row",
    "key_mutable_values",
    "key_values",
    "material_from_row",
    "material_values",
]


def key_mutable_values(key: KeyRecord) -> dict[str, Any]:
    """The columns ``update_key`` writes: everything but the identity, ARN and creation time."""
    return {
        "state": key.state.value,
        "description": key.description,
        "key_spec": key.key_spec.value,
        "key_usage": key.key_usage.value,
        "origin": key.origin.value,
        "key_manager": key.key_manager.value,
        "policy": key.policy,
        "current_material_id": key.current_material_id,
        "deletion_date": key.deletion_date,
        "pending_window_days": key.pending_window_days,
        "multi_region": key.multi_region,
        "rotation_period_days": key.rotation_period_days,
        "next_rotation_date": key.next_rotation_date,
        "primary_region": key.primary_region,
        "expiration_model": key.expiration_model,
        "valid_to": key.valid_to,
    }


def key_rotation_values(key: KeyRecord) -> dict[str, Any]:
    """The columns ``apply_rotation`` writes: the material and its schedule and terms, never the
    state, policy or description another request may be changing at the same moment."""
    return {
        "current_material_id": key.current_material_id,
        "rotation_period_days": key.rotation_period_days,
        "next_rotation_date": key.next_rotation_date,
        "expiration_model": key.expiration_model,
        "valid_to": key.valid_to,
    }


def key_values(key: KeyRecord) -> dict[str, Any]:
    identity = {"account": key.account, "region": key.region, "key_id": key.key_id}
    return identity | {"arn": key.arn, "created_at": key.created_at} | key_mutable_values(key)


def key_from_row(row: Row[Any]) -> KeyRecord:
    return KeyRecord(
        account=row.account,
        region=row.region,
        key_id=row.key_id,
        arn=row.arn,
        created_at=row.created_at,
        state=KeyState(row.state),
        description=row.description,
        key_spec=KeySpec(row.key_spec),
        key_usage=KeyUsage(row.key_usage),
        origin=Origin(row.origin),
        key_manager=KeyManager(row.key_manager),
        policy=row.policy,
        current_material_id=row.current_material_id,
        deletion_date=row.deletion_date,
        pending_window_days=row.pending_window_days,
        multi_region=bool(row.multi_region),
        rotation_period_days=row.rotation_period_days,
        next_rotation_date=row.next_rotation_date,
        primary_region=row.primary_region,
        expiration_model=row.expiration_model,
        valid_to=row.valid_to,
    )


def material_values(account: str, region: str, material: MaterialRecord) -> dict[str, Any]:
    return {
        "account": account,
        "region": region,
        "key_id": material.key_id,
        "material_id": material.material_id,
        "wrapped": material.wrapped,
        "created_at": material.created_at,
        **material_mutable_values(material),
    }


def material_mutable_values(material: MaterialRecord) -> dict[str, Any]:
    """The columns ``update_material`` writes: everything but the identity and creation time."""
    return {
        "wrapped": material.wrapped,
        "rotation_type": material.rotation_type,
        "import_state": material.import_state,
        "expiration_model": material.expiration_model,
        "valid_to": material.valid_to,
        "description": material.description,
        "pending_rotation": material.pending_rotation,
        "rotated_at": material.rotated_at,
    }


def material_from_row(row: Row[Any]) -> MaterialRecord:
    return MaterialRecord(
        key_id=row.key_id,
        material_id=row.material_id,
        wrapped=None if row.wrapped is None else bytes(row.wrapped),
        created_at=row.created_at,
        rotation_type=row.rotation_type,
        import_state=row.import_state,
        expiration_model=row.expiration_model,
        valid_to=row.valid_to,
        description=row.description,
        pending_rotation=bool(row.pending_rotation),
        rotated_at=row.rotated_at,
    )


def alias_values(alias: AliasRecord) -> dict[str, Any]:
    return {
        "account": alias.account,
        "region": alias.region,
        "name": alias.name,
        "target_key_id": alias.target_key_id,
        "created_at": alias.created_at,
        "updated_at": alias.updated_at,
    }


def alias_from_row(row: Row[Any]) -> AliasRecord:
    return AliasRecord(
        account=row.account,
        region=row.region,
        name=row.name,
        target_key_id=row.target_key_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def account_from_row(row: Row[Any]) -> AccountRecord:
    return AccountRecord(account=row.account, created_at=row.created_at)


def access_key_values(key: AccessKeyRecord) -> dict[str, Any]:
    return {
        "access_key_id": key.access_key_id,
        "account": key.account,
        "principal_arn": key.principal_arn,
        "wrapped_secret": key.wrapped_secret,
        "created_at": key.created_at,
        "status": key.status,
    }


def access_key_from_row(row: Row[Any]) -> AccessKeyRecord:
    return AccessKeyRecord(
        access_key_id=row.access_key_id,
        account=row.account,
        principal_arn=row.principal_arn,
        wrapped_secret=bytes(row.wrapped_secret),
        created_at=row.created_at,
        status=row.status,
    )
