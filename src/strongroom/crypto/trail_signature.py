"""Signatures over the audit trail's digests: the signing key's two algorithms, and verification
with nothing but a public key (what ``strongroom audit verify`` has, offline).

The audit signing key is Ed25519 (``"Ed25519"``, the default) or ECDSA on P-384 with SHA-384
(``"SHA384withECDSA"``, named as CloudTrail names its ``SHA256withRSA``). Signatures are raw
Ed25519 (64 bytes) or DER-encoded ECDSA.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from strongroom.crypto.asymmetric import PrivateKey, load_private_key, new_private_key

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "fingerprint",
    "new_signing_key",
    "public_der_from_pem",
    "public_pem",
    "sign",
    "verify_signature",
]

DEFAULT_ALGORITHM = "Ed25519"
# Algorithm name -> the KMS key spec of its key pair (crypto/asymmetric.py makes both).
ALGORITHMS = {"Ed25519": "ECC_NIST_EDWARDS25519", "SHA384withECDSA": "ECC_NIST_P384"}


def _spec(algorithm: str) -> str:
    spec = ALGORITHMS.get(algorithm)
    if spec is None:
        raise ValueError(f"no audit signing algorithm {algorithm!r} (one of {sorted(ALGORITHMS)})")
    return spec


def new_signing_key(algorithm: str = DEFAULT_ALGORITHM) -> bytes:
    """A fresh private key for ``algorithm``, DER PKCS#8 (the key store wraps it at once)."""
    return new_private_key(_spec(algorithm))


def sign(private_der: bytes | PrivateKey, algorithm: str, data: bytes) -> bytes:
    """Sign ``data`` with the audit signing key (DER PKCS#8 or loaded)."""
    _spec(algorithm)
    key = load_private_key(private_der) if isinstance(private_der, bytes) else private_der
    if algorithm == "Ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if algorithm == "SHA384withECDSA" and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA384()))
    raise ValueError(f"the audit signing key is not a {algorithm} key")


def verify_signature(public_key: bytes, algorithm: str, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` verifies under ``public_key`` (PEM or DER
    SubjectPublicKeyInfo); ``False`` for any mismatch, including a key of another algorithm."""
    try:
        key = _load_public(public_key)
        if algorithm == "Ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
            return True
        if algorithm == "SHA384withECDSA" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA384()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def _load_public(public_key: bytes) -> object:
    if public_key.lstrip().startswith(b"-----BEGIN"):
        return serialization.load_pem_public_key(public_key)
    return serialization.load_der_public_key(public_key)


def public_der_from_pem(public_key: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a PEM (or DER) public key; ``ValueError`` if it is none."""
    key = _load_public(public_key)
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("not an Ed25519 or ECDSA public key")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_pem(public_der: bytes) -> bytes:
    """A DER SubjectPublicKeyInfo as PEM text."""
    key = serialization.load_der_public_key(public_der)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public_der: bytes) -> str:
    """CloudTrail's public key fingerprint form: the first 32 hex characters of SHA-256(DER)."""
    return hashlib.sha256(public_der).hexdigest()[:32]
