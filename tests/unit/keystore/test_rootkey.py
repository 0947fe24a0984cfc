"""RootKey: the file is private and never overwritten; the key never shows; unwrap is opaque."""

from __future__ import annotations

import base64
import os
import pickle
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.errors import KMSInternalException
from strongroom.keystore.rootkey import ROOT_KEY_FILE_PREFIX, RootKey


def _key_bytes(path: Path) -> bytes:
    line = path.read_text("ascii").strip()
    return base64.b64decode(line.removeprefix(ROOT_KEY_FILE_PREFIX))


def test_generate_writes_a_0600_v1_file(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    RootKey.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text("ascii").startswith(ROOT_KEY_FILE_PREFIX)
    assert len(_key_bytes(path)) == 32


def test_generate_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        RootKey.generate(tmp_path / "root.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "root.key").stat().st_mode) == 0o600


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    RootKey.generate(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        RootKey.generate(path)
    assert path.read_bytes() == before


def test_loaded_key_opens_what_the_generated_key_sealed(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    blob = RootKey.generate(path).seal(b"material", b"aad")
    assert RootKey.load(path).open(blob, b"aad") == b"material"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_load_refuses_a_file_others_can_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "root.key"
    RootKey.generate(path)
    path.chmod(mode)
    with pytest.raises(PermissionError, match="chmod 600") as caught:
        RootKey.load(path)
    assert ROOT_KEY_FILE_PREFIX not in str(caught.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage\n", b"strongroom-root-key-v1:AAAA\n", b"strongroom-root-key-v2:" + b"A" * 44],
)
def test_load_refuses_malformed_files_without_echoing_them(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "root.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ValueError, match="not a strongroom v1 root key file") as caught:
        RootKey.load(path)
    assert "AAAA" not in str(caught.value)


def test_repr_and_str_hide_the_key(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    root = RootKey.generate(path)
    key = _key_bytes(path)
    for shown in (repr(root), str(root), f"{root}"):
        assert key.hex() not in shown
        assert base64.b64encode(key).decode() not in shown
        assert shown == "RootKey(<redacted>)"


def test_root_key_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(RootKey(os.urandom(32)))


def test_seal_format_is_versioned_and_random() -> None:
    root = RootKey(os.urandom(32))
    first, second = root.seal(b"abc", b"aad"), root.seal(b"abc", b"aad")
    assert first[0] == 1
    assert len(first) == 1 + 12 + 3 + 16
    assert first != second


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],
        lambda blob: b"\x02" + blob[1:],
        lambda blob: blob[:20] + bytes([blob[20] ^ 1]) + blob[21:],
        lambda blob: b"",
        lambda blob: blob + b"\x00",
    ],
)
def test_open_failures_are_one_opaque_error(damage: Callable[[bytes], bytes]) -> None:
    root = RootKey(os.urandom(32))
    blob = root.seal(b"secret", b"aad")
    with pytest.raises(KMSInternalException) as caught:
        root.open(damage(blob), b"aad")
    assert caught.value.message == "stored secret could not be unwrapped"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_open_with_other_aad_or_key_fails() -> None:
    root = RootKey(os.urandom(32))
    blob = root.seal(b"secret", b"aad")
    with pytest.raises(KMSInternalException):
        root.open(blob, b"aae")
    with pytest.raises(KMSInternalException):
        RootKey(os.urandom(32)).open(blob, b"aad")


def test_root_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RootKey(b"\x01" * 16)


def test_derive_is_deterministic_per_key_and_label_and_independent_of_sealing() -> None:
    raw = os.urandom(32)
    first, again, other = RootKey(raw), RootKey(raw), RootKey(os.urandom(32))
    secret = first.derive(b"material-id")
    assert len(secret) == 32
    assert again.derive(b"material-id") == secret  # another process with the same root key
    assert first.derive(b"something-else") != secret
    assert other.derive(b"material-id") != secret
    assert secret != raw
    assert secret not in first.seal(b"\x00" * 32, b"")
