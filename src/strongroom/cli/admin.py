"""``strongroom admin``: operator commands on a data directory (accounts, root access keys,
integrated services).

They work on the database directly, so they run beside a live server too: the server sees the new
account or key on its next request (every change moves storage's change counter). The secret
access key is printed once, here, and never stored in the clear.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from strongroom.clock import Clock
from strongroom.config import ConfigError, check_account_id, load_settings
from strongroom.domain.identity import ServiceRecord
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
    """Operator commands: accounts, their root access keys, integrated services."""


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


_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_VIA_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,254}")
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(user|role)/[\w+=,.@/-]{1,512}")


def _check_service(name: str, via_name: str, signing_name: str, principal: str) -> None:
    if not _SERVICE_NAME.fullmatch(name):
        raise click.ClickException("--name must be lower-case letters, digits and hyphens")
    if not _VIA_NAME.fullmatch(via_name):
        raise click.ClickException("--via-name must be a DNS-style name")
    if not _SERVICE_NAME.fullmatch(signing_name):
        raise click.ClickException("--signing-name must be a SigV4 service name, like s3")
    if signing_name in {"kms", "iam", "sts"}:
        raise click.ClickException(f"--signing-name cannot be {signing_name}, Strongroom's own")
    if not _PRINCIPAL.fullmatch(principal):
        raise click.ClickException("--principal must be an IAM user or role ARN")


@admin.command("register-service")
@_DATA_DIR
@click.option("--name", required=True, help="Short name (its managed keys: alias/aws/NAME).")
@click.option("--via-name", required=True, help="What kms:ViaService carries for its calls.")
@click.option("--signing-name", required=True, help="The SigV4 service its own clients sign for.")
@click.option("--principal", required=True, help="The IAM user or role ARN it calls KMS as.")
def register_service_command(
    data_dir: Path, name: str, via_name: str, signing_name: str, principal: str
) -> None:
    """Register an integrated service that may call KMS on behalf of its users."""
    _check_service(name, via_name, signing_name, principal)
    try:
        storage, _ = _open(data_dir)
    except (ConfigError, StorageError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        storage.insert_service(
            ServiceRecord(name, via_name, signing_name, principal, Clock().now())
        )
    except DuplicateError:
        raise click.ClickException(
            f"a service named {name}, or one calling as {principal}, is registered already"
        ) from None
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.close()
    click.echo(f"Registered {name}: kms:ViaService={via_name}, signing name {signing_name}, ")
    click.echo(f"calling as {principal}")


@admin.command("list-services")
@_DATA_DIR
def list_services_command(data_dir: Path) -> None:
    """List the registered integrated services."""
    try:
        storage, _ = _open(data_dir)
    except (ConfigError, StorageError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        found = storage.list_services()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.close()
    for service in found:
        click.echo(
            f"{service.name}\t{service.via_name}\t{service.signing_name}\t{service.principal_arn}"
        )
