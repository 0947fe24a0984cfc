"""(being built: issue 5)."""

from __future__ import annotations

from typing import Any

from strongroom.errors import UnsupportedOperationException
from strongroom.kms.context import Caller
from strongroom.kms.service import KmsService


def encapsulate(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("Encapsulate is being built.")


def decapsulate(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("Decapsulate is being built.")
