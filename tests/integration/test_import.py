"""Imported key material over HTTP (kms-spec.md section 11, scenario 22): keys of Origin EXTERNAL,
material wrapped in the test as a user would (``cryptography``, and the ``openssl`` command line
as AWS's guide does), every wrapping algorithm and wrapping key spec, expiry through the dev clock,
re-import of the same material only, HMAC and asymmetric material checked offline, the token
errors, DeleteImportedKeyMaterial and the condition keys of the import operations.

Most tests run on the production-mode server; those that move time have a dev server of their
own.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    padding,
    rsa,
)
from cryptography.hazmat.primitives.keywrap import (  # noqa: TID251 -- independent check
    aes_key_wrap_with_padding,
)

from tests.integration.expect import aws_error
from tests.integration.server import BIN, Server, raw_material

DAY = 86_400
ALGORITHMS = (
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
)
WRAPPING_SPECS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
NEVER = "KEY_MATERIAL_DOES_NOT_EXPIRE"
OPENSSL = shutil.which("openssl")


# -- what a user does -----------------------------------------------------------------------------


def user_wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """Wrap ``material`` with ``cryptography`` alone, following AWS's guide (step 3)."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    digest = hashes.SHA256() if algorithm.endswith("SHA_256") else hashes.SHA1()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes_key = os.urandom(32)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def import_material(
    kms: Any,
    key_id: str,
    material: bytes,
    algorithm: str = "RSAES_OAEP_SHA_256",
    spec: str = "RSA_2048",
    **terms: Any,
) -> dict[str, Any]:
    """GetParametersForImport, wrap, ImportKeyMaterial (not expiring unless ``terms`` say)."""
    params = kms.get_parameters_for_import(
        KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec
    )
    if not terms:
        terms = {"ExpirationModel": NEVER}
    answer: dict[str, Any] = kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=user_wrap(params["PublicKey"], algorithm, material),
        **terms,
    )
    return answer


def import_error(
    kms: Any,
    key_id: str,
    material: bytes,
    algorithm: str = "RSAES_OAEP_SHA_256",
    spec: str = "RSA_2048",
    **terms: Any,
) -> tuple[str, str, int]:
    """The AWS error of an :func:`import_material` that must fail."""
    return aws_error(lambda: import_material(kms, key_id, material, algorithm, spec, **terms))


def external_key(kms: Any, **create: Any) -> dict[str, Any]:
    meta: dict[str, Any] = kms.create_key(Origin="EXTERNAL", **create)["KeyMetadata"]
    return meta


