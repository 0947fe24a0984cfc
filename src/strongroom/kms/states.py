"""Applying the key-state table (``domain/actions.py``'s :data:`KEY_STATES`, kms-spec.md 5.2) and
the key-usage rule: AWS's error when a key cannot take an action in its state or with its usage;
and the last check of every operation that can be tried dry (:func:`dry_run`).
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.actions import KEY_STATES, Action, Refusal
from strongroom.domain.keys import KeyRecord, KeyState, KeyUsage, Origin
from strongroom.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInternalException,
    KMSInvalidStateException,
    UnsupportedOperationException,
)

__all__ = ["current_material_id", "dry_run", "require_origin", "require_state", "require_usage"]

_STATE_TEXT = {
    KeyState.PENDING_DELETION: "is pending deletion.",
    KeyState.PENDING_REPLICA_DELETION: "is pending replica deletion.",
    KeyState.PENDING_IMPORT: "is pending import.",
    KeyState.UNAVAILABLE: "is unavailable.",
    KeyState.CREATING: "is creating.",
    KeyState.UPDATING: "is updating.",
}


def require_state(key: KeyRecord, action: Action) -> None:
    """Raise AWS's error when ``key`` is in a state that ``action`` cannot act on."""
    refusal = KEY_STATES[action.traits.states].get(key.state)
    if refusal is None:
        return
    if refusal is Refusal.DISABLED:
        raise DisabledException(f"{key.arn} is disabled.")
    if refusal is Refusal.NOT_PENDING_DELETION:
        raise KMSInvalidStateException(
            f"{key.arn} is not pending deletion (or pending replica deletion)."
        )
    raise KMSInvalidStateException(f"{key.arn} {_STATE_TEXT[key.state]}")


def require_usage(key: KeyRecord, usage: KeyUsage, action: Action | str) -> None:
    """Raise InvalidKeyUsageException unless ``key`` has ``usage`` (``action`` names the
    operation in AWS's message)."""
    if key.key_usage is not usage:
        raise InvalidKeyUsageException(
            f"{key.arn} key usage is {key.key_usage.value} which is not valid for {action}."
        )


def require_origin(key: KeyRecord, *origins: Origin) -> None:
    """Raise UnsupportedOperationException unless the key's origin is one of ``origins``."""
    if key.origin not in origins:
        raise UnsupportedOperationException(
            f"{key.arn} origin is {key.origin.value} which is not valid for this operation."
        )


def current_material_id(key: KeyRecord) -> str:
    """The id of the key's current material version (every key but an imported-material key
    waiting for its first import has one; anything else is a broken store)."""
    if key.current_material_id is None:
        raise KMSInternalException("The key's current material is missing.")
    return key.current_material_id


def dry_run(p: dict[str, Any]) -> None:
    """``DryRunOperationException`` (the call would have succeeded) when the request is a dry run:
    called once every check has passed and before anything is done."""
    if p.get("DryRun"):
        raise DryRunOperationException()
