"""Authenticating a request: SigV4 over the headers and body, then the principal it names.

An access key resolves to a full :class:`Principal`: an account root, an IAM user (with its
tags), or an STS session (``ASIA...``, which must also present its session token). What an
access key resolves to is cached until storage changes (:meth:`Authenticator.clear`); a
verification outcome never is: every request's signature, token and expiry are checked.

In dev mode an access key id we do not know at all is taken as the dev account's root,
unverified; known keys, and every ``ASIA...`` id, are always enforced.

A request that carries ``X-Strongroom-Via-Authorization`` is a registered integrated service
acting for one of its users (``docs/integrated-services.md``): once the service's own signature
is verified, the user's forwarded signature is (:mod:`strongroom.iam.forwarding`) and the caller
becomes the user, with the service's ``kms:ViaService`` name. Other requests never look at it.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.domain.identity import (
    AccessKeyRecord,
    OwnerKind,
    RoleRecord,
    ServiceRecord,
    SessionRecord,
    UserRecord,
)
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import (
    AccessDeniedException,
    ExpiredTokenException,
    UnrecognizedClientException,
)
from strongroom.iam.forwarding import (
    VIA_AUTHORIZATION,
    ServiceRegistry,
    forwarded_caller,
    parse_forwarded,
    verify_forwarded,
)
from strongroom.iam.sessions import merge_tags, session_purpose, token_digest
from strongroom.keystore.base import RootSecrets
from strongroom.protocol import sigv4

__all__ = ["MSG_EXPIRED", "MSG_INVALID", "Authenticator", "CredentialStore"]

MSG_INVALID = "The security token included in the request is invalid."
MSG_EXPIRED = "The security token included in the request is expired"
_CACHE_LIMIT = 4096
_VIA_SESSION_HEADER = "x-strongroom-via-security-token"  # a forwarding ASIA... user's token


class CredentialStore(Protocol):
    """What authentication reads from storage (a subset of ``Storage`` + ``IdentityStorage``)."""

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None: ...
    def get_user(self, account: str, name: str) -> UserRecord | None: ...
    def get_role(self, account: str, name: str) -> RoleRecord | None: ...
    def get_principal_tags(self, account: str, kind: OwnerKind, owner: str) -> dict[str, str]: ...
    def get_session(self, access_key_id: str) -> SessionRecord | None: ...
    def service_for_principal(self, principal_arn: str) -> ServiceRecord | None: ...


class _Absent(Enum):
    UNKNOWN = "unknown"  # no such access key: dev mode may take it as its root
    INVALID = "invalid"  # it exists but cannot be used (inactive, its owner gone)


@dataclass(frozen=True, slots=True)
class _Known:
    principal: Principal
    secret: str
    token_sha256: bytes | None = None  # STS sessions only
    expires_at: float = 0.0
    iam_allowed: bool = True  # GetSessionToken sessions may not call the IAM API
    created_at: float | None = None  # STS sessions: when issued (the audit event shows it)


def _partition(arn: str) -> str:
    return arn.split(":", 2)[1] if arn.count(":") >= 2 else "aws"


class Authenticator:
    def __init__(
        self,
        storage: CredentialStore,
        keystore: RootSecrets,
        *,
        service: str = "kms",
        dev_account: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._storage = storage
        self._keystore = keystore
        self._service = service
        self._dev_account = dev_account
        self._clock = clock or Clock()  # pass the service clock: dev time travel expires sessions
        self._known: dict[str, _Known | _Absent] = {}
        self._registry = ServiceRegistry(storage)
        self._signing_keys = sigv4.SigningKeyCache()

    def clear(self) -> None:
        self._known.clear()
        self._registry.clear()

    # -- resolving an access key id ---------------------------------------------------------------
    def _lookup(self, access_key_id: str) -> _Known | _Absent:
        found = self._known.get(access_key_id)
        if found is None:
            if access_key_id.startswith("ASIA"):
                found = self._resolve_session(access_key_id)
            else:
                found = self._resolve_access_key(access_key_id)
            if len(self._known) >= _CACHE_LIMIT:
                self._known.clear()
            self._known[access_key_id] = found
        return found

    def _resolve_access_key(self, access_key_id: str) -> _Known | _Absent:
        record = self._storage.get_access_key(access_key_id)
        if record is None:
            return _Absent.UNKNOWN
        if record.status != "Active":
            return _Absent.INVALID
        principal = self._owner(record.account, record.principal_arn)
        if principal is None:
            return _Absent.INVALID
        secret = self._keystore.unwrap_secret(record.wrapped_secret, f"access-key:{access_key_id}")
        return _Known(principal, secret.decode())

    def _owner(self, account: str, arn: str) -> Principal | None:
        """The root or IAM user an access key belongs to; None when the user is gone."""
        if arn.endswith(":root"):
            return Principal.root(account, _partition(arn))
        return self._user(account, arn, None)

    def _user(self, account: str, arn: str, user_id: str | None) -> Principal | None:
        if ":user/" not in arn:
            return None
        user = self._storage.get_user(account, arn.rsplit("/", 1)[-1])
        if user is None or user.arn != arn or user_id not in (None, user.user_id):
            return None
        return Principal.iam_user(
            account=account,
            arn=user.arn,
            user_id=user.user_id,
            name=user.name,
            tags=self._storage.get_principal_tags(account, OwnerKind.USER, user.name),
            partition=_partition(arn),
        )

    def _resolve_session(self, access_key_id: str) -> _Known | _Absent:
        record = self._storage.get_session(access_key_id)
        principal = None if record is None else self._session_principal(record)
        if record is None or principal is None:
            return _Absent.INVALID
        secret = self._keystore.unwrap_secret(record.wrapped_secret, session_purpose(access_key_id))
        return _Known(
            principal,
            secret.decode(),
            token_sha256=record.token_sha256,
            expires_at=record.expires_at,
            iam_allowed=principal.type is PrincipalType.ASSUMED_ROLE,
            created_at=record.created_at,
        )

    def _session_principal(self, record: SessionRecord) -> Principal | None:
        kind = PrincipalType(record.principal_type)
        if kind is PrincipalType.ACCOUNT:
            return Principal.root(record.account, _partition(record.principal_arn))
        if kind is PrincipalType.USER:
            return self._user(record.account, record.principal_arn, record.user_id)
        role = None
        if record.role_arn is not None:
            role = self._storage.get_role(record.account, record.role_arn.rsplit("/", 1)[-1])
        if role is None or role.arn != record.role_arn or record.session_name is None:
            return None  # the role was deleted (or deleted and created again)
        if record.user_id != f"{role.role_id}:{record.session_name}":
            return None
        role_tags = self._storage.get_principal_tags(record.account, OwnerKind.ROLE, role.name)
        principal = Principal.assumed_role(
            account=record.account,
            role_arn=role.arn,
            role_id=role.role_id,
            session_name=record.session_name,
            tags=merge_tags(role_tags, record.session_tags),
            partition=_partition(record.principal_arn),
        )
        return principal if principal.arn == record.principal_arn else None

    # -- verifying a request ----------------------------------------------------------------------
    def _check_token(self, known: _Known, token: str | None, service: str) -> None:
        if known.token_sha256 is None:
            if token:  # a session token sent with a long-term key
                raise UnrecognizedClientException(MSG_INVALID)
            return
        if token is None or not hmac.compare_digest(token_digest(token), known.token_sha256):
            raise UnrecognizedClientException(MSG_INVALID)
        if known.expires_at <= self._clock.now():
            raise ExpiredTokenException(MSG_EXPIRED)
        if service == "iam" and not known.iam_allowed:
            raise UnrecognizedClientException(MSG_INVALID)

    def authenticate(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        service: str | None = None,
        source_ip: str = "127.0.0.1",
        secure_transport: bool = False,
    ) -> Caller:
        """Verify the request's SigV4 signature for ``service`` (default: the authenticator's)
        and return who is calling. ``source_ip``/``secure_transport`` feed condition keys."""
        credential = sigv4.parse_authorization(headers)
        access_key_id = credential.access_key_id
        known = self._lookup(access_key_id)
        dev_root = (
            known is _Absent.UNKNOWN
            and self._dev_account is not None
            and bool(access_key_id)
            and not access_key_id.startswith("ASIA")
        )
        if not dev_root and not isinstance(known, _Known):
            raise UnrecognizedClientException(MSG_INVALID)
        service = service or self._service
        sigv4.check_scope(credential, service)
        amz_date, signed_at = sigv4.request_time(headers)
        # Signature freshness is judged on the wall clock, not on dev mode's travelled time.
        sigv4.check_time(credential, amz_date, signed_at, time.time())
        if not isinstance(known, _Known):
            assert self._dev_account is not None
            principal = Principal.root(self._dev_account)
            return Caller(principal, credential.region, access_key_id, source_ip, secure_transport)
        self._check_token(known, headers.get("x-amz-security-token"), service)
        sigv4.verify_signature(
            credential,
            secret_key=known.secret,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            amz_date=amz_date,
            cache=self._signing_keys,
        )
        caller = Caller(
            known.principal,
            credential.region,
            access_key_id,
            source_ip,
            secure_transport,
            session_token=known.token_sha256 is not None,
            session_created=known.created_at,
        )
        if VIA_AUTHORIZATION in headers:
            if service != self._service:  # only KMS calls may be made on a user's behalf
                raise AccessDeniedException(f"{service} requests cannot be forwarded.")
            return self._forwarded(caller, headers)
        return caller

    # -- a registered service acting for its user (iam/forwarding.py) ----------------------------
    def _forwarded(self, service_caller: Caller, headers: Mapping[str, str]) -> Caller:
        """The user behind a registered service's request, once the user's forwarded signature
        (scoped to the service's signing name, within the SigV4 window) verifies."""
        service = self._registry.service_of(service_caller)
        forwarded = parse_forwarded(headers)
        user = self._lookup(forwarded.credential.access_key_id)
        if not isinstance(user, _Known):  # never the dev root: the user must be real
            raise UnrecognizedClientException(MSG_INVALID)
        verify_forwarded(
            forwarded,
            signing_name=service.signing_name,
            secret_key=user.secret,
            now=time.time(),
            cache=self._signing_keys,
        )
        self._check_token(user, headers.get(_VIA_SESSION_HEADER), service.signing_name)
        return forwarded_caller(
            service_caller,
            service,
            forwarded,
            user.principal,
            session_token=user.token_sha256 is not None,
            session_created=user.created_at,
        )
