"""Helpers of the audit tests: a real signer (the software key store's) and events."""

from __future__ import annotations

from pathlib import Path

from strongroom.audit.digest import Signer
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore


def make_signer(data_dir: Path, algorithm: str = "Ed25519") -> Signer:
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path = data_dir / "root.key"
    root = RootKey.load(key_path) if key_path.exists() else RootKey.generate(key_path)
    store = SoftwareKeyStore(root, audit_key_file=data_dir / AUDIT_KEY_FILE)
    return store.audit_signer(algorithm)


def event(n: int, **extra: object) -> dict[str, object]:
    return {
        "eventName": "Encrypt",
        "eventTime": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "requestID": f"req-{n}",
        "n": n,
        **extra,
    }


class Clock:
    """A clock the test moves (``clock.t += 60``)."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t
