"""Pre-signed KMS requests, so the timed loop only replays bytes.

Signing is the expensive part of a client; doing it once per pool (and again before the
SigV4 five-minute window closes) keeps the load generator off the CPU the server needs.
Each request is signed by botocore's own signer with the headers boto3 sends for KMS.
"""

from __future__ import annotations

import configparser
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = [
    "RESIGN_AFTER_S",
    "AccessKey",
    "RequestPool",
    "load_access_key",
    "sign_request",
]

#: Re-sign a pool once it is this old: servers refuse signatures older than 5 minutes.
RESIGN_AFTER_S = 180.0


@dataclass(frozen=True)
class AccessKey:
    """An access key pair; ``__repr__`` never shows the secret."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"AccessKey({self.access_key_id!r}, secret=***)"


def load_access_key(path: Path, profile: str) -> AccessKey:
    """Read ``profile`` from an AWS shared-credentials file."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        raise SystemExit(f"cannot read credentials file {path}")
    if not parser.has_section(profile):
        raise SystemExit(f"profile {profile!r} not found in {path}")
    section = parser[profile]
    try:
        return AccessKey(section["aws_access_key_id"], section["aws_secret_access_key"])
    except KeyError as missing:
        raise SystemExit(f"profile {profile!r} in {path} lacks {missing}") from None


def sign_request(
    endpoint: str, key: AccessKey, region: str, operation: str, body: dict[str, object]
) -> bytes:
    """Return the full HTTP/1.1 request (head and body) for one signed KMS call."""
    host = urlsplit(endpoint).netloc
    payload = json.dumps(body, separators=(",", ":")).encode()
    request = AWSRequest(
        method="POST",
        url=endpoint.rstrip("/") + "/",
        data=payload,
        headers={
            "Host": host,
            "X-Amz-Target": f"TrentService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    credentials = Credentials(key.access_key_id, key.secret_access_key)
    SigV4Auth(credentials, "kms", region).add_auth(request)
    lines = ["POST / HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in request.headers.items())
    lines.append("User-Agent: strongroom-loadgen")
    lines.append(f"Content-Length: {len(payload)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode() + payload


class RequestPool:
    """Signed requests for one operation, replayed round-robin and re-signed when old."""

    def __init__(
        self,
        endpoint: str,
        key: AccessKey,
        region: str,
        operation: str,
        bodies: Sequence[dict[str, object]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not bodies:
            raise ValueError("a request pool needs at least one body")
        self.operation = operation
        self._target = (endpoint, key, region)
        self._bodies = list(bodies)
        self._clock = clock
        self.requests: list[bytes] = []
        self.signed_at = 0.0
        self.resign()

    def resign(self) -> None:
        """Sign every body again with the current time."""
        endpoint, key, region = self._target
        self.requests = [
            sign_request(endpoint, key, region, self.operation, body) for body in self._bodies
        ]
        self.signed_at = self._clock()

    def refresh_if_old(self, max_age_s: float = RESIGN_AFTER_S) -> bool:
        """Re-sign when the pool is older than ``max_age_s``; say whether it did."""
        if self._clock() - self.signed_at < max_age_s:
            return False
        self.resign()
        return True
