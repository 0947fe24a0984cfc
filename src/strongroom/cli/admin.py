"""``strongroom admin``: operator commands on a data directory (accounts, root access keys).

They work on the database directly, so they run beside a live server too: the server sees the new
account or key on its next request (every change moves storage's change counter). The secret
access key is printed once, here, and never stored in the clear.
"""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.clock import Clock
from strongroom.config import ConfigError, check_account_id, load_settings
from strongroom.iam.credentials import (
    NewAccessKey,
    create_access_key,
    create_account,
    random_account_id,
)
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import DuplicateError, SqlStorage, StorageError, open_storage

__all__ = ["admin"]

_DATA_DIR = click.option(
    "--data-dir",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="An initialised data directory.",
)


def _open(data_dir: Path) -> tuple[SqlStorage, SoftwareKeyStore]:
    settings = load_settings(data_dir)
    keystore = SoftwareKeyStore(RootKey.load(settings.root_key_path))
    return open_storage(settings.database_url), keystore


def _show(key: NewAccessKey, profile: str) -> None:
    click.echo(f"Account:               {key.account}")
    click.echo(f"Principal:             arn:aws:iam::{key.account}:root")
    click.echo(f"AWS_ACCESS_KEY_ID:     {key.access_key_id}")
    click.echo(f"AWS_SECRET_ACCESS_KEY: {key.secret_access_key}")
    click.echo("\nThe secret is shown only now. For ~/.aws/credentials:\n")
    click.echo(f"[{profile}]")
    click.echo(f"aws_access_key_id = {key.access_key_id}")
    click.echo(f"aws_secret_access_key = {key.secret_access_key}")


@click.group()
def admin() -> None:
    """Operator commands: accounts and their root access keys."""


@admin.command("create-account")
@_DATA_DIR
@click.option("--account-id", help="The new account's 12-digit id (default: a random one).")
def create_account_command(data_dir: Path, account_id: str | None) -> None:
    """Create an account and an access key for its root; print the credentials."""
    try:
        account = check_account_id(account_id) if account_id else None
        storage, keystore = _open(data_dir)
    except (ConfigError, StorageError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        now = Clock().now()
        if account is None:
            account = random_account_id()
            while storage.get_account(account) is not None:
                account = random_account_id()
        key = create_account(storage, keystore, account, now)
    except DuplicateError:
        raise click.ClickException(f"account {account} exists already") from None
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.close()
    _show(key, f"strongroom-{account}")


@admin.command("create-access-key")
@_DATA_DIR
@click.option("--account-id", required=True, help="The account whose root gets the key.")
def create_access_key_command(data_dir: Path, account_id: str) -> None:
    """Create another access key for an existing account's root; print the credentials."""
    try:
        account = check_account_id(account_id)
        storage, keystore = _open(data_dir)
    except (ConfigError, StorageError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if storage.get_account(account) is None:
            raise click.ClickException(f"no account {account} in {data_dir}")
        key = create_access_key(storage, keystore, account, Clock().now())
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.close()
    _show(key, f"strongroom-{account}")
