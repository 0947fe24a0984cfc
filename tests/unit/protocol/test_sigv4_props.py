"""Properties: what botocore signs verifies, no one-byte change does, parsing never crashes."""

from __future__ import annotations

import string
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import InvalidSignatureException, ServiceError
from strongroom.protocol.sigv4 import (
    Credential,
    SigningKeyCache,
    _parse_any,
    check_time,
    parse_authorization,
    request_time,
    verify_signature,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CACHE = SigningKeyCache()

header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
target_names = st.text(
    alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=40
)


def sign(body: bytes, target: str, extra: str) -> dict[str, str]:
    """Sign as boto3 does for KMS; return the headers as the server would see them."""
    request = AWSRequest(
        method="POST",
        url="http://localhost:8080/",
        data=body,
        headers={
            "X-Amz-Target": f"TrentService.{target}",
            "Content-Type": "application/x-amz-json-1.1",
            "X-Custom-Value": extra,
        },
    )
    SigV4Auth(Credentials("AKIDPROP", SECRET, "token/+="), "kms", "us-east-1").add_auth(request)
    headers = {"host": "localhost:8080"}
    for name, value in request.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        headers[name.lower()] = text.strip()  # as the HTTP parser hands them over
    return headers


def verify(headers: dict[str, str], body: bytes) -> None:
    credential = parse_authorization(headers)
    amz_date, signed_at = request_time(headers)
    check_time(credential, amz_date, signed_at, time.time())
    verify_signature(
        credential,
        secret_key=SECRET,
        method="POST",
        path="/",
        query="",
        headers=headers,
        body=body,
        amz_date=amz_date,
        cache=CACHE,
    )


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=512), target=target_names, extra=header_values)
def test_botocore_signed_requests_verify(body: bytes, target: str, extra: str) -> None:
    headers = sign(body, target, extra)
    assert "x-custom-value" in headers["authorization"]
    verify(headers, body)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_single_byte_change_to_the_body_fails(body: bytes, data: st.DataObject) -> None:
    headers = sign(body, "Encrypt", "x")
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    mutated = bytearray(body)
    mutated[index] ^= flip
    with pytest.raises(InvalidSignatureException):
        verify(headers, bytes(mutated))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_single_character_change_to_the_signature_fails(data: st.DataObject) -> None:
    headers = sign(b"{}", "Decrypt", "y")
    auth = headers["authorization"]
    start = auth.index("Signature=") + len("Signature=")
    index = data.draw(st.integers(start, len(auth) - 1))
    replacement = data.draw(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E).filter(
            lambda c: c not in (auth[index], ",")
        )
    )
    headers["authorization"] = auth[:index] + replacement + auth[index + 1 :]
    with pytest.raises(InvalidSignatureException):
        verify(headers, b"{}")


@settings(max_examples=500, deadline=None)
@given(
    value=st.one_of(
        st.text(),
        st.builds(
            "AWS4-HMAC-SHA256 {}".format,
            st.text(alphabet=st.sampled_from(list("Credential=SignedHeaders;Signature/, aws4_rq"))),
        ),
    ),
    dated=st.booleans(),
)
def test_parse_authorization_only_raises_service_errors(value: str, dated: bool) -> None:
    headers = {"authorization": value}
    if dated:
        headers["x-amz-date"] = "20250101T120000Z"
    outcome: Credential | ServiceError
    try:
        outcome = parse_authorization(headers)
    except ServiceError as error:
        outcome = error
    if isinstance(outcome, ServiceError):
        assert outcome.message
    else:
        assert "host" in outcome.signed_headers or ":authority" in outcome.signed_headers


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["x-amz-date", "date"]), value=st.text(max_size=40))
def test_request_time_only_raises_service_errors(name: str, value: str) -> None:
    outcome: tuple[str, float] | ServiceError
    try:
        outcome = request_time({name: value})
    except ServiceError as error:
        outcome = error
    if isinstance(outcome, ServiceError):
        assert outcome.message
    else:
        assert len(outcome[0]) == 16


# Separators as str.split() and "," make them, Latin-1's odd whitespace included (headers arrive
# decoded as Latin-1); parts that are usual, empty, odd or carry a separator.
_SEPARATORS = st.text(alphabet=st.sampled_from([" ", ",", "\t", "\x1c", "\x1f", "\x85", "\xa0"]))
_PARTS = st.text(
    alphabet=st.sampled_from([*"AKIa0-_=/;:.,xX ", "\xa0", "\x85", "\xe9"]), max_size=12
)


def _outcome(parse: object, headers: dict[str, str]) -> object:
    try:
        return parse(headers)  # type: ignore[operator]
    except ServiceError as error:
        return (type(error), error.message)


def _usually(value: str, other: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``value`` four times in five, else ``other``: headers that are mostly usual, so that
    one odd part at a time is tried against the one-match path."""
    return st.integers(0, 4).flatmap(lambda n: st.just(value) if n else other)


@settings(max_examples=1500, deadline=None)
@given(
    lead=_usually("", _SEPARATORS),
    algorithm=_usually(
        "AWS4-HMAC-SHA256", st.sampled_from(["AWS4-HMAC-SHA512", "aws4-hmac-sha256", "AWS4-"])
    ),
    seps=st.lists(_usually(", ", _SEPARATORS), min_size=3, max_size=3),
    key=_usually("AKIDEXAMPLE", _PARTS),
    date=_usually("20250101", _PARTS),
    region=_usually("us-east-1", st.one_of(st.sampled_from(["US-EAST-1", "us--1", "eu_"]), _PARTS)),
    service=_usually("kms", _PARTS),
    terminator=_usually("aws4_request", st.sampled_from(["aws4_request/", "aws4_requests", ""])),
    signed=_usually("host;x-amz-date", st.one_of(st.just(":authority"), _PARTS)),
    signature=_usually("ab" * 32, _PARTS),
    tail=_usually("", _SEPARATORS),
    order=st.one_of(st.just([0, 1, 2]), st.permutations([0, 1, 2])),
)
def test_the_usual_header_parses_as_any_header_does(
    lead: str,
    algorithm: str,
    seps: list[str],
    key: str,
    date: str,
    region: str,
    service: str,
    terminator: str,
    signed: str,
    signature: str,
    tail: str,
    order: list[int],
) -> None:
    """The one-match path of parse_authorization gives what the general parser gives."""
    parts = [
        f"Credential={key}/{date}/{region}/{service}/{terminator}",
        f"SignedHeaders={signed}",
        f"Signature={signature}",
    ]
    body = "".join(sep + parts[n] for sep, n in zip(seps, order, strict=True))
    header = lead + algorithm + body + tail
    headers = {"authorization": header, "x-amz-date": "20250101T120000Z"}
    assert _outcome(parse_authorization, headers) == _outcome(
        lambda h: _parse_any(h["authorization"], h), headers
    )
