"""The canonical byte form of a KMS encryption context.

An encryption context is bound to a ciphertext as additional authenticated data, so two different
contexts must never produce the same bytes. Concatenating keys and values (as some emulators do)
makes ``{"a": "bc"}`` and ``{"ab": "c"}`` collide; here every string is length-prefixed and the
pairs are sorted, so the encoding is unambiguous and independent of the order the caller used.

Layout: ``u32 count`` then, for each pair sorted by the key's UTF-8 bytes,
``u32 len(key) || key || u32 len(value) || value`` (all lengths big-endian, strings UTF-8).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = ["EMPTY_CONTEXT", "canonical_context"]

_U32 = struct.Struct(">I")

EMPTY_CONTEXT = b"\x00\x00\x00\x00"
"""The canonical form of an absent or empty encryption context."""


def _field(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data


def canonical_context(context: Mapping[str, str] | None) -> bytes:
    """Return the canonical encoding of ``context``; ``None`` and ``{}`` encode the same.

    Raises ``UnicodeEncodeError`` (a ``ValueError``) for strings that are not valid UTF-8, such as
    lone surrogates; the protocol layer never lets those through.
    """
    if not context:
        return EMPTY_CONTEXT
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in context.items())
    parts = [_U32.pack(len(pairs))]
    for key, value in pairs:
        parts.append(_field(key))
        parts.append(_field(value))
    return b"".join(parts)
