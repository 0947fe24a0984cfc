"""Key agreement over HTTP (kms-spec.md 4.2, 4.3, 7.1, 17.3): DeriveSharedSecret on a
production-mode server with boto3. Every shared secret is recomputed offline with
``cryptography``, from the peer's private key and the public key GetPublicKey returns, and from the
KMS key's own stored private key, so the server is proved to answer the raw ECDH secret."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    rsa,
)

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

A = "111122223333"
DENIED = "AccessDeniedException"
CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
}
SECRET_SIZES = {"ECC_NIST_P256": 32, "ECC_NIST_P384": 48, "ECC_NIST_P521": 66}
Keys = tuple[str, str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("agreement") / "data")
    yield started
    started.stop()


def new_key(server: Server, spec: str = "ECC_NIST_P256", **extra: Any) -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT", **extra)
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


def spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def derive(kms: Any, key_id: str, peer_der: bytes, **extra: Any) -> Any:
    return kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_der, **extra
    )


def refused(kms: Any, key_id: str, peer_der: bytes, **extra: Any) -> tuple[str, str, int]:
    """The (code, message, status) a DeriveSharedSecret that must fail answers."""
    return aws_error(
        kms.derive_shared_secret,
        KeyId=key_id,
        KeyAgreementAlgorithm="ECDH",
        PublicKey=peer_der,
        **extra,
    )


def kms_public(kms: Any, key_id: str) -> ec.EllipticCurvePublicKey:
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return public


def user_client(server: Server, name: str) -> tuple[Any, str]:
    """A user with no policy at all, and a KMS client signing as it."""
    iam = server.client("iam")
    arn = str(iam.create_user(UserName=name)["User"]["Arn"])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    kms = server.client("kms", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    return kms, arn


@pytest.mark.parametrize("spec", sorted(CURVES))
def test_every_curve_derives_the_raw_ecdh_secret(server: Server, spec: str) -> None:
    kms, meta = server.client(), new_key(server, spec)
    assert (meta["KeyUsage"], meta["KeySpec"]) == ("KEY_AGREEMENT", spec)
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"]
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyAgreementAlgorithms"] == ["ECDH"]
    assert "SigningAlgorithms" not in described
    assert "EncryptionAlgorithms" not in described
    public = kms.get_public_key(KeyId=meta["KeyId"])
    assert (public["KeyId"], public["KeySpec"], public["KeyUsage"]) == (
        meta["Arn"], spec, "KEY_AGREEMENT",
    )  # fmt: skip
    assert public["KeyAgreementAlgorithms"] == ["ECDH"]

    peer = ec.generate_private_key(CURVES[spec])
    out = derive(kms, meta["KeyId"], spki(peer))
    assert (out["KeyId"], out["KeyAgreementAlgorithm"], out["KeyOrigin"]) == (
        meta["Arn"], "ECDH", "AWS_KMS",
    )  # fmt: skip
    assert "CiphertextForRecipient" not in out
    assert len(out["SharedSecret"]) == SECRET_SIZES[spec]
    # The peer's side: its private key and the public key KMS published.
    assert out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public(kms, meta["KeyId"]))
    # And the KMS side, redone offline with the stored private key.
    private = serialization.load_der_private_key(raw_material(server, meta), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert out["SharedSecret"] == private.exchange(ec.ECDH(), peer.public_key())
    # Every KeyId form names the same key; the answer is the same secret.
    kms.create_alias(AliasName=f"alias/agree-{spec.lower()}", TargetKeyId=meta["KeyId"])
    for key_id in (meta["Arn"], f"alias/agree-{spec.lower()}"):
        assert derive(kms, key_id, spki(peer))["SharedSecret"] == out["SharedSecret"]


@pytest.mark.parametrize("spec", sorted(CURVES))
def test_two_kms_keys_agree_with_each_other_both_ways(server: Server, spec: str) -> None:
    kms, alice, bob = server.client(), new_key(server, spec), new_key(server, spec)
    alice_public = kms.get_public_key(KeyId=alice["KeyId"])["PublicKey"]
    bob_public = kms.get_public_key(KeyId=bob["KeyId"])["PublicKey"]
    from_alice = derive(kms, alice["KeyId"], bob_public)["SharedSecret"]
    from_bob = derive(kms, bob["KeyId"], alice_public)["SharedSecret"]
    assert from_alice == from_bob
    assert len(from_alice) == SECRET_SIZES[spec]
    # A third key agrees to another secret with Alice.
    carol_public = kms.get_public_key(KeyId=new_key(server, spec)["KeyId"])["PublicKey"]
    assert derive(kms, alice["KeyId"], carol_public)["SharedSecret"] != from_alice


def _tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


def off_curve_spki(peer: ec.EllipticCurvePrivateKey) -> bytes:
    """A P-256 SubjectPublicKeyInfo built by hand, its y-coordinate moved off the curve."""
    numbers = peer.public_key().public_numbers()
    point = b"\x04" + numbers.x.to_bytes(32, "big") + (numbers.y ^ 1).to_bytes(32, "big")
    algorithm = _tlv(0x30, bytes.fromhex("06072a8648ce3d020106082a8648ce3d030107"))
    built = _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + point))
    good = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    assert built.replace(point, good) == spki(peer)  # the same encoding as a real key's
    return built


def test_unusable_public_keys_are_validation_errors(server: Server) -> None:
    """AWS answers ValidationException with no message (recorded); the server logs the reason
    (the unit tests of crypto.agreement check each reason)."""
    kms, meta = server.client(), new_key(server, "ECC_NIST_P256")
    peer = ec.generate_private_key(ec.SECP256R1())
    arn = meta["KeyId"]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "off the curve": off_curve_spki(peer),
        "truncated": spki(peer)[:-3],
        "trailing data": spki(peer) + b"\x00",
        "not DER": b"InvalidPublicKey",
        "base64 of the DER": base64.b64encode(spki(peer)),
        "P-384": spki(ec.generate_private_key(ec.SECP384R1())),
        "secp256k1": spki(ec.generate_private_key(ec.SECP256K1())),
        "RSA": spki(rsa_key),
    }
    for name, public_key in cases.items():
        assert refused(kms, arn, public_key) == ("ValidationException", "", 400), name
    # The same refusal on the wire: no message member at all; never the key bytes.
    body = json.dumps(
        {
            "KeyId": arn,
            "KeyAgreementAlgorithm": "ECDH",
            "PublicKey": base64.b64encode(off_curve_spki(peer)).decode(),
        }
    ).encode()
    reply = raw_post(server, "TrentService.DeriveSharedSecret", body)
    assert reply.error == (400, "ValidationException", None)
    # A bad public key is refused even on a DryRun: the call would not have succeeded.
    assert refused(kms, arn, b"junk", DryRun=True) == ("ValidationException", "", 400)


def test_key_usage_errors(server: Server) -> None:
    kms = server.client()
    peer = spki(ec.generate_private_key(ec.SECP256R1()))
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    symmetric = kms.create_key()["KeyMetadata"]
    # AWS's words (recorded), the key's spec in them and no final period.
    for key in (signing, symmetric):
        assert refused(kms, key["Arn"], peer) == (
            "InvalidKeyUsageException",
            f"KeyUsage KEY_AGREEMENT is not compatible with KeySpec {key['KeySpec']}",
            400,
        )
    # The other way round: a key agreement key cannot sign.
    meta = new_key(server)
    code, message, status = aws_error(
        kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256"
    )
    assert (code, message, status) == (
        "InvalidKeyUsageException",
        f"{meta['Arn']} key usage is KEY_AGREEMENT which is not valid for Sign.",
        400,
    )
    # Key agreement is for the NIST curves only.
    code, _, _ = aws_error(kms.create_key, KeySpec="ECC_SECG_P256K1", KeyUsage="KEY_AGREEMENT")
    assert code == "ValidationException"


def test_dry_run_recipient_and_key_state(server: Server) -> None:
    kms, meta = server.client(), new_key(server)
    peer = spki(ec.generate_private_key(ec.SECP256R1()))
    assert refused(kms, meta["KeyId"], peer, DryRun=True) == (
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun option is set.",
        400,
    )
    recipient = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"}
    assert refused(kms, meta["KeyId"], peer, Recipient=recipient) == (
        "UnsupportedOperationException",
        "Recipient is not yet supported by Strongroom.",
        400,
    )
    kms.disable_key(KeyId=meta["KeyId"])
    assert refused(kms, meta["KeyId"], peer) == (
        "DisabledException",
        f"{meta['Arn']} is disabled.",
        400,
    )
    kms.enable_key(KeyId=meta["KeyId"])
    assert len(derive(kms, meta["KeyId"], peer)["SharedSecret"]) == 32


def test_a_grant_lets_a_grantee_derive(server: Server) -> None:
    grantee, arn = user_client(server, "agreement-grantee")
    root, meta = server.client(), new_key(server, "ECC_NIST_P384")
    peer = ec.generate_private_key(ec.SECP384R1())
    code, message, _ = refused(grantee, meta["Arn"], spki(peer))
    assert code == DENIED
    assert "kms:DeriveSharedSecret" in message
    grant = root.create_grant(
        KeyId=meta["KeyId"], GranteePrincipal=arn, Operations=["DeriveSharedSecret"]
    )
    out = derive(grantee, meta["Arn"], spki(peer), GrantTokens=[grant["GrantToken"]])
    assert out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public(root, meta["KeyId"]))
    assert derive(grantee, meta["Arn"], spki(peer))["SharedSecret"] == out["SharedSecret"]
    # The grant is for DeriveSharedSecret only.
    assert aws_error(grantee.get_public_key, KeyId=meta["Arn"])[0] == DENIED
    root.revoke_grant(KeyId=meta["KeyId"], GrantId=grant["GrantId"])
    assert refused(grantee, meta["Arn"], spki(peer))[0] == DENIED


def test_a_key_agreement_algorithm_condition_in_the_key_policy(server: Server) -> None:
    dora, dora_arn = user_client(server, "agreement-dora")
    eve, eve_arn = user_client(server, "agreement-eve")
    frank, frank_arn = user_client(server, "agreement-frank")

    def statement(effect: str, principal: str, algorithm: str) -> dict[str, Any]:
        return {
            "Effect": effect,
            "Principal": {"AWS": principal},
            "Action": "kms:DeriveSharedSecret",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:KeyAgreementAlgorithm": algorithm}},
        }

    root_statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            root_statement,
            statement("Allow", dora_arn, "ECDH"),
            statement("Allow", eve_arn, "SM2"),
            statement("Allow", frank_arn, "ECDH"),
            statement("Deny", frank_arn, "ECDH"),
        ],
    }
    meta = new_key(server, Policy=json.dumps(policy))
    peer = ec.generate_private_key(ec.SECP256R1())
    expected = peer.exchange(ec.ECDH(), kms_public(server.client(), meta["KeyId"]))
    assert derive(dora, meta["Arn"], spki(peer))["SharedSecret"] == expected
    code, message, _ = refused(eve, meta["Arn"], spki(peer))
    assert code == DENIED
    assert message == (
        f"User: {eve_arn} is not authorized to perform: kms:DeriveSharedSecret on resource: "
        f"{meta['Arn']} because no identity-based policy allows the kms:DeriveSharedSecret action"
    )
    code, message, _ = refused(frank, meta["Arn"], spki(peer))
    assert code == DENIED
    assert message.endswith("with an explicit deny in a resource-based policy")
