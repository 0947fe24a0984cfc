"""The import primitives: the sealed import token (round trip, any tampering refused, its size),
wrapping and unwrapping with every algorithm (checked against ``cryptography`` used directly, as
a client would), the RSA-OAEP || AES-KWP framing, the material forms and the material id."""

from __future__ import annotations

import functools
import hashlib
import os
import re

import pytest
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    ed25519,
    padding,
    rsa,
)
from cryptography.hazmat.primitives.keywrap import (  # noqa: TID251 -- independent check
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.crypto import key_import
from strongroom.crypto.key_import import (
    EncryptedSizeError,
    ImportParameters,
    MaterialError,
    check_material,
    issue_token,
    material_id,
    open_token,
    unwrap_key_material,
    wrap_key_material,
)
from strongroom.errors import InvalidCiphertextException
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
HASHES: dict[str, type[hashes.SHA1 | hashes.SHA256]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_SHA_1": hashes.SHA1,
    "RSA_AES_KEY_WRAP_SHA_256": hashes.SHA256,
}
MODULUS_BYTES = {"RSA_2048": 256, "RSA_3072": 384, "RSA_4096": 512}
STORE = SoftwareKeyStore(RootKey(os.urandom(32)))


@functools.cache
def wrapping_key(spec: str) -> tuple[bytes, bytes]:
    """One wrapping key pair per spec for the whole module (RSA_4096 takes a while)."""
    return key_import.new_wrapping_key(spec)


def oaep(algorithm: str) -> padding.OAEP:
    chosen = HASHES[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)


def client_wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """What a user does with ``cryptography`` alone, following AWS's guide."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep(algorithm))
    aes_key = os.urandom(32)
    return public.encrypt(aes_key, oaep(algorithm)) + aes_key_wrap_with_padding(aes_key, material)


def params(**changes: object) -> ImportParameters:
    values: dict[str, object] = {
        "key_arn": ARN,
        "wrapping_algorithm": "RSAES_OAEP_SHA_256",
        "wrapping_key_spec": "RSA_2048",
        "valid_to": 1_800_000_000.25,
        "private_der": b"\x30\x82private",
    }
    values.update(changes)
    return ImportParameters(**values)  # type: ignore[arg-type]


# -- the wrapping key pair ------------------------------------------------------------------------


@pytest.mark.parametrize("spec", sorted(MODULUS_BYTES))
def test_wrapping_keys_are_fresh_rsa_pairs_of_the_spec(spec: str) -> None:
    private_der, public_der = wrapping_key(spec)
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == MODULUS_BYTES[spec] * 8
    private = serialization.load_der_private_key(private_der, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.public_key().public_numbers() == public.public_numbers()
    assert key_import.new_wrapping_key("RSA_2048")[1] != key_import.new_wrapping_key("RSA_2048")[1]


def test_no_wrapping_key_of_another_spec() -> None:
    with pytest.raises(ValueError, match="SM2"):
        key_import.new_wrapping_key("SM2")


# -- the import token -----------------------------------------------------------------------------


@settings(max_examples=50)
@given(
    arn=st.text(min_size=1, max_size=120),
    algorithm=st.sampled_from(key_import.WRAPPING_ALGORITHMS),
    spec=st.sampled_from(sorted(MODULUS_BYTES)),
    valid_to=st.floats(min_value=0, max_value=4e9, allow_nan=False),
    private_der=st.binary(max_size=3000),
)
def test_token_round_trip(
    arn: str, algorithm: str, spec: str, valid_to: float, private_der: bytes
) -> None:
    sent = params(
        key_arn=arn,
        wrapping_algorithm=algorithm,
        wrapping_key_spec=spec,
        valid_to=valid_to,
        private_der=private_der,
    )
    assert open_token(STORE, issue_token(STORE, sent)) == sent


@settings(max_examples=200)
@given(data=st.data())
def test_any_altered_byte_is_refused(data: st.DataObject) -> None:
    token = bytearray(issue_token(STORE, params()))
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    token[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(ValueError):
        open_token(STORE, bytes(token))


@settings(max_examples=100)
@given(data=st.data())
def test_truncated_or_extended_tokens_are_refused(data: st.DataObject) -> None:
    token = issue_token(STORE, params())
    cut = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    with pytest.raises(ValueError):
        open_token(STORE, token[:cut])
    with pytest.raises(ValueError):
        open_token(STORE, token + data.draw(st.binary(min_size=1, max_size=16)))


@given(garbage=st.binary(max_size=400))
def test_garbage_is_not_a_token(garbage: bytes) -> None:
    with pytest.raises(ValueError):
        open_token(STORE, garbage)


def test_a_token_of_another_deployment_is_refused() -> None:
    other = SoftwareKeyStore(RootKey(os.urandom(32)))
    with pytest.raises(ValueError):
        open_token(STORE, issue_token(other, params()))


def test_a_secret_sealed_for_another_purpose_is_not_a_token() -> None:
    sealed = STORE.wrap_secret(b"anything", "grant-token")
    with pytest.raises(ValueError):
        open_token(STORE, b"\x01" + sealed)


def test_tokens_are_fresh_and_hide_the_private_key() -> None:
    private_der, _ = wrapping_key("RSA_2048")
    sent = params(private_der=private_der)
    first, second = issue_token(STORE, sent), issue_token(STORE, sent)
    assert first != second
    assert private_der[-64:] not in first
    assert private_der.hex() not in repr(open_token(STORE, first))


@pytest.mark.parametrize("spec", sorted(MODULUS_BYTES))
def test_tokens_fit_the_model_limit(spec: str) -> None:
    private_der, _ = wrapping_key(spec)
    longest_arn = "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-" + "f" * 32
    token = issue_token(STORE, params(key_arn=longest_arn, private_der=private_der))
    assert len(token) <= 6144
    if spec == "RSA_4096":
        assert len(token) < 3000  # measured about 2.6 KB


# -- wrapping and unwrapping ----------------------------------------------------------------------

ALGORITHM_SPECS = [(a, s) for a in key_import.WRAPPING_ALGORITHMS for s in sorted(MODULUS_BYTES)]


@pytest.mark.parametrize(("algorithm", "spec"), ALGORITHM_SPECS)
def test_a_client_wrap_unwraps(algorithm: str, spec: str) -> None:
    private_der, public_der = wrapping_key(spec)
    material = os.urandom(32)
    assert (
        unwrap_key_material(private_der, algorithm, client_wrap(public_der, algorithm, material))
        == material
    )


@pytest.mark.parametrize(("algorithm", "spec"), ALGORITHM_SPECS)
def test_our_wrap_is_what_aws_documents(algorithm: str, spec: str) -> None:
    """wrap_key_material, undone by hand: RSA-OAEP with the algorithm's hash for digest and
    MGF1, and for RSA_AES the modulus-sized OAEP block followed by RFC 5649 KWP."""
    private_der, public_der = wrapping_key(spec)
    private = serialization.load_der_private_key(private_der, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    material = os.urandom(48)
    wrapped = wrap_key_material(public_der, algorithm, material)
    size = MODULUS_BYTES[spec]
    if algorithm.startswith("RSAES_OAEP"):
        assert len(wrapped) == size
        assert private.decrypt(wrapped, oaep(algorithm)) == material
    else:
        aes_key = private.decrypt(wrapped[:size], oaep(algorithm))
        assert len(aes_key) == 32
        assert aes_key_unwrap_with_padding(aes_key, wrapped[size:]) == material


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    material=st.binary(min_size=1, max_size=2000),
    algorithm=st.sampled_from(["RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"]),
)
def test_kwp_framing_round_trips_any_length(material: bytes, algorithm: str) -> None:
    private_der, public_der = wrapping_key("RSA_2048")
    wrapped = client_wrap(public_der, algorithm, material)
    # KWP: 8 bytes of integrity check plus the material padded to a multiple of 8 (RFC 5649).
    assert len(wrapped) == 256 + 8 + -(-len(material) // 8) * 8
    assert unwrap_key_material(private_der, algorithm, wrapped) == material


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_altered_kwp_is_an_invalid_ciphertext(data: st.DataObject) -> None:
    private_der, public_der = wrapping_key("RSA_2048")
    wrapped = bytearray(client_wrap(public_der, "RSA_AES_KEY_WRAP_SHA_256", os.urandom(32)))
    index = data.draw(st.integers(min_value=0, max_value=len(wrapped) - 1))
    wrapped[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(InvalidCiphertextException):
        unwrap_key_material(private_der, "RSA_AES_KEY_WRAP_SHA_256", bytes(wrapped))


def test_the_wrong_algorithm_or_key_does_not_unwrap() -> None:
    private_der, public_der = wrapping_key("RSA_2048")
    other_private, _ = key_import.new_wrapping_key("RSA_2048")
    material = os.urandom(32)
    with pytest.raises(InvalidCiphertextException):
        unwrap_key_material(
            private_der, "RSAES_OAEP_SHA_1", client_wrap(public_der, "RSAES_OAEP_SHA_256", material)
        )
    with pytest.raises(InvalidCiphertextException):
        unwrap_key_material(
            other_private,
            "RSAES_OAEP_SHA_256",
            client_wrap(public_der, "RSAES_OAEP_SHA_256", material),
        )
    with pytest.raises(InvalidCiphertextException):
        unwrap_key_material(
            private_der,
            "RSA_AES_KEY_WRAP_SHA_256",
            client_wrap(public_der, "RSA_AES_KEY_WRAP_SHA_1", material),
        )


def test_an_aes_key_that_is_not_256_bits_is_refused() -> None:
    private_der, public_der = wrapping_key("RSA_2048")
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    aes_key = os.urandom(16)
    algorithm = "RSA_AES_KEY_WRAP_SHA_256"
    wrapped = public.encrypt(aes_key, oaep(algorithm)) + aes_key_wrap_with_padding(
        aes_key, os.urandom(32)
    )
    with pytest.raises(InvalidCiphertextException):
        unwrap_key_material(private_der, algorithm, wrapped)


@pytest.mark.parametrize(
    ("algorithm", "size"),
    [
        ("RSAES_OAEP_SHA_256", 255),
        ("RSAES_OAEP_SHA_256", 257),
        ("RSAES_OAEP_SHA_1", 512),
        ("RSA_AES_KEY_WRAP_SHA_256", 256),  # no KWP part
        ("RSA_AES_KEY_WRAP_SHA_256", 256 + 8),  # a KWP part is at least 16 bytes
        ("RSA_AES_KEY_WRAP_SHA_1", 256 + 20),  # not a multiple of 8
    ],
)
def test_sizes_no_algorithm_produces(algorithm: str, size: int) -> None:
    private_der, _ = wrapping_key("RSA_2048")
    with pytest.raises(EncryptedSizeError, match=re.escape("Invalid encrypted key size.")):
        unwrap_key_material(private_der, algorithm, os.urandom(size))


# -- material forms -------------------------------------------------------------------------------


def pkcs8(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@functools.cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def test_symmetric_material_is_exactly_32_bytes() -> None:
    material = os.urandom(32)
    assert check_material("SYMMETRIC_DEFAULT", material) == material
    for size in (0, 16, 31, 33, 64):
        with pytest.raises(MaterialError, match="exactly 32 bytes"):
            check_material("SYMMETRIC_DEFAULT", os.urandom(size))


@pytest.mark.parametrize(
    ("spec", "shortest"), [("HMAC_224", 28), ("HMAC_256", 32), ("HMAC_384", 48), ("HMAC_512", 64)]
)
def test_hmac_material_from_the_digest_length_to_1024_bits(spec: str, shortest: int) -> None:
    for size in (shortest, 100, 128):
        material = os.urandom(size)
        assert check_material(spec, material) == material
    for size in (shortest - 1, 129):
        with pytest.raises(MaterialError, match=f"{shortest} to 128 bytes"):
            check_material(spec, os.urandom(size))


@pytest.mark.parametrize("bits", [2048, 3072])
def test_rsa_material_is_pkcs8_of_the_size(bits: int) -> None:
    der = pkcs8(rsa_key(bits))
    assert check_material(f"RSA_{bits}", der) == der
    other = 3072 if bits == 2048 else 2048
    with pytest.raises(MaterialError, match=f"PKCS #8 private key of key spec RSA_{other}"):
        check_material(f"RSA_{other}", der)


def test_pkcs1_and_sec1_are_not_pkcs8() -> None:
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    none = serialization.NoEncryption()
    der = serialization.Encoding.DER
    with pytest.raises(MaterialError):
        check_material("RSA_2048", rsa_key(2048).private_bytes(der, traditional, none))
    p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(MaterialError):
        check_material("ECC_NIST_P256", p256.private_bytes(der, traditional, none))
    assert check_material("ECC_NIST_P256", pkcs8(p256)) == pkcs8(p256)


def test_an_inconsistent_rsa_key_is_refused() -> None:
    """Imported RSA keys get the full consistency check (ours skip it: they are sealed)."""
    numbers = rsa_key(2048).private_numbers()
    broken = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d,
        dmp1=numbers.dmp1,
        dmq1=numbers.dmq1 ^ 2,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    )
    der = broken.private_key(unsafe_skip_rsa_key_validation=True).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(MaterialError):
        check_material("RSA_2048", der)


@pytest.mark.parametrize(
    ("spec", "curve"),
    [
        ("ECC_NIST_P256", ec.SECP256R1),
        ("ECC_NIST_P384", ec.SECP384R1),
        ("ECC_NIST_P521", ec.SECP521R1),
        ("ECC_SECG_P256K1", ec.SECP256K1),
    ],
)
def test_ecc_material_is_pkcs8_on_the_curve(spec: str, curve: type[ec.EllipticCurve]) -> None:
    der = pkcs8(ec.generate_private_key(curve()))
    assert check_material(spec, der) == der
    other = "ECC_NIST_P384" if spec != "ECC_NIST_P384" else "ECC_NIST_P256"
    with pytest.raises(MaterialError):
        check_material(other, der)
    with pytest.raises(MaterialError):
        check_material("RSA_2048", der)


def test_specs_that_take_no_imported_material() -> None:
    der = pkcs8(ed25519.Ed25519PrivateKey.generate())
    for spec in ("ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_KEM_768", "SM2"):
        assert spec not in key_import.IMPORTABLE_SPECS
        with pytest.raises(MaterialError, match=f"cannot be imported into a {spec} key"):
            check_material(spec, der)


@given(garbage=st.binary(max_size=300))
def test_garbage_is_not_a_private_key(garbage: bytes) -> None:
    with pytest.raises(MaterialError):
        check_material("ECC_NIST_P256", garbage)


def test_errors_never_show_the_material() -> None:
    material = os.urandom(31)
    with pytest.raises(MaterialError) as info:
        check_material("SYMMETRIC_DEFAULT", material)
    assert material.hex() not in str(info.value)


# -- the material id ------------------------------------------------------------------------------


@given(
    id_key=st.binary(min_size=32, max_size=32),
    key_id=st.uuids().map(str),
    material=st.binary(min_size=1, max_size=200),
)
def test_material_ids_are_deterministic_64_hex(id_key: bytes, key_id: str, material: bytes) -> None:
    found = material_id(id_key, key_id, material)
    assert re.fullmatch(r"[0-9a-f]{64}", found)
    assert found == material_id(id_key, key_id, material)
    assert found != material_id(id_key, key_id, material + b"\0")
    assert found != material_id(bytes(32) if id_key != bytes(32) else b"\1" * 32, key_id, material)
    other_key = "mrk-" + "0" * 32
    assert found != material_id(id_key, other_key, material)


def test_a_material_id_is_no_bare_hash_of_the_material() -> None:
    material = os.urandom(32)
    found = material_id(os.urandom(32), "k", material)
    assert found not in {
        hashlib.sha256(material).hexdigest(),
        hashlib.sha256(b"k" + material).hexdigest(),
    }
