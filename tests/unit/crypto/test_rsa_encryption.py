"""RSAES-OAEP for RSA encryption keys (kms-spec.md 4.3, 17.3): the limits, the wire format
(interoperable with any OAEP implementation using the same hash for the digest and MGF1 and no
label), and the one opaque error for every failure to decrypt."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: TID251 -- independent check
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import rsa_encryption
from strongroom.crypto.asymmetric import PrivateKey, load_private_key, new_private_key
from strongroom.errors import InvalidCiphertextException

SPECS = {"RSA_2048": 256, "RSA_3072": 384, "RSA_4096": 512}
HASHES = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}
# kms-spec.md 4.3: the documented plaintext limits
DOCUMENTED = {
    ("RSA_2048", "RSAES_OAEP_SHA_1"): 214,
    ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
    ("RSA_3072", "RSAES_OAEP_SHA_1"): 342,
    ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
    ("RSA_4096", "RSAES_OAEP_SHA_1"): 470,
    ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
}


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {spec: load_private_key(new_private_key(spec)) for spec in SPECS}


def _oaep(algorithm: str) -> padding.OAEP:
    chosen = HASHES[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)


def _rsa(key: PrivateKey) -> rsa.RSAPrivateKey:
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_the_algorithms_are_aws_s() -> None:
    assert rsa_encryption.ALGORITHMS == ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")


@pytest.mark.parametrize(("spec", "algorithm"), sorted(DOCUMENTED))
def test_max_plaintext_is_the_documented_limit(spec: str, algorithm: str) -> None:
    assert rsa_encryption.max_plaintext(spec, algorithm) == DOCUMENTED[spec, algorithm]
    assert DOCUMENTED[spec, algorithm] == SPECS[spec] - 2 * HASHES[algorithm]().digest_size - 2


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [("ECC_NIST_P256", "RSAES_OAEP_SHA_256"), ("RSA_2048", "SYMMETRIC_DEFAULT"), ("RSA_1024", "")],
)
def test_max_plaintext_refuses_what_is_no_rsa_encryption(spec: str, algorithm: str) -> None:
    with pytest.raises(ValueError, match="no RSA encryption"):
        rsa_encryption.max_plaintext(spec, algorithm)


@pytest.mark.parametrize("spec", sorted(SPECS))
@pytest.mark.parametrize("algorithm", sorted(HASHES))
def test_round_trip_at_the_limit_and_interoperability(
    keys: dict[str, PrivateKey], spec: str, algorithm: str
) -> None:
    key = _rsa(keys[spec])
    most = rsa_encryption.max_plaintext(spec, algorithm)
    message = bytes(range(256)) * 2
    blob = rsa_encryption.encrypt(key, algorithm, message[:most])
    assert len(blob) == SPECS[spec]
    assert rsa_encryption.decrypt(key, algorithm, blob) == message[:most]
    assert key.decrypt(blob, _oaep(algorithm)) == message[:most]  # any OAEP opens ours
    theirs = key.public_key().encrypt(b"made elsewhere", _oaep(algorithm))
    assert rsa_encryption.decrypt(key, algorithm, theirs) == b"made elsewhere"
    with pytest.raises(ValueError):
        rsa_encryption.encrypt(key, algorithm, message[: most + 1])


def test_every_failure_to_decrypt_is_the_same_opaque_error(keys: dict[str, PrivateKey]) -> None:
    key, other = keys["RSA_2048"], keys["RSA_3072"]
    blob = rsa_encryption.encrypt(key, "RSAES_OAEP_SHA_256", b"secret")
    flipped = bytes([blob[0] ^ 0x80]) + blob[1:]
    attempts = [
        (key, "RSAES_OAEP_SHA_1", blob),  # the wrong algorithm
        (key, "RSAES_OAEP_SHA_256", flipped),
        (key, "RSAES_OAEP_SHA_256", blob[:-1]),  # truncated
        (key, "RSAES_OAEP_SHA_256", blob + b"\0"),
        (key, "RSAES_OAEP_SHA_256", b""),
        (key, "RSAES_OAEP_SHA_256", b"\xff" * len(blob)),  # larger than the modulus
        (other, "RSAES_OAEP_SHA_256", blob),  # another key
    ]
    for private, algorithm, ciphertext in attempts:
        with pytest.raises(InvalidCiphertextException) as info:
            rsa_encryption.decrypt(private, algorithm, ciphertext)
        assert info.value.message is None
        assert "secret" not in str(info.value)


def test_only_rsa_keys_and_rsa_algorithms(keys: dict[str, PrivateKey]) -> None:
    ec_key = load_private_key(new_private_key("ECC_NIST_P256"))
    with pytest.raises(ValueError, match="not an RSA private key"):
        rsa_encryption.encrypt(ec_key, "RSAES_OAEP_SHA_256", b"x")
    with pytest.raises(ValueError, match="not an RSA private key"):
        rsa_encryption.decrypt(ec_key, "RSAES_OAEP_SHA_256", b"x" * 256)
    for algorithm in ("SYMMETRIC_DEFAULT", "SM2PKE", "RSAES_PKCS1_V1_5"):
        with pytest.raises(ValueError, match="not an RSA encryption algorithm"):
            rsa_encryption.encrypt(keys["RSA_2048"], algorithm, b"x")
        with pytest.raises(ValueError, match="not an RSA encryption algorithm"):
            rsa_encryption.decrypt(keys["RSA_2048"], algorithm, b"x" * 256)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), algorithm=st.sampled_from(sorted(HASHES)))
def test_any_plaintext_within_the_limit_round_trips(
    keys: dict[str, PrivateKey], data: st.DataObject, algorithm: str
) -> None:
    most = rsa_encryption.max_plaintext("RSA_2048", algorithm)
    plaintext = data.draw(st.binary(min_size=0, max_size=most))
    blob = rsa_encryption.encrypt(keys["RSA_2048"], algorithm, plaintext)
    assert len(blob) == 256
    assert rsa_encryption.decrypt(keys["RSA_2048"], algorithm, blob) == plaintext


@settings(max_examples=40, deadline=None)
@given(
    algorithm=st.sampled_from(sorted(HASHES)),
    extra=st.integers(min_value=1, max_value=200),
)
def test_no_plaintext_beyond_the_limit_encrypts(
    keys: dict[str, PrivateKey], algorithm: str, extra: int
) -> None:
    most = rsa_encryption.max_plaintext("RSA_2048", algorithm)
    with pytest.raises(ValueError):
        rsa_encryption.encrypt(keys["RSA_2048"], algorithm, b"\x01" * (most + extra))
