"""ML-KEM operations: Encapsulate and Decapsulate (kms-spec.md 4.2, 4.3).

The key must be an Enabled ENCAPSULATE_DECAPSULATE key (ML_KEM_768 or ML_KEM_1024; ML_KEM_512 is
refused at CreateKey) and the request's EncapsulationAlgorithm one of its spec's (ML_KEM). Each
checks its own permission, ``kms:Encapsulate`` or ``kms:Decapsulate``. The shared secret is 32
bytes. Decapsulate answers InvalidCiphertextException, with no message, only for a ciphertext
whose length is not the key spec's; any other ciphertext decapsulates, to a pseudo-random secret
when it was altered or made for another key (ML-KEM's implicit rejection, as AWS documents).
"""

from __future__ import annotations

from typing import Any

from strongroom.crypto import kem, keyspecs
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyUsage
from strongroom.errors import InvalidCiphertextException, InvalidKeyUsageException
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state, require_usage

__all__ = ["decapsulate", "encapsulate"]


def _kem_key(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> KeyRecord:
    """Resolve and authorize, then state, usage and the algorithm against the spec."""
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=True, params=p)
    require_state(key, Action(action))
    require_usage(key, KeyUsage.ENCAPSULATE_DECAPSULATE, action)
    algorithm = p["EncapsulationAlgorithm"]
    if algorithm not in keyspecs.algorithms(key.key_spec.value, key.key_usage.value):
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )
    return key


def encapsulate(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _kem_key(svc, caller, p, "Encapsulate")
    dry_run(p)
    secret, ciphertext = svc.keystore.encapsulate(svc.handle(key))
    return {
        "KeyId": key.arn,
        "SharedSecret": secret,
        "SharedSecretCiphertextBlob": ciphertext,
        "EncapsulationAlgorithm": p["EncapsulationAlgorithm"],
    }


def decapsulate(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _kem_key(svc, caller, p, "Decapsulate")
    ciphertext = p["SharedSecretCiphertextBlob"]
    if len(ciphertext) != kem.CIPHERTEXT_SIZES.get(key.key_spec.value):
        raise InvalidCiphertextException()
    dry_run(p)
    return {
        "KeyId": key.arn,
        "SharedSecret": svc.keystore.decapsulate(svc.handle(key), ciphertext),
        "EncapsulationAlgorithm": p["EncapsulationAlgorithm"],
    }
