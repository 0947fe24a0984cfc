"""``strongroom audit public-key`` and ``strongroom audit verify``, run as the real binary."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from strongroom.audit.trail import Trail
from strongroom.cli.init import initialise
from strongroom.config import load_settings
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore

BINARY = str(Path(sys.executable).parent / "strongroom")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BINARY, "audit", *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_public_key_then_verify(tmp_path: Path) -> None:
    data_dir = tmp_path / "kms"
    initialise(data_dir, "111122223333", "us-east-1")
    printed = _run("public-key", "--data-dir", str(data_dir))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert (data_dir / AUDIT_KEY_FILE).exists()
    assert _run("public-key", "--data-dir", str(data_dir)).stdout == printed.stdout
    key_file = tmp_path / "audit.pem"
    key_file.write_text(printed.stdout)

    settings = load_settings(data_dir)
    store = SoftwareKeyStore(
        RootKey.load(settings.root_key_path), audit_key_file=data_dir / AUDIT_KEY_FILE
    )
    trail = Trail(data_dir / "trail", store.audit_signer())
    trail.commit_sync([{"eventName": "Encrypt", "n": n} for n in range(5)])
    trail.close()

    good = _run("verify", "--trail", str(data_dir / "trail"), "--public-key", str(key_file))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("verified: 1 segment(s), 5 event(s)")
    # The window takes the times audit query takes: ISO 8601 or relative to now.
    recent = _run(
        "verify", "--trail", str(data_dir / "trail"), "--public-key", str(key_file),
        "--start", "-1h", "--end", "2999-01-01",
    )  # fmt: skip
    assert recent.returncode == 0, recent.stdout + recent.stderr
    wrong = _run(
        "verify", "--trail", str(data_dir / "trail"), "--public-key", str(key_file),
        "--start", "yesterday",
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "'yesterday' is not an ISO 8601 time" in wrong.stderr

    tampered = tmp_path / "tampered"
    shutil.copytree(data_dir / "trail", tampered)
    segment = tampered / "segments/0000000001.jsonl"
    lines = segment.read_bytes().splitlines(keepends=True)
    del lines[2]
    segment.write_bytes(b"".join(lines))
    bad = _run("verify", "--trail", str(tampered), "--public-key", str(key_file))
    assert bad.returncode == 1
    assert "removed: segments/0000000001.jsonl line 3 (seq 3): seq 3 missing" in bad.stdout
    as_json = _run("verify", "--trail", str(tampered), "--public-key", str(key_file), "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert {
        "kind": "removed",
        "file": "segments/0000000001.jsonl",
        "line": 3,
        "seq": 3,
    }.items() <= (report["findings"][-1].items())


def test_verify_refuses_a_file_that_is_not_a_public_key(tmp_path: Path) -> None:
    (tmp_path / "trail").mkdir()
    (tmp_path / "key.pem").write_text("not a key")
    result = _run(
        "verify", "--trail", str(tmp_path / "trail"), "--public-key", str(tmp_path / "key.pem")
    )
    assert result.returncode == 1
    assert "key.pem" in result.stderr
