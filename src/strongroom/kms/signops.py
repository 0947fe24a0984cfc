"""Asymmetric signing operations: Sign, Verify and GetPublicKey (kms-spec.md 4.2, 4.3, 17.3).

The key must be an Enabled SIGN_VERIFY key and the request's SigningAlgorithm one of its spec's.
A ``DIGEST`` message must be exactly the algorithm's hash length. Verify never answers
``SignatureValid: false``: a signature that does not verify is ``KMSInvalidSignatureException``,
with no message.
"""

from __future__ import annotations

from typing import Any

from strongroom.crypto import signing
from strongroom.errors import (
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInternalException,
    ValidationException,
)
from strongroom.kms.context import Caller
from strongroom.kms.model import KeyRecord, KeyUsage
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import OpClass, require_state

__all__ = ["sign", "verify"]

_MESSAGE_TYPES = ("RAW", "DIGEST")


def _check_usage(key: KeyRecord, action: str) -> None:
    require_state(key, OpClass.CRYPTO)
    if key.key_usage is not KeyUsage.SIGN_VERIFY:
        raise InvalidKeyUsageException(
            f"{key.arn} key usage is {key.key_usage.value} which is not valid for {action}."
        )


def _check_message(key: KeyRecord, algorithm: str, message: bytes, message_type: str) -> None:
    """The algorithm against the spec, then the message type and a digest's length."""
    if algorithm not in signing.SIGNING_ALGORITHMS[key.key_spec.value]:
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )
    if message_type not in _MESSAGE_TYPES:
        raise ValidationException(
            f"MessageType {message_type} is not valid for algorithm {algorithm}."
        )
    if message_type == "DIGEST" and len(message) != signing.digest_size(algorithm):
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")


def _signing_key(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> KeyRecord:
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=True, params=p)
    _check_usage(key, action)
    _check_message(key, p["SigningAlgorithm"], p["Message"], p.get("MessageType", "RAW"))
    if p.get("DryRun"):
        raise DryRunOperationException()
    return key


def _private_key(svc: KmsService, key: KeyRecord) -> bytes:
    material_id = key.current_material_id
    material = svc.material(key, material_id) if material_id else None
    if material is None:
        raise KMSInternalException("The key's current material is missing.")
    return material


def sign(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _signing_key(svc, caller, p, "Sign")
    algorithm = p["SigningAlgorithm"]
    signature = signing.sign(
        key.key_spec.value,
        algorithm,
        _private_key(svc, key),
        p["Message"],
        p.get("MessageType", "RAW"),
    )
    return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}


def verify(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _signing_key(svc, caller, p, "Verify")
    algorithm = p["SigningAlgorithm"]
    signing.verify(
        key.key_spec.value,
        algorithm,
        _private_key(svc, key),
        p["Message"],
        p.get("MessageType", "RAW"),
        signature=p["Signature"],
    )
    return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}
