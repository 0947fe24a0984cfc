"""Asymmetric signing keys over HTTP (kms-spec.md 4.2, 4.3, 17.3, section 19 items 15 and 17): a
production-mode server, boto3 and the AWS CLI, for every signing spec (RSA, ECDSA, Ed25519,
ML-DSA). Every signature is also verified offline with ``cryptography`` and the public key from
GetPublicKey, so the server is proved to make real signatures; a signature made locally with the
key's private key (read from the server's store) is verified by the server; ML-DSA's external mu
is computed locally. Bad signatures, message types and lengths get AWS's errors, and key policies
can restrict kms:SigningAlgorithm and kms:MessageType."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    ed25519,
    mldsa,
    padding,
    rsa,
    utils,
)

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

RSA = [
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
]  # fmt: skip
ED25519 = ["ED25519_SHA_512", "ED25519_PH_SHA_512"]
ML_DSA = ["ML_DSA_SHAKE_256"]
# spec -> the SigningAlgorithms AWS lists for it, in AWS's order
SPECS = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    "RSA_2048": RSA,
    "RSA_3072": RSA,
    "RSA_4096": RSA,
    "ECC_NIST_EDWARDS25519": ED25519,
    "ML_DSA_44": ML_DSA,
    "ML_DSA_65": ML_DSA,
    "ML_DSA_87": ML_DSA,
}
ED25519PH_REASON = (
    "Signing algorithm ED25519_PH_SHA_512 (Ed25519ph) is not supported by Strongroom: its "
    "cryptography library offers pure Ed25519 only. Use ED25519_SHA_512."
)
SERVED = {spec: [a for a in algs if a != "ED25519_PH_SHA_512"] for spec, algs in SPECS.items()}
CASES = [(spec, algorithm) for spec, algs in SERVED.items() for algorithm in algs]
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
MLDSA_PUBLIC = (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)
MLDSA_PRIVATE = (mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
USAGE = "InvalidKeyUsageException"
INVALID = "KMSInvalidSignatureException"
A = "111122223333"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("signing") / "data")
    yield started
    started.stop()


def new_signing_key(server: Server, spec: str = "ECC_NIST_P256") -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


@pytest.fixture(scope="module")
def signing_key(server: Server) -> Callable[[str], dict[str, Any]]:
    """One key per spec for the whole module (RSA_4096 keys take a while to make)."""
    made: dict[str, dict[str, Any]] = {}

    def get(spec: str) -> dict[str, Any]:
        if spec not in made:
            made[spec] = new_signing_key(server, spec)
        return made[spec]

    return get


def _padding(algorithm: str) -> padding.AsymmetricPadding:
    chosen = HASHES[algorithm[-3:]]
    if algorithm.startswith("RSASSA_PSS_"):
        return padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
    return padding.PKCS1v15()


def offline_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes) -> None:
    """Standard verification of ``signature`` over the RAW ``message`` with ``cryptography``."""
    public = serialization.load_der_public_key(public_der)
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, message, _padding(algorithm), HASHES[algorithm[-3:]])
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(HASHES[algorithm[-3:]]))
    elif isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, message)
    else:
        assert isinstance(public, MLDSA_PUBLIC)
        public.verify(signature, message)  # FIPS 204 pure ML-DSA, empty context


def local_sign(private_der: bytes, algorithm: str, message: bytes) -> bytes:
    """``algorithm``'s signature of the RAW ``message`` made here with the key's private key."""
    private = serialization.load_der_private_key(private_der, password=None)
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(message, _padding(algorithm), HASHES[algorithm[-3:]])
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.sign(message, ec.ECDSA(HASHES[algorithm[-3:]]))
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(message)
    assert isinstance(private, MLDSA_PRIVATE)
    return private.sign(message)


def payloads(algorithm: str, message: bytes) -> list[tuple[bytes, str]]:
    """Every (Message, MessageType) that stands for ``message`` under ``algorithm``."""
    if algorithm.startswith(("ED25519", "ML_DSA")):
        return [(message, "RAW")]
    return [(message, "RAW"), (hashlib.new("sha" + algorithm[-3:], message).digest(), "DIGEST")]


def mldsa_mu(public_der: bytes, message: bytes) -> bytes:
    """FIPS 204's mu for an empty context, two ways that must agree: cryptography's
    MLDSAMuHasher, and by hand, SHAKE256(tr || 0x00 || 0x00 || M, 64) with tr = SHAKE256(pk, 64)."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, MLDSA_PUBLIC)
    tr = hashlib.shake_256(public.public_bytes_raw()).digest(64)
    by_hand = hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(message)
    assert hasher.finalize() == by_hand
    return by_hand


