"""Integrated services: a registered service calling KMS on behalf of a user it is serving.

A service proves that a user called it by forwarding the user's own SigV4 signature over the
user's request to the service (``docs/integrated-services.md``). :func:`verify_forwarded` checks
that proof: the user's credential scope names the service's signing name (so a signature made for
KMS or another service cannot be replayed through this one), it is within the SigV4 time window,
and the signature matches the forwarded canonical request under the user's secret. The forwarded
canonical request is only hashed, never parsed, so the service cannot smuggle anything through it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from strongroom.domain.caller import Caller
from strongroom.domain.identity import ServiceRecord
from strongroom.domain.principal import Principal
from strongroom.errors import (
    AccessDeniedException,
    IncompleteSignatureException,
    InvalidSignatureException,
)
from strongroom.protocol import sigv4

__all__ = [
    "VIA_AUTHORIZATION",
    "VIA_CANONICAL_REQUEST",
    "VIA_DATE",
    "Forwarded",
    "ServiceRegistry",
    "forwarded_caller",
    "parse_forwarded",
    "verify_forwarded",
]

VIA_AUTHORIZATION = "x-strongroom-via-authorization"
VIA_DATE = "x-strongroom-via-date"
VIA_CANONICAL_REQUEST = "x-strongroom-via-canonical-request"
_MAX_CANONICAL = 64 * 1024
_MSG_MISMATCH = "The forwarded request signature does not match the forwarded canonical request."


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The user's proof, as the service forwarded it (parsed, not yet verified)."""

    credential: sigv4.Credential
    amz_date: str
    signed_at: float
    canonical_request: bytes


def parse_forwarded(headers: Mapping[str, str]) -> Forwarded:
    """Read the three ``X-Strongroom-Via-*`` headers (all are required)."""
    authorization = headers.get(VIA_AUTHORIZATION, "")
    date = headers.get(VIA_DATE)
    encoded = headers.get(VIA_CANONICAL_REQUEST)
    if not authorization or date is None or encoded is None:
        raise IncompleteSignatureException(
            "A forwarded request needs X-Strongroom-Via-Authorization, X-Strongroom-Via-Date "
            "and X-Strongroom-Via-Canonical-Request."
        )
    credential = sigv4.parse_authorization({"authorization": authorization, "x-amz-date": date})
    amz_date, signed_at = sigv4.request_time({"x-amz-date": date})
    if len(encoded) > _MAX_CANONICAL:
        raise IncompleteSignatureException("The forwarded canonical request is too large.")
    try:
        canonical = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise IncompleteSignatureException(
            "X-Strongroom-Via-Canonical-Request must be base64."
        ) from None
    return Forwarded(credential, amz_date, signed_at, canonical)


def verify_forwarded(
    forwarded: Forwarded,
    *,
    signing_name: str,
    secret_key: str,
    now: float,
    cache: sigv4.SigningKeyCache,
) -> None:
    """Raise unless the user signed ``forwarded.canonical_request`` for ``signing_name`` within
    the SigV4 window, with ``secret_key``."""
    credential = forwarded.credential
    sigv4.check_scope(credential, signing_name)
    sigv4.check_time(credential, forwarded.amz_date, forwarded.signed_at, now)
    if not sigv4.signature_matches(
        credential, secret_key, forwarded.amz_date, forwarded.canonical_request, cache
    ):
        raise InvalidSignatureException(_MSG_MISMATCH)


class Services(Protocol):
    """Where the registered services are kept (storage's ``ServiceRows``)."""

    def service_for_principal(self, principal_arn: str) -> ServiceRecord | None: ...


class ServiceRegistry:
    """Which principals are registered integrated services, remembered until storage changes
    (:meth:`clear`)."""

    _LIMIT = 4096

    def __init__(self, services: Services) -> None:
        self._services = services
        self._known: dict[str, ServiceRecord | None] = {}

    def clear(self) -> None:
        self._known.clear()

    def service_of(self, caller: Caller) -> ServiceRecord:
        """The registered service ``caller`` is (its role for a session); AccessDeniedException
        when it is none, since only a registered service may forward a request."""
        arn = caller.principal.role_arn or caller.principal.arn
        if arn not in self._known:
            if len(self._known) >= self._LIMIT:
                self._known.clear()
            self._known[arn] = self._services.service_for_principal(arn)
        service = self._known[arn]
        if service is None:
            raise AccessDeniedException(
                f"{caller.principal_arn} is not a registered integrated service and cannot "
                "forward a request for another principal."
            )
        return service


def forwarded_caller(
    service_caller: Caller,
    service: ServiceRecord,
    forwarded: Forwarded,
    user: Principal,
    *,
    session_token: bool,
    session_created: float | None = None,
) -> Caller:
    """The caller a verified forwarded request stands for: the user, seen through the service
    (``kms:ViaService``, ``aws:CalledVia``), from the service's connection."""
    return Caller(
        user,
        service_caller.region,
        forwarded.credential.access_key_id,
        service_caller.source_ip,
        service_caller.secure_transport,
        session_token=session_token,
        session_created=session_created,
        via_service=service.via_name,
        called_via=(service.via_name,),
    )
