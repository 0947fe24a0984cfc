"""The ``strongroom`` command: ``init`` a data directory, ``serve`` the KMS API."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.panel import Panel

from strongroom import __version__
from strongroom.cli.admin import admin
from strongroom.cli.audit import audit
from strongroom.cli.init import InitResult, initialise, is_initialised
from strongroom.cli.keys import keys
from strongroom.cli.policy import policy
from strongroom.config import DEV_ACCOUNT, ConfigError, load_settings
from strongroom.server.workers import ServeOptions
from strongroom.server.workers import serve as serve_workers
from strongroom.storage import StorageError, migrate, open_storage

__all__ = ["main"]

err = Console(stderr=True)


def _usage(result: InitResult, port: int) -> str:
    env = f"AWS_SHARED_CREDENTIALS_FILE={result.credentials_file}"
    endpoint = f"--endpoint-url http://127.0.0.1:{port}"
    return (
        f"{env} aws --profile strongroom --region {result.region} {endpoint} kms list-keys\n"
        f"{env} aws --profile strongroom --region {result.region} {endpoint} kms create-key"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strongroom")
def cli() -> None:
    """Strongroom: a self-hosted key management service that speaks the AWS KMS API.

    \b
    Quick start:
      strongroom init --data-dir ./kms-data
      strongroom serve --data-dir ./kms-data
    or, for development and tests (throwaway data, any access key accepted):
      strongroom serve --dev
    """


@cli.command()
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to create (mode 0700); must not be initialised already.",
)
@click.option(
    "--account-id",
    default="111122223333",
    show_default=True,
    help="The 12-digit id of the first account.",
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="Region printed in the example commands (every region is served).",
)
def init(data_dir: Path, account_id: str, region: str) -> None:
    """Create a data directory: database, root key, first account and its access key.

    Writes DATA_DIR/credentials (AWS shared-credentials format, profile "strongroom").
    """
    try:
        result = initialise(data_dir, account_id, region)
    except (ConfigError, StorageError, FileExistsError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Initialised {result.data_dir} for account {account_id}.")
    click.echo(f"Credentials for the account root: {result.credentials_file} (profile strongroom)")
    click.echo(f"\nStart the server:\n  strongroom serve --data-dir {result.data_dir}\n")
    click.echo("Then use it with the AWS CLI:\n  " + _usage(result, 8400).replace("\n", "\n  "))


def _dev_data_dir(data_dir: Path | None, account_id: str) -> Path:
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="strongroom-dev-"))
    if not is_initialised(data_dir):
        initialise(data_dir, account_id, "us-east-1")
    return data_dir


def _banner(host: str, port: int, data_dir: Path, account_id: str) -> None:
    err.print(
        Panel.fit(
            "[bold yellow]DEVELOPMENT MODE[/] - not for real keys.\n"
            "Any unknown access key id is accepted, unverified, as the root of account "
            f"{account_id}.\n"
            "POST /_strongroom/reset wipes all keys; POST /_strongroom/clock moves time forward.\n"
            f"Data: {data_dir}\n"
            f"Try: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --region us-east-1 "
            f"--endpoint-url http://{host}:{port} kms create-key",
            title="strongroom serve --dev",
            border_style="yellow",
        )
    )


@cli.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Initialised data directory (with --dev: created on first use; "
    "default: a temporary directory).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes."
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dev", is_flag=True, help="Development mode (see the banner it prints).")
@click.option(
    "--account-id",
    default=DEV_ACCOUNT,
    show_default=True,
    help="Dev mode: the account a new data directory is created for.",
)
@click.option(
    "--dev-allow-remote",
    is_flag=True,
    help="Dev mode: serve /_strongroom/ routes to non-loopback clients too.",
)
@click.option(
    "--request-log/--no-request-log",
    default=None,
    help="One JSON line per API call on standard error (default: the data directory's "
    "request_log setting, off).",
)
@click.option(
    "--audit/--no-audit",
    default=None,
    help="The audit trail: every call's CloudTrail event durable before its reply (default: "
    "the data directory's audit setting, on).",
)
def serve(  # noqa: PLR0917 - click passes every option positionally
    data_dir: Path | None,
    host: str,
    port: int,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    dev: bool,
    account_id: str,
    dev_allow_remote: bool,
    request_log: bool | None,
    audit: bool | None,
) -> None:
    """Serve the AWS KMS API (JSON 1.1 over HTTP, SigV4) on HOST:PORT."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if request_log is not None:
        os.environ["STRONGROOM_REQUEST_LOG"] = "1" if request_log else "0"
    if audit is not None:
        os.environ["STRONGROOM_AUDIT"] = "1" if audit else "0"
    try:
        if dev:
            data_dir = _dev_data_dir(data_dir, account_id)
        elif data_dir is None:
            raise click.UsageError("--data-dir is required (or use --dev)")
        settings = load_settings(data_dir, dev=dev, dev_allow_remote=dev_allow_remote)
        open_storage(settings.database_url).close()  # fail here, clearly, not in each worker
    except (ConfigError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    if dev:
        _banner(host, port, settings.data_dir, settings.account_id)
    os.environ["STRONGROOM_DATA_DIR"] = str(settings.data_dir)
    os.environ["STRONGROOM_DEV"] = "1" if dev else "0"
    os.environ["STRONGROOM_DEV_ALLOW_REMOTE"] = "1" if dev_allow_remote else "0"
    err.print(
        f"strongroom {__version__} serving on {'https' if tls_cert else 'http'}://{host}:{port} "
        f"with {workers} worker(s); data in {settings.data_dir}"
    )
    try:
        serve_workers(
            ServeOptions(
                host=host,
                port=port,
                workers=workers,
                tls_cert=str(tls_cert) if tls_cert else None,
                tls_key=str(tls_key) if tls_key else None,
                # The trail's writer and index processes serve a trail of files; with the
                # trail in the database each worker appends to it itself.
                audit=settings.audit and settings.audit_store == "files",
            )
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@cli.command("migrate")
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Initialised data directory whose database to bring to this build's schema.",
)
def migrate_command(data_dir: Path) -> None:
    """Upgrade the database schema to this build's revision (Alembic)."""
    try:
        settings = load_settings(data_dir)
        migrate(settings.database_url)
    except (ConfigError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Database schema is current.")


cli.add_command(policy)
cli.add_command(admin)
cli.add_command(keys)
cli.add_command(audit)


def main() -> None:
    # Everything Strongroom writes (database, WAL, root key, credentials) is for its owner only.
    os.umask(0o077)
    cli(prog_name="strongroom")
    sys.exit(0)
