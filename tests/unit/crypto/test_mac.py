"""HMAC by KMS algorithm name: RFC 4231 vectors, opaque verification failures, and a property
test against the standard library's ``hmac``."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto.mac import MAC_ALGORITHMS, mac, verify_mac
from strongroom.errors import KMSInvalidMacException

# RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
RFC4231_CASE_2 = {
    "HMAC_SHA_224": "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
    "HMAC_SHA_256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "HMAC_SHA_384": "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
    "8e2240ca5e69e2c78b3239ecfab21649",
    "HMAC_SHA_512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
}
DIGESTS = {
    "HMAC_SHA_224": hashlib.sha224,
    "HMAC_SHA_256": hashlib.sha256,
    "HMAC_SHA_384": hashlib.sha384,
    "HMAC_SHA_512": hashlib.sha512,
}


@pytest.mark.parametrize("algorithm", sorted(RFC4231_CASE_2))
def test_rfc4231_vectors(algorithm: str) -> None:
    tag = mac(algorithm, b"Jefe", b"what do ya want for nothing?")
    assert tag.hex() == RFC4231_CASE_2[algorithm]
    verify_mac(algorithm, b"Jefe", b"what do ya want for nothing?", tag)


def test_the_four_kms_algorithms_and_no_other() -> None:
    assert sorted(MAC_ALGORITHMS) == sorted(RFC4231_CASE_2)
    with pytest.raises(ValueError, match="unknown MAC algorithm"):
        mac("HMAC_SHA_1", b"k", b"m")


@pytest.mark.parametrize(
    ("message", "change"),
    [
        (b"other message", lambda tag: tag),
        (b"message", lambda tag: tag[:-1]),
        (b"message", lambda tag: bytes([tag[0] ^ 1]) + tag[1:]),
        (b"message", lambda tag: tag + b"\0"),
    ],
)
def test_a_wrong_mac_is_an_opaque_error(message: bytes, change: object) -> None:
    tag = mac("HMAC_SHA_256", b"key", b"message")
    assert callable(change)
    with pytest.raises(KMSInvalidMacException) as info:
        verify_mac("HMAC_SHA_256", b"key", message, change(tag))
    assert info.value.message is None
    assert info.value.status == 400


def test_a_mac_under_another_key_does_not_verify() -> None:
    tag = mac("HMAC_SHA_384", b"key one", b"message")
    with pytest.raises(KMSInvalidMacException):
        verify_mac("HMAC_SHA_384", b"key two", b"message", tag)


@given(
    algorithm=st.sampled_from(sorted(DIGESTS)),
    key=st.binary(min_size=1, max_size=128),
    message=st.binary(min_size=1, max_size=4096),
)
def test_matches_the_standard_library(algorithm: str, key: bytes, message: bytes) -> None:
    expected = hmac.new(key, message, DIGESTS[algorithm]).digest()
    assert mac(algorithm, key, message) == expected
    verify_mac(algorithm, key, message, expected)
