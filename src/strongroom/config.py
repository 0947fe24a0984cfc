"""Settings: the data directory's ``strongroom.toml`` plus environment overrides, validated once.

A data directory holds ``strongroom.toml``, ``root.key`` (0600), the SQLite database (unless
``database_url`` points at PostgreSQL) and ``credentials``. Worker processes receive the settings
through ``STRONGROOM_*`` environment variables set by ``strongroom serve``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONFIG_FILE",
    "ConfigError",
    "Settings",
    "load_settings",
    "parse_duration",
    "write_config",
]

CONFIG_FILE = "strongroom.toml"
ROOT_KEY_FILE = "root.key"
DB_FILE = "strongroom.db"
CREDENTIALS_FILE = "credentials"
TRAIL_DIR = "trail"
ARCHIVE_DIR = "archive"  # in the trail directory, unless audit_archive_dir says elsewhere
DEV_ACCOUNT = "000000000000"


class ConfigError(Exception):
    """The data directory or the environment is not usable; the message says why."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    account_id: str
    region: str
    database_url: str
    dev: bool = False
    dev_allow_remote: bool = False
    partition: str = "aws"
    # RSA key pairs kept ready per spec by each worker (crypto/keypool.py); 0 turns the pool off.
    key_pool_depth: int = 4
    # One JSON line per API call on standard error (server/request_log.py).
    request_log: bool = False
    # The audit trail (audit/, docs/audit.md): every call's CloudTrail event, durable before the
    # reply. Where it lives (default: the data directory's ``trail``), when a segment is closed
    # and how often a signed digest is written.
    audit: bool = True
    audit_dir: Path | None = None
    audit_segment_bytes: int = 64 << 20
    audit_segment_seconds: int = 3600
    audit_digest_seconds: int = 3600
    # Retention (audit/archive.py): segments whose newest event is older than this many seconds
    # are moved to the archive (default: the trail's ``archive``); 0 never archives.
    audit_archive_dir: Path | None = None
    audit_retention_seconds: int = 0
    # The SIEM sink (audit/sink.py): a file every committed event is appended to as one JSON
    # line, or ``-`` for standard output; None: no sink.
    audit_sink: str | None = None
    # Where the trail is kept: "files" (the trail directory) or "database" (the database's
    # audit_events table: one chain for every node; PostgreSQL only, and its default).
    audit_store: str = "files"

    @property
    def root_key_path(self) -> Path:
        return self.data_dir / ROOT_KEY_FILE

    @property
    def trail_dir(self) -> Path:
        return self.audit_dir if self.audit_dir is not None else self.data_dir / TRAIL_DIR

    @property
    def archive_dir(self) -> Path:
        if self.audit_archive_dir is not None:
            return self.audit_archive_dir
        return self.trail_dir / ARCHIVE_DIR


def check_account_id(account_id: str) -> str:
    if not re.fullmatch(r"\d{12}", account_id):
        raise ConfigError(f"account id must be 12 digits, not {account_id!r}")
    return account_id


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / DB_FILE).resolve()}"


def write_config(data_dir: Path, account_id: str, region: str) -> None:
    text = (
        "# Strongroom data directory settings (written by `strongroom init`).\n"
        "[strongroom]\n"
        "format = 1\n"
        f'account_id = "{account_id}"\n'
        f'region = "{region}"\n'
        '# database_url = "postgresql+psycopg://user@host/db"  # default: SQLite in this dir\n'
        '# audit_dir = "/var/lib/strongroom/trail"  # default: "trail" in this dir\n'
        '# audit_store = "files"  # or "database" (PostgreSQL only, and its default)\n'
    )
    (data_dir / CONFIG_FILE).write_text(text, encoding="utf-8")