def describe(kms: Any, key_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    return meta


def pkcs8(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def advance(server: Server, seconds: float) -> dict[str, Any]:
    status, body = server.post("/_strongroom/clock", orjson.dumps({"advance_seconds": seconds}))
    assert status == 200, body
    answer: dict[str, Any] = orjson.loads(body)
    return answer


def server_now(server: Server) -> float:
    """The dev server's clock (it runs ahead of ours once a test has moved it)."""
    return float(advance(server, 0)["now"])


def pending_import(arn: str) -> tuple[str, str, int]:
    return ("KMSInvalidStateException", f"{arn} is pending import.", 400)


# -- the scenario (kms-spec.md 19.22) -------------------------------------------------------------


def test_scenario_create_import_delete_reimport(prod: Server, prod_kms: Any) -> None:
    kms = prod_kms
    meta = external_key(kms, Description="imported")
    arn = meta["Arn"]
    assert (meta["KeyState"], meta["Enabled"], meta["Origin"]) == (
        "PendingImport",
        False,
        "EXTERNAL",
    )
    assert "ExpirationModel" not in meta
    assert "CurrentKeyMaterialId" not in meta
    assert aws_error(kms.encrypt, KeyId=arn, Plaintext=b"x") == pending_import(arn)

    before = time.time()
    params = kms.get_parameters_for_import(
        KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    assert params["KeyId"] == arn
    valid_to = params["ParametersValidTo"].timestamp()
    assert before + DAY - 5 <= valid_to <= time.time() + DAY + 5
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 2048
    assert 0 < len(params["ImportToken"]) <= 6144

    material = os.urandom(32)
    wrapped = user_wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", material)
    # The default expiration model needs a ValidTo.
    assert aws_error(
        kms.import_key_material, KeyId=arn, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
    ) == (
        "ValidationException",
        "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
        400,
    )  # fmt: skip
    answer = kms.import_key_material(
        KeyId=arn,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel=NEVER,
    )
    assert answer["KeyId"] == arn
    material_id = answer["KeyMaterialId"]
    assert len(material_id) == 64
    assert int(material_id, 16) >= 0
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["Enabled"], meta["ExpirationModel"]) == ("Enabled", True, NEVER)
    assert "ValidTo" not in meta
    assert meta["CurrentKeyMaterialId"] == material_id

    # What the server keeps is exactly the material imported.
    prod_meta = {"AWSAccountId": meta["AWSAccountId"], "KeyId": meta["KeyId"], "Arn": arn}
    assert raw_material(prod, prod_meta) == material

    blob = kms.encrypt(KeyId=arn, Plaintext=b"imported secret")["CiphertextBlob"]
    decrypted = kms.decrypt(CiphertextBlob=blob)
    assert (decrypted["Plaintext"], decrypted["KeyMaterialId"]) == (b"imported secret", material_id)

    deleted = kms.delete_imported_key_material(KeyId=arn)
    assert (deleted["KeyId"], deleted["KeyMaterialId"]) == (arn, material_id)
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingImport", False)
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == pending_import(arn)
    assert aws_error(kms.encrypt, KeyId=arn, Plaintext=b"x") == pending_import(arn)
    with pytest.raises(AssertionError, match="no bytes"):
        raw_material(prod, prod_meta)  # the row stays, without its bytes

    # The same material comes back (another wrapping, another token): old ciphertexts decrypt.
    again = import_material(kms, arn, material, "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072")
    assert again["KeyMaterialId"] == material_id
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported secret"
    assert describe(kms, arn)["KeyState"] == "Enabled"

    # Different material is refused, and changes nothing.
    code, message, status = import_error(kms, arn, os.urandom(32))
    assert (code, status) == ("IncorrectKeyMaterialException", 400)
    assert arn in message
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported secret"

    # GetParametersForImport on a key whose material KMS made.
    own = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(
        kms.get_parameters_for_import, KeyId=own, WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    ) == (
        "UnsupportedOperationException",
        f"{own} origin is AWS_KMS which is not valid for this operation.",
        400,
    )  # fmt: skip


# -- every wrapping algorithm with every wrapping key spec ----------------------------------------


@pytest.mark.parametrize("spec", sorted(WRAPPING_SPECS))
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_wrapping_algorithm_and_spec(prod_kms: Any, algorithm: str, spec: str) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm=algorithm, WrappingKeySpec=spec
    )
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == WRAPPING_SPECS[spec]
    material = os.urandom(32)
    wrapped = user_wrap(params["PublicKey"], algorithm, material)
    expected = WRAPPING_SPECS[spec] // 8 + (40 if algorithm.startswith("RSA_AES") else 0)
    assert len(wrapped) == expected
    kms.import_key_material(
        KeyId=arn,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel=NEVER,
    )
    blob = kms.encrypt(KeyId=arn, Plaintext=algorithm.encode())["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == algorithm.encode()


def test_material_wrapped_for_another_algorithm_does_not_unwrap(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    wrong = user_wrap(params["PublicKey"], "RSAES_OAEP_SHA_1", os.urandom(32))
    error = aws_error(
        kms.import_key_material, KeyId=arn, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrong, ExpirationModel=NEVER,
    )  # fmt: skip
    assert error == ("InvalidCiphertextException", "", 400)
    # A blob no RSA_2048 wrapping can produce.
    error = aws_error(
        kms.import_key_material, KeyId=arn, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=os.urandom(100), ExpirationModel=NEVER,
    )  # fmt: skip
    assert error == ("ValidationException", "Invalid encrypted key size.", 400)
    assert describe(kms, arn)["KeyState"] == "PendingImport"


# -- the openssl command line, as AWS's guide does ------------------------------------------------


def openssl(*args: str) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command line")
def test_openssl_pkeyutl_wraps_rsaes_oaep_sha_256(prod_kms: Any, tmp_path: Path) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_4096"
    )
    (tmp_path / "pub.der").write_bytes(params["PublicKey"])
    material = os.urandom(32)
    (tmp_path / "material.bin").write_bytes(material)
    openssl(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", str(tmp_path / "pub.der"), "-keyform", "DER",
        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
        "-pkeyopt", "rsa_mgf1_md:sha256",
        "-in", str(tmp_path / "material.bin"), "-out", str(tmp_path / "wrapped.bin"),
    )  # fmt: skip
    answer = kms.import_key_material(
        KeyId=arn,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=(tmp_path / "wrapped.bin").read_bytes(),
        ExpirationModel=NEVER,
    )
    blob = kms.encrypt(KeyId=arn, Plaintext=b"via openssl")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"via openssl"
    # The material is the bytes openssl wrapped: the same material through cryptography matches.
    assert import_material(kms, arn, material)["KeyMaterialId"] == answer["KeyMaterialId"]


GUIDE = r"""
set -eu
export AWS_ENDPOINT_URL="$ENDPOINT"
KEY_ID=$(aws kms create-key --origin EXTERNAL --query KeyMetadata.KeyId --output text)
aws kms get-parameters-for-import --key-id "$KEY_ID" \
    --wrapping-algorithm RSA_AES_KEY_WRAP_SHA_256 --wrapping-key-spec RSA_3072 \
    --query '[PublicKey,ImportToken]' --output text > parameters.txt
cut -f1 parameters.txt | openssl enc -d -base64 -A -out WrappingPublicKey.bin
cut -f2 parameters.txt | openssl enc -d -base64 -A -out ImportToken.bin
openssl rand -out PlaintextKeyMaterial.bin 32
openssl rand -out aes-key.bin 32
openssl enc -id-aes256-wrap-pad -K "$(xxd -p < aes-key.bin | tr -d '\n')" -iv A65959A6 \
    -in PlaintextKeyMaterial.bin -out key-material-wrapped.bin
openssl pkeyutl -encrypt -in aes-key.bin -out aes-key-wrapped.bin \
    -inkey WrappingPublicKey.bin -keyform DER -pubin \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
cat aes-key-wrapped.bin key-material-wrapped.bin > EncryptedKeyMaterial.bin
aws kms import-key-material --key-id "$KEY_ID" \
    --encrypted-key-material fileb://EncryptedKeyMaterial.bin \
    --import-token fileb://ImportToken.bin \
    --expiration-model KEY_MATERIAL_EXPIRES --valid-to "$VALID_TO" > imported.json
echo "$KEY_ID" > key-id.txt
"""


@pytest.mark.skipif(OPENSSL is None or shutil.which("xxd") is None, reason="needs openssl and xxd")
def test_the_guide_with_the_aws_cli_and_openssl(prod: Server, tmp_path: Path) -> None:
    """docs/imported-material.md's RSA_AES_KEY_WRAP_SHA_256 walk-through, command for command."""
    valid_to = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    env = prod.cli_env() | {
        "ENDPOINT": prod.endpoint,
        "VALID_TO": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", "-c", GUIDE],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    key_id = (tmp_path / "key-id.txt").read_text().strip()
    imported = json.loads((tmp_path / "imported.json").read_text())
    kms = prod.client()
    meta = describe(kms, key_id)
    assert imported["KeyMaterialId"] == meta["CurrentKeyMaterialId"]
    assert (meta["KeyState"], meta["ExpirationModel"]) == ("Enabled", "KEY_MATERIAL_EXPIRES")
    assert abs(meta["ValidTo"].timestamp() - valid_to.replace(microsecond=0).timestamp()) < 1
    assert raw_material(prod, meta) == (tmp_path / "PlaintextKeyMaterial.bin").read_bytes()


# -- expiry through the dev clock -----------------------------------------------------------------


def test_material_expires_and_the_same_material_restores_the_key(own_dev: Server) -> None:
    kms = own_dev.client()
    arn = external_key(kms)["Arn"]
    material = os.urandom(32)
    valid_to = server_now(own_dev) + 3600
    answer = import_material(kms, arn, material, ValidTo=valid_to)
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["ExpirationModel"]) == ("Enabled", "KEY_MATERIAL_EXPIRES")
    assert abs(meta["ValidTo"].timestamp() - valid_to) < 1
    blob = kms.encrypt(KeyId=arn, Plaintext=b"before expiry")["CiphertextBlob"]

    assert advance(own_dev, 1800)["materials_expired"] == 0
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before expiry"
    assert advance(own_dev, 1900)["materials_expired"] >= 1
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingImport", False)
    assert "ValidTo" not in meta
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == pending_import(arn)
    assert advance(own_dev, 60)["materials_expired"] == 0  # expired once, not again

    # Different material is refused; the same restores the key and its old ciphertexts.
    assert import_error(kms, arn, os.urandom(32))[0] == "IncorrectKeyMaterialException"
    assert import_material(kms, arn, material)["KeyMaterialId"] == answer["KeyMaterialId"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before expiry"
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["ExpirationModel"]) == ("Enabled", NEVER)


def test_reimport_resets_the_expiry(own_dev: Server) -> None:
    kms = own_dev.client()
    arn = external_key(kms)["Arn"]
    material = os.urandom(32)
    now = server_now(own_dev)
    import_material(kms, arn, material, ValidTo=now + 3600)
    later = now + 10 * DAY
    import_material(kms, arn, material, ValidTo=later)
    assert abs(describe(kms, arn)["ValidTo"].timestamp() - later) < 1
    advance(own_dev, 2 * 3600)
    assert describe(kms, arn)["KeyState"] == "Enabled"


def test_an_import_token_lasts_24_hours(own_dev: Server) -> None:
    kms = own_dev.client()
    arn = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048"
    )
    wrapped = user_wrap(params["PublicKey"], "RSAES_OAEP_SHA_1", os.urandom(32))
    advance(own_dev, DAY + 60)
    code, message, status = aws_error(
        kms.import_key_material, KeyId=arn, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped, ExpirationModel=NEVER,
    )  # fmt: skip
    assert (code, status) == ("ExpiredImportTokenException", 400)
    assert "GetParametersForImport" in message
    assert describe(kms, arn)["KeyState"] == "PendingImport"


def test_valid_to_limits(own_dev: Server) -> None:
    kms = own_dev.client()
    arn = external_key(kms)["Arn"]
    now = server_now(own_dev)
    material = os.urandom(32)
    assert import_error(kms, arn, material, ValidTo=now - 60) == (
        "ValidationException", "ValidTo must be in the future", 400,
    )  # fmt: skip
    assert import_error(kms, arn, material, ValidTo=now + 366 * DAY) == (
        "ValidationException", "ValidTo must be no more than 365 days from now", 400,
    )  # fmt: skip
    assert import_error(kms, arn, material, ExpirationModel=NEVER, ValidTo=now + DAY) == (
        "ValidationException",
        "The parameter ValidTo cannot be specified for a key with an expiration model of "
        "KEY_MATERIAL_DOES_NOT_EXPIRE",
        400,
    )
    import_material(kms, arn, material, ValidTo=now + 365 * DAY - 60)  # the longest term


# -- the import token -----------------------------------------------------------------------------


def test_token_errors(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    other = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    wrapped = user_wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32))
    token = params["ImportToken"]
    tampered = bytes([*token[:40], token[40] ^ 1, *token[41:]])
    for name, key, bad in (
        ("garbage", arn, os.urandom(300)),
        ("tampered", arn, tampered),
        ("truncated", arn, token[:-1]),
        ("another key's", other, token),
    ):
        code, message, status = aws_error(
            kms.import_key_material, KeyId=key, ImportToken=bad, EncryptedKeyMaterial=wrapped,
            ExpirationModel=NEVER,
        )  # fmt: skip
        assert (code, status) == ("InvalidImportTokenException", 400), name
        assert message == "The import token is invalid or was issued for a different KMS key."
    # The genuine token still works, and more than once (re-import of the same material).
    kms.import_key_material(
        KeyId=arn, ImportToken=token, EncryptedKeyMaterial=wrapped, ExpirationModel=NEVER
    )
    kms.import_key_material(
        KeyId=arn, ImportToken=token, EncryptedKeyMaterial=wrapped, ExpirationModel=NEVER
    )


