"""Asymmetric signatures for Sign, Verify and GetPublicKey (kms-spec.md 4.2, 4.3, 17.3).

Private keys travel as DER PKCS#8 (what the key store wraps at rest); public keys leave as DER
SubjectPublicKeyInfo. RSASSA-PSS uses MGF1 with the signing hash and a salt as long as the
digest; PKCS#1 v1.5 uses the standard DigestInfo; ECDSA signatures are DER. A ``DIGEST`` message
is signed as a precomputed hash. A signature that does not verify raises
:class:`KMSInvalidSignatureException` with no message, never a ``False``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from strongroom.errors import KMSInvalidSignatureException

__all__ = [
    "SIGNING_ALGORITHMS",
    "digest_size",
    "new_private_key",
    "public_key_der",
    "sign",
    "verify",
]

_RSA = (
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
)
SIGNING_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "RSA_2048": _RSA,
    "RSA_3072": _RSA,
    "RSA_4096": _RSA,
    "ECC_NIST_P256": ("ECDSA_SHA_256",),
    "ECC_NIST_P384": ("ECDSA_SHA_384",),
    "ECC_NIST_P521": ("ECDSA_SHA_512",),
    "ECC_SECG_P256K1": ("ECDSA_SHA_256",),
}
_RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}
_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES[algorithm[-3:]]()


def digest_size(algorithm: str) -> int:
    """The byte length a ``DIGEST`` message must have for ``algorithm`` (32, 48 or 64)."""
    return _hash(algorithm).digest_size


def new_private_key(key_spec: str) -> bytes:
    """A fresh private key of ``key_spec`` as DER PKCS#8; a ``ValueError`` for other specs."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_spec in _RSA_BITS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_spec])
    elif key_spec in _CURVES:
        key = ec.generate_private_key(_CURVES[key_spec])
    else:
        raise ValueError(f"no signing key of spec {key_spec}")
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load(private_der: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    # The DER is our own key, authenticated by the key store's wrapping: RSA's (slow) consistency
    # check was done when it was generated.
    key = serialization.load_der_private_key(
        private_der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("not an RSA or EC private key")
    return key


def public_key_der(private_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a DER PKCS#8 private key."""
    return (
        _load(private_der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _prehashed(algorithm: str, message: bytes, message_type: str) -> tuple[bytes, utils.Prehashed]:
    chosen = _hash(algorithm)
    if message_type == "DIGEST":
        return message, utils.Prehashed(chosen)
    hasher = hashes.Hash(chosen)
    hasher.update(message)
    return hasher.finalize(), utils.Prehashed(chosen)


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm.startswith("RSASSA_PSS_"):
        chosen = _hash(algorithm)
        return padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
    return padding.PKCS1v15()


def sign(
    key_spec: str, algorithm: str, private_der: bytes, message: bytes, message_type: str
) -> bytes:
    """Sign ``message`` (``RAW`` bytes, or a ``DIGEST`` of the algorithm's hash length, which the
    caller has checked) with ``algorithm``, which must be one of ``key_spec``'s."""
    if algorithm not in SIGNING_ALGORITHMS.get(key_spec, ()):
        raise ValueError(f"{algorithm} is not an algorithm of {key_spec}")
    digest, prehashed = _prehashed(algorithm, message, message_type)
    key = _load(private_der)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(digest, _rsa_padding(algorithm), prehashed)
    return key.sign(digest, ec.ECDSA(prehashed))


def verify(
    key_spec: str,
    algorithm: str,
    private_der: bytes,
    message: bytes,
    message_type: str,
    *,
    signature: bytes,
) -> None:
    """Return if ``signature`` is ``algorithm``'s signature of ``message``; raise
    :class:`KMSInvalidSignatureException` otherwise."""
    if algorithm not in SIGNING_ALGORITHMS.get(key_spec, ()):
        raise ValueError(f"{algorithm} is not an algorithm of {key_spec}")
    digest, prehashed = _prehashed(algorithm, message, message_type)
    public = _load(private_der).public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, digest, _rsa_padding(algorithm), prehashed)
        else:
            public.verify(signature, digest, ec.ECDSA(prehashed))
    except (InvalidSignature, ValueError):
        raise KMSInvalidSignatureException() from None
