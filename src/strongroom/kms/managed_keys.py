"""AWS-managed keys: ``alias/aws/<service>``, made on a registered service's first use.

When a registered integrated service, acting for a user, names ``alias/aws/<its name>`` in the
user's account and region and no such alias exists yet, Strongroom creates the key as AWS does:
``KeyManager: AWS``, that alias, and AWS's managed-key policy. The policy lets the account's
principals use the key only through the service (``kms:ViaService`` and ``kms:CallerAccount``)
and read its metadata directly; it allows nobody to change the policy, disable, delete or tag the
key, so those are refused by ordinary authorization (``AccessDeniedException``), and
``alias/aws/`` names are already reserved (``NotAuthorizedException``) for customers.
They rotate yearly, by the one rotation scheduler (``kms.rotation``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import ServiceRecord
from strongroom.domain.keys import AliasRecord, KeyManager
from strongroom.kms.keys import new_symmetric_key, store_new_key
from strongroom.kms.repository import DuplicateError
from strongroom.kms.rotation import MANAGED_ROTATION_SECONDS
from strongroom.kms.service import KmsService

__all__ = ["MANAGED_PREFIX", "ensure_managed_key", "managed_key_policy"]

log = logging.getLogger("strongroom.kms")

MANAGED_PREFIX = "alias/aws/"
_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
        "kms:CreateGrant", "kms:DescribeKey"]  # fmt: skip
_METADATA = ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"]


def managed_key_policy(partition: str, account: str, service: ServiceRecord) -> str:
    """AWS's policy for an AWS-managed key, for ``service`` in ``account``."""
    label = service.name
    use = {
        "Sid": f"Allow access through {label} for all principals in the account that are "
        f"authorized to use {label}",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": _USE,
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:CallerAccount": account, "kms:ViaService": service.via_name}
        },
    }
    metadata = {
        "Sid": "Allow direct access to key metadata to the account",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": _METADATA,
        "Resource": "*",
    }
    document = {"Version": "2012-10-17", "Id": f"auto-{label}-1", "Statement": [use, metadata]}
    return json.dumps(document, indent=2)


def _alias_name(caller: Caller, key_id: Any) -> str | None:
    """``alias/aws/<x>`` when ``key_id`` names one in the caller's own account and region."""
    if not isinstance(key_id, str):
        return None
    if key_id.startswith("arn:"):
        prefix = f"arn:{caller.partition}:kms:{caller.region}:{caller.account}:"
        key_id = key_id.removeprefix(prefix) if key_id.startswith(prefix) else ""
    return key_id if key_id.startswith(MANAGED_PREFIX) else None


def ensure_managed_key(svc: KmsService, caller: Caller, params: Mapping[str, Any]) -> None:
    """Create the service's AWS-managed key if this forwarded request is its first use of it.

    Only the registered service whose ``kms:ViaService`` name the caller carries may cause its
    own ``alias/aws/<name>`` to exist; anything else resolves (or fails) as usual."""
    if caller.via_service is None:
        return
    name = _alias_name(caller, params.get("KeyId"))
    if name is None or svc.keys.get_alias(caller.account, caller.region, name) is not None:
        return
    service = svc.identity.get_service(name.removeprefix(MANAGED_PREFIX))
    if service is None or service.via_name != caller.via_service:
        return
    _create(svc, caller, service, name)


def _create(svc: KmsService, caller: Caller, service: ServiceRecord, name: str) -> None:
    now = svc.clock.now()
    key = new_symmetric_key(
        caller,
        now,
        description=f"Default key that protects my {service.name} data when no other key "
        "is defined",
        policy=managed_key_policy(caller.partition, caller.account, service),
        key_manager=KeyManager.AWS,
    )
    # AWS-managed keys always rotate yearly (kms-spec.md section 10).
    key = dataclasses.replace(
        key, rotation_period_days=365, next_rotation_date=now + MANAGED_ROTATION_SECONDS
    )
    store_new_key(svc, key, {})
    key_id, arn = key.key_id, key.arn
    try:
        svc.keys.insert_alias(AliasRecord(caller.account, caller.region, name, key_id, now, now))
    except DuplicateError:  # another request created it first: keep theirs
        svc.keys.delete_key(caller.account, caller.region, key_id)
    else:
        log.info("created AWS-managed key %s for %s", arn, name)
