"""Server-side AWS Signature Version 4 verification for header-signed AWS JSON requests.

Every API call passes through here, so the module is built for the hot path: the Authorization
header as the SDKs write it is split by one regular expression (any other form by plain string
methods), derived signing keys are kept in a small LRU with their HMAC states (never a
verification outcome), and the signature is compared in constant time. The expected service is a
parameter (``kms`` now, ``iam``/``sts`` later on the same port). Error classes and wording follow
AWS (Coral) so that SDKs see what they would see from AWS. No message ever echoes a signature or
a secret.

The caller's order: :func:`parse_authorization` -> look up the access key -> :func:`check_scope`
-> :func:`request_time` / :func:`check_time` -> :func:`verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from strongroom.crypto.hmac_sha256 import HmacSha256
from strongroom.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)
from strongroom.protocol.sigv4_canonical import (
    build_canonical_headers,
    canonical_query,
    canonical_uri,
)

__all__ = [
    "ALGORITHM",
    "Credential",
    "SigningKeyCache",
    "check_scope",
    "check_time",
    "derive_signing_key",
    "parse_authorization",
    "request_time",
    "signature_matches",
    "verify_signature",
]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_REGION_LENGTH = 50
_REQUIRED = ("Credential", "Signature", "SignedHeaders")
_SURROGATES = "surrogatepass"
_AMZ_DATE_MEMO: dict[str, float] = {}  # a parse cache, never a verification outcome
# The Authorization header as the SDKs write it, split by one match: the same Credential as the
# general parser (_parse_any) gives, 0.5 us sooner (tests/unit/protocol/test_sigv4_props.py
# holds the two to each other). Parts are separated as str.split() and "," separate them.
_USUAL = re.compile(
    r"[,\s]*AWS4-HMAC-SHA256[,\s]+Credential=([^/,\s]+)/([^/,\s]+)/([^/,\s]+)/([^/,\s]+)"
    r"/aws4_request[,\s]+SignedHeaders=([^,\s]+)[,\s]+Signature=([^,\s]+)[,\s]*"
)

_MSG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_MSG_HOST = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
_MSG_NO_DATE = (
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)
_MSG_CONTENT_SHA = "The provided 'x-amz-content-sha256' header does not match what was computed."


class Credential(NamedTuple):
    """What the Authorization header says: who signed, for which scope, over which headers (a
    named tuple: made on every request, in a third of a frozen dataclass's time)."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


# -- the Authorization header ---------------------------------------------------------------------


def _echo(header: str) -> str:
    """The header as AWS echoes it in errors, minus any Signature value."""
    tokens = header.replace(",", " ").split()
    kept = [t for t in tokens[1:] if not t.startswith("Signature=")]
    return f"{tokens[0]} {', '.join(kept)}" if kept else tokens[0]


def parse_authorization(headers: Mapping[str, str]) -> Credential:
    """Parse ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    header = headers.get("authorization", "")
    usual = _USUAL.fullmatch(header)
    if usual is not None:
        access_key_id, date, region, service, signed, signature = usual.groups()
        signed_headers = tuple(signed.split(";"))
        if _REGION_RE.fullmatch(region) and (
            "host" in signed_headers or ":authority" in signed_headers
        ):
            return Credential(access_key_id, date, region, service, signed_headers, signature)
    return _parse_any(header, headers)


def _parse_any(header: str, headers: Mapping[str, str]) -> Credential:
    """The Authorization header in any form: its parts in any order, or an error naming what
    is wrong as AWS names it."""
    tokens = header.replace(",", " ").split()
    if not tokens:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    algorithm = tokens[0]
    params: dict[str, str] = {}
    if algorithm.startswith("AWS4-"):
        for token in tokens[1:]:
            name, eq, value = token.partition("=")
            if not eq:
                raise IncompleteSignatureException(
                    f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization "
                    f"header: '{_echo(header)}'."
                )
            params[name] = value
    missing = [
        f"Authorization header requires '{p}' parameter." for p in _REQUIRED if p not in params
    ]
    if missing and "x-amz-date" not in headers and "date" not in headers:
        missing.append(_MSG_NO_DATE)
    if missing:
        raise IncompleteSignatureException(f"{' '.join(missing)} Authorization={_echo(header)}")
    signed_headers = tuple(params["SignedHeaders"].split(";"))
    if "host" not in signed_headers and ":authority" not in signed_headers:
        raise InvalidSignatureException(_MSG_HOST)
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )
    return _credential(params["Credential"], signed_headers, params["Signature"])


def _credential(value: str, signed_headers: tuple[str, ...], signature: str) -> Credential:
    parts = value.rstrip("/").split("/")
    if len(parts) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{value}'"
        )
    access_key_id, date, region, service, terminator = parts
    problems = []
    if not _REGION_RE.fullmatch(region):
        problems.append(f"Credential should be scoped to a valid region, not '{region}'. ")
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'. "
        )
    if problems:
        raise InvalidSignatureException("".join(problems))
    return Credential(access_key_id, date, region, service, signed_headers, signature)


def check_scope(credential: Credential, service: str) -> None:
    """Refuse a credential scoped to another service than the one this endpoint serves, or to a
    region name longer than any region's (its form was checked when the header was parsed)."""
    if credential.service != service:
        raise InvalidSignatureException(
            f"Credential should be scoped to correct service: '{service}'. "
        )
    if len(credential.region) > _MAX_REGION_LENGTH:
        raise InvalidSignatureException("Credential should be scoped to a valid region. ")


# -- signing time ---------------------------------------------------------------------------------


def _format(epoch: float) -> str:
    return time.strftime(_AMZ_DATE_FORMAT, time.gmtime(epoch))


def _bad_date(value: str) -> IncompleteSignatureException:
    return IncompleteSignatureException(
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _parse_amz_date(value: str) -> float:
    epoch = _AMZ_DATE_MEMO.get(value)
    if epoch is None:
        epoch = _parse_amz_date_uncached(value)
        if len(_AMZ_DATE_MEMO) >= 64:  # signing times cluster on the current second
            _AMZ_DATE_MEMO.clear()
        _AMZ_DATE_MEMO[value] = epoch
    return epoch


def _parse_amz_date_uncached(value: str) -> float:
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        raise _bad_date(value)
    digits = value[:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        raise _bad_date(value)
    try:
        moment = datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        raise _bad_date(value) from None
    return moment.timestamp()


def request_time(headers: Mapping[str, str]) -> tuple[str, float]:
    """The signing time from ``X-Amz-Date``, else ``Date``: ``(amz-date, epoch seconds)``."""
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        return amz_date, _parse_amz_date(amz_date)
    http_date = headers.get("date")
    if http_date is None:
        auth = headers.get("authorization", "").strip()
        suffix = f" Authorization={_echo(auth)}" if auth else ""
        raise IncompleteSignatureException(_MSG_NO_DATE + suffix)
    try:
        moment = parsedate_to_datetime(http_date)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        epoch = moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        raise _bad_date(http_date) from None
    return _format(epoch), epoch


def check_time(
    credential: Credential, amz_date: str, signed_at: float, now: float, *, skew: float = 300.0
) -> None:
    """Refuse a signature outside the skew window, or a scope date that is not the signing date."""
    if signed_at < now - skew:
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now earlier than {_format(now - skew)} "
            f"({_format(now)} - {skew / 60:g} min.)"
        )
    if signed_at > now + skew:
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date} is still later than {_format(now + skew)} "
            f"({_format(now)} + {skew / 60:g} min.)"
        )
    if credential.date != amz_date[:8]:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{credential.date}' != '{amz_date[:8]}', from '{amz_date}'."
        )


