"""``strongroom audit``: check a trail offline (``verify``), print its public key
(``public-key``), move old segments to the archive (``archive``), read its events (``query``,
``tail``: cli/audit_read.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click
import orjson

from strongroom.audit.archive import archive_due
from strongroom.audit.digest import Signer
from strongroom.audit.query import parse_time
from strongroom.audit.trail import Trail
from strongroom.audit.verify import FileSource, verify_source
from strongroom.cli.audit_read import (
    database_errors,
    query_command,
    tail_command,
    trail_and_archive,
    trail_source,
)
from strongroom.config import ConfigError, Settings, load_settings, parse_duration
from strongroom.crypto.trail_signature import public_pem
from strongroom.errors import KMSInternalException
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The audit trail: verify it offline, export its public key, query and tail it."""


audit.add_command(query_command)
audit.add_command(tail_command)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@audit.command("verify")
@click.option(
    "--trail",
    "trail_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="The trail directory (segments/, digests/).",
)
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Its archive, if not where the trail says (default: <trail>/archive).",
)
@click.option(
    "--database-url",
    help="The trail in this PostgreSQL database (audit_store = database).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="A data directory: its trail, in files or in its database (its audit_store setting).",
)
@click.option(
    "--public-key",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The audit signing key's public key, PEM (strongroom audit public-key).",
)
@click.option(
    "--start", help="Check the digests from this time (ISO 8601, UTC if no zone; or -1h, -2d)."
)
@click.option("--end", help="Check the digests up to this time (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option(
    "--allow-unsigned-tail",
    is_flag=True,
    help="A live trail: events written since the newest digest are not a failure.",
)
def verify_command(  # noqa: PLR0917 - click passes every option positionally
    trail_dir: Path | None,
    archive_dir: Path | None,
    database_url: str | None,
    data_dir: Path | None,
    public_key: Path,
    start: str | None,
    end: str | None,
    as_json: bool,
    allow_unsigned_tail: bool,
) -> None:
    """Check the trail with only the public key; exit 0 only when everything verifies."""
    pem = public_key.read_bytes()
    try:
        with (
            database_errors(),
            trail_source(trail_dir, archive_dir, database_url, data_dir, FileSource) as source,
        ):
            report = verify_source(
                source, pem, _when(start), _when(end), allow_unsigned_tail=allow_unsigned_tail
            )
    except ValueError as exc:
        raise click.ClickException(f"{public_key}: {exc}") from None
    if as_json:
        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for finding in report.findings:
            click.echo(str(finding))
        verdict = "verified" if report.ok else f"FAILED: {len(report.findings)} finding(s)"
        click.echo(
            f"{verdict}: {report.segments} segment(s), {report.events} event(s) "
            f"(last seq {report.last_seq}, signed up to {report.covered_seq}), "
            f"{report.digests} digest(s)"
        )
    raise SystemExit(0 if report.ok else 1)


@audit.command("public-key")
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="An initialised data directory.",
)
def public_key_command(data_dir: Path) -> None:
    """Print the audit signing key's public key (PEM); the key is made on first use."""
    try:
        signer = _signer(load_settings(data_dir))
    except (ConfigError, OSError, ValueError, KMSInternalException) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(public_pem(signer.public_key_der()).decode(), nl=False)


def _signer(settings: Settings) -> Signer:
    store = SoftwareKeyStore(
        RootKey.load(settings.root_key_path),
        audit_key_file=settings.data_dir / AUDIT_KEY_FILE,
    )
    return store.audit_signer()


@audit.command("archive")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="A data directory: its trail, archive and retention settings, and its signing key "
    "(to sign a digest first when a due segment has none yet).",
)
@click.option(
    "--trail",
    "trail_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="A trail directory (without the signing key: segments no digest covers yet wait).",
)
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to archive (default: the audit_archive_dir setting, else <trail>/archive).",
)
@click.option(
    "--older-than",
    help="Archive the segments whose newest event is this old: 90d, 12h, 30m, 45s or seconds "
    "(default: the audit_retention_seconds setting).",
)
@click.option("--json", "as_json", is_flag=True, help="What was archived, as JSON.")
def archive_command(
    data_dir: Path | None,
    trail_dir: Path | None,
    archive_dir: Path | None,
    older_than: str | None,
    as_json: bool,
) -> None:
    """Move old segments to the archive: their exact bytes (gzip) and their events in
    CloudTrail's layout (AWSLogs/...); audit verify checks the trail and the archive as one."""
    trail, configured = trail_and_archive(trail_dir, data_dir)
    settings = load_settings(data_dir) if data_dir is not None else None
    if older_than is not None:
        try:
            seconds = parse_duration("--older-than", older_than)
        except ConfigError as exc:
            raise click.BadParameter(str(exc)) from None
    elif settings is not None and settings.audit_retention_seconds:
        seconds = settings.audit_retention_seconds
    else:
        raise click.UsageError("no retention is set (audit_retention_seconds): give --older-than")

    def digest() -> None:
        assert settings is not None
        Trail(trail, _signer(settings)).close()  # closing writes a digest

    try:
        result = archive_due(
            trail,
            archive_dir or configured,
            older_than=seconds,
            digest=digest if settings is not None else None,
        )
    except (ConfigError, OSError, ValueError, KMSInternalException) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2).decode())
        return
    for done in result.archived:
        click.echo(
            f"archived {done.segment}: seq {done.first_seq}..{done.last_seq}, "
            f"{done.events} event(s), {len(done.files) - 1} export file(s)"
        )
    if result.digests:
        click.echo(f"archived digest(s) {', '.join(result.digests)}")
    if result.stopped:
        click.echo(f"stopped: {result.stopped}")
    if not result.archived:
        click.echo("nothing archived")
