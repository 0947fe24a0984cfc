"""``strongroom keys create``: a key with the console's default key policy, from the command line.

The key is created as the account root through the ordinary CreateKey operation, so the policy
passes every check an API caller's would (principals that exist, the lockout safety check). It
works on the database directly and runs beside a live server, which sees the key on its next
request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from strongroom.config import ConfigError, check_account_id, load_settings
from strongroom.domain.caller import Caller
from strongroom.errors import ServiceError
from strongroom.kms.console_policy import console_key_policy
from strongroom.kms.operations import call
from strongroom.server.runtime import Runtime, build_runtime
from strongroom.storage import StorageError

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """Create KMS keys from the command line."""


def _create(runtime: Runtime, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if runtime.kms.identity.get_account(caller.account) is None:
        raise click.ClickException(f"no account {caller.account} in {runtime.settings.data_dir}")
    runtime.kms.refresh()
    checked = runtime.model.validate("CreateKey", params)
    return call(runtime.kms, caller, "CreateKey", checked)


@keys.command("create")
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="An initialised data directory.",
)
@click.option("--account-id", help="The account that owns the key (default: the data dir's).")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--description", default="", help="The key's description.")
@click.option(
    "--key-spec",
    default="SYMMETRIC_DEFAULT",
    show_default=True,
    help="Any KeySpec (RSA_2048, ECC_NIST_P256, HMAC_256, ML_DSA_65, ...; docs/key-specs.md).",
)
@click.option(
    "--key-usage",
    help="The KeyUsage (needed for every spec but SYMMETRIC_DEFAULT).",
)
@click.option(
    "--origin",
    type=click.Choice(["AWS_KMS", "EXTERNAL"]),
    default="AWS_KMS",
    show_default=True,
    help="EXTERNAL: the key awaits imported material (docs/imported-material.md).",
)
@click.option("--multi-region", is_flag=True, help="A multi-Region primary key (mrk- id).")
@click.option(
    "--admin",
    "admins",
    multiple=True,
    metavar="ARN",
    help="A key administrator: IAM user, role or account root ARN (repeatable).",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="ARN",
    help="A key user: IAM user, role or account root ARN (repeatable).",
)
def create_command(  # noqa: PLR0917 - click passes every option positionally
    data_dir: Path,
    account_id: str | None,
    region: str,
    description: str,
    key_spec: str,
    key_usage: str | None,
    origin: str,
    multi_region: bool,
    admins: tuple[str, ...],
    users: tuple[str, ...],
) -> None:
    """Create a key whose policy is the one AWS's console writes for its spec, usage, origin and
    regions; print its metadata.

    The account root creates the key. Every --admin and --user must exist (create them with
    ``aws iam create-user`` / ``create-role`` first).
    """
    try:
        settings = load_settings(data_dir)
        account = check_account_id(account_id) if account_id else settings.account_id
        runtime = build_runtime(settings)
    except (ConfigError, StorageError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        policy = console_key_policy(
            account,
            admins=admins,
            users=users,
            partition=settings.partition,
            key_spec=key_spec,
            origin=origin,
            multi_region=multi_region,
            key_usage=key_usage,
        )
    except ValueError as exc:
        runtime.close()
        raise click.ClickException(str(exc)) from None
    params: dict[str, Any] = {"Policy": policy, "KeySpec": key_spec, "Origin": origin}
    if key_usage:
        params["KeyUsage"] = key_usage
    if multi_region:
        params["MultiRegion"] = True
    if description:
        params["Description"] = description
    try:
        result = _create(runtime, Caller.root(account, region), params)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message or exc.code}") from None
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    click.echo(orjson.dumps(result["KeyMetadata"], option=orjson.OPT_INDENT_2).decode())
