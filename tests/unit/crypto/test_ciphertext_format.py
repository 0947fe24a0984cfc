"""seal / peek / open_blob: round trips, and every kind of damage fails the same opaque way."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes  # noqa: TID251 -- the reference HKDF
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: TID251
from hypothesis import assume, given
from hypothesis import strategies as st

from strongroom.crypto.ciphertext import (
    FORMAT_VERSION,
    KDF_INFO,
    Header,
    _derive_key,
    open_blob,
    peek,
    seal,
)
from strongroom.errors import InvalidCiphertextException

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
MATERIAL = bytes(range(32))
MATERIAL_ID = bytes(range(100, 132))

plaintexts = st.binary(min_size=1, max_size=4096)
contexts = st.none() | st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4)
small_blobs = st.builds(
    lambda pt, ctx: (seal(MATERIAL, KEY_ID, MATERIAL_ID, pt, ctx), ctx),
    st.binary(min_size=1, max_size=64),
    contexts,
)


def _fails(blob: bytes, context: dict[str, str] | None, material: bytes = MATERIAL) -> bool:
    with pytest.raises(InvalidCiphertextException) as caught:
        open_blob(material, blob, context)
    assert caught.value.message is None
    assert caught.value.__cause__ is None
    return True


@given(plaintexts, contexts)
def test_round_trip(plaintext: bytes, context: dict[str, str] | None) -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, plaintext, context)
    assert len(blob) == len(plaintext) + 130
    assert open_blob(MATERIAL, blob, context) == plaintext
    assert peek(blob) == Header(version=FORMAT_VERSION, key_id=KEY_ID, material_id=MATERIAL_ID)


@given(small_blobs, st.data())
def test_any_single_bit_flip_fails(
    sealed: tuple[bytes, dict[str, str] | None], data: st.DataObject
) -> None:
    blob, context = sealed
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    damaged = bytearray(blob)
    damaged[bit // 8] ^= 1 << (bit % 8)
    assert _fails(bytes(damaged), context)


def test_every_single_bit_flip_of_one_blob_fails() -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"x", {"k": "v"})
    for bit in range(len(blob) * 8):
        damaged = bytearray(blob)
        damaged[bit // 8] ^= 1 << (bit % 8)
        assert _fails(bytes(damaged), {"k": "v"})


@given(small_blobs, contexts)
def test_any_other_context_fails(
    sealed: tuple[bytes, dict[str, str] | None], other: dict[str, str] | None
) -> None:
    blob, context = sealed
    assume((context or {}) != (other or {}))
    assert _fails(blob, other)


def test_none_and_empty_context_are_the_same_context() -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"x", None)
    assert open_blob(MATERIAL, blob, {}) == b"x"


def test_ambiguous_concatenations_do_not_collide() -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"x", {"a": "bc"})
    assert _fails(blob, {"ab": "c"})


def test_wrong_material_fails() -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"secret", {"k": "v"})
    assert _fails(blob, {"k": "v"}, material=os.urandom(32))
    assert _fails(blob, {"k": "v"}, material=b"short")


def test_truncation_at_every_length_fails() -> None:
    blob = seal(MATERIAL, MRK_ID, MATERIAL_ID, b"sixteen byte msg", {"a": "b"})
    for length in range(len(blob)):
        assert _fails(blob[:length], {"a": "b"})


@given(small_blobs, st.binary(min_size=1, max_size=32))
def test_appended_bytes_fail(sealed: tuple[bytes, dict[str, str] | None], extra: bytes) -> None:
    blob, context = sealed
    assert _fails(blob + extra, context)


def test_unknown_version_fails_in_peek_and_open() -> None:
    blob = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"x", None)
    for version in (0, 2, 255):
        other = bytes([version]) + blob[1:]
        with pytest.raises(InvalidCiphertextException):
            peek(other)
        assert _fails(other, None)


@given(st.binary(max_size=200))
def test_peek_on_arbitrary_bytes_is_header_or_opaque_error(blob: bytes) -> None:
    try:
        header = peek(blob)
    except InvalidCiphertextException:
        return
    assert isinstance(header, Header)


key_ids = st.binary(max_size=40) | st.from_regex(
    r"\A(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\Z"
).map(str.encode)


@given(key_ids, st.binary(max_size=120))
def test_peek_on_plausible_prefixes(key_id: bytes, rest: bytes) -> None:
    blob = bytes([FORMAT_VERSION, len(key_id)]) + key_id + rest
    try:
        header = peek(blob)
    except InvalidCiphertextException:
        return
    assert header.key_id.encode("ascii") == key_id
    assert len(header.material_id) == 32


def test_peek_reads_mrk_ids() -> None:
    blob = seal(MATERIAL, MRK_ID, MATERIAL_ID, b"x", None)
    assert peek(blob).key_id == MRK_ID


@pytest.mark.parametrize(
    "key_id",
    [
        "",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "alias/x",
        KEY_ID.upper(),
    ],
)
def test_seal_refuses_anything_but_a_bare_key_id(key_id: str) -> None:
    with pytest.raises(ValueError, match="key id"):
        seal(MATERIAL, key_id, MATERIAL_ID, b"x", None)


def test_seal_refuses_wrong_sizes_without_echoing_secrets() -> None:
    with pytest.raises(ValueError, match="32 bytes") as caught:
        seal(b"\x07" * 31, KEY_ID, MATERIAL_ID, b"x", None)
    assert "\\x07" not in str(caught.value)
    with pytest.raises(ValueError, match="32 bytes"):
        seal(MATERIAL, KEY_ID, MATERIAL_ID[:31], b"x", None)


def test_each_seal_uses_fresh_nonce_and_iv() -> None:
    first = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"same", None)
    second = seal(MATERIAL, KEY_ID, MATERIAL_ID, b"same", None)
    header_len = 78 + len(KEY_ID)
    assert first[header_len - 44 : header_len] != second[header_len - 44 : header_len]


@given(st.binary(min_size=1, max_size=64), st.binary(min_size=32, max_size=32))
def test_the_per_message_key_is_rfc5869_hkdf(material: bytes, nonce: bytes) -> None:
    """The two-HMAC derivation is HKDF-SHA256 as ``cryptography`` computes it."""
    expected = HKDF(hashes.SHA256(), 32, salt=nonce, info=KDF_INFO).derive(material)
    assert _derive_key(material, nonce) == expected