@pytest.mark.parametrize("spec", list(SPECS))
def test_every_spec_and_algorithm_makes_real_signatures(
    server: Server, signing_key: Callable[[str], dict[str, Any]], spec: str
) -> None:
    kms, meta = server.client(), signing_key(spec)
    assert meta["SigningAlgorithms"] == SPECS[spec]
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert (described["KeySpec"], described["KeyUsage"]) == (spec, "SIGN_VERIFY")
    assert described["SigningAlgorithms"] == SPECS[spec]
    assert "EncryptionAlgorithms" not in described
    public = kms.get_public_key(KeyId=meta["KeyId"])
    assert (public["KeyId"], public["KeySpec"], public["KeyUsage"]) == (
        meta["Arn"], spec, "SIGN_VERIFY",
    )  # fmt: skip
    assert public["SigningAlgorithms"] == SPECS[spec]
    message = b"signed by strongroom " + spec.encode()
    for algorithm in SERVED[spec]:
        for payload, kind in payloads(algorithm, message):
            made = kms.sign(
                KeyId=meta["KeyId"], Message=payload, MessageType=kind, SigningAlgorithm=algorithm
            )
            assert (made["KeyId"], made["SigningAlgorithm"]) == (meta["Arn"], algorithm)
            offline_verify(public["PublicKey"], algorithm, message, made["Signature"])
            with pytest.raises(InvalidSignature):
                offline_verify(public["PublicKey"], algorithm, message + b"!", made["Signature"])
            checked = kms.verify(
                KeyId=meta["Arn"], Message=payload, MessageType=kind,
                SigningAlgorithm=algorithm, Signature=made["Signature"],
            )  # fmt: skip
            assert (checked["KeyId"], checked["SignatureValid"]) == (meta["Arn"], True)
            assert checked["SigningAlgorithm"] == algorithm


@pytest.mark.parametrize(("spec", "algorithm"), CASES)
def test_a_locally_made_signature_verifies_in_strongroom(
    server: Server, signing_key: Callable[[str], dict[str, Any]], spec: str, algorithm: str
) -> None:
    """The other way round: the stored private key (unwrapped here) signs with ``cryptography``;
    Strongroom verifies it (as RAW, and as the DIGEST where there is one), and rejects it for
    another message."""
    kms, meta = server.client(), signing_key(spec)
    signature = local_sign(raw_material(server, meta), algorithm, b"local")
    params = {"KeyId": meta["KeyId"], "SigningAlgorithm": algorithm, "Signature": signature}
    for payload, kind in payloads(algorithm, b"local"):
        assert kms.verify(Message=payload, MessageType=kind, **params)["SignatureValid"] is True
    code, message, status = aws_error(kms.verify, Message=b"other", **params)
    assert (code, message, status) == (INVALID, "", 400)


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_ml_dsa_external_mu(
    server: Server, signing_key: Callable[[str], dict[str, Any]], spec: str
) -> None:
    """mu computed here signs (EXTERNAL_MU) to a signature that is the pure ML-DSA signature of
    the message, even one over the 4096-byte RAW limit; it verifies as RAW of the message and as
    EXTERNAL_MU of mu, and a locally made mu signature verifies in Strongroom."""
    kms, meta = server.client(), signing_key(spec)
    public_der = kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    base = {"KeyId": meta["KeyId"], "SigningAlgorithm": "ML_DSA_SHAKE_256"}
    message = b"firmware image " * 400  # 6000 bytes: too long for a RAW message
    mu = mldsa_mu(public_der, message)
    made = kms.sign(Message=mu, MessageType="EXTERNAL_MU", **base)
    offline_verify(public_der, "ML_DSA_SHAKE_256", message, made["Signature"])
    assert kms.verify(Message=mu, MessageType="EXTERNAL_MU", Signature=made["Signature"], **base)[
        "SignatureValid"
    ]
    short = b"a message under the limit"
    short_mu = mldsa_mu(public_der, short)
    by_mu = kms.sign(Message=short_mu, MessageType="EXTERNAL_MU", **base)["Signature"]
    by_raw = kms.sign(Message=short, MessageType="RAW", **base)["Signature"]
    for signature in (by_mu, by_raw):
        assert kms.verify(Message=short, MessageType="RAW", Signature=signature, **base)[
            "SignatureValid"
        ]
        assert kms.verify(Message=short_mu, MessageType="EXTERNAL_MU", Signature=signature, **base)[
            "SignatureValid"
        ]
        # RAW and EXTERNAL_MU never mix: mu sent as RAW is another message.
        assert aws_error(kms.verify, Message=short_mu, Signature=signature, **base)[0] == INVALID
    private = serialization.load_der_private_key(raw_material(server, meta), password=None)
    assert isinstance(private, MLDSA_PRIVATE)
    local = private.sign_mu(mu)
    assert kms.verify(Message=mu, MessageType="EXTERNAL_MU", Signature=local, **base)[
        "SignatureValid"
    ]
    other_mu = mldsa_mu(public_der, message + b"!")
    code, text, status = aws_error(
        kms.verify, Message=other_mu, MessageType="EXTERNAL_MU", Signature=local, **base
    )
    assert (code, text, status) == (INVALID, "", 400)


