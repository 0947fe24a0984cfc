"""The root key: the one secret that wraps every other secret Strongroom stores.

Key material and IAM secret access keys are kept in the database only as blobs sealed under the
root key, so a copy of the database alone reveals nothing. The root key itself lives in a file
that only the service's user can read.

File format (one line, ASCII)::

    strongroom-root-key-v1:<standard base64 of 32 random bytes>\\n

Wrapped blob format: ``0x01 || IV (12) || AES-256-GCM ciphertext || tag (16)``; the caller's AAD
binds each blob to what it is for (see :mod:`strongroom.keystore.software`).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path
from typing import NoReturn

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.errors import KMSInternalException

__all__ = ["ROOT_KEY_FILE_PREFIX", "RootKey"]

ROOT_KEY_FILE_PREFIX = "strongroom-root-key-v1:"

_KEY_SIZE = 32
_IV_SIZE = 12
_DERIVE_INFO = b"strongroom/root-key/derive/v1"
_TAG_SIZE = 16
_BLOB_VERSION = b"\x01"
_MAX_FILE_SIZE = 4096


class RootKey:
    """32 secret bytes with AES-256-GCM seal/open. Never printed, pickled or compared."""

    __slots__ = ("__aead", "__derive")

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_SIZE:
            raise ValueError("a root key is exactly 32 bytes")
        self.__aead = AESGCM(key)
        # A separate key for derivations (HKDF-SHA256), so derived secrets and sealing never
        # share a key.
        self.__derive = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVE_INFO
        ).derive(key)

    def __repr__(self) -> str:
        return "RootKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a RootKey cannot be pickled")

    @classmethod
    def generate(cls, path: Path) -> RootKey:
        """Create a new random root key at ``path`` (mode 0600); refuse to replace an existing one.

        The file is created with ``O_CREAT | O_EXCL`` so a concurrent or repeated ``init`` can never
        overwrite the key that existing data is wrapped under (``FileExistsError``). If writing
        fails the partial file is removed.
        """
        key = os.urandom(_KEY_SIZE)
        line = (ROOT_KEY_FILE_PREFIX + base64.b64encode(key).decode("ascii") + "\n").encode()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, line)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        _fsync_directory(path.parent)
        return cls(key)

    @classmethod
    def load(cls, path: Path) -> RootKey:
        """Read the root key file; refuse one that group or others could read or write.

        Raises ``PermissionError`` for a too-open file (with the ``chmod`` that fixes it),
        ``ValueError`` for a file that is not a v1 root key file, ``OSError`` if it cannot be read.
        """
        fd = os.open(path, os.O_RDONLY)
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077:
                raise PermissionError(
                    f"root key file {path} has mode {mode:04o}; it must not be accessible by "
                    f"group or others (run: chmod 600 {path})"
                )
            data = os.read(fd, _MAX_FILE_SIZE)
        finally:
            os.close(fd)
        return cls(_parse_key_file(data, path))

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``aad``: ``0x01 || iv || ciphertext || tag``."""
        iv = os.urandom(_IV_SIZE)
        return _BLOB_VERSION + iv + self.__aead.encrypt(iv, plaintext, aad)

    def derive(self, label: bytes) -> bytes:
        """A 32-byte secret for ``label``: the same for every process holding this root key,
        independent for different labels (HMAC-SHA256 under the derivation key)."""
        mac = hmac.HMAC(self.__derive, hashes.SHA256())
        mac.update(label)
        return mac.finalize()

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a blob from :meth:`seal`; every failure is one internal error, cause hidden."""
        if len(blob) < 1 + _IV_SIZE + _TAG_SIZE or blob[:1] != _BLOB_VERSION:
            _unwrap_failed()
        try:
            return self.__aead.decrypt(blob[1 : 1 + _IV_SIZE], blob[1 + _IV_SIZE :], aad)
        except Exception:
            _unwrap_failed()


def _unwrap_failed() -> NoReturn:
    raise KMSInternalException("stored secret could not be unwrapped") from None


def _parse_key_file(data: bytes, path: Path) -> bytes:
    """The 32 key bytes from a v1 root key file; the error never echoes the file's contents."""
    text = data.decode("ascii", errors="replace").strip()
    if text.startswith(ROOT_KEY_FILE_PREFIX):
        try:
            key = base64.b64decode(text[len(ROOT_KEY_FILE_PREFIX) :], validate=True)
        except binascii.Error:
            key = b""
        if len(key) == _KEY_SIZE:
            return key
    raise ValueError(f"{path} is not a strongroom v1 root key file")


def _fsync_directory(directory: Path) -> None:
    """Make the new file's directory entry durable (best effort: some systems can't open dirs)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
