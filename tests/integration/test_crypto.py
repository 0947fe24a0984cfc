"""Encrypt, Decrypt and ReEncrypt over HTTP: round trips with every KeyId form, the encryption
context, the opaque InvalidCiphertextException, IncorrectKeyException, key states, size limits and
DryRun (kms-spec.md 2.1-2.3, 4.3, 5.2, 17.2, 17.5; section 19 items 5-7, 9, 12, 25)."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from typing import Any

import pytest

from strongroom.crypto import ciphertext
from tests.integration.expect import aws_error
from tests.integration.server import Server, raw_post

EC = {"a": "1", "b": "2"}
DRY_RUN = "The request would have succeeded, but the DryRun option is set."
INCORRECT_KEY = "The key ID in the request does not identify a CMK that can perform this operation."
FORMS = ["id", "arn", "alias", "alias_arn"]


def key_forms(kms: Any) -> dict[str, str]:
    """A fresh key named four ways: id, key ARN, alias name, alias ARN."""
    meta = kms.create_key()["KeyMetadata"]
    alias = f"alias/crypto-{uuid.uuid4().hex[:12]}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    alias_arn = meta["Arn"].rsplit(":", 1)[0] + ":" + alias
    return {"id": meta["KeyId"], "arn": meta["Arn"], "alias": alias, "alias_arn": alias_arn}


@pytest.fixture(scope="module")
def forms(session_kms: Any) -> dict[str, str]:
    return key_forms(session_kms)


@pytest.fixture(scope="module")
def other(session_kms: Any) -> dict[str, str]:
    return key_forms(session_kms)


@pytest.fixture(scope="module")
def sealed(session_kms: Any, forms: dict[str, str]) -> bytes:
    """One blob of ``forms``'s key under EC, for the negative tests."""
    out = session_kms.encrypt(KeyId=forms["id"], Plaintext=b"tamper me", EncryptionContext=EC)
    return bytes(out["CiphertextBlob"])


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_encrypt_accepts_every_key_id_form(kms: Any, forms: dict[str, str], form: str) -> None:
    out = kms.encrypt(KeyId=forms[form], Plaintext=b"hello", EncryptionContext=EC)
    assert out["KeyId"] == forms["arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert "KeyMaterialId" not in out
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=EC)
    assert back["Plaintext"] == b"hello"


@pytest.mark.parametrize("form", [None, *FORMS])
def test_decrypt_with_and_without_key_id(
    kms: Any, forms: dict[str, str], sealed: bytes, form: str | None
) -> None:
    reordered = {"b": "2", "a": "1"}
    extra = {} if form is None else {"KeyId": forms[form]}
    out = kms.decrypt(CiphertextBlob=sealed, EncryptionContext=reordered, **extra)
    assert out["Plaintext"] == b"tamper me"
    assert out["KeyId"] == forms["arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    current = kms.describe_key(KeyId=forms["id"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert re.fullmatch(r"[0-9a-f]{64}", out["KeyMaterialId"])
    assert out["KeyMaterialId"] == current


def test_blobs_are_base64_on_the_wire(dev: Server, forms: dict[str, str]) -> None:
    body = {"KeyId": forms["alias"], "Plaintext": base64.b64encode(b"wire").decode()}
    reply = raw_post(dev, "TrentService.Encrypt", json.dumps(body).encode())
    assert reply.status == 200
    blob = reply.json()["CiphertextBlob"]
    decrypted = raw_post(dev, "TrentService.Decrypt", json.dumps({"CiphertextBlob": blob}).encode())
    assert base64.b64decode(decrypted.json()["Plaintext"]) == b"wire"


def test_plaintext_limit_is_4096_bytes(unchecked_kms: Any, forms: dict[str, str]) -> None:
    big = os.urandom(4096)
    blob = unchecked_kms.encrypt(KeyId=forms["id"], Plaintext=big)["CiphertextBlob"]
    assert len(blob) <= 6144
    assert unchecked_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == big
    assert aws_error(unchecked_kms.encrypt, KeyId=forms["id"], Plaintext=big + b"x") == (
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096",
        400,
    )


# -- InvalidCiphertextException: one bare error whatever went wrong ---------------------------


def _bare_invalid(dev: Server, blob: bytes, context: dict[str, str] | None) -> None:
    """The raw reply is InvalidCiphertextException with no ``message`` member at all."""
    body: dict[str, Any] = {"CiphertextBlob": base64.b64encode(blob).decode()}
    if context is not None:
        body["EncryptionContext"] = context
    reply = raw_post(dev, "TrentService.Decrypt", json.dumps(body).encode())
    assert reply.error == (400, "InvalidCiphertextException", None)
    assert reply.headers["x-amzn-errortype"].startswith("InvalidCiphertextException")
    assert "message" not in {name.lower() for name in reply.json()}


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"a": "1", "b": "3"}, id="wrong-value"),
        pytest.param(None, id="missing"),
        pytest.param({"a": "1"}, id="pair-missing"),
        pytest.param({**EC, "c": "3"}, id="extra-pair"),
        pytest.param({"A": "1", "b": "2"}, id="case"),
    ],
)
def test_wrong_context_is_bare_invalid_ciphertext(
    kms: Any, dev: Server, sealed: bytes, context: dict[str, str] | None
) -> None:
    extra = {} if context is None else {"EncryptionContext": context}
    assert aws_error(kms.decrypt, CiphertextBlob=sealed, **extra) == (
        "InvalidCiphertextException",
        "",
        400,
    )
    _bare_invalid(dev, sealed, context)