def test_raw_and_digest_never_mix(
    server: Server, signing_key: Callable[[str], dict[str, Any]]
) -> None:
    """A signature over the RAW bytes m does not verify as the DIGEST m, and a signature over the
    DIGEST m does not verify as the RAW bytes m (AWS hashes RAW, never DIGEST)."""
    kms = server.client()
    for spec, algorithm in (("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", RSA[3])):
        key_id = signing_key(spec)["KeyId"]
        m = hashlib.sha256(b"anything").digest()  # 32 bytes: a valid DIGEST and a valid RAW
        base = {"KeyId": key_id, "SigningAlgorithm": algorithm, "Message": m}
        over_raw = kms.sign(MessageType="RAW", **base)["Signature"]
        over_digest = kms.sign(MessageType="DIGEST", **base)["Signature"]
        assert kms.verify(MessageType="RAW", Signature=over_raw, **base)["SignatureValid"]
        assert kms.verify(MessageType="DIGEST", Signature=over_digest, **base)["SignatureValid"]
        assert aws_error(kms.verify, MessageType="DIGEST", Signature=over_raw, **base)[0] == INVALID
        assert aws_error(kms.verify, MessageType="RAW", Signature=over_digest, **base)[0] == INVALID


def _flip(signature: bytes, index: int) -> bytes:
    return signature[:index] + bytes([signature[index] ^ 0x01]) + signature[index + 1 :]


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
        ("ML_DSA_44", "ML_DSA_SHAKE_256"),
    ],
)
def test_wycheproof_style_bad_signatures(
    server: Server, signing_key: Callable[[str], dict[str, Any]], spec: str, algorithm: str
) -> None:
    """Truncated, extended, bit-flipped, zeroed and another key's signatures: all
    KMSInvalidSignatureException (400) with no message."""
    kms = server.client()
    key_id = signing_key(spec)["KeyId"]
    other = new_signing_key(server, spec)["KeyId"]
    params = {"KeyId": key_id, "SigningAlgorithm": algorithm, "Message": b"pay 10"}
    signature = kms.sign(**params)["Signature"]
    bad = [
        signature[:-1],
        signature[: len(signature) // 2],
        signature + b"\x00",
        _flip(signature, 0),
        _flip(signature, len(signature) // 2),
        _flip(signature, len(signature) - 1),
        bytes(len(signature)),
        b"\x00",
        kms.sign(**{**params, "KeyId": other})["Signature"],
    ]
    for candidate in bad:
        assert candidate != signature
        assert aws_error(kms.verify, Signature=candidate, **params) == (INVALID, "", 400)
    # The right signature checked against another key is as invalid as the other way round.
    assert aws_error(kms.verify, Signature=signature, **{**params, "KeyId": other})[0] == INVALID


def test_ecdsa_encodings_and_high_s(
    server: Server, signing_key: Callable[[str], dict[str, Any]]
) -> None:
    """ECDSA's Wycheproof cases: garbage and non-DER encodings, r or s of 0 or out of range are
    invalid. The mirror (r, n - s) is a valid ECDSA signature and KMS does not normalise S (its
    own signatures are high-S half the time), so it verifies, as on AWS."""
    kms, key_id = server.client(), signing_key("ECC_NIST_P256")["KeyId"]
    params = {"KeyId": key_id, "SigningAlgorithm": "ECDSA_SHA_256", "Message": b"m"}
    signature = kms.sign(**params)["Signature"]
    r, s = utils.decode_dss_signature(signature)
    mirror = utils.encode_dss_signature(r, P256_ORDER - s)
    assert kms.verify(Signature=mirror, **params)["SignatureValid"] is True
    body = signature[2:]
    for bad in (
        b"\x30\x00",
        b"\x30\x06\x02\x01\x01\x02\x01",
        b"not a DER signature at all",
        b"\x30\x81" + bytes([len(body)]) + body,  # BER long-form length
        signature + b"\x00",  # trailing bytes after the DER
        r.to_bytes(32, "big") + s.to_bytes(32, "big"),  # IEEE P1363 r || s
        utils.encode_dss_signature(r, 0),
        utils.encode_dss_signature(0, s),
        utils.encode_dss_signature(r, P256_ORDER),
        utils.encode_dss_signature(r, s + P256_ORDER),
    ):
        assert aws_error(kms.verify, Signature=bad, **params) == (INVALID, "", 400)


def test_ed25519_non_canonical_s_is_invalid(
    server: Server, signing_key: Callable[[str], dict[str, Any]]
) -> None:
    kms, key_id = server.client(), signing_key("ECC_NIST_EDWARDS25519")["KeyId"]
    params = {"KeyId": key_id, "SigningAlgorithm": "ED25519_SHA_512", "Message": b"m"}
    signature = kms.sign(**params)["Signature"]
    assert len(signature) == 64
    s = int.from_bytes(signature[32:], "little")
    high = signature[:32] + (s + ED25519_ORDER).to_bytes(32, "little")
    assert aws_error(kms.verify, Signature=high, **params) == (INVALID, "", 400)


def test_invalid_signature_has_no_message_on_the_wire(
    server: Server, signing_key: Callable[[str], dict[str, Any]]
) -> None:
    kms, meta = server.client(), signing_key("RSA_2048")
    params = {"KeyId": meta["KeyId"], "Message": b"pay 10", "SigningAlgorithm": RSA[0]}
    tampered = _flip(kms.sign(**params)["Signature"], 7)
    for key_id, algorithm in (
        (meta["KeyId"], RSA[0]),
        (signing_key("ML_DSA_65")["KeyId"], ML_DSA[0]),
    ):
        body = {
            "KeyId": key_id,
            "Message": base64.b64encode(b"pay 10").decode(),
            "SigningAlgorithm": algorithm,
            "Signature": base64.b64encode(tampered).decode(),
        }
        reply = raw_post(server, "TrentService.Verify", json.dumps(body).encode())
        assert reply.error == (400, INVALID, None)


def test_message_type_and_length_errors(
    server: Server, signing_key: Callable[[str], dict[str, Any]]
) -> None:
    kms = server.client()
    p256 = signing_key("ECC_NIST_P256")["KeyId"]
    ed = signing_key("ECC_NIST_EDWARDS25519")["KeyId"]
    ml = signing_key("ML_DSA_44")["KeyId"]
    sha512 = hashlib.sha512(b"m").digest()
    expected: list[tuple[dict[str, Any], tuple[str, str]]] = [
        (
            {"KeyId": p256, "SigningAlgorithm": "ECDSA_SHA_256", "Message": b"x" * 33,
             "MessageType": "DIGEST"},
            ("ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256."),
        ),
        (
            {"KeyId": p256, "SigningAlgorithm": "ECDSA_SHA_256", "Message": b"x" * 64,
             "MessageType": "EXTERNAL_MU"},
            ("ValidationException",
             "Message type EXTERNAL_MU is incompatible with algorithm ECDSA_SHA_256."),
        ),
        (
            {"KeyId": ed, "SigningAlgorithm": "ED25519_SHA_512", "Message": sha512,
             "MessageType": "DIGEST"},
            ("ValidationException",
             "Message type DIGEST is incompatible with algorithm ED25519_SHA_512."),
        ),
        (
            {"KeyId": ed, "SigningAlgorithm": "ED25519_PH_SHA_512", "Message": b"m",
             "MessageType": "RAW"},
            ("ValidationException",
             "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512."),
        ),
        (
            {"KeyId": ed, "SigningAlgorithm": "ED25519_PH_SHA_512", "Message": sha512[:32],
             "MessageType": "DIGEST"},
            ("ValidationException", "Digest is invalid length for algorithm ED25519_PH_SHA_512."),
        ),
        (
            {"KeyId": ed, "SigningAlgorithm": "ED25519_PH_SHA_512", "Message": sha512,
             "MessageType": "DIGEST"},
            ("UnsupportedOperationException", ED25519PH_REASON),
        ),
        (
            {"KeyId": ed, "SigningAlgorithm": "ECDSA_SHA_256", "Message": b"m"},
            (USAGE, "Algorithm ECDSA_SHA_256 is incompatible with key spec ECC_NIST_EDWARDS25519."),
        ),
        (
            {"KeyId": ml, "SigningAlgorithm": "ML_DSA_SHAKE_256", "Message": sha512,
             "MessageType": "DIGEST"},
            ("ValidationException",
             "Message type DIGEST is incompatible with algorithm ML_DSA_SHAKE_256."),
        ),
        (
            {"KeyId": ml, "SigningAlgorithm": "ML_DSA_SHAKE_256", "Message": sha512[:63],
             "MessageType": "EXTERNAL_MU"},
            ("ValidationException", "Digest is invalid length for algorithm ML_DSA_SHAKE_256."),
        ),
        (
            {"KeyId": ml, "SigningAlgorithm": "ML_DSA_SHAKE_256", "Message": sha512 + b"x",
             "MessageType": "EXTERNAL_MU"},
            ("ValidationException", "Digest is invalid length for algorithm ML_DSA_SHAKE_256."),
        ),
        (
            {"KeyId": ml, "SigningAlgorithm": "ED25519_SHA_512", "Message": b"m"},
            (USAGE, "Algorithm ED25519_SHA_512 is incompatible with key spec ML_DSA_44."),
        ),
    ]  # fmt: skip
    for params, (code, message) in expected:
        assert aws_error(kms.sign, **params) == (code, message, 400), params
        assert aws_error(kms.verify, Signature=b"s" * 64, **params) == (code, message, 400)
        dry = aws_error(kms.sign, DryRun=True, **params)
        assert dry == (code, message, 400)


def test_digest_length_algorithm_and_usage_errors(server: Server) -> None:
    kms, meta = server.client(), new_signing_key(server)
    code, message, _ = aws_error(
        kms.sign, KeyId=meta["KeyId"], Message=b"x" * 33, MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )  # fmt: skip
    assert (code, message) == (
        "ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.",
    )  # fmt: skip
    assert aws_error(kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_384")[
        :2
    ] == (USAGE, "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.")
    assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"p")[:2] == (
        USAGE, f"{meta['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.",
    )  # fmt: skip
    assert aws_error(
        kms.generate_mac, KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256"
    )[:2] == (USAGE, f"{meta['Arn']} key usage is SIGN_VERIFY which is not valid for GenerateMac.")
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(kms.sign, KeyId=symmetric, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")[
        :2
    ] == (USAGE, f"{symmetric} key usage is ENCRYPT_DECRYPT which is not valid for Sign.")


def test_key_policy_conditions_on_signing_algorithm_and_message_type(server: Server) -> None:
    """kms:SigningAlgorithm and kms:MessageType in key policies: a user may sign with the RSA key
    only by PSS over a DIGEST and verify only RAW messages, and may sign with the ML-DSA key only
    an EXTERNAL_MU."""
    iam = server.client("iam")
    iam.create_user(UserName="signer")
    access = iam.create_access_key(UserName="signer")["AccessKey"]
    user = f"arn:aws:iam::{A}:user/signer"
    root = {
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*", "Resource": "*",
    }  # fmt: skip

    def policy(*statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})

    def allow(action: str, **conditions: str) -> dict[str, Any]:
        return {
            "Effect": "Allow", "Principal": {"AWS": user}, "Action": action, "Resource": "*",
            "Condition": {"StringEquals": conditions},
        }  # fmt: skip

    admin = server.client()
    rsa_key = admin.create_key(
        KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY",
        Policy=policy(
            allow("kms:Sign", **{"kms:SigningAlgorithm": RSA[0], "kms:MessageType": "DIGEST"}),
            allow("kms:Verify", **{"kms:MessageType": "RAW"}),
        ),
    )["KeyMetadata"]["KeyId"]  # fmt: skip
    ml_key = admin.create_key(
        KeySpec="ML_DSA_44", KeyUsage="SIGN_VERIFY",
        Policy=policy(allow("kms:Sign", **{"kms:MessageType": "EXTERNAL_MU"})),
    )["KeyMetadata"]["KeyId"]  # fmt: skip
    kms = server.client(access_key=access["AccessKeyId"], secret_key=access["SecretAccessKey"])
    digest = hashlib.sha256(b"release").digest()
    made = kms.sign(KeyId=rsa_key, Message=digest, MessageType="DIGEST", SigningAlgorithm=RSA[0])
    assert made["SigningAlgorithm"] == RSA[0]
    assert kms.verify(
        KeyId=rsa_key, Message=b"release", MessageType="RAW", SigningAlgorithm=RSA[0],
        Signature=made["Signature"],
    )["SignatureValid"]  # fmt: skip
    # MessageType left out is RAW, and the kms:MessageType condition sees it so.
    assert kms.verify(
        KeyId=rsa_key, Message=b"release", SigningAlgorithm=RSA[0], Signature=made["Signature"],
    )["SignatureValid"]  # fmt: skip
    denied = [
        (kms.sign, {"KeyId": rsa_key, "Message": digest, "MessageType": "DIGEST",
                    "SigningAlgorithm": RSA[3]}, "kms:Sign"),
        (kms.sign, {"KeyId": rsa_key, "Message": b"release", "MessageType": "RAW",
                    "SigningAlgorithm": RSA[0]}, "kms:Sign"),
        (kms.sign, {"KeyId": rsa_key, "Message": digest, "SigningAlgorithm": RSA[0]},
         "kms:Sign"),
        (kms.verify, {"KeyId": rsa_key, "Message": digest, "MessageType": "DIGEST",
                      "SigningAlgorithm": RSA[0], "Signature": made["Signature"]}, "kms:Verify"),
        (kms.sign, {"KeyId": ml_key, "Message": b"m", "MessageType": "RAW",
                    "SigningAlgorithm": "ML_DSA_SHAKE_256"}, "kms:Sign"),
    ]  # fmt: skip
    for call, params, action in denied:
        code, message, status = aws_error(call, **params)
        assert (code, status) == ("AccessDeniedException", 400), params
        assert action in message
    mu = b"\x01" * 64
    assert kms.sign(KeyId=ml_key, Message=mu, MessageType="EXTERNAL_MU",
                    SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]  # fmt: skip


def test_sign_with_the_aws_cli(server: Server, tmp_path: Path) -> None:
    for spec, algorithm in (("ECC_NIST_P521", "ECDSA_SHA_512"), ("ECC_NIST_EDWARDS25519",
                            "ED25519_SHA_512")):  # fmt: skip
        meta = new_signing_key(server, spec)
        message = b"from the cli"
        (tmp_path / "message").write_bytes(message)
        done = server.aws(
            "kms", "sign", "--key-id", meta["KeyId"], "--signing-algorithm", algorithm,
            "--message", f"fileb://{tmp_path / 'message'}",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert (out["KeyId"], out["SigningAlgorithm"]) == (meta["Arn"], algorithm)
        public = server.client().get_public_key(KeyId=meta["KeyId"])["PublicKey"]
        offline_verify(public, algorithm, message, base64.b64decode(out["Signature"]))
