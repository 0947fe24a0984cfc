"""SigV4 verification against requests signed by botocore itself (as boto3 sends them to KMS)."""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strongroom.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)
from strongroom.protocol.sigv4 import (
    Credential,
    SigningKeyCache,
    check_scope,
    check_time,
    derive_signing_key,
    parse_authorization,
    request_time,
    verify_signature,
)
from strongroom.protocol.sigv4_canonical import canonical_uri

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class _Sent(Exception):
    """Raised by the before-send hook so boto3 never opens a socket."""


class Signed:
    """A request as the server sees it: lower-case header names, Latin-1 values, raw path/query."""

    def __init__(self, url: str, method: str, headers: Any, body: bytes) -> None:
        parts = urlsplit(url)
        self.method, self.path, self.query, self.body = method, parts.path, parts.query, body
        self.headers: dict[str, str] = {"host": parts.netloc}  # urllib3 sends the netloc
        for name, value in headers.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            self.headers[name.lower()] = text.strip()

    def verify(self, secret: str = SECRET, cache: SigningKeyCache | None = None) -> Credential:
        credential = parse_authorization(self.headers)
        check_scope(credential, "kms")
        amz_date, signed_at = request_time(self.headers)
        check_time(credential, amz_date, signed_at, time.time())
        verify_signature(
            credential,
            secret_key=secret,
            method=self.method,
            path=self.path,
            query=self.query,
            headers=self.headers,
            body=self.body,
            amz_date=amz_date,
            cache=cache or SigningKeyCache(),
        )
        return credential


def boto3_request(endpoint: str | None, token: str | None = None, **params: Any) -> Signed:
    """Let a real boto3 KMS client build and sign an Encrypt call; capture it before sending."""
    client = boto3.client(
        "kms",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
    )
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        captured.append(request)
        raise _Sent

    client.meta.events.register("before-send.kms.*", capture)
    with pytest.raises(_Sent):
        client.encrypt(KeyId="alias/app", Plaintext=b"hello", **params)
    request = captured[0]
    return Signed(request.url, request.method, request.headers, request.body)