def test_context_encoding_is_unambiguous(kms: Any, dev: Server, forms: dict[str, str]) -> None:
    blob = kms.encrypt(KeyId=forms["id"], Plaintext=b"x", EncryptionContext={"a": "bc"})
    blob = blob["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "bc"})["Plaintext"] == b"x"
    _bare_invalid(dev, blob, {"ab": "c"})


def test_context_on_decrypt_only_fails(kms: Any, dev: Server, forms: dict[str, str]) -> None:
    blob = kms.encrypt(KeyId=forms["id"], Plaintext=b"x")["CiphertextBlob"]
    _bare_invalid(dev, blob, EC)


def test_every_flipped_byte_is_bare_invalid_ciphertext(kms: Any, sealed: bytes) -> None:
    failures = []
    for position in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[position] ^= 1 << (position % 8)
        try:
            kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext=EC)
        except kms.exceptions.InvalidCiphertextException as error:
            if error.response["Error"].get("Message", ""):
                failures.append((position, "has a message"))
        else:
            failures.append((position, "decrypted"))
    assert failures == []


@pytest.mark.parametrize("cut", [1, 16, 17, 60, 100])
def test_truncated_blob_is_bare_invalid_ciphertext(dev: Server, sealed: bytes, cut: int) -> None:
    _bare_invalid(dev, sealed[:-cut], EC)


def test_extended_and_garbage_blobs(dev: Server, sealed: bytes) -> None:
    _bare_invalid(dev, sealed + b"\x00", EC)
    _bare_invalid(dev, b"\x01", EC)
    _bare_invalid(dev, os.urandom(200), EC)


def test_blob_from_another_server(prod_kms: Any, dev: Server) -> None:
    key = prod_kms.create_key()["KeyMetadata"]["KeyId"]
    blob = prod_kms.encrypt(KeyId=key, Plaintext=b"elsewhere", EncryptionContext=EC)
    _bare_invalid(dev, blob["CiphertextBlob"], EC)


def test_blob_sealed_with_other_material_under_the_same_ids(
    kms: Any, dev: Server, forms: dict[str, str], sealed: bytes
) -> None:
    """A server with another root key could mint this header for our key and material id."""
    header = ciphertext.peek(sealed)
    forged = ciphertext.seal(os.urandom(32), header.key_id, header.material_id, b"forged", EC)
    _bare_invalid(dev, forged, EC)
    with_key_id = aws_error(
        kms.decrypt, CiphertextBlob=forged, EncryptionContext=EC, KeyId=forms["id"]
    )
    assert with_key_id == ("InvalidCiphertextException", "", 400)


