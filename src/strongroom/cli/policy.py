"""``strongroom policy explain``: the decision for a request, and the statements that made it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from strongroom.config import ConfigError, load_settings
from strongroom.errors import ServiceError
from strongroom.kms.explain import explain
from strongroom.server.runtime import build_runtime
from strongroom.storage import StorageError

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """Inspect how policies decide requests."""


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected k=v, got {value!r}", param_hint="--context")
        pairs[name] = text
    return pairs


@policy.command("explain")
@click.option("--data-dir", required=True, type=click.Path(path_type=Path))
@click.option(
    "--principal",
    "principal_arn",
    required=True,
    help="ARN of a user, role (as a session of it), assumed-role session, or account.",
)
@click.option("--action", required=True, help="e.g. kms:Decrypt")
@click.option("--key", "key_id", help="Key id, key ARN, alias name or alias ARN.")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--context", multiple=True, help="Encryption context pair k=v (repeatable).")
@click.option("--source-ip", default="127.0.0.1", show_default=True)
def explain_command(  # noqa: PLR0917 - click passes every option positionally
    data_dir: Path,
    principal_arn: str,
    action: str,
    key_id: str | None,
    region: str,
    context: tuple[str, ...],
    source_ip: str,
) -> None:
    """Print whether PRINCIPAL may do ACTION (on KEY) and which statements decided it.

    Exits 0 when allowed, 1 when denied.
    """
    try:
        runtime = build_runtime(load_settings(data_dir))
    except (ConfigError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    params = {"EncryptionContext": _pairs(context)} if context else {}
    try:
        runtime.kms.refresh()
        decision, resource = explain(
            runtime.kms,
            principal_arn=principal_arn,
            action=action,
            region=region,
            key_id=key_id,
            params=params,
            source_ip=source_ip,
        )
    except ServiceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    finally:
        runtime.close()
    click.echo(decision.explain())
    if not decision.allowed:
        click.echo(decision.message(principal_arn, action, resource))
        sys.exit(1)
