"""The KMS JSON 1.1 wire protocol over raw HTTP (kms-spec.md 1.5-1.7, 19.1, 19.11).

Requests are signed with botocore's own SigV4 signer against the production-mode server, so
every reply here went through real signature verification first.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from typing import Any

import pytest

from strongroom.kms.operations import OPERATIONS
from strongroom.protocol.shapes import ServiceModel
from tests.integration.expect import error_of
from tests.integration.server import Reply, Server, raw_post, sign_headers

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MIB = 1024 * 1024


def checked(reply: Reply) -> Reply:
    """Every reply: a request id, the JSON 1.1 content type, never a stack trace."""
    assert UUID.fullmatch(reply.headers["x-amzn-requestid"])
    assert reply.headers["content-type"] == "application/x-amz-json-1.1"
    assert b"Traceback" not in reply.body
    assert b'File "' not in reply.body
    if reply.status != 200:
        assert reply.headers["x-amzn-errortype"] == reply.json()["__type"]
    return reply


def post(server: Server, target: str | None, body: bytes = b"{}", **kwargs: Any) -> Reply:
    return checked(raw_post(server, target, body, **kwargs))


def test_list_keys_over_raw_http(prod: Server) -> None:
    reply = post(prod, "TrentService.ListKeys")
    assert reply.status == 200
    assert "x-amzn-errortype" not in reply.headers
    body = reply.json()
    assert body["Truncated"] is False
    assert isinstance(body["Keys"], list)


def test_request_ids_are_unique(prod: Server) -> None:
    ids = {post(prod, "TrentService.ListKeys").headers["x-amzn-requestid"] for _ in range(5)}
    ids |= {post(prod, "TrentService.Nope").headers["x-amzn-requestid"] for _ in range(5)}
    assert len(ids) == 10


def test_request_id_reaches_boto3(prod_kms: Any) -> None:
    meta = prod_kms.list_keys()["ResponseMetadata"]
    assert UUID.fullmatch(meta["RequestId"])


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("TrentService.Nope", "TrentService.Nope"),
        ("garbage", "garbage"),
        ("OtherService.ListKeys", "OtherService.ListKeys"),
        ("TrentService.", "TrentService."),
        (None, ""),
    ],
)
def test_unknown_target(prod: Server, target: str | None, shown: str) -> None:
    reply = post(prod, target)
    assert reply.error == (400, "UnknownOperationException", f"Unknown operation '{shown}'.")


@pytest.mark.parametrize(
    ("target", "body", "message"),
    [
        ("ListKeys", b"not json", "Start of structure or map found where not expected."),
        ("ListKeys", b'{"Limit": ', "Start of structure or map found where not expected."),
        ("ListKeys", b"[]", "Start of list found where not expected"),
        ("DescribeKey", b'{"KeyId": 5}', "NUMBER_VALUE can not be converted to a String"),
        ("ListKeys", b'{"Limit": "x"}', "STRING_VALUE can not be converted to an Integer"),
    ],
)
def test_serialization_errors(prod: Server, target: str, body: bytes, message: str) -> None:
    reply = post(prod, f"TrentService.{target}", body)
    assert reply.error == (400, "SerializationException", message)


def test_scalar_json_body_is_a_serialization_error(prod: Server) -> None:
    status, code, _ = post(prod, "TrentService.ListKeys", b'"text"').error
    assert (status, code) == (400, "SerializationException")


def test_empty_body_is_an_empty_input(prod: Server) -> None:
    assert post(prod, "TrentService.ListKeys", b"").status == 200


def test_body_over_the_limit_is_refused(prod: Server) -> None:
    body = b'{"Description": "' + b"a" * MIB + b'"}'
    reply = post(prod, "TrentService.CreateKey", body)
    assert reply.error == (413, "RequestEntityTooLargeException", "Request body is too large.")


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"Description": "'
    for _ in range(total // 65536):
        yield b"a" * 65536
    yield b'"}'


def test_chunked_body_over_the_limit_is_refused(prod: Server) -> None:
    """No Content-Length to trust: the limit holds while the body streams in."""
    headers = sign_headers(
        prod,
        b"",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.CreateKey"},
    )
    connection = http.client.HTTPConnection("127.0.0.1", prod.port, timeout=10)
    reply: Reply | None = None
    try:
        connection.request("POST", "/", body=_chunks(2 * MIB), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        reply = Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    except (BrokenPipeError, ConnectionResetError):
        # The server may answer and close before the client has finished sending: the refusal
        # is then seen as a reset. Either way the server must keep serving.
        pass
    finally:
        connection.close()
    if reply is not None:
        assert checked(reply).error[:2] == (413, "RequestEntityTooLargeException")
    assert raw_post(prod, "TrentService.ListKeys").status == 200


def test_body_just_under_the_limit_is_read(prod: Server) -> None:
    """Near 1 MiB is read and validated (Description is at most 8192), not refused as too big."""
    body = b'{"Description": "' + b"a" * (MIB - 64) + b'"}'
    status, code, message = post(prod, "TrentService.CreateKey", body).error
    assert (status, code) == (400, "ValidationException")
    assert message is not None
    assert message.endswith(
        "at 'description' failed to satisfy constraint: "
        "Member must have length less than or equal to 8192"
    )


@pytest.mark.parametrize(("method", "path"), [("POST", "/nowhere"), ("GET", "/"), ("PUT", "/")])
def test_other_paths_and_methods(prod: Server, method: str, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", prod.port, timeout=10)
    try:
        connection.request(method, path, body=b"{}")
        response = connection.getresponse()
        reply = Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()
    assert checked(reply).error == (
        400,
        "UnknownOperationException",
        f"No operation is served at {method} {path}.",
    )


# -- validation from the model, over the wire -------------------------------------------------


@pytest.fixture
def unvalidated(prod: Server) -> Any:
    """A boto3 client that sends whatever it is given (no client-side parameter validation)."""
    return prod.client(validate=False)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"NumberOfBytes": 0},
            "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1",
        ),
        (
            {"NumberOfBytes": 1025},
            "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
            "constraint: Member must have value less than or equal to 1024",
        ),
        ({}, "NumberOfBytes is required."),
    ],
)
def test_generate_random_validation(unvalidated: Any, params: dict[str, Any], message: str) -> None:
    assert error_of(unvalidated.generate_random, **params) == (400, "ValidationException", message)


def test_generate_random_bounds_work(unvalidated: Any) -> None:
    assert len(unvalidated.generate_random(NumberOfBytes=1)["Plaintext"]) == 1
    assert len(unvalidated.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024


def test_several_validation_errors_are_joined(unvalidated: Any) -> None:
    status, code, message = error_of(
        unvalidated.create_key, KeyUsage="RANDOM", Description="d" * 8193
    )
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("2 validation errors detected: ")
    parts = message.removeprefix("2 validation errors detected: ").split("; ")
    assert sorted(parts) == sorted(
        [
            "Value '" + "d" * 8193 + "' at 'description' failed to satisfy constraint: "
            "Member must have length less than or equal to 8192",
            "Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy "
            "enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT, "
            "ENCAPSULATE_DECAPSULATE]",
        ]
    )


def test_sensitive_member_is_not_echoed(unvalidated: Any) -> None:
    status, code, message = error_of(unvalidated.encrypt, KeyId="alias/x", Plaintext=b"p" * 4097)
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )


def test_missing_required_members(unvalidated: Any) -> None:
    assert error_of(unvalidated.describe_key) == (
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
        "Member must not be null",
    )


# -- operations in the model that this build does not serve yet --------------------------------


# Valid parameters for operations of the model; those the dispatch table does not serve (yet)
# must answer UnsupportedOperationException. An operation that becomes served drops out by itself.
_EXAMPLES = {
    "DescribeCustomKeyStores": {},
    "ConnectCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
    "DisconnectCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
    "DeleteCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
    "UpdateCustomKeyStore": {
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "NewCustomKeyStoreName": "n",
    },
}
_UNSERVED = sorted((op, params) for op, params in _EXAMPLES.items() if op not in OPERATIONS)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_unserved_operation_has_an_example() -> None:
    model_ops = set(ServiceModel.load().operation_names)
    assert model_ops - set(OPERATIONS) - {"CreateCustomKeyStore"} <= set(_EXAMPLES)


@pytest.mark.parametrize(("operation", "params"), _UNSERVED)
def test_unserved_operation(prod_kms: Any, operation: str, params: dict[str, Any]) -> None:
    status, code, message = error_of(getattr(prod_kms, _snake(operation)), **params)
    assert (status, code) == (400, "UnsupportedOperationException")
    assert "is not yet supported" in message


def test_unserved_operation_still_validates_first(prod: Server) -> None:
    """Model validation comes before anything else, served or not."""
    status, code, message = post(prod, "TrentService.Sign").error
    assert (status, code) == (400, "ValidationException")
    assert message is not None
    assert message.startswith("3 validation errors detected: ")
