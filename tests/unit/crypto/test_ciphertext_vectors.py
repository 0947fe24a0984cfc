"""The v1 test vectors: recomputed by our code, by an independent HKDF, and against the doc."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: TID251 -- independent check

from strongroom.crypto.ciphertext import _seal_with, open_blob, peek
from strongroom.crypto.encryption_context import canonical_context

TESTS = Path(__file__).resolve().parents[2]
VECTORS_FILE = TESTS / "vectors" / "ciphertext-v1.json"
DOC_FILE = TESTS.parent / "docs" / "ciphertext-format.md"
PLAINTEXT_RULES = {"bytes(range(256)) * 16": bytes(range(256)) * 16}
DOC_HEX_FIELDS = {
    "material": "material",
    "material_id": "material_id",
    "nonce": "nonce",
    "iv": "iv",
    "plaintext": "plaintext",
    "canonical": "canonical_context",
    "derived_key": "derived_key",
    "blob": "blob",
}

VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]


def _plaintext(vector: dict[str, Any]) -> bytes:
    if "plaintext_rule" in vector:
        return PLAINTEXT_RULES[vector["plaintext_rule"]]
    return bytes.fromhex(vector["plaintext"])


def _check_blob(vector: dict[str, Any], blob: bytes) -> None:
    if "blob" in vector:
        assert blob.hex() == vector["blob"]
    else:
        assert len(blob) == vector["blob_length"]
        assert hashlib.sha256(blob).hexdigest() == vector["blob_sha256"]


def _independent_hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 with one output block, written out with the standard library's HMAC."""
    prk = hmac.digest(salt, ikm, "sha256")
    return hmac.digest(prk, info + b"\x01", "sha256")


def _ids(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def test_vector_file_covers_the_required_cases() -> None:
    names = {v["name"] for v in VECTORS}
    assert len(VECTORS) >= 6
    assert {"empty-context", "context-a-bc", "context-ab-c", "mrk-key-id"} <= names
    assert any("plaintext_rule" in v for v in VECTORS)
    assert any(v["key_id"].startswith("mrk-") for v in VECTORS)
    assert any("" in v["context"].values() for v in VECTORS)
    assert any(any(not k.isascii() for k in v["context"]) for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_seal_with_reproduces_vector(vector: dict[str, Any]) -> None:
    blob = _seal_with(
        bytes.fromhex(vector["material"]),
        vector["key_id"],
        bytes.fromhex(vector["material_id"]),
        bytes.fromhex(vector["nonce"]),
        bytes.fromhex(vector["iv"]),
        _plaintext(vector),
        vector["context"],
    )
    _check_blob(vector, blob)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_independent_construction_matches_vector(vector: dict[str, Any]) -> None:
    material = bytes.fromhex(vector["material"])
    nonce = bytes.fromhex(vector["nonce"])
    iv = bytes.fromhex(vector["iv"])
    key_id = vector["key_id"].encode("ascii")
    key = _independent_hkdf(material, nonce, b"strongroom/v1/symmetric-default")
    assert key.hex() == vector["derived_key"]
    assert canonical_context(vector["context"]).hex() == vector["canonical_context"]
    header = b"\x01" + bytes([len(key_id)]) + key_id + bytes.fromhex(vector["material_id"])
    header += nonce + iv
    aad = header + bytes.fromhex(vector["canonical_context"])
    _check_blob(vector, header + AESGCM(key).encrypt(iv, _plaintext(vector), aad))


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_vector_opens_and_peeks(vector: dict[str, Any]) -> None:
    blob = _seal_with(
        bytes.fromhex(vector["material"]),
        vector["key_id"],
        bytes.fromhex(vector["material_id"]),
        bytes.fromhex(vector["nonce"]),
        bytes.fromhex(vector["iv"]),
        _plaintext(vector),
        vector["context"],
    )
    _check_blob(vector, blob)
    assert open_blob(bytes.fromhex(vector["material"]), blob, vector["context"]) == _plaintext(
        vector
    )
    header = peek(blob)
    assert (header.version, header.key_id) == (1, vector["key_id"])
    assert header.material_id.hex() == vector["material_id"]


def test_large_vector_fits_the_kms_blob_limit() -> None:
    (large,) = [v for v in VECTORS if "plaintext_rule" in v]
    assert len(_plaintext(large)) == 4096
    assert large["blob_length"] == 4096 + 94 + len(large["key_id"]) == 4226 <= 6144


def _doc_vectors() -> dict[str, dict[str, str]]:
    blocks = re.findall(r"```text\nvector: (\S+)\n(.*?)```", DOC_FILE.read_text("utf-8"), re.S)
    parsed: dict[str, dict[str, str]] = {}
    for name, body in blocks:
        fields: dict[str, str] = {}
        last = ""
        for line in body.splitlines():
            if line.startswith(" "):
                fields[last] += line.strip()
            else:
                last, _, value = line.partition(" ")
                fields[last] = value.strip()
        parsed[name] = fields
    return parsed


def test_doc_vectors_match_the_json_file() -> None:
    doc = _doc_vectors()
    assert {"empty-context", "context-a-bc"} <= doc.keys()
    by_name = {v["name"]: v for v in VECTORS}
    for name, fields in doc.items():
        vector = by_name[name]
        assert fields["key_id"] == vector["key_id"]
        assert json.loads(fields["context"]) == vector["context"]
        for doc_field, json_field in DOC_HEX_FIELDS.items():
            assert fields[doc_field] == vector[json_field], (name, doc_field)
