"""``strongroom init``: create a data directory with its database, root key, account and
credentials."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from strongroom.clock import Clock
from strongroom.config import (
    CONFIG_FILE,
    CREDENTIALS_FILE,
    DB_FILE,
    ConfigError,
    check_account_id,
    load_settings,
    write_config,
)
from strongroom.iam.credentials import NewAccessKey, create_access_key, ensure_account
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import migrate, open_storage

__all__ = ["InitResult", "initialise", "is_initialised"]


@dataclass(frozen=True)
class InitResult:
    data_dir: Path
    account_id: str
    region: str
    access_key: NewAccessKey

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / CREDENTIALS_FILE


def is_initialised(data_dir: Path) -> bool:
    return (data_dir / CONFIG_FILE).exists()


def _make_dir(data_dir: Path) -> None:
    if is_initialised(data_dir):
        raise ConfigError(f"{data_dir} is already initialised; refusing to touch it")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ConfigError(f"{data_dir} exists and is not empty; choose a new directory")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)


def _write_credentials(path: Path, key: NewAccessKey) -> None:
    text = (
        "[strongroom]\n"
        f"aws_access_key_id = {key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def initialise(data_dir: Path, account_id: str, region: str) -> InitResult:
    """Create and fill ``data_dir``. Refuses an initialised or non-empty directory."""
    check_account_id(account_id)
    _make_dir(data_dir)
    write_config(data_dir, account_id, region)
    settings = load_settings(data_dir)
    root = RootKey.generate(settings.root_key_path)
    migrate(settings.database_url)
    database = data_dir / DB_FILE
    if database.exists():  # SQLite; its -wal and -shm files inherit this mode
        database.chmod(0o600)
    storage = open_storage(settings.database_url)
    try:
        now = Clock().now()
        ensure_account(storage, account_id, now)
        key = create_access_key(storage, SoftwareKeyStore(root), account_id, now)
    finally:
        storage.close()
    _write_credentials(data_dir / CREDENTIALS_FILE, key)
    return InitResult(settings.data_dir, account_id, region, key)
