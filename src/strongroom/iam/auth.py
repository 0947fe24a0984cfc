"""Authenticating a request: SigV4 over the headers and body, then the principal it names.

Derived signing keys are cached (in ``sigv4``); an outcome never is: every request is verified.
In dev mode an access key id we do not know is taken as the dev account's root, unverified;
known keys are always verified.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from strongroom.errors import InvalidSignatureException, UnrecognizedClientException
from strongroom.iam.principal import Principal
from strongroom.keystore.base import KeyStore
from strongroom.kms.context import Caller
from strongroom.protocol import sigv4
from strongroom.storage.base import Storage

__all__ = ["Authenticator"]

_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")


@dataclass(frozen=True, slots=True)
class _Known:
    account: str
    principal_arn: str
    secret: str


class Authenticator:
    def __init__(
        self,
        storage: Storage,
        keystore: KeyStore,
        *,
        service: str = "kms",
        dev_account: str | None = None,
    ) -> None:
        self._storage = storage
        self._keystore = keystore
        self._service = service
        self._dev_account = dev_account
        self._known: dict[str, _Known | None] = {}
        self._signing_keys = sigv4.SigningKeyCache()

    def clear(self) -> None:
        self._known.clear()

    def _lookup(self, access_key_id: str) -> _Known | None:
        try:
            return self._known[access_key_id]
        except KeyError:
            pass
        record = self._storage.get_access_key(access_key_id)
        known = None
        if record is not None and record.status == "Active":
            secret = self._keystore.unwrap_secret(
                record.wrapped_secret, f"access-key:{access_key_id}"
            )
            known = _Known(record.account, record.principal_arn, secret.decode())
        self._known[access_key_id] = known
        return known

    def authenticate(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        service: str | None = None,
    ) -> Caller:
        """Verify the request's SigV4 signature for ``service`` (default: the authenticator's)."""
        credential = sigv4.parse_authorization(headers)
        known = self._lookup(credential.access_key_id)
        if known is None and (self._dev_account is None or not credential.access_key_id):
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        sigv4.check_scope(credential, service or self._service)
        if not _REGION.fullmatch(credential.region):
            raise InvalidSignatureException("Credential should be scoped to a valid region. ")
        amz_date, signed_at = sigv4.request_time(headers)
        # Signature freshness is judged on the wall clock, not on dev mode's travelled time.
        sigv4.check_time(credential, amz_date, signed_at, time.time())
        if known is None:
            assert self._dev_account is not None
            return Caller(
                Principal.root(self._dev_account), credential.region, credential.access_key_id
            )
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
        return Caller(Principal.root(known.account), credential.region, credential.access_key_id)
