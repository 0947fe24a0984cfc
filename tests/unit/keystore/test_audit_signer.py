"""The audit signing key: made on first use, kept wrapped by the root key in one 0600 file, the
same key for every store (process) that opens it, usable only under the right root key."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from strongroom.crypto.asymmetric import private_key_der
from strongroom.crypto.trail_signature import verify_signature
from strongroom.errors import KMSInternalException
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore


@pytest.mark.parametrize("algorithm", ["Ed25519", "SHA384withECDSA"])
def test_created_once_wrapped_and_shared(tmp_path: Path, algorithm: str) -> None:
    root = RootKey.generate(tmp_path / "root.key")
    path = tmp_path / AUDIT_KEY_FILE
    first = SoftwareKeyStore(root, audit_key_file=path).audit_signer(algorithm)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = SoftwareKeyStore(RootKey.load(tmp_path / "root.key"), audit_key_file=path)
    again = second.audit_signer("Ed25519")  # the stored key wins over a different request
    assert again.algorithm == first.algorithm == algorithm
    assert again.public_key_der() == first.public_key_der()
    signature = again.sign(b"digest")
    assert verify_signature(first.public_key_der(), algorithm, b"digest", signature)
    assert not verify_signature(first.public_key_der(), algorithm, b"digest!", signature)
    assert "redacted" in repr(first)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_file_holds_no_private_key_in_the_clear(tmp_path: Path) -> None:
    root = RootKey.generate(tmp_path / "root.key")
    path = tmp_path / AUDIT_KEY_FILE
    signer = SoftwareKeyStore(root, audit_key_file=path).audit_signer()
    private = private_key_der(signer._AuditSigner__key)  # type: ignore[attr-defined]
    text = path.read_bytes()
    assert text.startswith(b"strongroom-audit-signing-key-v1:Ed25519:")
    wrapped = base64.b64decode(text.split(b":")[-1])
    assert private[-32:] not in wrapped  # the Ed25519 seed
    assert private[-32:] not in text
    other = SoftwareKeyStore(RootKey(os.urandom(32)), audit_key_file=path)
    with pytest.raises(KMSInternalException):
        other.audit_signer()


def test_no_file_no_signer() -> None:
    with pytest.raises(KMSInternalException):
        SoftwareKeyStore(RootKey(os.urandom(32))).audit_signer()