def botocore_request(
    body: bytes = b'{"KeyId":"alias/app"}',
    *,
    url: str = "http://localhost:8080/",
    secret: str = SECRET,
    service: str = "kms",
    extra: dict[str, str] | None = None,
) -> Signed:
    headers = {"X-Amz-Target": "TrentService.Encrypt", "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(method="POST", url=url, data=body, headers={**headers, **(extra or {})})
    SigV4Auth(Credentials(AKID, secret), service, "us-east-1").add_auth(request)
    return Signed(request.url, request.method, request.headers, body)


def epoch(amz_date: str) -> float:
    return float(calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")))


# -- requests that must verify --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [("http://localhost:4566", "localhost:4566"), (None, "kms.eu-west-1.amazonaws.com")],
)
def test_boto3_kms_request_verifies(endpoint: str | None, host: str) -> None:
    request = boto3_request(endpoint)
    assert request.headers["host"] == host
    credential = request.verify()
    assert credential.access_key_id == AKID
    assert (credential.region, credential.service) == ("eu-west-1", "kms")
    assert "x-amz-target" in credential.signed_headers
    assert len(credential.signature) == 64


def test_temporary_credentials_verify() -> None:
    request = boto3_request("http://127.0.0.1:9000", token="FwoGZXIvYXdzEXAMPLETOKEN//+==")
    credential = request.verify()
    assert "x-amz-security-token" in credential.signed_headers


def test_path_and_query_are_canonicalised_like_botocore() -> None:
    request = botocore_request(url="http://localhost:8080/a/./b/../c%20d//e/?b=2&a=x%2Fy&a=1&c=")
    request.verify()


@pytest.mark.parametrize(
    "path", ["", "/", "/a/b/", "//a//b", "/a/./b/../../c", "/%41%20b~c/..", "/.."]
)
def test_canonical_uri_matches_botocore(path: str) -> None:
    signer = SigV4Auth(Credentials(AKID, SECRET), "kms", "us-east-1")
    assert canonical_uri(path) == signer._normalize_url_path(path)


def test_signed_content_sha256_is_honoured_when_it_matches() -> None:
    body = b'{"KeyId":"alias/x"}'
    request = botocore_request(
        body, extra={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    )
    assert "x-amz-content-sha256" in request.verify().signed_headers


def test_signed_content_sha256_for_another_body_fails() -> None:
    request = botocore_request(b"{}", extra={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    with pytest.raises(InvalidSignatureException, match="x-amz-content-sha256"):
        request.verify()


# -- requests that must not -----------------------------------------------------------------------


def test_wrong_secret() -> None:
    with pytest.raises(InvalidSignatureException) as caught:
        botocore_request().verify(secret=SECRET + "x")
    assert caught.value.message == MISMATCH


def test_body_changed_by_one_byte() -> None:
    request = botocore_request(b'{"KeyId":"alias/app"}')
    request.body = b'{"KeyId":"alias/apq"}'
    with pytest.raises(InvalidSignatureException) as caught:
        request.verify()
    assert caught.value.message == MISMATCH


def test_signed_header_changed() -> None:
    request = boto3_request("http://localhost:4566")
    request.headers["x-amz-target"] = "TrentService.Decrypt"
    with pytest.raises(InvalidSignatureException) as caught:
        request.verify()
    assert caught.value.message == MISMATCH


def test_host_changed() -> None:
    request = botocore_request()
    request.headers["host"] = "localhost:8081"
    with pytest.raises(InvalidSignatureException, match="does not match"):
        request.verify()


def test_signed_header_removed() -> None:
    request = boto3_request("http://localhost:4566")
    del request.headers["x-amz-target"]
    with pytest.raises(IncompleteSignatureException) as caught:
        request.verify()
    assert caught.value.message == (
        "'x-amz-target' is named as a SignedHeader, but it does not exist in the HTTP request."
    )


def test_unsigned_header_may_change() -> None:
    request = boto3_request("http://localhost:4566")
    request.headers["user-agent"] = "something else"
    request.verify()


def test_scope_date_mismatch() -> None:
    request = botocore_request()
    amz_date = request.headers["x-amz-date"]
    other = "19991231" if not amz_date.startswith("1999") else "20000101"
    request.headers["authorization"] = request.headers["authorization"].replace(
        f"/{amz_date[:8]}/", f"/{other}/"
    )
    with pytest.raises(InvalidSignatureException) as caught:
        request.verify()
    assert caught.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        f"'{other}' != '{amz_date[:8]}', from '{amz_date}'."
    )


@pytest.mark.parametrize(("shift", "prefix"), [(360, "Signature expired"), (-360, "not yet")])
def test_signed_six_minutes_away(shift: float, prefix: str) -> None:
    request = botocore_request()
    credential = parse_authorization(request.headers)
    amz_date, signed_at = request_time(request.headers)
    check_time(credential, amz_date, signed_at, signed_at + 299)
    with pytest.raises(InvalidSignatureException, match=prefix):
        check_time(credential, amz_date, signed_at, signed_at + shift)


def test_skew_messages_are_aws_wording() -> None:
    credential = Credential(AKID, "20250101", "us-east-1", "kms", ("host",), "0" * 64)
    old = "20250101T120000Z"
    with pytest.raises(InvalidSignatureException) as caught:
        check_time(credential, old, epoch(old), epoch("20250101T121500Z"))
    assert caught.value.message == (
        "Signature expired: 20250101T120000Z is now earlier than 20250101T121000Z "
        "(20250101T121500Z - 5 min.)"
    )
    new = "20250101T122000Z"
    with pytest.raises(InvalidSignatureException) as caught:
        check_time(credential, new, epoch(new), epoch("20250101T121000Z"))
    assert caught.value.message == (
        "Signature not yet current: 20250101T122000Z is still later than 20250101T121500Z "
        "(20250101T121000Z + 5 min.)"
    )


def test_wrong_service() -> None:
    credential = parse_authorization(botocore_request(service="sts").headers)
    with pytest.raises(InvalidSignatureException) as caught:
        check_scope(credential, "kms")
    assert caught.value.message == "Credential should be scoped to correct service: 'kms'. "
    check_scope(credential, "sts")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_authorization(value: str | None) -> None:
    headers = {"host": "localhost", "x-amz-date": "20250101T120000Z"}
    if value is not None:
        headers["authorization"] = value
    with pytest.raises(MissingAuthenticationTokenException) as caught:
        parse_authorization(headers)
    assert caught.value.message == "Missing Authentication Token"


SIG = "f" * 64
CRED = "Credential=AKID/20250101/us-east-1/kms/aws4_request"


@pytest.mark.parametrize(
    ("header", "error", "message"),
    [
        (
            "Bearer",
            IncompleteSignatureException,
            "Authorization header requires 'Credential' parameter. Authorization header requires "
            "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=Bearer",
        ),
        (
            f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders=host",
            IncompleteSignatureException,
            f"Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "
            f"{CRED}, SignedHeaders=host",
        ),
        (
            f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders, Signature={SIG}",
            IncompleteSignatureException,
            "'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization "
            f"header: 'AWS4-HMAC-SHA256 {CRED}, SignedHeaders'.",
        ),
        (
            f"AWS4-HMAC-SHA1 {CRED}, SignedHeaders=host, Signature={SIG}",
            IncompleteSignatureException,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now). ",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential=AKID/20250101/kms/aws4_request, SignedHeaders=host, "
            f"Signature={SIG}",
            IncompleteSignatureException,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got 'AKID/20250101/kms/aws4_request'",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kms/aws5, SignedHeaders=host, "
            f"Signature={SIG}",
            InvalidSignatureException,
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5'. ",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential=AKID/20250101//kms/aws4_request, SignedHeaders=host, "
            f"Signature={SIG}",
            InvalidSignatureException,
            "Credential should be scoped to a valid region, not ''. ",
        ),
        (
            f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders=x-amz-date, Signature={SIG}",
            InvalidSignatureException,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ),
    ],
)
def test_garbled_authorization(header: str, error: type[Exception], message: str) -> None:
    headers = {"authorization": header, "host": "h", "x-amz-date": "20250101T120000Z"}
    with pytest.raises(error) as caught:
        parse_authorization(headers)
    assert caught.value.message == message  # type: ignore[attr-defined]
    assert SIG not in message


def test_missing_date_is_reported_with_missing_parameters() -> None:
    with pytest.raises(IncompleteSignatureException) as caught:
        parse_authorization({"authorization": f"AWS4-HMAC-SHA256 {CRED}, Signature={SIG}"})
    assert caught.value.message == (
        "Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
        "existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization=AWS4-HMAC-SHA256 {CRED}"
    )


def test_trailing_slash_in_credential_is_ignored() -> None:
    header = f"AWS4-HMAC-SHA256 {CRED}/, SignedHeaders=host;x-amz-date, Signature={SIG}"
    credential = parse_authorization({"authorization": header})
    assert credential == Credential(
        "AKID", "20250101", "us-east-1", "kms", ("host", "x-amz-date"), SIG
    )


# -- request time ---------------------------------------------------------------------------------


def test_request_time_from_x_amz_date_and_date() -> None:
    assert request_time({"x-amz-date": "20250101T120000Z"}) == (
        "20250101T120000Z",
        epoch("20250101T120000Z"),
    )
    assert request_time({"date": "Wed, 01 Jan 2025 12:00:00 GMT"}) == (
        "20250101T120000Z",
        epoch("20250101T120000Z"),
    )


@pytest.mark.parametrize(
    "value", ["2025", "20250101T120000", "20251301T120000Z", "2025010xT12000Z"]
)
def test_request_time_rejects_bad_dates(value: str) -> None:
    with pytest.raises(IncompleteSignatureException) as caught:
        request_time({"x-amz-date": value})
    assert caught.value.message == (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_request_time_without_a_date_header() -> None:
    with pytest.raises(IncompleteSignatureException, match="either a 'X-Amz-Date' or a 'Date'"):
        request_time({"host": "h"})
    with pytest.raises(IncompleteSignatureException, match="ISO-8601"):
        request_time({"date": "yesterday"})


# -- the signing-key cache ------------------------------------------------------------------------


def test_signing_key_matches_aws_documented_example() -> None:
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_cache_returns_the_same_key_and_stays_bounded() -> None:
    cache = SigningKeyCache(maxsize=2)
    first = cache.get(SECRET, "20250101", "us-east-1", "kms")
    assert cache.get(SECRET, "20250101", "us-east-1", "kms") is first
    assert first == derive_signing_key(SECRET, "20250101", "us-east-1", "kms")
    assert cache.get(SECRET + "x", "20250101", "us-east-1", "kms") != first
    cache.get(SECRET, "20250102", "us-east-1", "kms")
    assert len(cache) == 2
    with pytest.raises(ValueError, match="maxsize"):
        SigningKeyCache(maxsize=0)


def test_the_cached_signer_signs_with_the_scope_key() -> None:
    cache = SigningKeyCache()
    key = cache.get(SECRET, "20250101", "us-east-1", "kms")
    signer = cache.signer(SECRET, "20250101", "us-east-1", "kms")
    assert cache.signer(SECRET, "20250101", "us-east-1", "kms") is signer
    message = b"AWS4-HMAC-SHA256\n20250101T000000Z\n20250101/us-east-1/kms/aws4_request\n" + (
        b"0" * 64
    )
    assert signer.digest(message) == hmac.digest(key, message, "sha256")
    assert signer.digest(message) == signer.digest(message)  # its states are not used up


def test_a_cached_key_never_makes_a_wrong_signature_pass() -> None:
    cache = SigningKeyCache()
    good = botocore_request()
    good.verify(cache=cache)  # warms the cache with the right secret's key for this scope
    forged = botocore_request(secret="not-the-secret")
    with pytest.raises(InvalidSignatureException, match="does not match"):
        forged.verify(cache=cache)
    with pytest.raises(InvalidSignatureException, match="does not match"):
        good.verify(secret="not-the-secret", cache=cache)
    good.verify(cache=cache)  # and the outcome itself was never cached
