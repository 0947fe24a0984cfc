"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext (kms-spec.md 4.1, 4.3, 7.1).

A fresh key pair of the requested ``KeyPairSpec``: the private key (DER PKCS#8; ML-KEM in its seed
form) sealed under a symmetric encryption key with the request's encryption context, exactly as
GenerateDataKey seals a data key, so Decrypt of ``PrivateKeyCiphertextBlob`` gives the DER back;
the public key as DER SubjectPublicKeyInfo. Key pairs come only from symmetric encryption keys.
Policies see ``kms:DataKeyPairSpec`` and ``kms:EncryptionAlgorithm`` ``SYMMETRIC_DEFAULT``.
"""

from __future__ import annotations

from typing import Any

from strongroom.crypto.asymmetric import public_key_der
from strongroom.crypto.keyspecs import DATA_KEY_PAIR_SPECS, UNSUPPORTED_SPECS
from strongroom.domain.caller import Caller
from strongroom.errors import UnsupportedOperationException
from strongroom.kms.cryptops import seal
from strongroom.kms.datakeys import data_key_source
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run

__all__ = ["generate_data_key_pair", "generate_data_key_pair_without_plaintext"]


def _key_pair(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> dict[str, Any]:
    """Everything GenerateDataKeyPair returns; the caller drops what it must not."""
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    spec = p["KeyPairSpec"]
    key = data_key_source(svc, caller, p, action)
    if spec in UNSUPPORTED_SPECS:
        raise UnsupportedOperationException(UNSUPPORTED_SPECS[spec])
    if spec not in DATA_KEY_PAIR_SPECS:  # a spec a newer model may add
        raise UnsupportedOperationException(f"KeyPairSpec {spec} is not supported by Strongroom.")
    dry_run(p)
    private = svc.key_pairs.take(spec)  # RSA from a pre-generated stock (crypto/keypool.py)
    return {
        "PrivateKeyCiphertextBlob": seal(svc, key, private, p.get("EncryptionContext")),
        "PrivateKeyPlaintext": private,
        "PublicKey": public_key_der(private),
        "KeyId": key.arn,
        "KeyPairSpec": spec,
        "KeyMaterialId": key.current_material_id,
    }


def generate_data_key_pair(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    return _key_pair(svc, caller, p, "GenerateDataKeyPair")


def generate_data_key_pair_without_plaintext(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> dict[str, Any]:
    out = _key_pair(svc, caller, p, "GenerateDataKeyPairWithoutPlaintext")
    del out["PrivateKeyPlaintext"]
    return out
