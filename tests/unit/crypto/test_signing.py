"""The signing primitives: every spec and algorithm, checked against ``cryptography``'s own
verification with the public key we export, plus RAW/DIGEST equivalence and opaque failures."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    padding,
    rsa,
    utils,
)

from strongroom.crypto import signing
from strongroom.errors import KMSInvalidSignatureException

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
PRIVATE: dict[str, bytes] = {}


def _private(spec: str) -> bytes:
    if spec not in PRIVATE:
        PRIVATE[spec] = signing.new_private_key(spec)
    return PRIVATE[spec]


def _offline_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes) -> None:
    public = serialization.load_der_public_key(public_der)
    chosen = HASHES[algorithm[-3:]]
    if isinstance(public, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
        if "PSS" in algorithm:
            pad = padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
        public.verify(signature, message, pad, chosen)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(chosen))


CASES = [(spec, alg) for spec, algs in signing.SIGNING_ALGORITHMS.items() for alg in algs]


@pytest.mark.parametrize(("spec", "algorithm"), CASES)
def test_raw_and_digest_signatures_verify_offline(spec: str, algorithm: str) -> None:
    private = _private(spec)
    public = signing.public_key_der(private)
    message = b"strongroom signs " + spec.encode()
    digest = hashlib.new("sha" + algorithm[-3:], message).digest()
    assert len(digest) == signing.digest_size(algorithm)
    raw = signing.sign(spec, algorithm, private, message, "RAW")
    by_digest = signing.sign(spec, algorithm, private, digest, "DIGEST")
    for signature in (raw, by_digest):
        _offline_verify(public, algorithm, message, signature)
        signing.verify(spec, algorithm, private, message, "RAW", signature=signature)
        signing.verify(spec, algorithm, private, digest, "DIGEST", signature=signature)


def test_pss_salt_is_the_digest_length() -> None:
    private = _private("RSA_2048")
    public = serialization.load_der_public_key(signing.public_key_der(private))
    assert isinstance(public, rsa.RSAPublicKey)
    signature = signing.sign("RSA_2048", "RSASSA_PSS_SHA_384", private, b"m", "RAW")
    wrong = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=20)
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"m", wrong, hashes.SHA384())
    digest = hashlib.sha384(b"m").digest()
    right = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    public.verify(signature, digest, right, utils.Prehashed(hashes.SHA384()))


def test_ecdsa_signatures_are_der() -> None:
    signature = signing.sign(
        "ECC_NIST_P384", "ECDSA_SHA_384", _private("ECC_NIST_P384"), b"m", "RAW"
    )
    r, s = utils.decode_dss_signature(signature)
    assert r > 0
    assert s > 0


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1"])
def test_tampered_or_truncated_signatures_raise_without_message(spec: str) -> None:
    algorithm = signing.SIGNING_ALGORITHMS[spec][0]
    private = _private(spec)
    signature = signing.sign(spec, algorithm, private, b"m", "RAW")
    tampered = bytes([signature[0]]) + bytes([signature[1] ^ 1]) + signature[2:]
    for bad, message in ((tampered, b"m"), (signature[:-1], b"m"), (signature, b"n"), (b"", b"m")):
        with pytest.raises(KMSInvalidSignatureException) as info:
            signing.verify(spec, algorithm, private, message, "RAW", signature=bad)
        assert str(info.value) == "KMSInvalidSignatureException"


def test_keys_have_their_spec_and_unknown_specs_fail() -> None:
    p521 = serialization.load_der_private_key(_private("ECC_NIST_P521"), password=None)
    assert isinstance(p521, ec.EllipticCurvePrivateKey)
    assert p521.curve.name == "secp521r1"
    k1 = serialization.load_der_private_key(_private("ECC_SECG_P256K1"), password=None)
    assert isinstance(k1, ec.EllipticCurvePrivateKey)
    assert k1.curve.name == "secp256k1"
    rsa3072 = serialization.load_der_private_key(signing.new_private_key("RSA_3072"), password=None)
    assert isinstance(rsa3072, rsa.RSAPrivateKey)
    assert rsa3072.key_size == 3072
    with pytest.raises(ValueError, match="HMAC_256"):
        signing.new_private_key("HMAC_256")
    with pytest.raises(ValueError, match="not an algorithm"):
        signing.sign("ECC_NIST_P256", "ECDSA_SHA_384", _private("ECC_NIST_P256"), b"m", "RAW")
