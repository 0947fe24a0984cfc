"""STS sessions: issuing temporary credentials, and the principal a stored session stands for.

A session is an ``ASIA...`` access key id, a secret (stored wrapped by the key store, purpose
``sts-session:<id>``) and a session token that is only ever stored as its SHA-256 digest. The
caller gets all three once, in the STS response; the server can verify but never re-issue them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.domain.identity import SessionRecord
from strongroom.domain.principal import Principal
from strongroom.iam.credentials import new_access_key_id, new_secret_key
from strongroom.iam.service import IamService

__all__ = [
    "EXPIRED_SESSION_GRACE_SECONDS",
    "IssuedCredentials",
    "issue_session",
    "merge_tags",
    "session_purpose",
    "token_digest",
]

# Expired sessions are kept this long so that their use answers ExpiredToken, not "invalid".
EXPIRED_SESSION_GRACE_SECONDS = 7 * 86_400
_TOKEN_BYTES = 264  # 352 base64 characters, the order of size AWS's tokens have


def session_purpose(access_key_id: str) -> str:
    """The key store purpose a session's secret is wrapped under."""
    return f"sts-session:{access_key_id}"


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def merge_tags(role_tags: Mapping[str, str], session_tags: Mapping[str, str]) -> dict[str, str]:
    """Role tags overridden by session tags; keys compare case-insensitively, as in AWS."""
    overridden = {key.lower() for key in session_tags}
    merged = {k: v for k, v in role_tags.items() if k.lower() not in overridden}
    merged.update(session_tags)
    return merged


@dataclass(frozen=True)
class IssuedCredentials:
    """Temporary credentials as handed out once. ``repr`` never shows the secret or token."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float

    def __repr__(self) -> str:
        return f"IssuedCredentials(access_key_id={self.access_key_id!r})"

    def as_output(self) -> dict[str, Any]:
        """The STS ``Credentials`` structure (``Expiration`` as epoch seconds)."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expires_at,
        }


def issue_session(
    iam: IamService,
    principal: Principal,
    *,
    session_tags: Mapping[str, str],
    source_access_key_id: str,
    duration_seconds: int,
) -> IssuedCredentials:
    """Store a new session acting as ``principal`` and return its credentials."""
    now = iam.clock.now()
    access_key_id = new_access_key_id("ASIA")
    secret = new_secret_key()
    token = base64.b64encode(secrets.token_bytes(_TOKEN_BYTES)).decode("ascii")
    expires_at = float(int(now) + duration_seconds)
    iam.storage.delete_expired_sessions(now - EXPIRED_SESSION_GRACE_SECONDS)
    iam.storage.insert_session(
        SessionRecord(
            access_key_id=access_key_id,
            wrapped_secret=iam.keystore.wrap_secret(
                secret.encode(), session_purpose(access_key_id)
            ),
            token_sha256=token_digest(token),
            account=principal.account,
            principal_arn=principal.arn,
            principal_type=principal.type.value,
            user_id=principal.user_id,
            name=principal.name,
            role_arn=principal.role_arn,
            session_name=principal.session_name,
            session_tags=dict(session_tags),
            source_access_key_id=source_access_key_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedCredentials(access_key_id, secret, token, expires_at)
