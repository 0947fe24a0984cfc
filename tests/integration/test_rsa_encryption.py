"""RSA encryption keys over HTTP (kms-spec.md 4.2, 4.3, 7.1, 17.3; section 19 item 16): a
production-mode server, boto3 and the AWS CLI.

Every ciphertext is checked against real cryptography: Strongroom's decrypts offline with the
stored private key, and one made locally with the public key from GetPublicKey decrypts in
Strongroom, for every RSA spec and both OAEP algorithms. AWS's errors for every misuse.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: TID251 -- independent check

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

A = "111122223333"
SPECS = {"RSA_2048": 256, "RSA_3072": 384, "RSA_4096": 512}  # spec -> modulus bytes
ALGORITHMS = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}
SHA256 = "RSAES_OAEP_SHA_256"
USAGE = "InvalidKeyUsageException"
INVALID = ("InvalidCiphertextException", "", 400)
DENIED = "AccessDeniedException"
DRY_RUN = "The request would have succeeded, but the DryRun option is set."
NO_CONTEXT = "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("rsa-encryption") / "data")
    yield started
    started.stop()


def new_rsa_key(server: Server, spec: str = "RSA_2048", **extra: Any) -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT", **extra)
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, dict[str, Any]]:
    """One RSA encryption key of each spec, shared by the tests that only use them."""
    return {spec: new_rsa_key(server, spec) for spec in SPECS}


def oaep(algorithm: str) -> padding.OAEP:
    chosen = ALGORITHMS[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)


def private_key(server: Server, meta: dict[str, Any]) -> rsa.RSAPrivateKey:
    loaded = serialization.load_der_private_key(raw_material(server, meta), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def public_key(server: Server, meta: dict[str, Any]) -> rsa.RSAPublicKey:
    out = server.client().get_public_key(KeyId=meta["KeyId"])
    assert (out["KeyUsage"], out["EncryptionAlgorithms"]) == ("ENCRYPT_DECRYPT", list(ALGORITHMS))
    loaded = serialization.load_der_public_key(out["PublicKey"])
    assert isinstance(loaded, rsa.RSAPublicKey)
    return loaded


def limit(spec: str, algorithm: str) -> int:
    """RFC 8017 7.1.1: k - 2*hLen - 2."""
    return SPECS[spec] - 2 * ALGORITHMS[algorithm]().digest_size - 2


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_every_spec_and_algorithm_round_trips_with_real_oaep(
    server: Server, keys: dict[str, dict[str, Any]], spec: str
) -> None:
    kms, meta = server.client(), keys[spec]
    assert meta["EncryptionAlgorithms"] == list(ALGORITHMS)
    private, public = private_key(server, meta), public_key(server, meta)
    assert private.public_key().public_numbers() == public.public_numbers()
    for algorithm in ALGORITHMS:
        message = f"secret for {spec} {algorithm}".encode()
        made = kms.encrypt(KeyId=meta["KeyId"], Plaintext=message, EncryptionAlgorithm=algorithm)
        assert (made["KeyId"], made["EncryptionAlgorithm"]) == (meta["Arn"], algorithm)
        assert "KeyMaterialId" not in made
        blob = made["CiphertextBlob"]
        assert len(blob) == SPECS[spec]  # the raw RSA output: no header
        assert private.decrypt(blob, oaep(algorithm)) == message  # offline, as AWS's
        again = kms.encrypt(KeyId=meta["Arn"], Plaintext=message, EncryptionAlgorithm=algorithm)
        assert again["CiphertextBlob"] != blob  # OAEP is randomized
        opened = kms.decrypt(
            KeyId=meta["KeyId"], CiphertextBlob=blob, EncryptionAlgorithm=algorithm
        )
        assert (opened["Plaintext"], opened["KeyId"]) == (message, meta["Arn"])
        assert opened["EncryptionAlgorithm"] == algorithm
        assert "KeyMaterialId" not in opened  # present only for symmetric keys
        local = public.encrypt(b"made offline " + message, oaep(algorithm))
        opened = kms.decrypt(KeyId=meta["Arn"], CiphertextBlob=local, EncryptionAlgorithm=algorithm)
        assert opened["Plaintext"] == b"made offline " + message


@pytest.mark.parametrize("spec", sorted(SPECS))
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_the_plaintext_limit_is_exact(
    server: Server, keys: dict[str, dict[str, Any]], spec: str, algorithm: str
) -> None:
    kms, meta, most = server.client(), keys[spec], limit(spec, algorithm)
    params = {"KeyId": meta["KeyId"], "EncryptionAlgorithm": algorithm}
    full = bytes(range(256)) * 2
    blob = kms.encrypt(Plaintext=full[:most], **params)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, **params)["Plaintext"] == full[:most]
    assert aws_error(kms.encrypt, Plaintext=full[: most + 1], **params) == (
        "ValidationException",
        f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {most} bytes.",
        400,
    )


def test_the_documented_limit_for_rsa_2048(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    """kms-spec.md section 19 item 16, word for word."""
    kms, key = server.client(), keys["RSA_2048"]["KeyId"]
    kms.encrypt(KeyId=key, Plaintext=b"x" * 190, EncryptionAlgorithm=SHA256)
    assert aws_error(kms.encrypt, KeyId=key, Plaintext=b"x" * 191, EncryptionAlgorithm=SHA256) == (
        "ValidationException",
        "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than "
        "190 bytes.",
        400,
    )


def test_encrypt_needs_one_of_the_keys_algorithms(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms, meta = server.client(), keys["RSA_3072"]
    for algorithm in (None, "SYMMETRIC_DEFAULT", "SM2PKE"):
        params = {} if algorithm is None else {"EncryptionAlgorithm": algorithm}
        shown = algorithm or "SYMMETRIC_DEFAULT"
        assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x", **params) == (
            USAGE, f"Algorithm {shown} is incompatible with key spec RSA_3072.", 400,
        )  # fmt: skip
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    assert aws_error(kms.encrypt, KeyId=symmetric, Plaintext=b"x", EncryptionAlgorithm=SHA256) == (
        USAGE, "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.", 400,
    )  # fmt: skip
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert aws_error(
        kms.encrypt, KeyId=signing["KeyId"], Plaintext=b"x", EncryptionAlgorithm=SHA256
    )[:2] == (USAGE, f"{signing['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.")
    assert aws_error(
        kms.decrypt, KeyId=signing["KeyId"], CiphertextBlob=b"x" * 256, EncryptionAlgorithm=SHA256
    )[:2] == (USAGE, f"{signing['Arn']} key usage is SIGN_VERIFY which is not valid for Decrypt.")


def test_an_encryption_context_is_refused_with_an_asymmetric_key(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms, key = server.client(), keys["RSA_2048"]["KeyId"]
    params = {"KeyId": key, "EncryptionAlgorithm": SHA256, "EncryptionContext": {"app": "x"}}
    assert aws_error(kms.encrypt, Plaintext=b"x", **params) == (
        "ValidationException",
        NO_CONTEXT,
        400,
    )
    blob = kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionAlgorithm=SHA256)["CiphertextBlob"]
    assert aws_error(kms.decrypt, CiphertextBlob=blob, **params) == (
        "ValidationException",
        NO_CONTEXT,
        400,
    )


def test_decrypt_needs_the_key_id_and_the_right_algorithm(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    """An RSA ciphertext has no header: without KeyId, or with the symmetric (default)
    algorithm, it is parsed as a symmetric blob and is invalid; the wrong OAEP hash does not
    decrypt. Every failure is a bare InvalidCiphertextException."""
    kms, meta = server.client(), keys["RSA_2048"]
    message = b"needs its key"
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=message, EncryptionAlgorithm=SHA256)[
        "CiphertextBlob"
    ]
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == INVALID
    assert aws_error(kms.decrypt, CiphertextBlob=blob, EncryptionAlgorithm=SHA256) == INVALID
    assert aws_error(kms.decrypt, CiphertextBlob=blob, KeyId=meta["KeyId"]) == INVALID
    default = {"KeyId": meta["KeyId"], "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert aws_error(kms.decrypt, CiphertextBlob=blob, **default) == INVALID
    wrong = {"KeyId": meta["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}
    assert aws_error(kms.decrypt, CiphertextBlob=blob, **wrong) == INVALID
    other = keys["RSA_3072"]["KeyId"]  # another key (and another modulus length)
    assert aws_error(kms.decrypt, CiphertextBlob=blob, KeyId=other, EncryptionAlgorithm=SHA256) == (
        INVALID
    )
    body = {
        "KeyId": meta["KeyId"],
        "CiphertextBlob": base64.b64encode(blob).decode(),
        "EncryptionAlgorithm": "RSAES_OAEP_SHA_1",
    }
    reply = raw_post(server, "TrentService.Decrypt", json.dumps(body).encode())
    assert reply.error == (400, "InvalidCiphertextException", None)
    assert message.decode() not in reply.body.decode()


def test_a_corrupted_or_truncated_ciphertext_is_invalid(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms, key = server.client(), keys["RSA_4096"]["KeyId"]
    params = {"KeyId": key, "EncryptionAlgorithm": SHA256}
    blob = kms.encrypt(Plaintext=b"intact", **params)["CiphertextBlob"]
    for index in (0, len(blob) // 2, len(blob) - 1):
        flipped = bytearray(blob)
        flipped[index] ^= 0x01
        assert aws_error(kms.decrypt, CiphertextBlob=bytes(flipped), **params) == INVALID
    for broken in (blob[:-1], blob[1:], blob + b"\0", b"\0" * len(blob)):
        assert aws_error(kms.decrypt, CiphertextBlob=broken, **params) == INVALID
    assert kms.decrypt(CiphertextBlob=blob, **params)["Plaintext"] == b"intact"


def test_re_encrypt_between_symmetric_and_rsa_keys(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms, rsa_meta = server.client(), keys["RSA_2048"]
    symmetric = kms.create_key()["KeyMetadata"]
    sealed = kms.encrypt(
        KeyId=symmetric["KeyId"], Plaintext=b"moving", EncryptionContext={"a": "1"}
    )
    to_rsa = kms.re_encrypt(
        CiphertextBlob=sealed["CiphertextBlob"],
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=rsa_meta["KeyId"],
        DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1",
    )
    assert (to_rsa["SourceKeyId"], to_rsa["KeyId"]) == (symmetric["Arn"], rsa_meta["Arn"])
    assert (to_rsa["SourceEncryptionAlgorithm"], to_rsa["DestinationEncryptionAlgorithm"]) == (
        "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1",
    )  # fmt: skip
    assert to_rsa["SourceKeyMaterialId"] == symmetric["CurrentKeyMaterialId"]
    assert "DestinationKeyMaterialId" not in to_rsa
    rsa_blob = to_rsa["CiphertextBlob"]
    assert len(rsa_blob) == 256
    assert private_key(server, rsa_meta).decrypt(rsa_blob, oaep("RSAES_OAEP_SHA_1")) == b"moving"

    back = kms.re_encrypt(
        CiphertextBlob=rsa_blob,
        SourceKeyId=rsa_meta["Arn"],
        SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1",
        DestinationKeyId=symmetric["KeyId"],
        DestinationEncryptionContext={"b": "2"},
    )
    assert (back["SourceKeyId"], back["KeyId"]) == (rsa_meta["Arn"], symmetric["Arn"])
    assert (back["SourceEncryptionAlgorithm"], back["DestinationEncryptionAlgorithm"]) == (
        "RSAES_OAEP_SHA_1", "SYMMETRIC_DEFAULT",
    )  # fmt: skip
    assert "SourceKeyMaterialId" not in back
    assert back["DestinationKeyMaterialId"] == symmetric["CurrentKeyMaterialId"]
    opened = kms.decrypt(CiphertextBlob=back["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert opened["Plaintext"] == b"moving"

    other = keys["RSA_3072"]
    across = kms.re_encrypt(
        CiphertextBlob=rsa_blob,
        SourceKeyId=rsa_meta["KeyId"],
        SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1",
        DestinationKeyId=other["KeyId"],
        DestinationEncryptionAlgorithm=SHA256,
    )
    assert len(across["CiphertextBlob"]) == 384
    assert private_key(server, other).decrypt(across["CiphertextBlob"], oaep(SHA256)) == b"moving"


def test_re_encrypt_errors_with_rsa_keys(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms, rsa_meta = server.client(), keys["RSA_2048"]
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    big = kms.encrypt(KeyId=symmetric, Plaintext=b"y" * 191)["CiphertextBlob"]
    to_rsa = {"DestinationKeyId": rsa_meta["KeyId"], "DestinationEncryptionAlgorithm": SHA256}
    assert aws_error(kms.re_encrypt, CiphertextBlob=big, **to_rsa) == (
        "ValidationException",
        "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than "
        "190 bytes.",
        400,
    )
    small = kms.encrypt(KeyId=symmetric, Plaintext=b"y")["CiphertextBlob"]
    assert aws_error(
        kms.re_encrypt, CiphertextBlob=small, DestinationEncryptionContext={"a": "1"}, **to_rsa
    )[:2] == ("ValidationException", NO_CONTEXT)
    assert aws_error(kms.re_encrypt, CiphertextBlob=small, DestinationKeyId=rsa_meta["KeyId"])[
        :2
    ] == (USAGE, "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")
    rsa_blob = kms.encrypt(KeyId=rsa_meta["KeyId"], Plaintext=b"y", EncryptionAlgorithm=SHA256)[
        "CiphertextBlob"
    ]
    no_source = {"CiphertextBlob": rsa_blob, "DestinationKeyId": symmetric}
    assert aws_error(kms.re_encrypt, **no_source) == INVALID
    assert aws_error(kms.re_encrypt, SourceEncryptionAlgorithm=SHA256, **no_source) == INVALID


def test_data_keys_come_only_from_symmetric_keys(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms, meta = server.client(), keys["RSA_2048"]
    for call, name in (
        (kms.generate_data_key, "GenerateDataKey"),
        (kms.generate_data_key_without_plaintext, "GenerateDataKeyWithoutPlaintext"),
    ):
        assert aws_error(call, KeyId=meta["KeyId"], KeySpec="AES_256") == (
            USAGE, f"{meta['Arn']} key KeySpec is RSA_2048 which is not valid for {name}.", 400,
        )  # fmt: skip


def test_dry_run_and_key_state(server: Server) -> None:
    kms, meta = server.client(), new_rsa_key(server)
    params = {"KeyId": meta["KeyId"], "EncryptionAlgorithm": SHA256}
    dry = ("DryRunOperationException", DRY_RUN, 400)
    assert aws_error(kms.encrypt, Plaintext=b"x", DryRun=True, **params) == dry
    assert aws_error(kms.encrypt, Plaintext=b"x" * 191, DryRun=True, **params)[0] == (
        "ValidationException"
    )
    blob = kms.encrypt(Plaintext=b"x", **params)["CiphertextBlob"]
    assert aws_error(kms.decrypt, CiphertextBlob=blob, DryRun=True, **params) == dry
    ignore = {"DryRun": True, "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}
    assert aws_error(kms.decrypt, CiphertextBlob=b"garbage", **ignore, **params) == dry
    kms.disable_key(KeyId=meta["KeyId"])
    disabled = ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    assert aws_error(kms.encrypt, Plaintext=b"x", **params) == disabled
    assert aws_error(kms.decrypt, CiphertextBlob=blob, **params) == disabled
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob, **params)["Plaintext"] == b"x"


def test_an_alias_names_an_rsa_key(server: Server) -> None:
    kms, meta = server.client(), new_rsa_key(server)
    kms.create_alias(AliasName="alias/rsa-enc", TargetKeyId=meta["KeyId"])
    params = {"KeyId": "alias/rsa-enc", "EncryptionAlgorithm": SHA256}
    made = kms.encrypt(Plaintext=b"by alias", **params)
    assert made["KeyId"] == meta["Arn"]
    opened = kms.decrypt(CiphertextBlob=made["CiphertextBlob"], **params)
    assert (opened["KeyId"], opened["Plaintext"]) == (meta["Arn"], b"by alias")


def _user(server: Server, name: str) -> tuple[Any, str]:
    """A user with no policy at all, and its KMS client."""
    iam = server.client("iam")
    arn = str(iam.create_user(UserName=name)["User"]["Arn"])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    kms = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    return kms, arn


def test_a_grant_for_decrypt_lets_a_grantee_decrypt_rsa_ciphertext(server: Server) -> None:
    grantee, arn = _user(server, "rsa-grantee")
    kms, meta = server.client(), new_rsa_key(server)
    params = {"KeyId": meta["Arn"], "EncryptionAlgorithm": SHA256}
    blob = kms.encrypt(Plaintext=b"for the grantee", **params)["CiphertextBlob"]
    assert aws_error(grantee.decrypt, CiphertextBlob=blob, **params)[0] == DENIED
    kms.create_grant(KeyId=meta["KeyId"], GranteePrincipal=arn, Operations=["Decrypt"])
    assert grantee.decrypt(CiphertextBlob=blob, **params)["Plaintext"] == b"for the grantee"
    assert aws_error(grantee.encrypt, Plaintext=b"x", **params)[0] == DENIED


def test_policies_see_the_encryption_algorithm_defaulted_or_named(server: Server) -> None:
    """kms:EncryptionAlgorithm is the request's algorithm, SYMMETRIC_DEFAULT when defaulted."""
    user, arn = _user(server, "rsa-algorithm-user")

    def policy(algorithm: str) -> str:
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
                 "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "kms:Encrypt",
                 "Resource": "*",
                 "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": algorithm}}},
            ],
        })  # fmt: skip

    kms = server.client()
    rsa_key = new_rsa_key(server, Policy=policy(SHA256))["KeyId"]
    user.encrypt(KeyId=rsa_key, Plaintext=b"x", EncryptionAlgorithm=SHA256)
    refused = aws_error(
        user.encrypt, KeyId=rsa_key, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )
    assert refused[0] == DENIED
    symmetric = kms.create_key(Policy=policy("SYMMETRIC_DEFAULT"))["KeyMetadata"]["KeyId"]
    user.encrypt(KeyId=symmetric, Plaintext=b"x")  # defaulted: seen as SYMMETRIC_DEFAULT
    user.encrypt(KeyId=symmetric, Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT")
    other = kms.create_key(Policy=policy(SHA256))["KeyMetadata"]["KeyId"]
    assert aws_error(user.encrypt, KeyId=other, Plaintext=b"x")[0] == DENIED


def test_encrypt_with_the_aws_cli(server: Server, tmp_path: Path) -> None:
    meta = new_rsa_key(server, "RSA_3072")
    (tmp_path / "plain").write_bytes(b"from the cli")
    done = server.aws(
        "kms", "encrypt", "--key-id", meta["KeyId"], "--encryption-algorithm", SHA256,
        "--plaintext", f"fileb://{tmp_path / 'plain'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["KeyId"], out["EncryptionAlgorithm"]) == (meta["Arn"], SHA256)
    blob = base64.b64decode(out["CiphertextBlob"])
    assert len(blob) == 384
    assert private_key(server, meta).decrypt(blob, oaep(SHA256)) == b"from the cli"
