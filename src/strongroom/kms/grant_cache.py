"""The grants authorization reads on every request, cached per key until storage changes.

A key's grants are read once into a :class:`GrantIndex` (by grantee), so a key without grants
costs one empty index per change, and a key with many grants a dictionary lookup. Decoded grant
tokens are remembered too (opening one costs a key-store unwrap).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.domain.keys import GrantRecord, KeyRecord
from strongroom.domain.principal import Principal
from strongroom.errors import InvalidGrantTokenException
from strongroom.keystore.base import RootSecrets
from strongroom.kms.grant_match import GrantIndex, allowing
from strongroom.kms.grant_tokens import decode_token
from strongroom.kms.repository import KeyRepository

__all__ = ["GrantCache"]

_MAX_TOKENS = 10_000


class GrantCache:
    """Grants per key and grant tokens, for one :class:`~strongroom.kms.service.KmsService`."""

    def __init__(self, keys: KeyRepository, keystore: RootSecrets) -> None:
        self._keys = keys
        self._keystore = keystore
        self._indexes: dict[tuple[str, str, str], GrantIndex] = {}
        self._tokens: dict[tuple[str, str], str] = {}

    def clear(self) -> None:
        self._indexes.clear()

    def index(self, key: KeyRecord) -> GrantIndex:
        """The grants on ``key``, read once until :meth:`clear`."""
        ident = (key.account, key.region, key.key_id)
        found = self._indexes.get(ident)
        if found is None:
            found = GrantIndex(self._keys.read.grants_for_key(key.account, key.region, key.key_id))
            self._indexes[ident] = found
        return found

    def token_grant(self, region: str, token: str) -> GrantRecord:
        """The grant a grant token names; InvalidGrantTokenException if the token is not one we
        issued or its grant is gone."""
        grant_id = self._tokens.get((region, token))
        if grant_id is None:
            grant_id = decode_token(self._keystore, region, token)
            if len(self._tokens) > _MAX_TOKENS:
                self._tokens.clear()
            self._tokens[(region, token)] = grant_id
        grant = self._keys.read.find_grant(region, grant_id)
        if grant is None:
            raise InvalidGrantTokenException("The grant token is invalid.")
        return grant

    def token_grants(self, region: str, params: Mapping[str, Any]) -> list[GrantRecord]:
        """The grants named by the request's ``GrantTokens`` (each one checked)."""
        return [self.token_grant(region, token) for token in params.get("GrantTokens") or ()]

    def allowing(
        self,
        principal: Principal,
        operation: str,
        key: KeyRecord,
        params: Mapping[str, Any],
        tokens: list[GrantRecord],
    ) -> GrantRecord | None:
        """A grant on ``key`` (found by grantee, or named by a grant token) that allows
        ``principal`` to do ``operation`` with the request's encryption context."""
        candidates = self.index(key).for_principal(principal)
        for grant in tokens:
            same_key = (grant.account, grant.key_id) == (key.account, key.key_id)
            if same_key and grant not in candidates:
                candidates.append(grant)
        return allowing(candidates, principal, operation, params.get("EncryptionContext"))
