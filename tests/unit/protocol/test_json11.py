"""Wire encoding: AWS JSON 1.1 bodies, base64 blobs, and the error shape."""

from __future__ import annotations

import base64

import orjson
import pytest

from strongroom.errors import (
    InvalidCiphertextException,
    KMSInternalException,
    NotFoundException,
    SerializationException,
)
from strongroom.protocol.json11 import decode_body, encode_error, encode_result


def test_blobs_are_standard_base64() -> None:
    body = orjson.loads(encode_result({"CiphertextBlob": b"\xff\xfe\x00", "KeyId": "k"}))
    assert body == {"CiphertextBlob": base64.b64encode(b"\xff\xfe\x00").decode(), "KeyId": "k"}


def test_empty_body_is_an_empty_object() -> None:
    assert decode_body(b"") == {}
    assert decode_body(b"  ") == {}


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff"])
def test_bad_json_is_a_serialization_error(body: bytes) -> None:
    with pytest.raises(SerializationException):
        decode_body(body)


def test_error_shape() -> None:
    status, body = encode_error(NotFoundException("Key 'x' does not exist"))
    assert status == 400
    assert orjson.loads(body) == {
        "__type": "NotFoundException",
        "message": "Key 'x' does not exist",
    }


def test_opaque_errors_have_no_message_at_all() -> None:
    status, body = encode_error(InvalidCiphertextException())
    assert status == 400
    assert orjson.loads(body) == {"__type": "InvalidCiphertextException"}


def test_internal_errors_are_500() -> None:
    status, _ = encode_error(KMSInternalException("An internal error occurred."))
    assert status == 500
