"""The KMS wire format: AWS JSON 1.1 request decoding and response/error encoding.

The only place that turns a :class:`~strongroom.errors.ServiceError` into bytes on the wire: the
status from the error class, ``__type`` and ``message`` in the body, and ``x-amzn-ErrorType`` in
the headers (Smithy SDKs read the header first). Blobs leave as standard base64, timestamps as
epoch seconds.
"""

from __future__ import annotations

from binascii import b2a_base64
from typing import Any

import orjson

from strongroom.errors import SerializationException, ServiceError

__all__ = [
    "CONTENT_TYPE",
    "decode_body",
    "encode_error",
    "encode_result",
]

CONTENT_TYPE = b"application/x-amz-json-1.1"


def _default(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):  # a tuple: faster than a union
        return b2a_base64(value, newline=False).decode("ascii")  # base64.b64encode's own call
    raise TypeError(type(value).__name__)


def decode_body(body: bytes) -> object:
    """Parse a request body. An empty body is an empty object, as botocore sends for no input."""
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SerializationException(
            "Start of structure or map found where not expected."
        ) from None


def encode_result(result: dict[str, Any]) -> bytes:
    return orjson.dumps(result, default=_default)


def encode_error(error: ServiceError) -> tuple[int, bytes]:
    """Status and body for an error. A ``None`` message is left out, as AWS does."""
    body: dict[str, str] = {"__type": error.code}
    if error.message is not None:
        body["message"] = error.message
    return error.status, orjson.dumps(body)
