"""Conversions between rows and the domain records: the one place that knows column names.

A record's columns are named after its fields, so :func:`record_values` and
:func:`record_from_row` serve every table; a conversion names only the columns that are stored
differently from the field. Enumerations are written as their string values and read back through
the enum, so a value the code no longer knows fails loudly instead of travelling on as a bare
string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from sqlalchemy import Row

from strongroom.domain.identity import AccessKeyRecord, AccountRecord
from strongroom.domain.keys import AliasRecord, KeyRecord, MaterialRecord

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

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
    "record_from_row",
    "record_values",
    "tag_values",
]

R = TypeVar("R", bound="DataclassInstance")

# What ``update_key`` never writes: the key's identity, ARN and creation time.
_KEY_IDENTITY = frozenset({"account", "region", "key_id", "arn", "created_at"})
# What ``update_material`` never writes: the material's identity and creation time.
_MATERIAL_IDENTITY = frozenset({"key_id", "material_id", "created_at"})


def _column(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


def record_values(record: DataclassInstance, **stored: Any) -> dict[str, Any]:
    """A column for every field of ``record`` (an enumeration as its value); ``stored`` adds
    columns, or replaces those stored differently from the field."""
    values = {name: _column(getattr(record, name)) for name in _field_names(type(record))}
    return values | stored


@cache
def _enumerations(record_type: type[DataclassInstance]) -> dict[str, type[Enum]]:
    """The fields of ``record_type`` whose type is an enumeration, and that enumeration."""
    hints = get_type_hints(record_type)
    return {
        name: hint
        for name, hint in hints.items()
        if isinstance(hint, type) and issubclass(hint, Enum)
    }


def record_from_row(record_type: type[R], row: Row[Any], **read: Callable[[Any], Any]) -> R:
    """A ``record_type`` from the row's column for each field: an enumeration read back through
    its enum, any other field converted by ``read[field]`` where given."""
    values = {name: getattr(row, name) for name in _field_names(record_type)}
    for name, convert in (_enumerations(record_type) | read).items():
        values[name] = convert(values[name])
    return record_type(**values)


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def key_values(key: KeyRecord) -> dict[str, Any]:
    return record_values(key)


def key_mutable_values(key: KeyRecord) -> dict[str, Any]:
    """The columns ``update_key`` writes: everything but the identity, ARN and creation time."""
    return {name: value for name, value in key_values(key).items() if name not in _KEY_IDENTITY}


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


def key_from_row(row: Row[Any]) -> KeyRecord:
    return record_from_row(KeyRecord, row, multi_region=bool)


def material_values(account: str, region: str, material: MaterialRecord) -> dict[str, Any]:
    return {"account": account, "region": region} | record_values(material)


def tag_values(
    account: str, region: str, key_id: str, tags: Mapping[str, str]
) -> list[dict[str, str]]:
    """The ``key_tags`` rows of a key's tags."""
    ident = {"account": account, "region": region, "key_id": key_id}
    return [ident | {"tag_key": key, "tag_value": value} for key, value in tags.items()]


def material_mutable_values(material: MaterialRecord) -> dict[str, Any]:
    """The columns ``update_material`` writes: everything but the identity and creation time."""
    values = record_values(material)
    return {name: value for name, value in values.items() if name not in _MATERIAL_IDENTITY}


def material_from_row(row: Row[Any]) -> MaterialRecord:
    return record_from_row(MaterialRecord, row, wrapped=_bytes_or_none, pending_rotation=bool)


def alias_values(alias: AliasRecord) -> dict[str, Any]:
    return record_values(alias)


def alias_from_row(row: Row[Any]) -> AliasRecord:
    return record_from_row(AliasRecord, row)


def account_from_row(row: Row[Any]) -> AccountRecord:
    return record_from_row(AccountRecord, row)


def access_key_values(key: AccessKeyRecord) -> dict[str, Any]:
    return record_values(key)


def access_key_from_row(row: Row[Any]) -> AccessKeyRecord:
    return record_from_row(AccessKeyRecord, row, wrapped_secret=bytes)
