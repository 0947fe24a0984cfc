"""Elliptic-curve key agreement for DeriveSharedSecret (kms-spec.md 4.2, 17.3).

The KMS key's private key (NIST P-256, P-384 or P-521, DER PKCS#8 at rest) meets the peer's public
key, a DER SubjectPublicKeyInfo on the same curve. The answer is the raw ECDH shared secret, the
x-coordinate of the shared point as a fixed-length big-endian string: no key derivation function
is applied, as AWS applies none. A peer key that cannot be used raises :class:`PeerKeyError`, whose
message names what is wrong with it and never carries key bytes.
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from strongroom.crypto.asymmetric import CURVES, PrivateKey, spec_of

__all__ = [
    "AGREEMENT_SPECS",
    "PeerKeyError",
    "derive_shared_secret",
    "peer_public_key",
    "shared_secret_size",
]

AGREEMENT_SPECS: tuple[str, ...] = ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521")


class PeerKeyError(ValueError):
    """The peer's public key cannot be used with the KMS key; the message says why."""


def shared_secret_size(key_spec: str) -> int:
    """The byte length of an ECDH shared secret on ``key_spec``'s curve (32, 48 or 66)."""
    return (CURVES[key_spec]().key_size + 7) // 8


def peer_public_key(spec: str, peer_der: bytes) -> ec.EllipticCurvePublicKey:
    """The peer's key out of its DER SubjectPublicKeyInfo, checked to be a point of ``spec``'s
    curve (cryptography checks the point lies on its curve while loading); PeerKeyError if not."""
    if spec not in AGREEMENT_SPECS:
        raise ValueError(f"key spec {spec} has no key agreement")
    try:
        peer = serialization.load_der_public_key(peer_der)
    except (ValueError, UnsupportedAlgorithm):
        raise PeerKeyError(
            "PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo holding a valid "
            "elliptic curve point."
        ) from None
    if not isinstance(peer, ec.EllipticCurvePublicKey):
        raise PeerKeyError(
            f"PublicKey is not an elliptic curve public key; key spec {spec} needs a public key "
            f"on curve {CURVES[spec]().name}."
        )
    if not isinstance(peer.curve, CURVES[spec]):
        raise PeerKeyError(
            f"PublicKey is on curve {peer.curve.name}, but key spec {spec} needs a public key on "
            f"curve {CURVES[spec]().name}."
        )
    return peer


def derive_shared_secret(private: PrivateKey, peer_der: bytes) -> bytes:
    """The raw ECDH shared secret of ``private`` and the peer's DER SubjectPublicKeyInfo; a
    ``TypeError`` when ``private`` is not an elliptic curve key (a KMS key of another spec)."""
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise TypeError("key agreement needs an elliptic curve private key")
    peer = peer_public_key(spec_of(private), peer_der)
    try:
        return private.exchange(ec.ECDH(), peer)
    except ValueError:
        raise PeerKeyError("PublicKey cannot be used for key agreement.") from None
