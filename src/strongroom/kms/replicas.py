"""Multi-Region keys (being built: issue 6)."""

from __future__ import annotations

from typing import Any

from strongroom.errors import UnsupportedOperationException
from strongroom.kms.context import Caller
from strongroom.kms.service import KmsService


def replicate_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("ReplicateKey is being built.")


def update_primary_region(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("UpdatePrimaryRegion is being built.")