# -- IncorrectKeyException and key states -----------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_decrypt_naming_another_key_is_incorrect_key(
    kms: Any, sealed: bytes, other: dict[str, str], form: str
) -> None:
    got = aws_error(kms.decrypt, CiphertextBlob=sealed, EncryptionContext=EC, KeyId=other[form])
    assert got == ("IncorrectKeyException", INCORRECT_KEY, 400)


def test_disabled_key_cannot_decrypt_or_encrypt(kms: Any) -> None:
    meta = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=meta["KeyId"])
    disabled = ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == disabled
    assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x") == disabled
    assert aws_error(kms.generate_data_key, KeyId=meta["Arn"], KeySpec="AES_256") == disabled
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_pending_deletion_key_cannot_decrypt(kms: Any) -> None:
    meta = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == (
        "KMSInvalidStateException",
        f"{meta['Arn']} is pending deletion.",
        400,
    )


# -- ReEncrypt ----------------------------------------------------------------------------------


def test_re_encrypt_between_keys_with_a_new_context(
    kms: Any, forms: dict[str, str], other: dict[str, str], sealed: bytes
) -> None:
    new_ec = {"purpose": "moved"}
    out = kms.re_encrypt(
        CiphertextBlob=sealed,
        SourceEncryptionContext=EC,
        DestinationKeyId=other["alias"],
        DestinationEncryptionContext=new_ec,
    )
    assert out["SourceKeyId"] == forms["arn"]
    assert out["KeyId"] == other["arn"]
    assert out["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    source = kms.describe_key(KeyId=forms["id"])["KeyMetadata"]["CurrentKeyMaterialId"]
    target = kms.describe_key(KeyId=other["id"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert out["SourceKeyMaterialId"] == source
    assert out["DestinationKeyMaterialId"] == target
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=new_ec)
    assert back["Plaintext"] == b"tamper me"
    assert back["KeyId"] == other["arn"]
    assert aws_error(kms.decrypt, CiphertextBlob=out["CiphertextBlob"], EncryptionContext=EC) == (
        "InvalidCiphertextException",
        "",
        400,
    )


@pytest.mark.parametrize("form", FORMS)
def test_re_encrypt_source_key_id_forms(
    kms: Any, forms: dict[str, str], other: dict[str, str], sealed: bytes, form: str
) -> None:
    out = kms.re_encrypt(
        CiphertextBlob=sealed,
        SourceEncryptionContext=EC,
        SourceKeyId=forms[form],
        DestinationKeyId=other[form],
    )
    assert (out["SourceKeyId"], out["KeyId"]) == (forms["arn"], other["arn"])
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"] == b"tamper me"


def test_re_encrypt_errors(kms: Any, other: dict[str, str], sealed: bytes) -> None:
    wrong_source = aws_error(
        kms.re_encrypt,
        CiphertextBlob=sealed,
        SourceEncryptionContext=EC,
        SourceKeyId=other["id"],
        DestinationKeyId=other["id"],
    )
    assert wrong_source == ("IncorrectKeyException", INCORRECT_KEY, 400)
    wrong_context = aws_error(kms.re_encrypt, CiphertextBlob=sealed, DestinationKeyId=other["id"])
    assert wrong_context == ("InvalidCiphertextException", "", 400)


def test_re_encrypt_to_a_disabled_key(kms: Any, sealed: bytes) -> None:
    meta = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=meta["KeyId"])
    got = aws_error(
        kms.re_encrypt,
        CiphertextBlob=sealed,
        SourceEncryptionContext=EC,
        DestinationKeyId=meta["Arn"],
    )
    assert got == ("DisabledException", f"{meta['Arn']} is disabled.", 400)


# -- DryRun -----------------------------------------------------------------------------------


def test_dry_run_when_the_call_would_succeed(
    kms: Any, forms: dict[str, str], other: dict[str, str], sealed: bytes
) -> None:
    dry = ("DryRunOperationException", DRY_RUN, 400)
    assert aws_error(kms.encrypt, KeyId=forms["alias"], Plaintext=b"x", DryRun=True) == dry
    assert aws_error(kms.decrypt, CiphertextBlob=sealed, EncryptionContext=EC, DryRun=True) == dry
    assert aws_error(kms.generate_data_key, KeyId=forms["id"], KeySpec="AES_256", DryRun=True) == (
        dry
    )
    assert (
        aws_error(
            kms.generate_data_key_without_plaintext, KeyId=forms["id"], NumberOfBytes=8, DryRun=True
        )
        == dry
    )
    assert (
        aws_error(
            kms.re_encrypt,
            CiphertextBlob=sealed,
            SourceEncryptionContext=EC,
            DestinationKeyId=other["id"],
            DryRun=True,
        )
        == dry
    )


def test_dry_run_reports_the_real_error(kms: Any, forms: dict[str, str], sealed: bytes) -> None:
    meta = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=meta["KeyId"])
    disabled = ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x", DryRun=True) == disabled
    assert aws_error(kms.decrypt, CiphertextBlob=blob, DryRun=True) == disabled
    assert aws_error(kms.generate_data_key, KeyId=meta["Arn"], NumberOfBytes=8, DryRun=True) == (
        disabled
    )
    assert aws_error(kms.decrypt, CiphertextBlob=sealed, DryRun=True) == (
        "InvalidCiphertextException",
        "",
        400,
    )
    assert aws_error(kms.encrypt, KeyId="alias/none-such", Plaintext=b"x", DryRun=True)[0] == (
        "NotFoundException"
    )


