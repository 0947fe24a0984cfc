"""Asymmetric signing operations: Sign and Verify (kms-spec.md 4.2, 4.3, 17.3).

The key must be an Enabled SIGN_VERIFY key and the request's SigningAlgorithm one of its spec's
(``keyspecs``). The MessageType must be one the algorithm takes (RSA and ECDSA: RAW or DIGEST;
ED25519_SHA_512: RAW; ED25519_PH_SHA_512: DIGEST; ML_DSA_SHAKE_256: RAW or EXTERNAL_MU); a
DIGEST must be exactly the algorithm's hash length and an EXTERNAL_MU exactly 64 bytes. An
algorithm Strongroom cannot serve (Ed25519ph) is UnsupportedOperationException, after those
checks. Verify never answers ``SignatureValid: false``: a signature that does not verify is
``KMSInvalidSignatureException``, with no message.
"""

from __future__ import annotations

from typing import Any

from strongroom.crypto import keyspecs, signing
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyUsage
from strongroom.errors import (
    InvalidKeyUsageException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state, require_usage

__all__ = ["sign", "verify"]


def _check_usage(key: KeyRecord, action: str) -> None:
    require_state(key, Action(action))
    require_usage(key, KeyUsage.SIGN_VERIFY, action)


def _check_message(key: KeyRecord, algorithm: str, message: bytes, message_type: str) -> None:
    """The algorithm against the spec, the message type against the algorithm, a digest's or
    mu's length, then whether Strongroom serves the algorithm at all."""
    spec = key.key_spec.value
    if algorithm not in keyspecs.algorithms(spec, "SIGN_VERIFY"):
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {spec}."
        )
    if message_type not in signing.message_types(algorithm):
        raise ValidationException(
            f"Message type {message_type} is incompatible with algorithm {algorithm}."
        )
    length = signing.message_length(algorithm, message_type)
    if length is not None and len(message) != length:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    if algorithm in keyspecs.UNSUPPORTED_ALGORITHMS:
        raise UnsupportedOperationException(keyspecs.UNSUPPORTED_ALGORITHMS[algorithm])


def _signing_key(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> KeyRecord:
    # kms:MessageType sees the default (RAW) when the request leaves MessageType out, as
    # kms:EncryptionAlgorithm sees SYMMETRIC_DEFAULT.
    view = p if "MessageType" in p else {**p, "MessageType": "RAW"}
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=True, params=view)
    _check_usage(key, action)
    _check_message(key, p["SigningAlgorithm"], p["Message"], p.get("MessageType", "RAW"))
    dry_run(p)
    return key


def sign(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _signing_key(svc, caller, p, "Sign")
    algorithm = p["SigningAlgorithm"]
    signature = svc.keystore.sign(
        svc.handle(key), algorithm, p["Message"], p.get("MessageType", "RAW")
    )
    return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}


def verify(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _signing_key(svc, caller, p, "Verify")
    algorithm = p["SigningAlgorithm"]
    svc.keystore.verify(
        svc.handle(key), algorithm, p["Message"], p.get("MessageType", "RAW"), p["Signature"]
    )
    return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}