# -- signing keys ---------------------------------------------------------------------------------


def derive_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    key = hmac.digest(f"AWS4{secret_key}".encode(), date.encode(), "sha256")
    key = hmac.digest(key, region.encode(), "sha256")
    key = hmac.digest(key, service.encode(), "sha256")
    return hmac.digest(key, TERMINATOR.encode(), "sha256")


class SigningKeyCache:
    """A bounded LRU of derived signing keys keyed by (secret, yyyymmdd, region, service), each
    kept with its HMAC states (:class:`~strongroom.crypto.hmac_sha256.HmacSha256`), so that a
    request's signature costs two SHA-256 hashes and no key set-up."""

    __slots__ = ("_keys", "_lock", "_maxsize")

    def __init__(self, maxsize: int = 1024) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._keys: OrderedDict[tuple[str, str, str, str], tuple[bytes, HmacSha256]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, secret_key: str, date: str, region: str, service: str) -> bytes:
        """The signing key of the scope."""
        return self._entry(secret_key, date, region, service)[0]

    def signer(self, secret_key: str, date: str, region: str, service: str) -> HmacSha256:
        """HMAC-SHA256 under the signing key of the scope."""
        return self._entry(secret_key, date, region, service)[1]

    def _entry(
        self, secret_key: str, date: str, region: str, service: str
    ) -> tuple[bytes, HmacSha256]:
        scope = (secret_key, date, region, service)
        with self._lock:
            entry = self._keys.get(scope)
            if entry is not None:
                self._keys.move_to_end(scope)
                return entry
        key = derive_signing_key(secret_key, date, region, service)
        entry = (key, HmacSha256(key))
        with self._lock:
            self._keys[scope] = entry
            if len(self._keys) > self._maxsize:
                self._keys.popitem(last=False)
        return entry


