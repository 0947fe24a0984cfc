"""The signing primitives for every signing spec and algorithm of ``keyspecs``: each signature
checked against ``cryptography``'s own verification with the key's public key, RAW/DIGEST
equivalence and separation, ML-DSA's external mu, and Wycheproof-style bad signatures that must
fail opaquely."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    ed25519,
    mldsa,
    padding,
    rsa,
    utils,
)

from strongroom.crypto import asymmetric, keyspecs, signing
from strongroom.domain.keys import KeySpec
from strongroom.errors import KMSInvalidSignatureException

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493  # L of RFC 8032
CURVE_ORDERS = {
    "ECC_NIST_P256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ECC_SECG_P256K1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}
SIGNING_SPECS = [
    spec
    for spec in KeySpec
    if keyspecs.algorithms(spec, "SIGN_VERIFY") and spec not in keyspecs.UNSUPPORTED_SPECS
]
CASES = [
    (spec, algorithm)
    for spec in SIGNING_SPECS
    for algorithm in keyspecs.algorithms(spec, "SIGN_VERIFY")
    if algorithm not in keyspecs.UNSUPPORTED_ALGORITHMS
]
KEYS: dict[str, asymmetric.PrivateKey] = {}


def _key(spec: str, *, fresh: bool = False) -> asymmetric.PrivateKey:
    if fresh:
        return asymmetric.load_private_key(asymmetric.new_private_key(spec))
    if spec not in KEYS:
        KEYS[spec] = _key(spec, fresh=True)
    return KEYS[spec]


def _offline_verify(key: asymmetric.PrivateKey, algorithm: str, message: bytes, sig: bytes) -> None:
    """``cryptography``'s standard verification of a RAW message, apart from the code tested."""
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        chosen = HASHES[algorithm[-3:]]
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
        if "PSS" in algorithm:
            pad = padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
        public.verify(sig, message, pad, chosen)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(sig, message, ec.ECDSA(HASHES[algorithm[-3:]]))
    elif isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(sig, message)
    else:
        assert isinstance(
            public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
        )
        public.verify(sig, message)


def _mu(key: asymmetric.PrivateKey, message: bytes) -> bytes:
    """FIPS 204's mu for an empty context, by hand: SHAKE256(tr || 0x00 || 0x00 || M, 64) with
    tr = SHAKE256(pk, 64)."""
    public = key.public_key()
    assert isinstance(
        public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
    )
    tr = hashlib.shake_256(public.public_bytes_raw()).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


def _invalid(
    key: asymmetric.PrivateKey, algorithm: str, message: bytes, kind: str, sig: bytes
) -> None:
    with pytest.raises(KMSInvalidSignatureException) as info:
        signing.verify(key, algorithm, message, kind, signature=sig)
    assert info.value.message is None
    assert str(info.value) == "KMSInvalidSignatureException"


@pytest.mark.parametrize(("spec", "algorithm"), CASES)
def test_raw_signatures_verify_offline_and_in_strongroom(spec: str, algorithm: str) -> None:
    key = _key(spec)
    message = b"strongroom signs " + spec.encode()
    signature = signing.sign(key, algorithm, message, "RAW")
    _offline_verify(key, algorithm, message, signature)
    signing.verify(key, algorithm, message, "RAW", signature=signature)
    _invalid(key, algorithm, message + b"!", "RAW", signature)


@pytest.mark.parametrize(("spec", "algorithm"), [c for c in CASES if c[1][:2] in ("RS", "EC")])
def test_digest_and_raw_are_interchangeable_for_the_same_hash(spec: str, algorithm: str) -> None:
    key = _key(spec)
    message = b"hash me"
    digest = hashlib.new("sha" + algorithm[-3:], message).digest()
    assert signing.message_length(algorithm, "DIGEST") == len(digest)
    by_digest = signing.sign(key, algorithm, digest, "DIGEST")
    by_raw = signing.sign(key, algorithm, message, "RAW")
    for signature in (by_digest, by_raw):
        _offline_verify(key, algorithm, message, signature)
        signing.verify(key, algorithm, message, "RAW", signature=signature)
        signing.verify(key, algorithm, digest, "DIGEST", signature=signature)


