"""``strongroom audit archive``: the data directory's retention and archive settings, a digest
signed first when a due segment has none, and the trail and archive read and verified as one."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from tests.unit.audit.helpers import Clock, event

from strongroom.audit.trail import Trail
from strongroom.cli.init import initialise
from strongroom.cli.main import cli
from strongroom.config import load_settings
from strongroom.crypto.trail_signature import public_pem
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore

HOUR = 3600.0


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def _data_dir(tmp_path: Path, settings: str) -> tuple[Path, bytes]:
    """A data directory whose trail holds 12 events of 2020 in 3 segments, no digest yet."""
    data_dir = tmp_path / "kms"
    initialise(data_dir, "111122223333", "us-east-1")
    config = data_dir / "strongroom.toml"
    config.write_text(config.read_text() + settings)
    loaded = load_settings(data_dir)
    store = SoftwareKeyStore(
        RootKey.load(loaded.root_key_path), audit_key_file=data_dir / AUDIT_KEY_FILE
    )
    signer = store.audit_signer()
    clock = Clock(1_577_836_800.0)  # 2020-01-01
    trail = Trail(loaded.trail_dir, signer, segment_seconds=HOUR, digest_seconds=1e9, now=clock)
    for n in range(1, 13):
        trail.commit_sync(
            [event(n, eventTime=f"2020-01-01T0{(n - 1) // 4}:{(n - 1) % 4 * 15:02d}:00Z")]
        )
        clock.t += HOUR / 4
    return data_dir, public_pem(signer.public_key_der())


def test_archive_by_the_settings_then_query_and_verify(tmp_path: Path) -> None:
    data_dir, key = _data_dir(
        tmp_path, 'audit_retention_seconds = "1d"\naudit_archive_dir = "cold"\n'
    )
    done = _invoke("archive", "--data-dir", str(data_dir))
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[:2] == [
        "archived 0000000001.jsonl: seq 1..4, 4 event(s), 1 export file(s)",
        "archived 0000000002.jsonl: seq 5..8, 4 event(s), 1 export file(s)",
    ]
    cold = data_dir / "cold"
    assert (cold / "strongroom/segments/0000000001.jsonl.gz").exists()
    exports = sorted(p.name for p in (cold / "AWSLogs").rglob("*.json.gz"))
    assert exports == [
        "unknown_CloudTrail_unknown_20200101T0045Z_0000000000000001.json.gz",
        "unknown_CloudTrail_unknown_20200101T0145Z_0000000000000002.json.gz",
    ]
    again = _invoke("archive", "--data-dir", str(data_dir), "--json")
    assert json.loads(again.output) == {"archived": [], "digests": [], "stopped": None}
    listed = _invoke("query", "--data-dir", str(data_dir), "--output", "json")
    assert [json.loads(line)["n"] for line in listed.output.splitlines()] == list(range(1, 13))
    (tmp_path / "audit.pem").write_bytes(key)
    trail = str(data_dir / "trail")
    pem = str(tmp_path / "audit.pem")
    checked = _invoke("verify", "--trail", trail, "--public-key", pem, "--allow-unsigned-tail")
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("verified: 3 segment(s), 12 event(s)")
    (cold / "strongroom/segments/0000000002.jsonl.gz").unlink()
    broken = _invoke("verify", "--trail", trail, "--public-key", pem, "--allow-unsigned-tail")
    assert broken.exit_code == 1
    assert f"removed: {cold}/strongroom/segments/0000000002.jsonl.gz: segment file missing" in (
        broken.output
    )


def test_a_trail_alone_waits_for_a_digest_and_older_than_is_checked(tmp_path: Path) -> None:
    data_dir, _ = _data_dir(tmp_path, "")
    trail = str(data_dir / "trail")
    unset = _invoke("archive", "--trail", trail)
    assert unset.exit_code == 2
    assert "no retention is set (audit_retention_seconds): give --older-than" in unset.output
    bad = _invoke("archive", "--trail", trail, "--older-than", "soon")
    assert bad.exit_code == 2
    assert "--older-than must be a whole number of seconds or one like 90d" in bad.output
    waiting = _invoke("archive", "--trail", trail, "--older-than", "1h")
    assert waiting.exit_code == 0
    assert waiting.output.splitlines() == [
        "stopped: segment 0000000001.jsonl is not yet covered by a signed digest",
        "nothing archived",
    ]
    signed = _invoke("archive", "--data-dir", str(data_dir), "--older-than", "1h")
    assert signed.output.count("archived 00000000") == 2, signed.output
