"""The ECDH primitive of DeriveSharedSecret: Wycheproof known answers, agreement with
``cryptography`` computed from the peer's side for random peer keys, and every unusable peer key
(off the curve, another curve, not EC, malformed DER) refused with PeerKeyError and nothing else."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    ed25519,
    mlkem,
    rsa,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.crypto import agreement
from strongroom.crypto.asymmetric import load_private_key, new_private_key

SPECS = agreement.AGREEMENT_SPECS
CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
}
PRIMES = {
    "ECC_NIST_P256": 2**256 - 2**224 + 2**192 + 2**96 - 1,
    "ECC_NIST_P384": 2**384 - 2**128 - 2**96 + 2**32 - 1,
    "ECC_NIST_P521": 2**521 - 1,
}
# DER of the AlgorithmIdentifier parts: id-ecPublicKey, then each curve's named-curve OID.
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")
CURVE_OIDS = {
    "ECC_NIST_P256": bytes.fromhex("06082a8648ce3d030107"),
    "ECC_NIST_P384": bytes.fromhex("06052b81040022"),
    "ECC_NIST_P521": bytes.fromhex("06052b81040023"),
}

# Wycheproof ecdh_secp256r1_test.json (C2SP/wycheproof testvectors_v1), tcIds 1-4: a normal case,
# the same public key compressed, and shared secrets with x-coordinate 0 and p-3.
WYCHEPROOF_P256 = [
    (
        "3059301306072a8648ce3d020106082a8648ce3d0301070342000462d5bd3372af75fe85a040715d0f5024"
        "28e07046868b0bfdfa61d731afe44f26ac333a93a9e70a81cd5a95b5bf8d13990eb741c8c38872b4a07d27"
        "5a014e30cf",
        "0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346",
        "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285",
    ),
    (
        "3039301306072a8648ce3d020106082a8648ce3d0301070322000362d5bd3372af75fe85a040715d0f5024"
        "28e07046868b0bfdfa61d731afe44f26",
        "0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346",
        "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285",
    ),
    (
        "3059301306072a8648ce3d020106082a8648ce3d0301070342000458fd4168a87795603e2b04390285bdca"
        "6e57de6027fe211dd9d25e2212d29e62080d36bd224d7405509295eed02a17150e03b314f96da37445b0d1"
        "d29377d12c",
        "0a0d622a47e48f6bc1038ace438c6f528aa00ad2bd1da5f13ee46bf5f633d71a",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "3059301306072a8648ce3d020106082a8648ce3d03010703420004a1ecc24bf0d0053d23f5fd80ddf1735a"
        "1925039dc1176c581a7e795163c8b9ba2cb5a4e4d5109f4527575e3137b83d79a9bcb3faeff90d2aca2bed"
        "71bb523e7e",
        "0a0d622a47e48f6bc1038ace438c6f528aa00ad2bd1da5f13ee46bf5f633d71a",
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
    ),
]

_KEYS: dict[str, ec.EllipticCurvePrivateKey] = {}


def kms_key(spec: str) -> ec.EllipticCurvePrivateKey:
    """One KMS-style private key per spec, made and loaded the way the key store does."""
    if spec not in _KEYS:
        key = load_private_key(new_private_key(spec))
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        _KEYS[spec] = key
    return _KEYS[spec]


def spki_der(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 0x80 else bytes([0x81, size]) if size < 0x100 else b""
    assert length, "no test SPKI is that long"
    return bytes([tag]) + length + body


def hand_spki(spec: str, point: bytes) -> bytes:
    """A SubjectPublicKeyInfo built byte by byte: SEQUENCE { SEQUENCE { id-ecPublicKey, curve },
    BIT STRING (no unused bits) point }."""
    algorithm = _tlv(0x30, EC_PUBLIC_KEY_OID + CURVE_OIDS[spec])
    return _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + point))


def uncompressed(spec: str, x: int, y: int) -> bytes:
    size = agreement.shared_secret_size(spec)
    return b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")


def refused(private: ec.EllipticCurvePrivateKey, peer_der: bytes) -> str:
    with pytest.raises(agreement.PeerKeyError) as info:
        agreement.derive_shared_secret(private, peer_der)
    return str(info.value)


@pytest.mark.parametrize(("public", "private", "shared"), WYCHEPROOF_P256)
def test_wycheproof_p256_known_answers(public: str, private: str, shared: str) -> None:
    key = ec.derive_private_key(int(private, 16), ec.SECP256R1())
    secret = agreement.derive_shared_secret(key, bytes.fromhex(public))
    assert secret.hex() == shared


@pytest.mark.parametrize("spec", SPECS)
def test_the_hand_built_spki_is_what_cryptography_encodes(spec: str) -> None:
    """The builder the negative tests use makes exactly the DER of a real key."""
    numbers = kms_key(spec).public_key().public_numbers()
    assert hand_spki(spec, uncompressed(spec, numbers.x, numbers.y)) == spki_der(kms_key(spec))


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalar=st.integers(min_value=1, max_value=2**255))
def test_agrees_with_the_peer_side_for_random_peer_keys(spec: str, scalar: int) -> None:
    peer = ec.derive_private_key(scalar, CURVES[spec])
    ours = agreement.derive_shared_secret(kms_key(spec), spki_der(peer))
    theirs = peer.exchange(ec.ECDH(), kms_key(spec).public_key())
    assert ours == theirs
    assert len(ours) == agreement.shared_secret_size(spec) == (CURVES[spec].key_size + 7) // 8


@pytest.mark.parametrize("spec", SPECS)
def test_a_compressed_or_negated_peer_point_gives_the_same_secret(spec: str) -> None:
    """ECDH keeps only the x-coordinate, so -Q (same x) agrees to the same secret as Q."""
    peer = ec.generate_private_key(CURVES[spec])
    expected = agreement.derive_shared_secret(kms_key(spec), spki_der(peer))
    compressed = peer.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert agreement.derive_shared_secret(kms_key(spec), hand_spki(spec, compressed)) == expected
    numbers = peer.public_key().public_numbers()
    negated = hand_spki(spec, uncompressed(spec, numbers.x, PRIMES[spec] - numbers.y))
    assert agreement.derive_shared_secret(kms_key(spec), negated) == expected


@pytest.mark.parametrize("spec", SPECS)
def test_a_point_off_the_curve_is_refused(spec: str) -> None:
    numbers = ec.generate_private_key(CURVES[spec]).public_key().public_numbers()
    off = hand_spki(spec, uncompressed(spec, numbers.x, (numbers.y + 1) % PRIMES[spec]))
    assert refused(kms_key(spec), off) == (
        "PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo holding a valid elliptic "
        "curve point."
    )
    zero = hand_spki(spec, uncompressed(spec, 0, 0))
    assert refused(kms_key(spec), zero).startswith("PublicKey must be a DER-encoded")
    infinity = hand_spki(spec, b"\x00")
    assert refused(kms_key(spec), infinity).startswith("PublicKey must be a DER-encoded")


def test_a_coordinate_not_reduced_modulo_p_is_refused() -> None:
    """x + p names the same field element as x, but it is not a valid encoding."""
    spec = "ECC_NIST_P521"  # 66-byte coordinates leave room for x + p (p = 2**521 - 1)
    numbers = ec.generate_private_key(CURVES[spec]).public_key().public_numbers()
    unreduced = hand_spki(spec, uncompressed(spec, numbers.x + PRIMES[spec], numbers.y))
    assert refused(kms_key(spec), unreduced).startswith("PublicKey must be a DER-encoded")


@pytest.mark.parametrize(
    ("spec", "other"),
    [(spec, other) for spec in SPECS for other in (*SPECS, "ECC_SECG_P256K1") if other != spec],
)
def test_a_peer_key_on_another_curve_is_refused(spec: str, other: str) -> None:
    curve = ec.SECP256K1() if other == "ECC_SECG_P256K1" else CURVES[other]
    message = refused(kms_key(spec), spki_der(ec.generate_private_key(curve)))
    assert message == (
        f"PublicKey is on curve {curve.name}, but key spec {spec} needs a public key on curve "
        f"{CURVES[spec].name}."
    )


def test_a_public_key_that_is_not_ec_is_refused() -> None:
    private = kms_key("ECC_NIST_P256")
    der_format = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    others = [
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(*der_format),
        ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(*der_format),
        mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes(*der_format),
    ]
    for der in others:
        assert refused(private, der) == (
            "PublicKey is not an elliptic curve public key; key spec ECC_NIST_P256 needs a "
            "public key on curve secp256r1."
        )


@pytest.mark.parametrize("spec", SPECS)
def test_malformed_der_is_refused(spec: str) -> None:
    der = spki_der(ec.generate_private_key(CURVES[spec]))
    private_der = new_private_key(spec)
    for bad in (der[:-1], der[: len(der) // 2], der + b"\x00", b"\x30\x00", b"not a key",
                private_der):  # fmt: skip
        assert refused(kms_key(spec), bad).startswith("PublicKey must be a DER-encoded")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_corruption_of_a_peer_key_escapes_as_another_error(data: st.DataObject) -> None:
    """A flipped byte anywhere in a valid SPKI is either still a usable key (then the secret has
    the curve's length) or a PeerKeyError: never an unexpected exception (a 500)."""
    spec = data.draw(st.sampled_from(SPECS))
    der = bytearray(spki_der(ec.generate_private_key(CURVES[spec])))
    index = data.draw(st.integers(0, len(der) - 1))
    der[index] ^= data.draw(st.integers(1, 255))
    try:
        secret = agreement.derive_shared_secret(kms_key(spec), bytes(der))
    except agreement.PeerKeyError:
        return
    assert len(secret) == agreement.shared_secret_size(spec)


@settings(max_examples=60, deadline=None)
@given(junk=st.binary(min_size=1, max_size=200))
def test_arbitrary_bytes_are_a_peer_key_error(junk: bytes) -> None:
    with pytest.raises(agreement.PeerKeyError):
        agreement.derive_shared_secret(kms_key("ECC_NIST_P384"), junk)


def test_only_nist_curve_keys_agree() -> None:
    with pytest.raises(ValueError, match="no key agreement"):
        agreement.peer_public_key("ECC_SECG_P256K1", spki_der(kms_key("ECC_NIST_P256")))
    k1 = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(ValueError, match="no key agreement"):
        agreement.derive_shared_secret(k1, spki_der(ec.generate_private_key(ec.SECP256K1())))
    kem_key = load_private_key(new_private_key("ML_KEM_768"))
    with pytest.raises(TypeError, match="elliptic curve"):
        agreement.derive_shared_secret(kem_key, spki_der(kms_key("ECC_NIST_P256")))


def test_a_refusal_never_carries_the_key_bytes() -> None:
    der = hand_spki("ECC_NIST_P256", uncompressed("ECC_NIST_P256", 5, 7))
    message = refused(kms_key("ECC_NIST_P256"), der)
    assert der.hex() not in message
    assert der.hex().upper() not in message
