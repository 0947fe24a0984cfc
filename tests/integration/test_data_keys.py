"""GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom over HTTP: sizes, the
exactly-one-of KeySpec/NumberOfBytes rule, AWS's validation messages (kms-spec.md 1.7, 2.2, 2.3,
4.3; section 19 items 10-11)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.expect import aws_error

EC = {"purpose": "data-key"}
EITHER = ("ValidationException", "Please specify either number of bytes or key spec.", 400)


@pytest.fixture(scope="module")
def key(session_kms: Any) -> dict[str, Any]:
    return dict(session_kms.create_key()["KeyMetadata"])


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"KeySpec": "AES_256"}, 32),
        ({"KeySpec": "AES_128"}, 16),
        ({"NumberOfBytes": 64}, 64),
        ({"NumberOfBytes": 1}, 1),
        ({"NumberOfBytes": 1024}, 1024),
    ],
)
def test_generate_data_key_sizes(
    kms: Any, key: dict[str, Any], params: dict[str, Any], size: int
) -> None:
    out = kms.generate_data_key(KeyId=key["KeyId"], EncryptionContext=EC, **params)
    assert len(out["Plaintext"]) == size
    assert out["KeyId"] == key["Arn"]
    assert out["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    assert re.fullmatch(r"[0-9a-f]{64}", out["KeyMaterialId"])
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=EC)
    assert back["Plaintext"] == out["Plaintext"]
    assert back["KeyId"] == key["Arn"]


def test_data_keys_are_random(kms: Any, key: dict[str, Any]) -> None:
    first = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    second = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    assert first != second


def test_without_plaintext(kms: Any, key: dict[str, Any]) -> None:
    out = kms.generate_data_key_without_plaintext(
        KeyId=key["Arn"], KeySpec="AES_128", EncryptionContext=EC
    )
    assert "Plaintext" not in out
    assert out["KeyId"] == key["Arn"]
    assert out["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    plaintext = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=EC)
    assert len(plaintext["Plaintext"]) == 16


@pytest.mark.parametrize("operation", ["generate_data_key", "generate_data_key_without_plaintext"])
def test_key_spec_xor_number_of_bytes(
    unchecked_kms: Any, key: dict[str, Any], operation: str
) -> None:
    call = getattr(unchecked_kms, operation)
    assert aws_error(call, KeyId=key["KeyId"]) == EITHER
    assert aws_error(call, KeyId=key["KeyId"], KeySpec="AES_256", NumberOfBytes=32) == EITHER


def test_number_of_bytes_range(unchecked_kms: Any, key: dict[str, Any]) -> None:
    assert aws_error(unchecked_kms.generate_data_key, KeyId=key["KeyId"], NumberOfBytes=1025) == (
        "ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value less than or equal to 1024",
        400,
    )
    assert aws_error(unchecked_kms.generate_data_key, KeyId=key["KeyId"], NumberOfBytes=0) == (
        "ValidationException",
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1",
        400,
    )


def test_bad_key_spec_names_the_enum(unchecked_kms: Any, key: dict[str, Any]) -> None:
    code, message, status = aws_error(
        unchecked_kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_512"
    )
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(
        "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: "
        "Member must satisfy enum value set: ["
    )


@pytest.mark.parametrize("count", [1, 32, 1024])
def test_generate_random(kms: Any, count: int) -> None:
    assert len(kms.generate_random(NumberOfBytes=count)["Plaintext"]) == count


def test_generate_random_is_random(kms: Any) -> None:
    first = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert first != kms.generate_random(NumberOfBytes=32)["Plaintext"]


def test_generate_random_validation(unchecked_kms: Any) -> None:
    assert aws_error(unchecked_kms.generate_random) == (
        "ValidationException",
        "NumberOfBytes is required.",
        400,
    )
    assert aws_error(unchecked_kms.generate_random, NumberOfBytes=0) == (
        "ValidationException",
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1",
        400,
    )
    assert aws_error(unchecked_kms.generate_random, NumberOfBytes=1025) == (
        "ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value less than or equal to 1024",
        400,
    )