def test_dry_run_ignore_ciphertext(
    unchecked_kms: Any, forms: dict[str, str], other: dict[str, str]
) -> None:
    """IGNORE_CIPHERTEXT checks only the named key; the KeyId becomes mandatory (spec 17.5)."""
    kms, ignore = unchecked_kms, {"DryRun": True, "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}
    dry = ("DryRunOperationException", DRY_RUN, 400)
    assert aws_error(kms.decrypt, KeyId=forms["alias"], **ignore) == dry
    assert aws_error(kms.decrypt, KeyId=forms["id"], CiphertextBlob=b"junk", **ignore) == dry
    assert (
        aws_error(kms.re_encrypt, SourceKeyId=forms["arn"], DestinationKeyId=other["id"], **ignore)
        == dry
    )
    assert aws_error(kms.decrypt, **ignore) == (
        "ValidationException",
        "KeyId is required when DryRunModifiers contains IGNORE_CIPHERTEXT.",
        400,
    )
    assert aws_error(kms.decrypt, KeyId="alias/none-such", **ignore)[0] == "NotFoundException"
    meta = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=meta["KeyId"])
    disabled = ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    assert aws_error(kms.decrypt, KeyId=meta["KeyId"], **ignore) == disabled
    assert (
        aws_error(kms.re_encrypt, SourceKeyId=forms["id"], DestinationKeyId=meta["Arn"], **ignore)
        == disabled
    )


def test_algorithm_must_fit_the_key_spec(kms: Any, forms: dict[str, str], sealed: bytes) -> None:
    wrong = (
        "InvalidKeyUsageException",
        "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.",
        400,
    )
    rsa = "RSAES_OAEP_SHA_256"
    assert aws_error(kms.encrypt, KeyId=forms["id"], Plaintext=b"x", EncryptionAlgorithm=rsa) == (
        wrong
    )
    assert (
        aws_error(kms.decrypt, CiphertextBlob=sealed, EncryptionContext=EC, EncryptionAlgorithm=rsa)
        == wrong
    )
    explicit = kms.decrypt(
        CiphertextBlob=sealed, EncryptionContext=EC, EncryptionAlgorithm="SYMMETRIC_DEFAULT"
    )
    assert explicit["Plaintext"] == b"tamper me"