@pytest.mark.parametrize(("spec", "algorithm"), [c for c in CASES if c[1][:2] in ("RS", "EC")])
def test_raw_and_digest_of_the_same_bytes_never_mix(spec: str, algorithm: str) -> None:
    """The same bytes ``m`` (of a digest's length) signed as RAW are H(m); as DIGEST they are m:
    neither signature verifies as the other type."""
    key = _key(spec)
    same = bytes(range(signing.message_length(algorithm, "DIGEST") or 0))
    as_raw = signing.sign(key, algorithm, same, "RAW")
    as_digest = signing.sign(key, algorithm, same, "DIGEST")
    _invalid(key, algorithm, same, "DIGEST", as_raw)
    _invalid(key, algorithm, same, "RAW", as_digest)


def test_every_signing_spec_and_served_algorithm_is_covered() -> None:
    assert {spec for spec, _ in CASES} == {
        "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
        "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
    }  # fmt: skip
    assert len(CASES) == 3 * 6 + 4 + 1 + 3
    assert ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512") not in CASES


def test_message_types_and_lengths_per_algorithm() -> None:
    assert signing.message_types("ECDSA_SHA_384") == ("RAW", "DIGEST")
    assert signing.message_types("RSASSA_PSS_SHA_512") == ("RAW", "DIGEST")
    assert signing.message_types("ED25519_SHA_512") == ("RAW",)
    assert signing.message_types("ED25519_PH_SHA_512") == ("DIGEST",)
    assert signing.message_types("ML_DSA_SHAKE_256") == ("RAW", "EXTERNAL_MU")
    assert signing.message_types("NOPE") == ()
    assert [signing.message_length(a, "DIGEST") for a in ("ECDSA_SHA_256", "ECDSA_SHA_384")] == [
        32,
        48,
    ]
    assert signing.message_length("RSASSA_PKCS1_V1_5_SHA_512", "DIGEST") == 64
    assert signing.message_length("ED25519_PH_SHA_512", "DIGEST") == 64
    assert signing.message_length("ML_DSA_SHAKE_256", "EXTERNAL_MU") == signing.MU_SIZE == 64
    assert signing.message_length("ED25519_SHA_512", "RAW") is None
    for spec in SIGNING_SPECS:
        for algorithm in keyspecs.algorithms(spec, "SIGN_VERIFY"):
            assert signing.message_types(algorithm), algorithm


def test_pss_salt_is_the_digest_length() -> None:
    key = _key("RSA_2048")
    public = key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    signature = signing.sign(key, "RSASSA_PSS_SHA_384", b"m", "RAW")
    wrong = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=20)
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"m", wrong, hashes.SHA384())
    digest = hashlib.sha384(b"m").digest()
    right = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    public.verify(signature, digest, right, utils.Prehashed(hashes.SHA384()))


