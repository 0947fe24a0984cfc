"""The ML-KEM primitive of Encapsulate and Decapsulate: round trips, interoperation with
``cryptography`` used from the public key alone, the exact sizes, InvalidCiphertextException for a
wrong length only, and implicit rejection (a different, deterministic secret) for tampering."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import mlkem  # noqa: TID251 -- independent check
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import kem
from strongroom.crypto.asymmetric import PrivateKey, load_private_key, new_private_key
from strongroom.errors import InvalidCiphertextException

SPECS = ("ML_KEM_768", "ML_KEM_1024")
SIZES = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}
_KEYS: dict[str, PrivateKey] = {}


def kms_key(spec: str) -> PrivateKey:
    """One KMS-style private key per spec, made and loaded the way the key store does."""
    if spec not in _KEYS:
        _KEYS[spec] = load_private_key(new_private_key(spec))
    return _KEYS[spec]


def public_of(spec: str) -> mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey:
    """The encapsulation key as a stranger gets it: from the DER SubjectPublicKeyInfo."""
    der = (
        kms_key(spec)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    public = serialization.load_der_public_key(der)
    assert isinstance(public, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    return public


def test_the_sizes_are_fips_203s() -> None:
    assert kem.CIPHERTEXT_SIZES == SIZES
    assert kem.SHARED_SECRET_SIZE == 32


@pytest.mark.parametrize("spec", SPECS)
def test_encapsulate_then_decapsulate_round_trips(spec: str) -> None:
    secret, ciphertext = kem.encapsulate(kms_key(spec))
    assert (len(secret), len(ciphertext)) == (32, SIZES[spec])
    assert kem.ciphertext_size(kms_key(spec)) == SIZES[spec]
    assert kem.decapsulate(kms_key(spec), ciphertext) == secret
    again, other = kem.encapsulate(kms_key(spec))
    assert again != secret
    assert other != ciphertext


@pytest.mark.parametrize("spec", SPECS)
def test_a_ciphertext_made_from_the_public_key_alone_decapsulates(spec: str) -> None:
    secret, ciphertext = public_of(spec).encapsulate()
    assert kem.decapsulate(kms_key(spec), ciphertext) == secret


@pytest.mark.parametrize("spec", SPECS)
def test_our_ciphertext_decapsulates_in_cryptography(spec: str) -> None:
    """The other way round: the same DER PKCS#8, loaded independently, opens our ciphertext."""
    private_der = new_private_key(spec)
    raw = serialization.load_der_private_key(private_der, password=None)
    assert isinstance(raw, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey)
    secret, ciphertext = kem.encapsulate(load_private_key(private_der))
    assert raw.decapsulate(ciphertext) == secret


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_wrong_length_is_invalid_ciphertext(spec: str, data: st.DataObject) -> None:
    length = data.draw(st.integers(0, 6144).filter(lambda n: n != SIZES[spec]))
    with pytest.raises(InvalidCiphertextException) as info:
        kem.decapsulate(kms_key(spec), bytes(length))
    assert info.value.message is None


def test_a_ciphertext_for_the_other_parameter_set_is_invalid() -> None:
    _, short = kem.encapsulate(kms_key("ML_KEM_768"))
    _, long = kem.encapsulate(kms_key("ML_KEM_1024"))
    for spec, ciphertext in (("ML_KEM_1024", short), ("ML_KEM_768", long)):
        with pytest.raises(InvalidCiphertextException):
            kem.decapsulate(kms_key(spec), ciphertext)


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_tampering_is_implicitly_rejected(spec: str, data: st.DataObject) -> None:
    """A flipped bit anywhere gives a different 32-byte secret, the same one every time (FIPS 203
    implicit rejection): no error, and nothing of the real secret."""
    secret, ciphertext = kem.encapsulate(kms_key(spec))
    index = data.draw(st.integers(0, SIZES[spec] - 1))
    tampered = bytearray(ciphertext)
    tampered[index] ^= 1 << data.draw(st.integers(0, 7))
    rejected = kem.decapsulate(kms_key(spec), bytes(tampered))
    assert len(rejected) == 32
    assert rejected != secret
    assert kem.decapsulate(kms_key(spec), bytes(tampered)) == rejected


@pytest.mark.parametrize("spec", SPECS)
def test_a_ciphertext_for_another_key_gives_another_secret(spec: str) -> None:
    secret, ciphertext = kem.encapsulate(load_private_key(new_private_key(spec)))
    other = kem.decapsulate(kms_key(spec), ciphertext)
    assert len(other) == 32
    assert other != secret


def test_only_ml_kem_keys_encapsulate() -> None:
    ec_key = load_private_key(new_private_key("ECC_NIST_P256"))
    with pytest.raises(TypeError, match="ML-KEM"):
        kem.encapsulate(ec_key)
    with pytest.raises(TypeError, match="ML-KEM"):
        kem.decapsulate(ec_key, bytes(1088))
