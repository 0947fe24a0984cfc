"""Settings: the audit trail's (on by default; where it lives; its segments and digests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import ConfigError, load_settings, write_config


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "STRONGROOM_AUDIT",
        "STRONGROOM_AUDIT_DIR",
        "STRONGROOM_AUDIT_DIGEST_SECONDS",
        "STRONGROOM_AUDIT_ARCHIVE_DIR",
        "STRONGROOM_AUDIT_RETENTION_SECONDS",
        "STRONGROOM_AUDIT_SINK",
        "STRONGROOM_AUDIT_STORE",
        "STRONGROOM_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    write_config(tmp_path, "111122223333", "us-east-1")
    return tmp_path


def _add(data_dir: Path, text: str) -> None:
    path = data_dir / "strongroom.toml"
    path.write_text(path.read_text() + text)


def test_the_trail_is_on_by_default_in_the_data_directory(data_dir: Path) -> None:
    settings = load_settings(data_dir)
    assert settings.audit is True
    assert settings.trail_dir == data_dir.resolve() / "trail"
    assert (settings.audit_segment_bytes, settings.audit_digest_seconds) == (64 << 20, 3600)


def test_the_file_and_the_environment_set_the_trail(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(data_dir, 'audit_dir = "elsewhere/trail"\naudit_digest_seconds = 60\n')
    settings = load_settings(data_dir)
    assert settings.trail_dir == data_dir.resolve() / "elsewhere" / "trail"
    assert settings.audit_digest_seconds == 60
    monkeypatch.setenv("STRONGROOM_AUDIT", "0")
    monkeypatch.setenv("STRONGROOM_AUDIT_DIR", "/var/tmp/strongroom-trail")
    monkeypatch.setenv("STRONGROOM_AUDIT_DIGEST_SECONDS", "5")
    settings = load_settings(data_dir)
    assert settings.audit is False
    assert settings.trail_dir == Path("/var/tmp/strongroom-trail")
    assert settings.audit_digest_seconds == 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("audit = 2", "audit must be true or false, not 2"),
        ("audit_digest_seconds = 0", "audit_digest_seconds must be 1 to 31622400, not 0"),
        ('audit_segment_bytes = "big"', "audit_segment_bytes must be a whole number, not 'big'"),
        (
            'audit_retention_seconds = "soon"',
            "audit_retention_seconds must be a whole number of seconds or one like 90d, 12h, "
            "30m, not 'soon'",
        ),
        (
            "audit_retention_seconds = -5",
            "audit_retention_seconds must be a whole number of seconds or one like 90d, 12h, "
            "30m, not -5",
        ),
        (
            'audit_retention_seconds = "1000000w"',
            "audit_retention_seconds must be at most 3162240000 seconds, not 604800000000",
        ),
        ("audit_sink = 5", "audit_sink must be a file path or -, not 5"),
        ('audit_sink = "."', "audit_sink '.' is a directory; it must name a file"),
    ],
)
def test_a_bad_trail_setting_is_refused_with_the_reason(
    data_dir: Path, line: str, message: str
) -> None:
    _add(data_dir, line + "\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir)
    assert str(refused.value) == message


def test_retention_archive_and_sink(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(data_dir)
    assert settings.audit_retention_seconds == 0  # never archive
    assert settings.archive_dir == data_dir.resolve() / "trail" / "archive"
    assert settings.audit_sink is None
    _add(
        data_dir,
        'audit_retention_seconds = "90d"\naudit_archive_dir = "cold"\naudit_sink = "siem.jsonl"\n',
    )
    settings = load_settings(data_dir)
    assert settings.audit_retention_seconds == 90 * 86400
    assert settings.archive_dir == data_dir.resolve() / "cold"
    assert settings.audit_sink == str(data_dir.resolve() / "siem.jsonl")
    monkeypatch.setenv("STRONGROOM_AUDIT_RETENTION_SECONDS", "3600")
    monkeypatch.setenv("STRONGROOM_AUDIT_ARCHIVE_DIR", "/var/tmp/strongroom-archive")
    monkeypatch.setenv("STRONGROOM_AUDIT_SINK", "-")
    settings = load_settings(data_dir)
    assert settings.audit_retention_seconds == 3600
    assert settings.archive_dir == Path("/var/tmp/strongroom-archive")
    assert settings.audit_sink == "-"


def test_a_sink_in_a_missing_directory_is_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_AUDIT_SINK", "nowhere/siem.jsonl")
    with pytest.raises(ConfigError, match=r"the directory .*nowhere does not exist"):
        load_settings(data_dir)


PG = "postgresql+psycopg://strongroom@db.internal/strongroom"


def test_the_trail_is_in_the_database_by_default_on_postgresql(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(data_dir).audit_store == "files"
    monkeypatch.setenv("STRONGROOM_DATABASE_URL", PG)
    assert load_settings(data_dir).audit_store == "database"
    monkeypatch.setenv("STRONGROOM_AUDIT_STORE", "files")
    assert load_settings(data_dir).audit_store == "files"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('audit_store = "s3"', 'audit_store must be "files" or "database", not \'s3\''),
        ('audit_store = "database"', 'audit_store = "database" needs a PostgreSQL database_url'),
    ],
)
def test_a_bad_audit_store_is_refused(data_dir: Path, line: str, message: str) -> None:
    _add(data_dir, line + "\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir)
    assert str(refused.value) == message
