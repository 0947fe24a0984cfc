"""Data keys: GenerateDataKey, GenerateDataKeyWithoutPlaintext, and GenerateRandom.

Data keys (and data key pairs, ``datakeypairs``) come only from symmetric encryption keys; the
data key is sealed as Encrypt seals (``cryptops.seal``), so Decrypt opens it. Policies see
``kms:EncryptionAlgorithm`` as ``SYMMETRIC_DEFAULT`` (kms-spec.md 7.1).
"""

from __future__ import annotations

import os
from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeySpec, KeyUsage
from strongroom.errors import (
    InvalidKeyUsageException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.cryptops import SYMMETRIC_DEFAULT, seal, with_algorithm
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state, require_usage

__all__ = [
    "data_key_source",
    "generate_data_key",
    "generate_data_key_without_plaintext",
    "generate_random",
]

_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def _data_key_size(p: dict[str, Any]) -> int:
    spec, count = p.get("KeySpec"), p.get("NumberOfBytes")
    if spec is not None and count is None:
        return _DATA_KEY_BYTES[spec]
    if count is not None and spec is None:
        return int(count)
    raise ValidationException("Please specify either number of bytes or key spec.")


def data_key_source(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> KeyRecord:
    """The symmetric encryption key ``p["KeyId"]`` names, authorized for ``action`` (with
    ``kms:EncryptionAlgorithm`` ``SYMMETRIC_DEFAULT``): data keys and data key pairs come only
    from symmetric encryption keys."""
    key = authorized_key(
        svc,
        caller,
        p["KeyId"],
        action=action,
        allow_alias=True,
        params=with_algorithm(p, SYMMETRIC_DEFAULT),
    )
    require_state(key, Action(action))
    require_usage(key, KeyUsage.ENCRYPT_DECRYPT, action)
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise InvalidKeyUsageException(
            f"{key.arn} key KeySpec is {key.key_spec.value} which is not valid for {action}."
        )
    return key


def _data_key(
    svc: KmsService, caller: Caller, p: dict[str, Any], action: str
) -> tuple[KeyRecord, bytes, bytes]:
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    size = _data_key_size(p)
    key = data_key_source(svc, caller, p, action)
    dry_run(p)
    plaintext = os.urandom(size)
    return key, plaintext, seal(svc, key, plaintext, p.get("EncryptionContext"))


def generate_data_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key, plaintext, blob = _data_key(svc, caller, p, "GenerateDataKey")
    return {
        "CiphertextBlob": blob,
        "Plaintext": plaintext,
        "KeyId": key.arn,
        "KeyMaterialId": key.current_material_id,
    }


def generate_data_key_without_plaintext(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> dict[str, Any]:
    key, _, blob = _data_key(svc, caller, p, "GenerateDataKeyWithoutPlaintext")
    return {"CiphertextBlob": blob, "KeyId": key.arn, "KeyMaterialId": key.current_material_id}


def generate_random(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    svc.access.authorize_account(caller, "kms:GenerateRandom", p)
    count = p.get("NumberOfBytes")
    if count is None:
        raise ValidationException("NumberOfBytes is required.")
    if p.get("CustomKeyStoreId") or p.get("Recipient"):
        raise UnsupportedOperationException(
            "Custom key stores and Recipient are not yet supported by Strongroom."
        )
    return {"Plaintext": os.urandom(int(count))}