def load_settings(data_dir: Path, *, dev: bool = False, dev_allow_remote: bool = False) -> Settings:
    """Read ``data_dir/strongroom.toml``; ``STRONGROOM_DATABASE_URL`` overrides the database,
    ``STRONGROOM_KEY_POOL_DEPTH`` the key pool's depth, ``STRONGROOM_REQUEST_LOG`` the
    request log, and ``STRONGROOM_AUDIT*`` the audit settings (``_DIR``, ``_DIGEST_SECONDS``,
    ``_ARCHIVE_DIR``, ``_RETENTION_SECONDS``, ``_SINK``)."""
    path = data_dir / CONFIG_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("strongroom", {})
    except FileNotFoundError:
        raise ConfigError(
            f"{data_dir} is not a Strongroom data directory (no {CONFIG_FILE}); "
            "run `strongroom init --data-dir DIR` first"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    url = (
        os.environ.get("STRONGROOM_DATABASE_URL") or raw.get("database_url") or sqlite_url(data_dir)
    )
    key_pool_depth = _whole(
        "key_pool_depth", raw, 4, 0, 64, env=os.environ.get("STRONGROOM_KEY_POOL_DEPTH") or None
    )
    request_log = _flag("request_log", os.environ.get("STRONGROOM_REQUEST_LOG"), raw)
    audit = _flag("audit", os.environ.get("STRONGROOM_AUDIT"), raw, default=True)
    audit_dir = os.environ.get("STRONGROOM_AUDIT_DIR") or raw.get("audit_dir")
    archive_dir = os.environ.get("STRONGROOM_AUDIT_ARCHIVE_DIR") or raw.get("audit_archive_dir")
    audit_store = _audit_store(
        str(url), os.environ.get("STRONGROOM_AUDIT_STORE") or raw.get("audit_store")
    )
    return Settings(
        data_dir=data_dir.resolve(),
        account_id=check_account_id(str(raw.get("account_id", ""))),
        region=str(raw.get("region", "us-east-1")),
        database_url=str(url),
        dev=dev,
        dev_allow_remote=dev_allow_remote,
        key_pool_depth=key_pool_depth,
        request_log=request_log,
        audit=audit,
        audit_dir=None if not audit_dir else (data_dir / str(audit_dir)).resolve(),
        audit_segment_bytes=_whole("audit_segment_bytes", raw, 64 << 20, 1 << 10, 1 << 40),
        audit_segment_seconds=_whole("audit_segment_seconds", raw, 3600, 1, 366 * 86400),
        audit_digest_seconds=_whole(
            "audit_digest_seconds",
            raw,
            3600,
            1,
            366 * 86400,
            env=os.environ.get("STRONGROOM_AUDIT_DIGEST_SECONDS"),
        ),
        audit_archive_dir=None if not archive_dir else (data_dir / str(archive_dir)).resolve(),
        audit_retention_seconds=_duration(
            "audit_retention_seconds",
            os.environ.get("STRONGROOM_AUDIT_RETENTION_SECONDS") or None,
            raw,
        ),
        audit_sink=_sink(data_dir, os.environ.get("STRONGROOM_AUDIT_SINK"), raw),
        audit_store=audit_store,
    )


AUDIT_STORES = ("files", "database")


def _audit_store(url: str, value: object) -> str:
    """``audit_store``: "database" by default on PostgreSQL, "files" otherwise; "database"
    needs PostgreSQL (the nodes of a cluster share its one chain)."""
    postgres = url.startswith("postgresql")
    if value is None or value == "":
        return "database" if postgres else "files"
    if value not in AUDIT_STORES:
        raise ConfigError(f'audit_store must be "files" or "database", not {value!r}')
    if value == "database" and not postgres:
        raise ConfigError('audit_store = "database" needs a PostgreSQL database_url')
    return str(value)


def _whole(  # noqa: PLR0917 - a setting's name, source, default and bounds
    name: str,
    raw: dict[str, object],
    default: int,
    low: int,
    high: int,
    env: str | None = None,
) -> int:
    """A whole-number setting within [low, high]: the environment over the file."""
    value: object = raw.get(name, default) if env is None else env
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be {low} to {high}, not {number}")
    return number


_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_RETENTION_SECONDS = 100 * 366 * 86400


def parse_duration(name: str, value: object) -> int:
    """Seconds: a whole number, or one with a unit (``90d``, ``12h``, ``30m``, ``45s``, ``2w``);
    0 means never. :class:`ConfigError` otherwise."""
    found = _DURATION.fullmatch(str(value).strip().lower()) if type(value) is not bool else None
    if found is None:
        raise ConfigError(
            f"{name} must be a whole number of seconds or one like 90d, 12h, 30m, not {value!r}"
        )
    seconds = int(found.group(1)) * _SECONDS[found.group(2)]
    if seconds > MAX_RETENTION_SECONDS:
        raise ConfigError(f"{name} must be at most {MAX_RETENTION_SECONDS} seconds, not {seconds}")
    return seconds


def _duration(name: str, env: str | None, raw: dict[str, object]) -> int:
    """A duration setting (see :func:`parse_duration`): the environment over the file."""
    return parse_duration(name, raw.get(name, 0) if env is None else env)


def _sink(data_dir: Path, env: str | None, raw: dict[str, object]) -> str | None:
    """``audit_sink``: ``-`` (standard output) or a file in an existing directory, relative to
    the data directory; empty or absent: no sink."""
    value = raw.get("audit_sink", "") if env is None else env
    if not isinstance(value, str):
        raise ConfigError(f"audit_sink must be a file path or -, not {value!r}")
    value = value.strip()
    if not value or value == "-":
        return value or None
    path = (data_dir / value).resolve()
    if path.is_dir():
        raise ConfigError(f"audit_sink {value!r} is a directory; it must name a file")
    if not path.parent.is_dir():
        raise ConfigError(f"audit_sink {value!r}: the directory {path.parent} does not exist")
    return str(path)


def _flag(name: str, env: str | None, raw: dict[str, object], *, default: bool = False) -> bool:
    """A true/false setting: the environment (``1``/``0``, ``true``/``false``) over the file."""
    value: object = raw.get(name, default) if env is None else env.strip().lower()
    if value in (True, "1", "true", "yes", "on"):
        return True
    if value in (False, "0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")
