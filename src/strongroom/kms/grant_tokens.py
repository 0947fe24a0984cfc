"""Grant tokens: what CreateGrant returns so a grantee can use a grant at once (kms-spec.md 9.2).

AWS's tokens are opaque and not secret. Ours name the grant they stand for, sealed by the key
store (``wrap_secret`` with purpose ``grant-token``) so that a client cannot forge one that names
another grant, nor alter one: anything we did not issue is ``InvalidGrantTokenException``. Every
token is fresh (the seal is randomised), and all tokens of a grant are interchangeable.

Layout (base64url, no padding): version byte ``0x01`` || sealed(``region`` NUL ``grant id``).
"""

from __future__ import annotations

import base64
import binascii
import re

from strongroom.errors import InvalidGrantTokenException, KMSInternalException
from strongroom.keystore.base import RootSecrets

__all__ = ["decode_token", "issue_token"]

_VERSION = b"\x01"
_PURPOSE = "grant-token"
_GRANT_ID = re.compile(r"[0-9a-f]{64}")
_MESSAGE = "The grant token is invalid."


def issue_token(keystore: RootSecrets, region: str, grant_id: str) -> str:
    """A new token for grant ``grant_id`` in ``region``."""
    sealed = keystore.wrap_secret(f"{region}\0{grant_id}".encode(), _PURPOSE)
    return base64.urlsafe_b64encode(_VERSION + sealed).decode("ascii").rstrip("=")


def decode_token(keystore: RootSecrets, region: str, token: str) -> str:
    """The grant id ``token`` names; InvalidGrantTokenException if we did not issue it for
    ``region``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidGrantTokenException(_MESSAGE) from None
    if raw[:1] != _VERSION:
        raise InvalidGrantTokenException(_MESSAGE)
    try:
        named = keystore.unwrap_secret(raw[1:], _PURPOSE).decode()
    except (KMSInternalException, UnicodeDecodeError):  # the key store's "could not open"
        raise InvalidGrantTokenException(_MESSAGE) from None
    token_region, _, grant_id = named.partition("\0")
    if token_region != region or not _GRANT_ID.fullmatch(grant_id):
        raise InvalidGrantTokenException(_MESSAGE)
    return grant_id
