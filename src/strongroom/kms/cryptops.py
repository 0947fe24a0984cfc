"""Symmetric cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
GenerateDataKeyWithoutPlaintext and GenerateRandom.

Key material comes unwrapped from the service cache; the blob format is
``strongroom.crypto.ciphertext``.
"""

from __future__ import annotations

import os
from typing import Any

from strongroom.crypto import ciphertext
from strongroom.errors import (
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInternalException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.context import Caller
from strongroom.kms.model import KeyRecord, KeySpec, KeyUsage
from strongroom.kms.resolve import authorized_key, request_alias, resolve_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import OpClass, require_state

__all__ = [
    "decrypt",
    "encrypt",
    "generate_data_key",
    "generate_data_key_without_plaintext",
    "generate_random",
    "re_encrypt",
]

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def _view(context: Any, algorithm: Any, tokens: Any) -> dict[str, Any]:
    """The parameters a policy (and a grant) sees for one side of an operation (ReEncrypt has
    two); the grant tokens apply to both."""
    view: dict[str, Any] = {}
    if tokens:
        view["GrantTokens"] = tokens
    if context is not None:
        view["EncryptionContext"] = context
    if algorithm is not None:
        view["EncryptionAlgorithm"] = algorithm
    return view


def _encryption_key(  # noqa: PLR0917 - the two sides of ReEncrypt differ in each of these
    svc: KmsService,
    caller: Caller,
    key_id: str,
    action: str,
    algorithm: str | None,
    params: dict[str, Any],
    *,
    permission: str | None = None,
) -> KeyRecord:
    key = authorized_key(
        svc, caller, key_id, action=permission or action, allow_alias=True, params=params
    )
    _check_usable(key, action, algorithm)
    return key


def _check_usable(key: KeyRecord, action: str, algorithm: str | None) -> None:
    """The key's state, usage and spec must allow ``action`` with ``algorithm`` (spec 5.2, 4.2)."""
    require_state(key, OpClass.CRYPTO)
    if key.key_usage is not KeyUsage.ENCRYPT_DECRYPT:
        raise InvalidKeyUsageException(
            f"{key.arn} key usage is {key.key_usage.value} which is not valid for {action}."
        )
    if algorithm not in (None, SYMMETRIC_DEFAULT) and key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )


def _seal(
    svc: KmsService, key: KeyRecord, plaintext: bytes, context: dict[str, str] | None
) -> bytes:
    material_id = key.current_material_id
    material = svc.material(key, material_id) if material_id else None
    if material_id is None or material is None:
        raise KMSInternalException("The key's current material is missing.")
    return ciphertext.seal(material, key.key_id, bytes.fromhex(material_id), plaintext, context)


def _dry_run(p: dict[str, Any]) -> None:
    if p.get("DryRun"):
        raise DryRunOperationException()


def _dry_run_without_ciphertext(
    svc: KmsService, caller: Caller, p: dict[str, Any], *, action: str, key_member: str
) -> None:
    """DryRun with ``IGNORE_CIPHERTEXT`` (kms-spec.md 17.5): check the key the caller names as the
    real call would, never look at the ciphertext, and fail as every DryRun does."""
    if not p.get("DryRun") or "IGNORE_CIPHERTEXT" not in (p.get("DryRunModifiers") or ()):
        return
    if key_member not in p:
        raise ValidationException(
            f"{key_member} is required when DryRunModifiers contains IGNORE_CIPHERTEXT."
        )
    if "DestinationKeyId" in p:
        source = p.get("SourceEncryptionAlgorithm")
        view = _view(p.get("SourceEncryptionContext"), source, p.get("GrantTokens"))
        _encryption_key(
            svc, caller, p[key_member], action, source, view, permission="ReEncryptFrom"
        )
        _destination(svc, caller, p)
    else:
        algorithm = p.get("EncryptionAlgorithm")
        _encryption_key(svc, caller, p[key_member], action, algorithm, p)
    raise DryRunOperationException()


def _destination(svc: KmsService, caller: Caller, p: dict[str, Any]) -> KeyRecord:
    algorithm = p.get("DestinationEncryptionAlgorithm")
    view = _view(p.get("DestinationEncryptionContext"), algorithm, p.get("GrantTokens"))
    return _encryption_key(
        svc, caller, p["DestinationKeyId"], "ReEncrypt", algorithm, view, permission="ReEncryptTo"
    )


def encrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _encryption_key(svc, caller, p["KeyId"], "Encrypt", p.get("EncryptionAlgorithm"), p)
    _dry_run(p)
    blob = _seal(svc, key, p["Plaintext"], p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": SYMMETRIC_DEFAULT}


def _open(
    svc: KmsService,
    caller: Caller,
    p: dict[str, Any],
    *,
    action: str,
    permission: str,
    blob_member: str,
    key_member: str,
    context_member: str,
    algorithm_member: str,
) -> tuple[KeyRecord, bytes, str]:
    """Find the key a ciphertext names, check it against the caller's KeyId, and open it."""
    blob = p.get(blob_member)
    if blob is None:
        member = blob_member[0].lower() + blob_member[1:]
        raise ValidationException(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    header = ciphertext.peek(blob)
    named = svc.get_key(caller.account, caller.region, header.key_id) or svc.find_key(
        caller.region, header.key_id
    )
    if key_member in p:
        wanted = resolve_key(svc, caller, p[key_member], allow_alias=True)
        if named is None:
            raise InvalidCiphertextException()
        if wanted.key_id != named.key_id:
            raise IncorrectKeyException(
                "The key ID in the request does not identify a CMK that can perform this operation."
            )
    if named is None:
        raise InvalidCiphertextException()
    view = _view(p.get(context_member), p.get(algorithm_member), p.get("GrantTokens"))
    alias = request_alias(p[key_member]) if key_member in p else None
    svc.authorize_key(caller, f"kms:{permission}", named, view, request_alias=alias)
    _check_usable(named, action, p.get(algorithm_member))
    material_id = header.material_id.hex()
    material = svc.material(named, material_id)
    if material is None:
        raise InvalidCiphertextException()
    plaintext = ciphertext.open_blob(material, blob, p.get(context_member))
    return named, plaintext, material_id


def decrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    _dry_run_without_ciphertext(svc, caller, p, action="Decrypt", key_member="KeyId")
    key, plaintext, material_id = _open(
        svc,
        caller,
        p,
        action="Decrypt",
        permission="Decrypt",
        blob_member="CiphertextBlob",
        key_member="KeyId",
        context_member="EncryptionContext",
        algorithm_member="EncryptionAlgorithm",
    )
    _dry_run(p)
    return {
        "KeyId": key.arn,
        "Plaintext": plaintext,
        "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "KeyMaterialId": material_id,
    }


def re_encrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    _dry_run_without_ciphertext(svc, caller, p, action="ReEncrypt", key_member="SourceKeyId")
    source, plaintext, source_material = _open(
        svc,
        caller,
        p,
        action="ReEncrypt",
        permission="ReEncryptFrom",
        blob_member="CiphertextBlob",
        key_member="SourceKeyId",
        context_member="SourceEncryptionContext",
        algorithm_member="SourceEncryptionAlgorithm",
    )
    destination = _destination(svc, caller, p)
    _dry_run(p)
    blob = _seal(svc, destination, plaintext, p.get("DestinationEncryptionContext"))
    return {
        "CiphertextBlob": blob,
        "SourceKeyId": source.arn,
        "KeyId": destination.arn,
        "SourceEncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "DestinationEncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "SourceKeyMaterialId": source_material,
        "DestinationKeyMaterialId": destination.current_material_id,
    }


def _data_key_size(p: dict[str, Any]) -> int:
    spec, count = p.get("KeySpec"), p.get("NumberOfBytes")
    if spec is not None and count is None:
        return _DATA_KEY_BYTES[spec]
    if count is not None and spec is None:
        return int(count)
    raise ValidationException("Please specify either number of bytes or key spec.")


def _data_key(
    svc: KmsService, caller: Caller, p: dict[str, Any], action: str
) -> tuple[KeyRecord, bytes, bytes]:
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    size = _data_key_size(p)
    key = _encryption_key(svc, caller, p["KeyId"], action, None, p)
    _dry_run(p)
    plaintext = os.urandom(size)
    return key, plaintext, _seal(svc, key, plaintext, p.get("EncryptionContext"))


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
    svc.authorize_account(caller, "kms:GenerateRandom", p)
    count = p.get("NumberOfBytes")
    if count is None:
        raise ValidationException("NumberOfBytes is required.")
    if p.get("CustomKeyStoreId") or p.get("Recipient"):
        raise UnsupportedOperationException(
            "Custom key stores and Recipient are not yet supported by Strongroom."
        )
    return {"Plaintext": os.urandom(int(count))}