# -- verification -------------------------------------------------------------------------------


def verify_signature(
    credential: Credential,
    *,
    secret_key: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    amz_date: str,
    cache: SigningKeyCache,
) -> None:
    """Recompute the signature over the request and compare; raise if it does not match.

    ``path`` is the raw (still percent-encoded) request path, ``query`` the raw query string and
    ``headers`` maps lower-case names to values decoded as Latin-1 (as ASGI's bytes arrive).
    """
    signed = credential.signed_headers
    if "host" not in signed and ":authority" not in signed:
        raise InvalidSignatureException(_MSG_HOST)
    canonical_headers = build_canonical_headers(signed, headers)
    payload_hash = hashlib.sha256(body).hexdigest()
    if "x-amz-content-sha256" in signed and headers["x-amz-content-sha256"] != payload_hash:
        raise InvalidSignatureException(_MSG_CONTENT_SHA)
    canonical_request = (
        f"{method}\n{canonical_uri(path)}\n{canonical_query(query)}\n{canonical_headers}\n"
        f"{';'.join(signed)}\n{payload_hash}"
    )
    signed_request = canonical_request.encode("utf-8", _SURROGATES)
    if not signature_matches(credential, secret_key, amz_date, signed_request, cache):
        raise InvalidSignatureException(_MSG_MISMATCH)


def signature_matches(
    credential: Credential,
    secret_key: str,
    amz_date: str,
    canonical_request: bytes,
    cache: SigningKeyCache,
) -> bool:
    """Whether ``credential.signature`` is the signature, under ``secret_key``, of
    ``canonical_request`` made at ``amz_date`` in the credential's scope: the last step of
    verifying a request, and all of verifying a forwarded one (whose canonical request arrives
    made)."""
    scope = f"{credential.date}/{credential.region}/{credential.service}/{TERMINATOR}"
    digest = hashlib.sha256(canonical_request).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
    signer = cache.signer(secret_key, credential.date, credential.region, credential.service)
    expected = signer.digest(string_to_sign.encode()).hex()
    return hmac.compare_digest(expected.encode(), credential.signature.encode("utf-8", _SURROGATES))
