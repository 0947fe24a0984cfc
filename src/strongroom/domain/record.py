"""One record per API call: who called, what was decided and why, what it touched, how it ended.

The edge (``server/app.py``) opens a :class:`RequestRecord` for every KMS, IAM, STS and admin call
and makes it the current one; authentication, authorization and the operation add to it as they
run (:func:`current`); the edge completes it with the outcome. Today it is written as one JSON
line per request when the ``request_log`` setting is on (``server/request_log.py`` holds the
line's format); the audit trail persists the same record.

A record never hands out a secret: no plaintext, ciphertext, key material, secret key, session
token or signature. The request's parameters are seen only through :attr:`parameters`, which
drops every member the service model marks sensitive or binary, and the grant tokens
(:func:`public_parameters`); the work is done only when a record is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from strongroom.domain.principal import Principal

__all__ = [
    "Decided",
    "RequestRecord",
    "closed",
    "current",
    "opened",
    "public_parameters",
]


@dataclass(frozen=True, slots=True)
class Decided:
    """One authorization decision taken for the call (ReEncrypt and UpdateAlias take two)."""

    action: str  # kms:Encrypt, iam:CreateUser, ...
    resource: str  # the key's ARN, or "*"
    allowed: bool
    # What allowed or denied, each written as its str(): "key policy/Sid", "grant <id>", ...
    by: tuple[object, ...]


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    started: float  # epoch seconds
    source_ip: str
    user_agent: str | None = None
    tls: bool = False
    # On TLS: the protocol and cipher suite the connection agreed on (server/http.py), and the
    # Host header the client sent (CloudTrail's tlsDetails).
    tls_version: str | None = None
    tls_cipher: str | None = None
    host: str | None = None
    service: str = "kms"  # kms, iam, sts or admin
    action: str = ""  # the operation, e.g. Encrypt
    region: str | None = None
    principal: Principal | None = None
    access_key_id: str | None = None
    session_credentials: bool = False  # signed with STS credentials
    session_created: float | None = None  # when those credentials were issued (epoch seconds)
    via_service: str | None = None  # kms:ViaService, for a call an integrated service forwarded
    decisions: list[Decided] = field(default_factory=list)
    key_material_id: str | None = None
    grant_id: str | None = None  # RetireGrant: the grant retired (CloudTrail's additionalEventData)
    # The request as validated, and the members that must not be kept (see ``parameters``).
    request: Mapping[str, Any] | None = field(default=None, repr=False)
    hidden: Collection[str] = ()
    error_code: str | None = None
    error_message: str | None = None  # the API error's message, as the caller got it
    # The operation's result, as returned (a reference, not a copy): the audit event reads a
    # few public members of it for the operations whose CloudTrail event shows them
    # (``strongroom.audit.event``); it holds secrets (plaintext, tokens) and is never logged.
    response: Mapping[str, Any] | None = field(default=None, repr=False)
    status: int = 200
    duration_ms: float | None = None

    @property
    def parameters(self) -> dict[str, Any] | None:
        """The request's parameters less its hidden members and grant tokens."""
        if self.request is None:
            return None
        return public_parameters(self.request, self.hidden)

    @property
    def resources(self) -> list[str]:
        """The keys the call was decided on (their ARNs, each once, in order); worked out when
        asked for, not on every request."""
        return list(dict.fromkeys(d.resource for d in self.decisions if d.resource != "*"))

    def decided(self, decision: Decided) -> None:
        self.decisions.append(decision)


_current: ContextVar[RequestRecord | None] = ContextVar("strongroom_request", default=None)


def current() -> RequestRecord | None:
    """The record of the call being served (None outside a request: the CLI, the sweeper)."""
    return _current.get()


def opened(record: RequestRecord | None) -> Token[RequestRecord | None]:
    """Make ``record`` the current one; returns the token :func:`closed` takes."""
    return _current.set(record)


def closed(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


def public_parameters(params: Mapping[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    """``params`` less the members in ``hidden`` (the model's sensitive and binary members)
    and the grant tokens."""
    public = dict(params)
    for name in hidden:
        public.pop(name, None)
    public.pop("GrantTokens", None)  # bearer tokens, never recorded whatever the model says
    return public
