"""Key pairs of every asymmetric spec Strongroom serves: generation, loading and public keys.

Private keys travel as DER PKCS#8 (what the key store wraps at rest and what
GenerateDataKeyPair returns; ML-DSA and ML-KEM keys in their seed form); public keys leave as DER
SubjectPublicKeyInfo (kms-spec.md 4.3).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, rsa

__all__ = [
    "MLDSAPrivateKey",
    "MLKEMPrivateKey",
    "PrivateKey",
    "load_private_key",
    "new_private_key",
    "private_key_der",
    "public_der_of",
    "public_key_der",
    "spec_of",
]

MLDSAPrivateKey = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
MLKEMPrivateKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | MLDSAPrivateKey
    | MLKEMPrivateKey
)

_RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
_SEEDED: dict[str, type[MLDSAPrivateKey | MLKEMPrivateKey]] = {
    "ML_DSA_44": mldsa.MLDSA44PrivateKey,
    "ML_DSA_65": mldsa.MLDSA65PrivateKey,
    "ML_DSA_87": mldsa.MLDSA87PrivateKey,
    "ML_KEM_768": mlkem.MLKEM768PrivateKey,
    "ML_KEM_1024": mlkem.MLKEM1024PrivateKey,
}
_PRIVATE_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    *_SEEDED.values(),
)


def new_private_key(key_spec: str) -> bytes:
    """A fresh private key of ``key_spec`` as DER PKCS#8; a ``ValueError`` for a spec that is not
    an asymmetric spec Strongroom serves."""
    key: PrivateKey
    if key_spec in _RSA_BITS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_spec])
    elif key_spec in CURVES:
        key = ec.generate_private_key(CURVES[key_spec]())
    elif key_spec == "ECC_NIST_EDWARDS25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif key_spec in _SEEDED:
        key = _SEEDED[key_spec].generate()
    else:
        raise ValueError(f"no key pair of spec {key_spec}")
    return private_key_der(key)


def private_key_der(key: PrivateKey) -> bytes:
    """``key`` as unencrypted DER PKCS#8."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(private_der: bytes) -> PrivateKey:
    """The private key in DER PKCS#8 (our own: authenticated by the key store's wrapping, so
    RSA's slow consistency check, done at generation, is skipped)."""
    key = serialization.load_der_private_key(
        private_der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, _PRIVATE_TYPES):
        raise ValueError("not a private key of a spec Strongroom serves")
    return key


def public_key_der(private_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a DER PKCS#8 private key."""
    return public_der_of(load_private_key(private_der))


def public_der_of(key: PrivateKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a loaded private key."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spec_of(key: PrivateKey) -> str:
    """The KMS key spec of a loaded private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA_{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for spec, curve in CURVES.items():
            if isinstance(key.curve, curve):
                return spec
        raise ValueError(f"unsupported curve {key.curve.name}")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ECC_NIST_EDWARDS25519"
    for spec, kind in _SEEDED.items():
        if isinstance(key, kind):
            return spec
    raise ValueError("unsupported key type")
