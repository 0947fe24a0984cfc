"""Every KMS operation Strongroom serves (``strongroom.kms.operations.OPERATIONS``), at least once
through the AWS CLI (``aws kms ...``, the ``awscli`` package) against the dev server.

Blobs go in as ``fileb://`` files and come out through ``--query``; each answer is checked for
real: with ``cryptography`` (signatures, ECDH secrets, ML-KEM secrets, data key pairs, import
wrapping), against the key material the server holds (MACs, imported material) or by a second
operation (decrypt what was encrypted, verify what was signed).

Each test is registered (``@covers``) for the operations it runs, and fails unless it sent each of
them through the CLI; ``test_every_operation_has_a_cli_test`` fails when an operation in
OPERATIONS has no registered test, so a new operation cannot go untested here.

An operation the installed CLI does not know (awscli 1.46.3, whose vendored botocore is 1.43.62,
has no ``encapsulate`` or ``decapsulate``) is still called with ``aws kms``: after the CLI
refuses it, the CLI's own ``aws configure add-model`` adds the KMS model of the botocore the
server validates with, in a HOME of this module's, and the call is made again there.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import json
import os
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec

import botocore.loaders
import pytest
from botocore import xform_name
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    mlkem,
    padding,
    rsa,
)

from strongroom.kms.operations import OPERATIONS
from tests.integration.server import Server, raw_material

P = ParamSpec("P")
EU, WEST = "eu-west-1", "us-west-2"
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo

#: The CLI command of each operation (``GenerateDataKeyPair`` -> ``generate-data-key-pair``).
OPERATION_OF = {xform_name(operation, "-"): operation for operation in OPERATIONS}
#: Each operation and the tests registered for it.
COVERED: dict[str, list[str]] = {}
#: The operations the server answered (result or AWS error) since the running test began.
SENT: set[str] = set()


def covers(*operations: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Register a test for ``operations``; it fails unless it sent each through the CLI."""

    def register(test: Callable[P, None]) -> Callable[P, None]:
        for operation in operations:
            COVERED.setdefault(operation, []).append(test.__name__)

        @functools.wraps(test)
        def checked(*args: P.args, **kwargs: P.kwargs) -> None:
            SENT.clear()
            test(*args, **kwargs)
            unsent = sorted(set(operations) - SENT)
            assert not unsent, f"{test.__name__} is registered for {unsent} but never sent them"

        return checked

    return register


def b64(text: str) -> bytes:
    return base64.b64decode(text)


@dataclass
class Cli:
    """``aws kms ...`` against one server, blobs written to files under ``files``."""

    server: Server
    files: Path
    #: The commands the installed CLI refused as unknown: run again with ``home``'s model.
    taught: set[str] = field(default_factory=set)
    home: Path | None = None
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def json(self, *args: str) -> Any:
        """A call that must succeed: its JSON output (``{}`` when it prints nothing)."""
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def text(self, *args: str) -> str:
        """A call that must succeed, with ``--output text`` (for a ``--query``): its output."""
        done = self.run(*args, "--output", "text")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def error(self, *args: str) -> str:
        """A call that must fail: what the CLI printed on stderr."""
        done = self.run(*args)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def decrypt(self, ciphertext: str, *args: str) -> bytes:
        """``aws kms decrypt`` of a base64 ciphertext as the CLI printed it: the plaintext."""
        blob = self.fileb(b64(ciphertext))
        return b64(self.text("decrypt", "--ciphertext-blob", blob, *args, "--query", "Plaintext"))

    def fileb(self, data: bytes) -> str:
        """``fileb://`` and a new file holding ``data``."""
        return f"fileb://{self._write(data)}"

    def file(self, text: str) -> str:
        """``file://`` and a new file holding ``text``."""
        return f"file://{self._write(text.encode())}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = args[0]
        done = self._call(args)
        if done.returncode != 0 and command not in self.taught and unknown(done.stderr, command):
            self.taught.add(command)
            done = self._call(args)
        answered = re.search(r"when calling the (\w+) operation", done.stderr)
        if answered is not None:
            SENT.add(answered.group(1))
        elif done.returncode == 0 and command in OPERATION_OF:
            SENT.add(OPERATION_OF[command])
        return done

    def _call(self, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self._home())} if args[0] in self.taught else None
        return self.server.aws("kms", *args, env=env)

    def _home(self) -> Path:
        """A HOME whose ``~/.aws/models`` holds the KMS model of the installed botocore (the
        server's), added by ``aws configure add-model``."""
        if self.home is None:
            model = botocore.loaders.Loader().load_service_model("kms", "service-2")
            home = self.files / "home"
            self.server.aws(
                "configure", "add-model", "--service-name", "kms",
                "--service-model", self.file(json.dumps(model)),
                env={"HOME": str(home)}, check=True,
            )  # fmt: skip
            self.home = home
        return self.home

    def _write(self, data: bytes) -> Path:
        path = self.files / f"{next(self._names)}.bin"
        path.write_bytes(data)
        return path


