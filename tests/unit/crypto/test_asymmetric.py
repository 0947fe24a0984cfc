"""Key pairs of every served asymmetric spec: generation, DER round trip and public keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check

from strongroom.crypto import asymmetric, keyspecs

SERVED = [
    spec
    for spec in (*keyspecs.DATA_KEY_PAIR_SPECS, "ML_DSA_44", "ML_DSA_65", "ML_DSA_87")
    if spec not in keyspecs.UNSUPPORTED_SPECS
]
# DER SubjectPublicKeyInfo sizes (kms-spec.md 4.3: 1..8192 bytes).
PUBLIC_SIZES = {
    "ECC_NIST_P256": 91,
    "ECC_NIST_P384": 120,
    "ECC_NIST_P521": 158,
    "ECC_SECG_P256K1": 88,
    "ECC_NIST_EDWARDS25519": 44,
    "ML_DSA_44": 1334,
    "ML_DSA_87": 2614,
    "ML_KEM_768": 1206,
    "ML_KEM_1024": 1590,
}


@pytest.mark.parametrize("spec", SERVED)
def test_new_key_round_trips_and_has_its_spec(spec: str) -> None:
    der = asymmetric.new_private_key(spec)
    key = asymmetric.load_private_key(der)
    assert asymmetric.spec_of(key) == spec
    assert asymmetric.private_key_der(key) == der
    public = asymmetric.public_key_der(der)
    assert public == asymmetric.public_der_of(key)
    loaded = serialization.load_der_public_key(public)
    assert (
        loaded.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public
    )
    if spec in PUBLIC_SIZES:
        assert len(public) == PUBLIC_SIZES[spec]
    assert 1 <= len(public) <= 8192


def test_two_keys_differ() -> None:
    assert asymmetric.new_private_key("ECC_NIST_P256") != asymmetric.new_private_key(
        "ECC_NIST_P256"
    )


def test_ml_kem_private_keys_are_seed_form_of_one_length() -> None:
    lengths = {len(asymmetric.new_private_key(s)) for s in ("ML_KEM_768", "ML_KEM_1024")}
    assert lengths == {86}


@pytest.mark.parametrize("spec", ["SYMMETRIC_DEFAULT", "HMAC_256", "SM2", "ML_KEM_512", "X"])
def test_other_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="no key pair"):
        asymmetric.new_private_key(spec)


def test_a_foreign_private_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import x25519  # noqa: TID251, PLC0415

    der = x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="not a private key"):
        asymmetric.load_private_key(der)
