"""``strongroom init``: what it creates, its modes, and that it never touches an existing dir."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from strongroom.cli.init import initialise
from strongroom.cli.main import cli
from strongroom.config import ConfigError, load_settings
from strongroom.storage import open_storage


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_everything_with_tight_modes(tmp_path: Path) -> None:
    data = tmp_path / "kms"
    result = initialise(data, "123456789012", "eu-west-1")
    assert _mode(data) == 0o700
    assert _mode(data / "root.key") == 0o600
    assert _mode(data / "credentials") == 0o600
    assert _mode(data / "strongroom.db") == 0o600
    creds = configparser.ConfigParser()
    creds.read(data / "credentials")
    assert creds["strongroom"]["aws_access_key_id"] == result.access_key.access_key_id
    assert creds["strongroom"]["aws_access_key_id"].startswith("AKIA")
    settings = load_settings(data)
    assert settings.account_id == "123456789012"
    storage = open_storage(settings.database_url)
    try:
        record = storage.get_access_key(result.access_key.access_key_id)
        assert record is not None
        assert record.principal_arn == "arn:aws:iam::123456789012:root"
        assert result.access_key.secret_access_key.encode() not in record.wrapped_secret
    finally:
        storage.close()
    assert result.access_key.secret_access_key not in repr(result)


def test_init_refuses_an_initialised_or_non_empty_dir(tmp_path: Path) -> None:
    data = tmp_path / "kms"
    initialise(data, "123456789012", "us-east-1")
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    with pytest.raises(ConfigError, match="already initialised"):
        initialise(data, "123456789012", "us-east-1")
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        initialise(other, "123456789012", "us-east-1")


def test_init_command_prints_how_to_use_it(tmp_path: Path) -> None:
    data = tmp_path / "kms"
    out = CliRunner().invoke(cli, ["init", "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert f"AWS_SHARED_CREDENTIALS_FILE={data.resolve()}/credentials aws --profile strongroom" in (
        out.output
    )
    assert "--endpoint-url http://127.0.0.1:8400 kms list-keys" in out.output
    again = CliRunner().invoke(cli, ["init", "--data-dir", str(data)])
    assert again.exit_code != 0
    assert "already initialised" in again.output


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "1234567890123"])
def test_init_refuses_bad_account_ids(tmp_path: Path, account: str) -> None:
    out = CliRunner().invoke(
        cli, ["init", "--data-dir", str(tmp_path / "d"), "--account-id", account]
    )
    assert out.exit_code != 0
    assert "12 digits" in out.output
    assert not (tmp_path / "d").exists()


def test_help_reads_well() -> None:
    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0
    for word in ("init", "serve", "migrate", "AWS KMS API"):
        assert word in out.output
    serve_help = CliRunner().invoke(cli, ["serve", "--help"]).output
    for option in ("--data-dir", "--workers", "--tls-cert", "--dev", "--dev-allow-remote"):
        assert option in serve_help


def test_key_pool_depth_defaults_and_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    initialise(data, "111122223333", "us-east-1")
    monkeypatch.delenv("STRONGROOM_KEY_POOL_DEPTH", raising=False)
    assert load_settings(data).key_pool_depth == 4
    monkeypatch.setenv("STRONGROOM_KEY_POOL_DEPTH", "0")
    assert load_settings(data).key_pool_depth == 0
    for bad in ("-1", "65", "many"):
        monkeypatch.setenv("STRONGROOM_KEY_POOL_DEPTH", bad)
        with pytest.raises(ConfigError, match="key_pool_depth"):
            load_settings(data)