def unknown(stderr: str, command: str) -> bool:
    """Whether the CLI refused ``command`` as none of the ``aws kms`` commands it lists."""
    _, refused, choices = stderr.partition("argument operation: Invalid choice, valid choices are:")
    return bool(refused) and command not in choices.replace("|", " ").split()


@pytest.fixture(scope="module")
def cli(dev: Server, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(dev, tmp_path_factory.mktemp("cli-every-op"))


def new_key(kms: Any, **params: Any) -> dict[str, Any]:
    return dict(kms.create_key(**params)["KeyMetadata"])


@pytest.fixture(scope="module")
def first(session_kms: Any) -> dict[str, Any]:
    """A symmetric key that the crypto tests share (nothing changes its state)."""
    return new_key(session_kms, Description="every operation: first")


@pytest.fixture(scope="module")
def second(session_kms: Any) -> dict[str, Any]:
    """Another: ReEncrypt's destination, an alias's second target, the tags' key."""
    return new_key(session_kms, Description="every operation: second")


def describe(kms: Any, key_id: str) -> dict[str, Any]:
    return dict(kms.describe_key(KeyId=key_id)["KeyMetadata"])


# -- keys: lifecycle, aliases, tags, policies ----------------------------------------------------


@covers(
    "CreateKey", "DescribeKey", "ListKeys", "UpdateKeyDescription", "DisableKey", "EnableKey",
    "GetKeyLastUsage", "ScheduleKeyDeletion", "CancelKeyDeletion",
)  # fmt: skip
def test_key_lifecycle(cli: Cli, session_kms: Any) -> None:
    arn = cli.text("create-key", "--description", "made by the CLI", "--query", "KeyMetadata.Arn")
    key_id = arn.rsplit("/", 1)[1]
    meta = cli.json("describe-key", "--key-id", key_id)["KeyMetadata"]
    assert (meta["Arn"], meta["KeyId"], meta["Description"]) == (arn, key_id, "made by the CLI")
    assert (meta["KeyState"], meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == (
        "Enabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS",
    )  # fmt: skip
    assert cli.text("list-keys", "--query", f"Keys[?KeyId=='{key_id}'].KeyArn") == arn

    assert cli.json("update-key-description", "--key-id", arn, "--description", "renamed") == {}
    assert cli.json("disable-key", "--key-id", key_id) == {}
    state = cli.text(
        "describe-key", "--key-id", arn, "--query", "KeyMetadata.[KeyState,Description]"
    )
    assert state == "Disabled\trenamed"
    assert cli.json("enable-key", "--key-id", arn) == {}
    assert describe(session_kms, key_id)["KeyState"] == "Enabled"

    usage = cli.json("get-key-last-usage", "--key-id", arn)
    assert (usage["KeyId"], usage["KeyLastUsage"]) == (key_id, {})
    assert usage["KeyCreationDate"] == meta["CreationDate"]
    assert usage["TrackingStartDate"] >= meta["CreationDate"]

    scheduled = cli.json(
        "schedule-key-deletion", "--key-id", key_id, "--pending-window-in-days", "7"
    )
    assert (scheduled["KeyId"], scheduled["KeyState"], scheduled["PendingWindowInDays"]) == (
        arn, "PendingDeletion", 7,
    )  # fmt: skip
    assert abs(scheduled["DeletionDate"] - (meta["CreationDate"] + 7 * 86400)) < 3600
    assert cli.json("cancel-key-deletion", "--key-id", arn) == {"KeyId": arn}
    after = cli.text(
        "describe-key", "--key-id", key_id, "--query", "KeyMetadata.[KeyState,DeletionDate]"
    )
    assert after == "Disabled\tNone"


@covers("CreateAlias", "UpdateAlias", "ListAliases", "DeleteAlias")
def test_aliases(cli: Cli, first: dict[str, Any], second: dict[str, Any]) -> None:
    name = f"alias/every-op-{uuid.uuid4().hex[:12]}"
    assert cli.json("create-alias", "--alias-name", name, "--target-key-id", first["KeyId"]) == {}
    assert cli.json("update-alias", "--alias-name", name, "--target-key-id", second["Arn"]) == {}
    target = cli.text("list-aliases", "--query", f"Aliases[?AliasName=='{name}'].TargetKeyId")
    assert target == second["KeyId"]
    listed = cli.json("list-aliases", "--key-id", second["Arn"])["Aliases"]
    assert [(a["AliasName"], a["AliasArn"]) for a in listed] == [
        (name, second["Arn"].rsplit(":", 1)[0] + ":" + name)
    ]
    assert cli.json("delete-alias", "--alias-name", name) == {}
    assert cli.text("list-aliases", "--query", f"Aliases[?AliasName=='{name}']") == ""


@covers("TagResource", "UntagResource", "ListResourceTags")
def test_tags(cli: Cli, second: dict[str, Any]) -> None:
    cli.json("tag-resource", "--key-id", second["Arn"],
             "--tags", "TagKey=team,TagValue=core", "TagKey=env,TagValue=test")  # fmt: skip
    cli.json("untag-resource", "--key-id", second["KeyId"], "--tag-keys", "env")
    assert cli.json("list-resource-tags", "--key-id", second["KeyId"])["Tags"] == [
        {"TagKey": "team", "TagValue": "core"}
    ]


@covers("ListKeyPolicies", "GetKeyPolicy", "PutKeyPolicy")
def test_key_policies(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, Description="every operation: policy")
    key_id = meta["KeyId"]
    assert cli.text("list-key-policies", "--key-id", key_id, "--query", "PolicyNames") == "default"
    read = ("get-key-policy", "--key-id", key_id, "--policy-name", "default", "--query", "Policy")
    policy = json.loads(cli.text(*read))
    assert [s["Principal"] for s in policy["Statement"]] == [
        {"AWS": f"arn:aws:iam::{meta['AWSAccountId']}:root"}
    ]
    policy["Statement"].append({
        "Sid": "Added with put-key-policy",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{meta['AWSAccountId']}:root"},
        "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"],
        "Resource": "*",
    })  # fmt: skip
    put = cli.json("put-key-policy", "--key-id", meta["Arn"], "--policy-name", "default",
                   "--policy", cli.file(json.dumps(policy, indent=2)))  # fmt: skip
    assert put == {}
    assert json.loads(cli.text(*read)) == policy


# -- cryptography ---------------------------------------------------------------------------------


@covers(
    "GenerateRandom", "Encrypt", "ReEncrypt", "Decrypt", "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
)  # fmt: skip
def test_symmetric_cryptography(cli: Cli, first: dict[str, Any], second: dict[str, Any]) -> None:
    plaintext = b64(cli.text("generate-random", "--number-of-bytes", "64", "--query", "Plaintext"))
    assert len(plaintext) == 64
    ciphertext = cli.text(
        "encrypt", "--key-id", first["Arn"], "--plaintext", cli.fileb(plaintext),
        "--encryption-context", "purpose=every-op", "--query", "CiphertextBlob",
    )  # fmt: skip
    moved = cli.json(
        "re-encrypt", "--ciphertext-blob", cli.fileb(b64(ciphertext)),
        "--source-encryption-context", "purpose=every-op",
        "--destination-key-id", second["KeyId"],
        "--destination-encryption-context", "purpose=moved",
    )  # fmt: skip
    assert (moved["SourceKeyId"], moved["KeyId"]) == (first["Arn"], second["Arn"])
    assert (moved["SourceKeyMaterialId"], moved["DestinationKeyMaterialId"]) == (
        first["CurrentKeyMaterialId"], second["CurrentKeyMaterialId"],
    )  # fmt: skip
    opened = cli.json("decrypt", "--ciphertext-blob", cli.fileb(b64(moved["CiphertextBlob"])),
                      "--encryption-context", "purpose=moved")  # fmt: skip
    assert b64(opened["Plaintext"]) == plaintext
    assert (opened["KeyId"], opened["KeyMaterialId"]) == (
        second["Arn"], second["CurrentKeyMaterialId"],
    )  # fmt: skip

    data_key = cli.json("generate-data-key", "--key-id", first["KeyId"], "--key-spec", "AES_256",
                        "--encryption-context", "use=data-key")  # fmt: skip
    assert (data_key["KeyId"], len(b64(data_key["Plaintext"]))) == (first["Arn"], 32)
    sealed = cli.json("generate-data-key-without-plaintext", "--key-id", first["Arn"],
                      "--number-of-bytes", "48")  # fmt: skip
    assert "Plaintext" not in sealed
    back = cli.decrypt(data_key["CiphertextBlob"], "--encryption-context", "use=data-key")
    assert back == b64(data_key["Plaintext"])
    assert len(cli.decrypt(sealed["CiphertextBlob"])) == 48


@covers("GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext")
def test_data_key_pairs(cli: Cli, first: dict[str, Any]) -> None:
    pair = cli.json(
        "generate-data-key-pair", "--key-id", first["Arn"], "--key-pair-spec", "ECC_NIST_P256",
        "--encryption-context", "use=pair",
    )  # fmt: skip
    assert (pair["KeyId"], pair["KeyPairSpec"]) == (first["Arn"], "ECC_NIST_P256")
    private_der = b64(pair["PrivateKeyPlaintext"])
    private = serialization.load_der_private_key(private_der, None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key().public_bytes(DER, SPKI) == b64(pair["PublicKey"])
    opened = cli.decrypt(pair["PrivateKeyCiphertextBlob"], "--encryption-context", "use=pair")
    assert opened == private_der

    bare = cli.json("generate-data-key-pair-without-plaintext", "--key-id", first["KeyId"],
                    "--key-pair-spec", "RSA_2048")  # fmt: skip
    assert (bare["KeyId"], bare["KeyPairSpec"]) == (first["Arn"], "RSA_2048")
    assert "PrivateKeyPlaintext" not in bare
    rsa_private = serialization.load_der_private_key(
        cli.decrypt(bare["PrivateKeyCiphertextBlob"]), None
    )
    assert isinstance(rsa_private, rsa.RSAPrivateKey)
    assert rsa_private.key_size == 2048
    assert rsa_private.public_key().public_bytes(DER, SPKI) == b64(bare["PublicKey"])


def verified_not_forged(
    cli: Cli, command: str, exception: str, genuine: list[str], forged: list[str]
) -> Any:
    """``command`` (verify or verify-mac) with ``genuine`` arguments: its output; with ``forged``
    ones it must fail as in AWS, with ``exception`` and no message (the CLI shows an empty one)."""
    verified = cli.json(command, *genuine)
    refused = cli.error(command, *forged).strip()
    operation = OPERATION_OF[command]
    assert refused == f"An error occurred ({exception}) when calling the {operation} operation:"
    return verified


@covers("GetPublicKey", "Sign", "Verify")
def test_signing(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    got = cli.json("get-public-key", "--key-id", meta["Arn"])
    assert (got["KeyId"], got["KeySpec"], got["KeyUsage"], got["SigningAlgorithms"]) == (
        meta["Arn"], "ECC_NIST_P256", "SIGN_VERIFY", ["ECDSA_SHA_256"],
    )  # fmt: skip
    public = serialization.load_der_public_key(b64(got["PublicKey"]))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    message = b"every operation, signed by the CLI\n" + bytes(range(256))
    signing = ("--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256")
    signature = b64(cli.text("sign", "--key-id", meta["KeyId"], "--message", cli.fileb(message),
                             *signing, "--query", "Signature"))  # fmt: skip
    public.verify(signature, message, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    common = ("--key-id", meta["Arn"], "--signature", cli.fileb(signature), *signing)
    verified = verified_not_forged(
        cli, "verify", "KMSInvalidSignatureException",
        [*common, "--message", cli.fileb(message)],
        [*common, "--message", cli.fileb(message + b"!")],
    )  # fmt: skip
    assert verified == {
        "KeyId": meta["Arn"], "SignatureValid": True, "SigningAlgorithm": "ECDSA_SHA_256",
    }  # fmt: skip


@covers("GenerateMac", "VerifyMac")
def test_macs(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    message = b"every operation, MACed by the CLI"
    algorithm = ("--mac-algorithm", "HMAC_SHA_256")
    mac = b64(cli.text("generate-mac", "--key-id", meta["Arn"], "--message", cli.fileb(message),
                       *algorithm, "--query", "Mac"))  # fmt: skip
    material = raw_material(cli.server, meta)
    assert mac == hmac.new(material, message, hashlib.sha256).digest()
    common = ("--key-id", meta["KeyId"], "--message", cli.fileb(message), *algorithm)
    verified = verified_not_forged(
        cli, "verify-mac", "KMSInvalidMacException",
        [*common, "--mac", cli.fileb(mac)],
        [*common, "--mac", cli.fileb(bytes([mac[0] ^ 1]) + mac[1:])],
    )  # fmt: skip
    assert verified == {"KeyId": meta["Arn"], "MacValid": True, "MacAlgorithm": "HMAC_SHA_256"}


@covers("GetPublicKey", "DeriveSharedSecret")
def test_key_agreement(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    theirs = serialization.load_der_public_key(
        b64(cli.text("get-public-key", "--key-id", meta["KeyId"], "--query", "PublicKey"))
    )
    assert isinstance(theirs, ec.EllipticCurvePublicKey)
    mine = ec.generate_private_key(ec.SECP256R1())
    derived = cli.json(
        "derive-shared-secret", "--key-id", meta["Arn"], "--key-agreement-algorithm", "ECDH",
        "--public-key", cli.fileb(mine.public_key().public_bytes(DER, SPKI)),
    )  # fmt: skip
    assert (derived["KeyId"], derived["KeyAgreementAlgorithm"], derived["KeyOrigin"]) == (
        meta["Arn"], "ECDH", "AWS_KMS",
    )  # fmt: skip
    assert b64(derived["SharedSecret"]) == mine.exchange(ec.ECDH(), theirs)


@covers("GetPublicKey", "Encapsulate", "Decapsulate")
def test_ml_kem(cli: Cli, session_kms: Any) -> None:
    """awscli 1.46.3 has no ``encapsulate`` or ``decapsulate``: the CLI refuses both, and both run
    again with the model ``aws configure add-model`` added (see the module's docstring)."""
    meta = new_key(session_kms, KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")
    public = serialization.load_der_public_key(
        b64(cli.text("get-public-key", "--key-id", meta["Arn"], "--query", "PublicKey"))
    )
    assert isinstance(public, mlkem.MLKEM768PublicKey)
    kem = ("--key-id", meta["KeyId"], "--encapsulation-algorithm", "ML_KEM")
    made = cli.json("encapsulate", *kem)
    assert (made["KeyId"], made["EncapsulationAlgorithm"]) == (meta["Arn"], "ML_KEM")
    secret, ciphertext = b64(made["SharedSecret"]), b64(made["SharedSecretCiphertextBlob"])
    assert (len(secret), len(ciphertext)) == (32, 1088)
    local_secret, local_ciphertext = public.encapsulate()
    for sent, expected in ((ciphertext, secret), (local_ciphertext, local_secret)):
        opened = cli.text("decapsulate", *kem, "--shared-secret-ciphertext-blob", cli.fileb(sent),
                          "--query", "SharedSecret")  # fmt: skip
        assert b64(opened) == expected


# -- rotation, imported material, multi-Region keys, grants ---------------------------------------


@covers(
    "EnableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations",
    "DisableKeyRotation",
)  # fmt: skip
def test_rotation(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, Description="every operation: rotation")
    key_id, arn = meta["KeyId"], meta["Arn"]
    cli.json("enable-key-rotation", "--key-id", key_id, "--rotation-period-in-days", "180")
    status = cli.json("get-key-rotation-status", "--key-id", arn)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 180)
    due = meta["CreationDate"].timestamp() + 180 * 86400
    assert abs(status["NextRotationDate"] - due) < 3600
    rotated = cli.json("rotate-key-on-demand", "--key-id", key_id)
    assert rotated["KeyId"].endswith(key_id)  # the id or the ARN: the form is being settled
    current = describe(session_kms, key_id)["CurrentKeyMaterialId"]
    assert current != meta["CurrentKeyMaterialId"]
    rotations = cli.json("list-key-rotations", "--key-id", arn)["Rotations"]
    assert [(r["KeyMaterialId"], r["KeyMaterialState"], r["RotationType"]) for r in rotations] == [
        (current, "CURRENT", "ON_DEMAND")
    ]
    assert cli.json("disable-key-rotation", "--key-id", arn) == {}
    assert cli.text("get-key-rotation-status", "--key-id", key_id, "--query",
                    "KeyRotationEnabled") == "False"  # fmt: skip


@covers("GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial")
def test_imported_key_material(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, Origin="EXTERNAL", Description="every operation: import")
    params = cli.json("get-parameters-for-import", "--key-id", meta["Arn"],
                      "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
                      "--wrapping-key-spec", "RSA_3072")  # fmt: skip
    assert params["KeyId"] == meta["Arn"]
    valid_for = params["ParametersValidTo"] - meta["CreationDate"].timestamp()
    assert 24 * 3600 - 600 < valid_for <= 24 * 3600 + 600
    wrapping = serialization.load_der_public_key(b64(params["PublicKey"]))
    assert isinstance(wrapping, rsa.RSAPublicKey)
    assert wrapping.key_size == 3072
    material = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    imported = cli.json(
        "import-key-material", "--key-id", meta["KeyId"],
        "--import-token", cli.fileb(b64(params["ImportToken"])),
        "--encrypted-key-material", cli.fileb(wrapping.encrypt(material, oaep)),
        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE",
    )  # fmt: skip
    assert imported["KeyId"] == meta["Arn"]
    after = describe(session_kms, meta["KeyId"])
    assert (after["KeyState"], after["CurrentKeyMaterialId"]) == (
        "Enabled",
        imported["KeyMaterialId"],
    )
    assert raw_material(cli.server, meta) == material
    deleted = cli.json("delete-imported-key-material", "--key-id", meta["Arn"])
    assert deleted == {"KeyId": meta["Arn"], "KeyMaterialId": imported["KeyMaterialId"]}
    assert describe(session_kms, meta["KeyId"])["KeyState"] == "PendingImport"


@covers("ReplicateKey", "UpdatePrimaryRegion")
def test_multi_region(cli: Cli) -> None:
    eu = cli.server.client(region=EU)
    primary = new_key(eu, MultiRegion=True, Description="every operation: primary")
    key_id = primary["KeyId"]
    replica = cli.json("replicate-key", "--region", EU, "--key-id", primary["Arn"],
                       "--replica-region", WEST, "--description", "replica by the CLI")  # fmt: skip
    made = replica["ReplicaKeyMetadata"]
    assert (made["KeyId"], made["Arn"], made["Description"]) == (
        key_id, primary["Arn"].replace(f":{EU}:", f":{WEST}:"), "replica by the CLI",
    )  # fmt: skip
    assert made["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert made["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": primary["Arn"], "Region": EU}
    assert json.loads(replica["ReplicaPolicy"])["Statement"]
    moved = cli.json("update-primary-region", "--region", EU, "--key-id", key_id,
                     "--primary-region", WEST)  # fmt: skip
    assert moved == {}
    query = "KeyMetadata.MultiRegionConfiguration.[MultiRegionKeyType,PrimaryKey.Region]"
    assert cli.text("describe-key", "--region", WEST, "--key-id", key_id, "--query", query) == (
        f"PRIMARY\t{WEST}"
    )
    assert describe(eu, key_id)["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"


@covers("CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant", "RevokeGrant")
def test_grants(cli: Cli, session_kms: Any) -> None:
    meta = new_key(session_kms, Description="every operation: grants")
    account, arn = meta["AWSAccountId"], meta["Arn"]
    grantee = f"arn:aws:iam::{account}:role/every-op-grantee"
    retirer = f"arn:aws:iam::{account}:user/every-op-retirer-{uuid.uuid4().hex[:8]}"
    retired = cli.json(
        "create-grant", "--key-id", arn, "--name", "retired", "--grantee-principal", grantee,
        "--retiring-principal", retirer, "--operations", "Encrypt", "Decrypt",
        "--constraints", "EncryptionContextSubset={team=core}",
    )  # fmt: skip
    revoked = cli.json(
        "create-grant", "--key-id", meta["KeyId"], "--name", "revoked",
        "--grantee-principal", grantee, "--operations", "GenerateDataKey",
    )  # fmt: skip
    listed = cli.json("list-grants", "--key-id", meta["KeyId"])["Grants"]
    assert {
        g["GrantId"]: (g["KeyId"], g["Name"], g["GranteePrincipal"], sorted(g["Operations"]),
                       g.get("Constraints"), g.get("RetiringPrincipal"))
        for g in listed
    } == {
        retired["GrantId"]: (arn, "retired", grantee, ["Decrypt", "Encrypt"],
                             {"EncryptionContextSubset": {"team": "core"}}, retirer),
        revoked["GrantId"]: (arn, "revoked", grantee, ["GenerateDataKey"], None, None),
    }  # fmt: skip
    retirable = cli.json("list-retirable-grants", "--retiring-principal", retirer)["Grants"]
    assert [(g["GrantId"], g["KeyId"]) for g in retirable] == [(retired["GrantId"], arn)]
    assert cli.json("retire-grant", "--grant-token", retired["GrantToken"]) == {}
    assert cli.json("revoke-grant", "--key-id", arn, "--grant-id", revoked["GrantId"]) == {}
    assert cli.json("list-grants", "--key-id", arn)["Grants"] == []


def test_every_operation_has_a_cli_test() -> None:
    served, covered = set(OPERATIONS), set(COVERED)
    assert {"untested": sorted(served - covered), "not served": sorted(covered - served)} == {
        "untested": [],
        "not served": [],
    }
