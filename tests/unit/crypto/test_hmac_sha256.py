"""HMAC-SHA256 from hashlib's SHA-256 equals the standard library's, for every key length."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto.hmac_sha256 import BLOCK_SIZE, HmacSha256, hmac_sha256

# RFC 4231, section 4: test cases 1, 2, 3, 4, 6 and 7 (5 truncates the output).
_LONG_DATA = (
    b"This is a test using a larger than block-size key and a larger than block-size data. "
    b"The key needs to be hashed before being used by the HMAC algorithm."
)
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ),
    (
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (b"\xaa" * 131, _LONG_DATA, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


@pytest.mark.parametrize(("key", "message", "expected"), RFC_4231)
def test_rfc_4231_vectors(key: bytes, message: bytes, expected: str) -> None:
    assert hmac_sha256(key, message).hex() == expected
    assert HmacSha256(key).digest(message).hex() == expected


@pytest.mark.parametrize("length", [0, 1, 31, 32, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 200])
def test_every_key_length_around_the_block(length: int) -> None:
    key = bytes((7 * n + 3) % 256 for n in range(length))
    for message in (b"", b"m", bytes(range(256)) * 3):
        expected = hmac.digest(key, message, "sha256")
        assert hmac_sha256(key, message) == expected
        assert HmacSha256(key).digest(message) == expected


@given(key=st.binary(max_size=3 * BLOCK_SIZE), messages=st.lists(st.binary(), max_size=4))
def test_equals_the_standard_library(key: bytes, messages: list[bytes]) -> None:
    keyed = HmacSha256(key)
    for message in messages:  # the kept states are copied, never consumed
        expected = hmac.digest(key, message, "sha256")
        assert hmac_sha256(key, message) == expected
        assert keyed.digest(message) == expected


def test_repr_hides_the_key() -> None:
    key = b"\x01\x02 a key that must not show"
    assert "key that" not in repr(HmacSha256(key))
    assert key.hex() not in repr(HmacSha256(key))
