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
    ],
)
def test_a_bad_trail_setting_is_refused_with_the_reason(
    data_dir: Path, line: str, message: str
) -> None:
    _add(data_dir, line + "\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir)
    assert str(refused.value) == message


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
