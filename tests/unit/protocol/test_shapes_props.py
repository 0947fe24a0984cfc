"""Properties: any JSON gives a dict or an AWS client error, and valid bodies round-trip exactly."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import SerializationException, ValidationException
from strongroom.protocol.shapes import ServiceModel

KMS = ServiceModel.load()
OPERATIONS = sorted(KMS.operation_names)
# Member names from several KMS input shapes, nested ones included, so that random bodies reach
# past the top level: tags, constraints, recipients, blobs, maps, timestamps.
MEMBERS = [
    "KeyId", "Plaintext", "CiphertextBlob", "EncryptionContext", "GrantTokens", "Tags", "TagKey",
    "TagValue", "Constraints", "EncryptionContextSubset", "EncryptionContextEquals", "SourceArn",
    "NumberOfBytes", "KeySpec", "KeyUsage", "DryRun", "ValidTo", "Recipient", "AttestationDocument",
    "KeyEncryptionAlgorithm", "Operations", "Limit", "Marker", "AliasName", "Policy",
]  # fmt: skip
SUMMARY = re.compile(r"(1 validation error|[1-9][0-9]* validation errors) detected: Value ")

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
    | st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(MEMBERS) | text, inner, max_size=5)
    ),
    max_leaves=25,
)
bodies = st.dictionaries(st.sampled_from(MEMBERS), json_values, max_size=6)


def wire(body: object) -> object:
    return orjson.loads(orjson.dumps(body))


def outcome(operation: str, body: object) -> object:
    """The result of validating *body*, or the client error it raised."""
    try:
        return KMS.validate(operation, wire(body))
    except (SerializationException, ValidationException) as error:
        return error


def check(operation: str, body: object) -> None:
    result = outcome(operation, body)
    if isinstance(result, ValidationException):
        assert result.message is not None
        assert SUMMARY.match(result.message)
    elif not isinstance(result, SerializationException):
        assert isinstance(result, dict)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(OPERATIONS), json_values)
def test_any_json_value_is_a_dict_or_an_aws_error(operation: str, body: object) -> None:
    check(operation, body)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(OPERATIONS), bodies)
def test_any_body_of_model_member_names_is_a_dict_or_an_aws_error(
    operation: str, body: dict[str, Any]
) -> None:
    check(operation, body)


key_ids = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80)
contexts = st.dictionaries(text, text, max_size=4)


@settings(max_examples=200, deadline=None)
@given(key_ids, st.binary(min_size=1, max_size=4096), contexts)
def test_valid_encrypt_round_trips_the_plaintext(
    key_id: str, plaintext: bytes, context: dict[str, str]
) -> None:
    body = {"KeyId": key_id, "Plaintext": base64.b64encode(plaintext).decode()}
    body["EncryptionContext"] = context  # type: ignore[assignment]
    result = KMS.validate("Encrypt", wire(body))
    assert result == {"KeyId": key_id, "Plaintext": plaintext, "EncryptionContext": context}


@settings(max_examples=200, deadline=None)
@given(key_ids, st.integers(min_value=1, max_value=1024) | st.none(), contexts)
def test_valid_generate_data_key_round_trips(
    key_id: str, size: int | None, context: dict[str, str]
) -> None:
    body: dict[str, Any] = {"KeyId": key_id, "EncryptionContext": context}
    body |= {"KeySpec": "AES_128"} if size is None else {"NumberOfBytes": size}
    assert KMS.validate("GenerateDataKey", wire(body)) == body


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=4097, max_value=6000))
def test_an_oversized_plaintext_never_shows_in_the_message(secret: bytes, size: int) -> None:
    plaintext = (secret * (size // len(secret) + 1))[:size]
    encoded = base64.b64encode(plaintext).decode()
    error = outcome("Encrypt", {"KeyId": "k", "Plaintext": encoded})
    assert isinstance(error, ValidationException)
    assert error.message is not None
    assert encoded[:24] not in error.message
    assert "Value at 'plaintext'" in error.message