def test_get_parameters_for_import_errors(prod_kms: Any) -> None:
    kms = prod_kms
    meta = external_key(kms)
    kms.create_alias(AliasName=f"alias/imported-{meta['KeyId']}", TargetKeyId=meta["KeyId"])
    code, message, _ = aws_error(
        kms.get_parameters_for_import, KeyId=meta["Arn"],
        WrappingAlgorithm="RSAES_PKCS1_V1_5", WrappingKeySpec="RSA_2048",
    )  # fmt: skip
    assert code == "ValidationException"
    assert "RSAES_PKCS1_V1_5" in message
    for algorithm, spec in (("SM2PKE", "RSA_2048"), ("RSAES_OAEP_SHA_256", "SM2")):
        code, message, _ = aws_error(
            kms.get_parameters_for_import, KeyId=meta["Arn"], WrappingAlgorithm=algorithm,
            WrappingKeySpec=spec,
        )  # fmt: skip
        assert code == "UnsupportedOperationException"
        assert "China" in message
    # Key ids and ARNs only, as AWS's guide says.
    alias = f"alias/imported-{meta['KeyId']}"
    assert aws_error(
        kms.get_parameters_for_import, KeyId=alias, WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    ) == ("NotFoundException", f"Invalid keyId '{alias}'", 400)  # fmt: skip
    kms.schedule_key_deletion(KeyId=meta["Arn"], PendingWindowInDays=7)
    assert aws_error(
        kms.get_parameters_for_import, KeyId=meta["Arn"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    ) == ("KMSInvalidStateException", f"{meta['Arn']} is pending deletion.", 400)  # fmt: skip


def test_import_on_a_key_pending_deletion_or_of_aws_kms_origin(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    wrapped = user_wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32))
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert aws_error(
        kms.import_key_material, KeyId=arn, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped, ExpirationModel=NEVER,
    ) == ("KMSInvalidStateException", f"{arn} is pending deletion.", 400)  # fmt: skip
    own = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(
        kms.import_key_material, KeyId=own, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped, ExpirationModel=NEVER,
    ) == (
        "UnsupportedOperationException",
        f"{own} origin is AWS_KMS which is not valid for this operation.",
        400,
    )  # fmt: skip


