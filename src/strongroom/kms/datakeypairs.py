"""(being built: issue 5)."""

from __future__ import annotations

from typing import Any

from strongroom.errors import UnsupportedOperationException
from strongroom.kms.context import Caller
from strongroom.kms.service import KmsService


def generate_data_key_pair(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("GenerateDataKeyPair is being built.")


def generate_data_key_pair_without_plaintext(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> dict[str, Any]:
    raise UnsupportedOperationException("GenerateDataKeyPairWithoutPlaintext is being built.")
