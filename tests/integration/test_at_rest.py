"""Secrets at rest: after a production server has created keys and encrypted with them, no file in
its data directory holds any key's raw material (raw, hex or base64), the database does not hold
the secret access key, and the server log holds no plaintext (issue 2 item 8; DESIGN "Key material
is never at rest in the clear")."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.config import DB_FILE, sqlite_url
from strongroom.crypto import ciphertext
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import open_storage
from tests.integration.server import Server

MARKER = b"STRONGROOM-RECOGNISABLE-PLAINTEXT-7f3a9c"


def _forms(secret: bytes) -> dict[str, bytes]:
    """The ways a secret could sit in a file: raw, hex (both cases), base64 (both alphabets)."""
    return {
        "raw": secret,
        "hex": secret.hex().encode(),
        "HEX": secret.hex().upper().encode(),
        "base64": base64.b64encode(secret).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(secret).rstrip(b"="),
    }


def _files(data_dir: Path) -> Iterator[Path]:
    return (path for path in sorted(data_dir.rglob("*")) if path.is_file())


def _found_in(data_dir: Path, secret: bytes, *, skip: tuple[str, ...] = ()) -> list[str]:
    """``file:form`` for every file under ``data_dir`` that holds ``secret`` in any form."""
    hits = []
    for path in _files(data_dir):
        if path.name in skip:
            continue
        data = path.read_bytes()
        hits += [f"{path.name}:{form}" for form, text in _forms(secret).items() if text in data]
    return hits


@pytest.fixture(scope="module")
def used(prod: Server) -> dict[str, Any]:
    """Keys made and used on the production server; the blobs to check the material against."""
    kms = prod.client()
    keys = [kms.create_key(Description=f"at rest {i}")["KeyMetadata"] for i in range(3)]
    blobs = {}
    for meta in keys:
        blobs[meta["KeyId"]] = kms.encrypt(
            KeyId=meta["KeyId"], Plaintext=MARKER, EncryptionContext={"k": "v"}
        )["CiphertextBlob"]
        kms.generate_data_key(KeyId=meta["Arn"], KeySpec="AES_256")
        kms.tag_resource(KeyId=meta["KeyId"], Tags=[{"TagKey": "t", "TagValue": "v"}])
    return {"keys": keys, "blobs": blobs}


def _materials(prod: Server, keys: list[dict[str, Any]]) -> dict[str, tuple[bytes, bytes]]:
    """Every key's material as ``material_id -> (wrapped, raw)``: read from the database and
    unwrapped with the root key, as the server does it."""
    keystore = SoftwareKeyStore(RootKey.load(prod.data_dir / "root.key"))
    storage = open_storage(sqlite_url(prod.data_dir))
    try:
        found = {}
        for meta in keys:
            records = storage.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
            assert [r.material_id for r in records] == [meta["CurrentKeyMaterialId"]]
            for record in records:
                raw = keystore.unwrap_material(
                    _bytes(record.wrapped), meta["Arn"], record.material_id
                )
                found[record.material_id] = (_bytes(record.wrapped), raw)
        return found
    finally:
        storage.close()


def test_key_material_is_nowhere_in_the_clear(prod: Server, used: dict[str, Any]) -> None:
    materials = _materials(prod, used["keys"])
    assert len(materials) == len(used["keys"])
    database = b"".join(p.read_bytes() for p in _files(prod.data_dir) if DB_FILE in p.name)
    for meta in used["keys"]:
        wrapped, material = materials[meta["CurrentKeyMaterialId"]]
        # The scan covers where the material lives: its wrapped form is in the database files ...
        assert wrapped in database
        # ... the unwrapped material really is what the server sealed with ...
        blob = used["blobs"][meta["KeyId"]]
        assert ciphertext.open_blob(material, blob, {"k": "v"}) == MARKER
        # ... and no file in the data directory holds it in the clear.
        assert _found_in(prod.data_dir, material) == [], meta["KeyId"]


def test_the_secret_access_key_is_only_in_the_credentials_file(prod: Server) -> None:
    secret = prod.secret_key.encode()
    assert _found_in(prod.data_dir, secret) == ["credentials:raw"]
    names = {path.name for path in _files(prod.data_dir)}
    assert DB_FILE in names


def test_the_root_key_is_only_in_its_file(prod: Server) -> None:
    text = (prod.data_dir / "root.key").read_text().strip()
    root = base64.b64decode(text.split(":", 1)[1])
    assert _found_in(prod.data_dir, root, skip=("root.key",)) == []


def test_the_server_log_has_no_plaintext_or_material(prod: Server, used: dict[str, Any]) -> None:
    kms = prod.client()
    key = used["keys"][0]
    kms.decrypt(CiphertextBlob=used["blobs"][key["KeyId"]], EncryptionContext={"k": "v"})
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=used["blobs"][key["KeyId"]], EncryptionContext={"k": "x"})
    log = prod.log_path.read_bytes()
    assert log, "the server wrote no log at all"
    for form, text in _forms(MARKER).items():
        assert text not in log, form
    for _, material in _materials(prod, used["keys"]).values():
        assert all(text not in log for text in _forms(material).values())
    assert prod.secret_key.encode() not in log


def _bytes(wrapped: bytes | None) -> bytes:
    assert wrapped is not None, "the material version has no bytes (deleted imported material)"
    return wrapped