# -- HMAC and asymmetric material -----------------------------------------------------------------


def test_hmac_material_makes_the_macs_of_the_imported_key(prod_kms: Any) -> None:
    kms = prod_kms
    meta = external_key(kms, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    arn = meta["Arn"]
    code, message, _ = import_error(kms, arn, os.urandom(16))
    assert code == "IncorrectKeyMaterialException"
    assert (
        message == "The key material of an HMAC_256 key must be 32 to 128 bytes (256 to 1024 bits)."
    )
    material = os.urandom(48)
    answer = import_material(kms, arn, material, "RSAES_OAEP_SHA_1", "RSA_3072")
    assert answer["KeyId"] == arn
    assert "KeyMaterialId" not in answer
    mac = kms.generate_mac(KeyId=arn, MacAlgorithm="HMAC_SHA_256", Message=b"message")["Mac"]
    assert mac == hmac.new(material, b"message", hashlib.sha256).digest()
    # ImportType is for symmetric encryption keys only.
    code, _, _ = import_error(
        kms, arn, material, ExpirationModel=NEVER,
        ImportType="EXISTING_KEY_MATERIAL",
    )  # fmt: skip
    assert code == "ValidationException"
    assert import_error(kms, arn, os.urandom(48))[0] == "IncorrectKeyMaterialException"


def test_an_ecc_signing_key_signs_with_the_imported_private_key(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["Arn"]
    private = ec.generate_private_key(ec.SECP256R1())
    # The wrong curve is refused.
    wrong = pkcs8(ec.generate_private_key(ec.SECP384R1()))
    code, message, _ = import_error(kms, arn, wrong, "RSA_AES_KEY_WRAP_SHA_256")
    assert code == "IncorrectKeyMaterialException"
    assert "ECC_NIST_P256" in message
    import_material(kms, arn, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_256", "RSA_4096")
    assert describe(kms, arn)["KeyState"] == "Enabled"
    public_der = kms.get_public_key(KeyId=arn)["PublicKey"]
    assert public_der == private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = kms.sign(KeyId=arn, Message=b"signed", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    private.public_key().verify(signature, b"signed", ec.ECDSA(hashes.SHA256()))
    # RSAES_OAEP also carries ECC material that fits; another private key is refused.
    import_material(kms, arn, pkcs8(private), "RSAES_OAEP_SHA_256", "RSA_3072")
    other = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    assert (
        import_error(kms, arn, other, "RSA_AES_KEY_WRAP_SHA_256")[0]
        == "IncorrectKeyMaterialException"
    )


def test_an_rsa_signing_key_signs_with_the_imported_private_key(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["Arn"]
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import_material(kms, arn, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_1", "RSA_2048")
    signature = kms.sign(KeyId=arn, Message=b"signed", SigningAlgorithm="RSASSA_PSS_SHA_256")[
        "Signature"
    ]
    private.public_key().verify(
        signature,
        b"signed",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    assert kms.verify(
        KeyId=arn, Message=b"signed", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256"
    )["SignatureValid"]
    # A PKCS #1 (not PKCS #8) encoding of the same key is not the form AWS takes.
    pkcs1 = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert (
        import_error(kms, arn, pkcs1, "RSA_AES_KEY_WRAP_SHA_256")[0]
        == "IncorrectKeyMaterialException"
    )


# -- DeleteImportedKeyMaterial --------------------------------------------------------------------


def test_delete_imported_key_material(prod_kms: Any) -> None:
    kms = prod_kms
    own = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(kms.delete_imported_key_material, KeyId=own) == (
        "UnsupportedOperationException",
        f"{own} origin is AWS_KMS which is not valid for this operation.",
        400,
    )
    arn = external_key(kms)["Arn"]
    # Nothing imported yet: no effect.
    assert "KeyMaterialId" not in kms.delete_imported_key_material(KeyId=arn)
    material_id = import_material(kms, arn, os.urandom(32))["KeyMaterialId"]
    unknown = "0" * 64
    assert aws_error(kms.delete_imported_key_material, KeyId=arn, KeyMaterialId=unknown) == (
        "NotFoundException",
        f"Key material {unknown} is not associated with {arn}.",
        400,
    )
    assert (
        kms.delete_imported_key_material(KeyId=arn, KeyMaterialId=material_id)["KeyMaterialId"]
        == material_id
    )
    assert kms.delete_imported_key_material(KeyId=arn)["KeyMaterialId"] == material_id  # again
    assert describe(kms, arn)["KeyState"] == "PendingImport"


def test_delete_on_a_key_pending_deletion_keeps_its_state(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    import_material(kms, arn, os.urandom(32))
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    kms.delete_imported_key_material(KeyId=arn)
    assert describe(kms, arn)["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=arn)
    meta = describe(kms, arn)
    assert meta["KeyState"] == "Disabled"  # CancelKeyDeletion always lands in Disabled
    assert "ExpirationModel" not in meta


# -- new material for on-demand rotation ----------------------------------------------------------


def test_new_key_material_waits_for_rotation(prod_kms: Any) -> None:
    kms = prod_kms
    arn = external_key(kms)["Arn"]
    first_material = os.urandom(32)
    first = import_material(kms, arn, first_material)["KeyMaterialId"]
    old = kms.encrypt(KeyId=arn, Plaintext=b"old")["CiphertextBlob"]
    assert import_error(
        kms, arn, first_material, ExpirationModel=NEVER,
        ImportType="NEW_KEY_MATERIAL",
    )[0] == "IncorrectKeyMaterialException"  # fmt: skip
    assert import_error(
        kms, arn, os.urandom(32), ExpirationModel=NEVER,
        ImportType="NEW_KEY_MATERIAL", KeyMaterialId=first,
    )[0] == "ValidationException"  # fmt: skip
    new_material = os.urandom(32)
    second = import_material(
        kms, arn, new_material, ExpirationModel=NEVER, ImportType="NEW_KEY_MATERIAL",
        KeyMaterialDescription="second material",
    )["KeyMaterialId"]  # fmt: skip
    assert second != first
    meta = describe(kms, arn)
    assert (meta["KeyState"], meta["CurrentKeyMaterialId"]) == ("Enabled", first)
    # A third while the second waits is refused.
    assert import_error(
        kms, arn, os.urandom(32), ExpirationModel=NEVER,
        ImportType="NEW_KEY_MATERIAL",
    )[0] == "KMSInvalidStateException"  # fmt: skip
    # Re-import of either, by id.
    import_material(kms, arn, new_material, ExpirationModel=NEVER, KeyMaterialId=second)
    assert (
        import_error(kms, arn, new_material, ExpirationModel=NEVER, KeyMaterialId=first)[0]
        == "IncorrectKeyMaterialException"
    )
    kms.rotate_key_on_demand(KeyId=arn)
    assert describe(kms, arn)["CurrentKeyMaterialId"] == second
    new = kms.encrypt(KeyId=arn, Plaintext=b"new")
    assert kms.decrypt(CiphertextBlob=new["CiphertextBlob"])["KeyMaterialId"] == second
    assert kms.decrypt(CiphertextBlob=old)["KeyMaterialId"] == first
    # Deleting the older (non-current, permanently associated) material stops the key.
    kms.delete_imported_key_material(KeyId=arn, KeyMaterialId=first)
    assert describe(kms, arn)["KeyState"] == "PendingImport"
    import_material(kms, arn, first_material)
    assert describe(kms, arn)["KeyState"] == "Enabled"


# -- condition keys -------------------------------------------------------------------------------


def test_condition_keys_of_the_import_operations(prod: Server, prod_kms: Any) -> None:
    kms = prod_kms
    account = describe(kms, kms.create_key()["KeyMetadata"]["KeyId"])["AWSAccountId"]
    limit = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    latest = limit.strftime("%Y-%m-%dT%H:%M:%SZ")
    root = f"arn:aws:iam::{account}:root"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "NoSha1Wrapping", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:GetParametersForImport", "Resource": "*",
             "Condition": {"StringEquals": {"kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1"}}},
            {"Sid": "NoSmallWrappingKeys", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:GetParametersForImport", "Resource": "*",
             "Condition": {"StringEquals": {"kms:WrappingKeySpec": "RSA_2048"}}},
            {"Sid": "MaterialMustExpire", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:ImportKeyMaterial", "Resource": "*",
             "Condition": {"StringNotEquals": {"kms:ExpirationModel": "KEY_MATERIAL_EXPIRES"}}},
            {"Sid": "WithinThirtyDays", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:ImportKeyMaterial", "Resource": "*",
             "Condition": {"DateGreaterThan": {"kms:ValidTo": latest}}},
        ],
    }  # fmt: skip
    arn = external_key(kms, Policy=json.dumps(policy))["Arn"]

    def params(algorithm: str, spec: str) -> Any:
        return kms.get_parameters_for_import(
            KeyId=arn, WrappingAlgorithm=algorithm, WrappingKeySpec=spec
        )

    assert (
        aws_error(params, algorithm="RSAES_OAEP_SHA_1", spec="RSA_3072")[0]
        == "AccessDeniedException"
    )
    assert (
        aws_error(params, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048")[0]
        == "AccessDeniedException"
    )
    got = params("RSAES_OAEP_SHA_256", "RSA_3072")
    material = os.urandom(32)
    wrapped = user_wrap(got["PublicKey"], "RSAES_OAEP_SHA_256", material)

    def imported(**terms: Any) -> Any:
        return kms.import_key_material(
            KeyId=arn, ImportToken=got["ImportToken"], EncryptedKeyMaterial=wrapped, **terms
        )

    assert aws_error(imported, ExpirationModel=NEVER)[0] == "AccessDeniedException"
    assert aws_error(imported, ValidTo=time.time() + 60 * DAY)[0] == "AccessDeniedException"
    # ExpirationModel left out: the policy sees its default, KEY_MATERIAL_EXPIRES.
    imported(ValidTo=time.time() + 10 * DAY)
    assert describe(kms, arn)["KeyState"] == "Enabled"