def test_ecdsa_signatures_are_der_and_ed25519_signatures_64_bytes() -> None:
    signature = signing.sign(_key("ECC_NIST_P384"), "ECDSA_SHA_384", b"m", "RAW")
    r, s = utils.decode_dss_signature(signature)
    assert utils.encode_dss_signature(r, s) == signature
    assert r > 0
    assert s > 0
    ed = signing.sign(_key("ECC_NIST_EDWARDS25519"), "ED25519_SHA_512", b"m", "RAW")
    assert len(ed) == 64
    assert ed == signing.sign(_key("ECC_NIST_EDWARDS25519"), "ED25519_SHA_512", b"m", "RAW")


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_ml_dsa_external_mu_is_the_raw_signature_of_the_message(spec: str) -> None:
    key = _key(spec)
    message = b"a long document, hashed by the caller into mu" * 3
    mu = _mu(key, message)
    public = key.public_key()
    assert isinstance(
        public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
    )
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(message)
    assert hasher.finalize() == mu
    by_mu = signing.sign(key, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU")
    by_raw = signing.sign(key, "ML_DSA_SHAKE_256", message, "RAW")
    for signature in (by_mu, by_raw):
        public.verify(signature, message)  # pure ML-DSA, empty context
        signing.verify(key, "ML_DSA_SHAKE_256", message, "RAW", signature=signature)
        signing.verify(key, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU", signature=signature)
    _invalid(key, "ML_DSA_SHAKE_256", _mu(key, message + b"!"), "EXTERNAL_MU", by_raw)
    # RAW signs with an empty context: a signature under another context is not ours.
    assert isinstance(key, asymmetric.MLDSAPrivateKey)
    _invalid(key, "ML_DSA_SHAKE_256", message, "RAW", key.sign(message, b"ctx"))
    # Nor does the mu of one key sign for another key's public key.
    other = _key(spec, fresh=True)
    _invalid(other, "ML_DSA_SHAKE_256", message, "RAW", by_mu)


def _flip(signature: bytes, index: int) -> bytes:
    return signature[:index] + bytes([signature[index] ^ 0x01]) + signature[index + 1 :]


@pytest.mark.parametrize(("spec", "algorithm"), CASES)
def test_bad_signatures_fail_opaquely(spec: str, algorithm: str) -> None:
    key = _key(spec)
    message = b"pay 10"
    signature = signing.sign(key, algorithm, message, "RAW")
    other_key = signing.sign(_key(spec, fresh=True), algorithm, message, "RAW")
    bad = {
        "truncated": signature[:-1],
        "extended": signature + b"\x00",
        "first bit": _flip(signature, 0),
        "middle bit": _flip(signature, len(signature) // 2),
        "last bit": _flip(signature, len(signature) - 1),
        "empty": b"",
        "zeros": bytes(len(signature)),
        "other key": other_key,
    }
    for name, sig in bad.items():
        assert sig != signature, name
        _invalid(key, algorithm, message, "RAW", sig)


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_SECG_P256K1"])
def test_ecdsa_encoding_and_range_cases(spec: str) -> None:
    """Wycheproof-style ECDSA cases. The mirror (r, n - s) of a signature is a valid ECDSA
    signature, and KMS does not normalise S (its own signatures are high-S half the time), so
    it verifies; out-of-range values and non-DER encodings do not."""
    key, n = _key(spec), CURVE_ORDERS[spec]
    signature = signing.sign(key, "ECDSA_SHA_256", b"m", "RAW")
    r, s = utils.decode_dss_signature(signature)
    signing.verify(
        key, "ECDSA_SHA_256", b"m", "RAW", signature=utils.encode_dss_signature(r, n - s)
    )
    body = signature[2:]
    for bad in (
        utils.encode_dss_signature(r, 0),
        utils.encode_dss_signature(0, s),
        utils.encode_dss_signature(r, n),
        utils.encode_dss_signature(r, s + n),
        utils.encode_dss_signature(r + n, s),
        b"\x30\x81" + bytes([len(body)]) + body,  # BER long-form length
        r.to_bytes(32, "big") + s.to_bytes(32, "big"),  # raw r || s, not DER
        b"\x30\x00",
        b"\x30\x06\x02\x01\x01\x02\x01",
        b"garbage!",
    ):
        _invalid(key, "ECDSA_SHA_256", b"m", "RAW", bad)


def test_ed25519_rejects_a_non_canonical_s() -> None:
    key = _key("ECC_NIST_EDWARDS25519")
    signature = signing.sign(key, "ED25519_SHA_512", b"m", "RAW")
    s = int.from_bytes(signature[32:], "little")
    high = signature[:32] + (s + ED25519_ORDER).to_bytes(32, "little")
    _invalid(key, "ED25519_SHA_512", b"m", "RAW", high)


def test_requests_outside_the_rules_are_value_errors() -> None:
    p256, ed, ml = _key("ECC_NIST_P256"), _key("ECC_NIST_EDWARDS25519"), _key("ML_DSA_44")
    refused = [
        (p256, "ECDSA_SHA_384", b"m", "RAW", "not an algorithm of ECC_NIST_P256"),
        (p256, "ECDSA_SHA_256", b"m" * 31, "DIGEST", "has 32 bytes"),
        (p256, "ECDSA_SHA_256", b"m" * 64, "EXTERNAL_MU", "not a message type"),
        (ed, "ED25519_SHA_512", b"m" * 64, "DIGEST", "not a message type"),
        (ed, "ED25519_PH_SHA_512", b"m" * 64, "DIGEST", "not supported"),
        (ml, "ML_DSA_SHAKE_256", b"m" * 32, "DIGEST", "not a message type"),
        (ml, "ML_DSA_SHAKE_256", b"m" * 63, "EXTERNAL_MU", "has 64 bytes"),
        (_key("ML_KEM_768"), "ML_DSA_SHAKE_256", b"m", "RAW", "not an algorithm of ML_KEM_768"),
    ]
    for key, algorithm, message, kind, match in refused:
        with pytest.raises(ValueError, match=match):
            signing.sign(key, algorithm, message, kind)
        with pytest.raises(ValueError, match=match):
            signing.verify(key, algorithm, message, kind, signature=b"s")
