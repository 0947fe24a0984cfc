"""Imported key material (being built: issue 6)."""

from __future__ import annotations

from typing import Any

from strongroom.errors import UnsupportedOperationException
from strongroom.kms.context import Caller
from strongroom.kms.service import KmsService


def get_parameters_for_import(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("GetParametersForImport is being built.")


def import_key_material(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    raise UnsupportedOperationException("ImportKeyMaterial is being built.")


def delete_imported_key_material(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> dict[str, Any]:
    raise UnsupportedOperationException("DeleteImportedKeyMaterial is being built.")


def expire_due_material(svc: KmsService) -> int:
    return 0
