"""Every KMS key spec, the usages it may have and the algorithms each usage exposes
(kms-spec.md 4.2), and which of them Strongroom cannot serve, with the reason.

This table is the one place CreateKey validation, DescribeKey/GetPublicKey metadata, grant
operations and the per-operation algorithm checks read from.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ALGORITHM_FIELD",
    "DATA_KEY_PAIR_SPECS",
    "UNSUPPORTED_ALGORITHMS",
    "UNSUPPORTED_SPECS",
    "algorithms",
    "is_asymmetric",
    "usages",
]

_RSA_SIGN = (
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
)
_RSA: dict[str, tuple[str, ...]] = {
    "ENCRYPT_DECRYPT": ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"),
    "SIGN_VERIFY": _RSA_SIGN,
}
_ML_DSA: dict[str, tuple[str, ...]] = {"SIGN_VERIFY": ("ML_DSA_SHAKE_256",)}
_ML_KEM: dict[str, tuple[str, ...]] = {"ENCAPSULATE_DECAPSULATE": ("ML_KEM",)}

# spec -> usage -> algorithms, in AWS's order (the first usage is not a default: every spec but
# SYMMETRIC_DEFAULT needs its KeyUsage named).
_TABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "SYMMETRIC_DEFAULT": {"ENCRYPT_DECRYPT": ("SYMMETRIC_DEFAULT",)},
    "HMAC_224": {"GENERATE_VERIFY_MAC": ("HMAC_SHA_224",)},
    "HMAC_256": {"GENERATE_VERIFY_MAC": ("HMAC_SHA_256",)},
    "HMAC_384": {"GENERATE_VERIFY_MAC": ("HMAC_SHA_384",)},
    "HMAC_512": {"GENERATE_VERIFY_MAC": ("HMAC_SHA_512",)},
    "RSA_2048": _RSA,
    "RSA_3072": _RSA,
    "RSA_4096": _RSA,
    "ECC_NIST_P256": {"SIGN_VERIFY": ("ECDSA_SHA_256",), "KEY_AGREEMENT": ("ECDH",)},
    "ECC_NIST_P384": {"SIGN_VERIFY": ("ECDSA_SHA_384",), "KEY_AGREEMENT": ("ECDH",)},
    "ECC_NIST_P521": {"SIGN_VERIFY": ("ECDSA_SHA_512",), "KEY_AGREEMENT": ("ECDH",)},
    "ECC_SECG_P256K1": {"SIGN_VERIFY": ("ECDSA_SHA_256",)},
    "ECC_NIST_EDWARDS25519": {"SIGN_VERIFY": ("ED25519_SHA_512", "ED25519_PH_SHA_512")},
    "ML_DSA_44": _ML_DSA,
    "ML_DSA_65": _ML_DSA,
    "ML_DSA_87": _ML_DSA,
    "ML_KEM_512": _ML_KEM,
    "ML_KEM_768": _ML_KEM,
    "ML_KEM_1024": _ML_KEM,
    "SM2": {
        "ENCRYPT_DECRYPT": ("SM2PKE",),
        "SIGN_VERIFY": ("SM2DSA",),
        "KEY_AGREEMENT": ("ECDH",),
    },
}

ALGORITHM_FIELD: Mapping[str, str] = {
    "ENCRYPT_DECRYPT": "EncryptionAlgorithms",
    "SIGN_VERIFY": "SigningAlgorithms",
    "GENERATE_VERIFY_MAC": "MacAlgorithms",
    "KEY_AGREEMENT": "KeyAgreementAlgorithms",
    "ENCAPSULATE_DECAPSULATE": "EncapsulationAlgorithms",
}

# Specs AWS has that Strongroom refuses, and why (docs/key-specs.md says the same).
UNSUPPORTED_SPECS: Mapping[str, str] = {
    "SM2": (
        "KeySpec SM2 is available only in AWS's China Regions, and Strongroom does not "
        "implement the SM2 algorithms."
    ),
    "ML_KEM_512": (
        "KeySpec ML_KEM_512 is not supported by Strongroom: its cryptography library offers "
        "ML-KEM-768 and ML-KEM-1024 only."
    ),
}

# Algorithms of supported specs that Strongroom refuses, and why.
UNSUPPORTED_ALGORITHMS: Mapping[str, str] = {
    "ED25519_PH_SHA_512": (
        "Signing algorithm ED25519_PH_SHA_512 (Ed25519ph) is not supported by Strongroom: its "
        "cryptography library offers pure Ed25519 only. Use ED25519_SHA_512."
    ),
}

DATA_KEY_PAIR_SPECS: tuple[str, ...] = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
)


def usages(spec: str) -> tuple[str, ...]:
    """The key usages AWS allows for ``spec`` (empty for an unknown spec)."""
    return tuple(_TABLE.get(spec, {}))


def algorithms(spec: str, usage: str) -> tuple[str, ...]:
    """The algorithms a key of ``spec`` and ``usage`` exposes, in AWS's order (empty when the
    pair is not valid)."""
    return _TABLE.get(spec, {}).get(usage, ())


def is_asymmetric(spec: str) -> bool:
    """True for the RSA, ECC, Edwards, ML-DSA, ML-KEM and SM2 specs (key pairs)."""
    return spec != "SYMMETRIC_DEFAULT" and not spec.startswith("HMAC_")
