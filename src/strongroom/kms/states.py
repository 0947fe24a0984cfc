"""The key-state table: which states each kind of operation accepts, and AWS's error otherwise.

One table, one function that applies it (kms-spec.md section 5.2).
"""

from __future__ import annotations

from enum import Enum

from strongroom.domain.keys import KeyRecord, KeyState
from strongroom.errors import ClientError, DisabledException, KMSInvalidStateException

__all__ = ["OpClass", "require_state"]


class OpClass(Enum):
    """Operations grouped by how they react to key states."""

    CRYPTO = "crypto"  # Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, ...
    ANY = "any"  # DescribeKey, GetKeyPolicy, ListResourceTags, ... (every state)
    MUTATE = "mutate"  # CreateAlias, TagResource, UntagResource, UpdateKeyDescription
    ENABLE_DISABLE = "enable_disable"
    SCHEDULE_DELETION = "schedule_deletion"
    CANCEL_DELETION = "cancel_deletion"
    # ReplicateKey, UpdatePrimaryRegion: an Enabled key only (a replica is made, and the primary
    # Region moves, at once, so the transient Creating and Updating states never occur here).
    MULTI_REGION = "multi_region"


_PENDING_DELETION = frozenset({KeyState.PENDING_DELETION, KeyState.PENDING_REPLICA_DELETION})

_STATE_TEXT = {
    KeyState.PENDING_DELETION: "is pending deletion.",
    KeyState.PENDING_REPLICA_DELETION: "is pending replica deletion.",
    KeyState.PENDING_IMPORT: "is pending import.",
    KeyState.UNAVAILABLE: "is unavailable.",
    KeyState.CREATING: "is creating.",
    KeyState.UPDATING: "is updating.",
}


def _invalid(key: KeyRecord) -> ClientError:
    return KMSInvalidStateException(f"{key.arn} {_STATE_TEXT[key.state]}")


def require_state(key: KeyRecord, op: OpClass) -> None:
    """Raise AWS's error when ``key`` is in a state that ``op`` cannot act on."""
    state = key.state
    if op is OpClass.ANY:
        return
    if op is OpClass.CANCEL_DELETION:
        if state not in _PENDING_DELETION:
            raise KMSInvalidStateException(
                f"{key.arn} is not pending deletion (or pending replica deletion)."
            )
        return
    if state is KeyState.ENABLED:
        return
    if op in {OpClass.CRYPTO, OpClass.MULTI_REGION}:
        if state is KeyState.DISABLED:
            raise DisabledException(f"{key.arn} is disabled.")
        if op is OpClass.MULTI_REGION or state is not KeyState.UPDATING:
            raise _invalid(key)
        return
    if state in _PENDING_DELETION:
        raise _invalid(key)
    if op is OpClass.ENABLE_DISABLE and state in {
        KeyState.PENDING_IMPORT,
        KeyState.CREATING,
        KeyState.UPDATING,
    }:
        raise _invalid(key)
    if op is OpClass.SCHEDULE_DELETION and state is KeyState.UPDATING:
        raise _invalid(key)
