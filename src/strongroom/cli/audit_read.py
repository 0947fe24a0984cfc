"""``strongroom audit query`` and ``strongroom audit tail [-f]``: the trail's events, filtered,
as a table or as JSON lines, from a trail directory or the trail in the database. Both stream;
``tail -f`` polls for new lines (the newest segment's growth and new segments; the database's
rows past the last seq read) until Ctrl-C or SIGTERM. :func:`trail_source` is where the trail
is, for these and for ``audit verify``."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table

from strongroom.audit.dbtrail import DbTrailSource
from strongroom.audit.format import LineError
from strongroom.audit.query import (
    ANY_ERROR,
    EventFilter,
    EventSource,
    FileEvents,
    event_key,
    event_principal,
    last_events,
    parse_time,
    query,
)
from strongroom.config import ConfigError, load_settings
from strongroom.storage import StorageError
from strongroom.storage.trail_sql import TrailSql

__all__ = ["query_command", "tail_command", "trail_and_archive", "trail_source"]

F = TypeVar("F")

POLL_SECONDS = 0.2
_ROWS_PER_TABLE = 50
# (header, width; 0: a share of what the others leave): widths fixed for the whole output, so
# that the tables printed one after another line up.
_COLUMNS = (
    ("Time", 20),
    ("Event", 22),
    ("Identity", 0),
    ("Key", 0),
    ("Error", 22),
    ("Request ID", 36),
)
_MIN_SHARE = 20


def _filter_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--trail",
            "trail_dir",
            type=click.Path(path_type=Path, exists=True, file_okay=False),
            help="The trail directory (segments/, digests/).",
        ),
        click.option(
            "--database-url",
            help="The trail in this PostgreSQL database (audit_store = database).",
        ),
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path, exists=True, file_okay=False),
            help="A data directory: its trail, as its settings say (audit_store database: in "
            "its database; files: its audit_dir, else trail/, and audit_archive_dir).",
        ),
        click.option(
            "--event-name", multiple=True, help="Only this event name (repeat: any of them)."
        ),
        click.option(
            "--key",
            help="Only events about this key: key id, key ARN, alias name or alias ARN.",
        ),
        click.option(
            "--principal",
            help="Only calls by this identity: its ARN, user name, role name or session name.",
        ),
        click.option("--access-key-id", help="Only calls signed with this access key id."),
        click.option(
            "--start", help="From this time: ISO 8601 (UTC if no zone) or -30m, -1h, -2d."
        ),
        click.option("--end", help="Up to this time: ISO 8601 or -30m, -1h, -2d."),
        click.option(
            "--error",
            is_flag=False,
            flag_value=ANY_ERROR,
            default=None,
            metavar="[CODE]",
            help="Only failed calls; with a CODE, only those that failed with it.",
        ),
        click.option(
            "--context",
            multiple=True,
            metavar="KEY=VALUE",
            help="Only calls whose encryption context has this pair (repeat: all of them).",
        ),
        click.option(
            "--account", help="Only events delivered to this account (recipientAccountId)."
        ),
        click.option(
            "--output",
            type=click.Choice(["table", "json"]),
            default="table",
            show_default=True,
            help="A table, or JSON lines (one whole event a line).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(data_dir: Path) -> Any:
    try:
        return load_settings(data_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def trail_and_archive(trail_dir: Path | None, data_dir: Path | None) -> tuple[Path, Path | None]:
    """The trail directory, and its archive when the data directory's settings say where
    (None: where the trail says, audit/stored.py)."""
    if (trail_dir is None) == (data_dir is None):
        raise click.UsageError("give either --trail DIR or --data-dir DIR")
    if trail_dir is not None:
        return trail_dir, None
    assert data_dir is not None
    settings = _settings(data_dir)
    return settings.trail_dir, settings.archive_dir


@contextlib.contextmanager
def trail_source(
    trail_dir: Path | None,
    archive_dir: Path | None,
    database_url: str | None,
    data_dir: Path | None,
    files: Callable[[Path, Path | None], F],
) -> Iterator[F | DbTrailSource]:
    """The trail one of the three options names (a data directory's: where its settings say,
    in files or in its database), with its archive (``archive_dir``, else where the trail or the
    data directory's settings say): ``files(trail, archive)`` for a directory, a
    :class:`DbTrailSource` for the database (its connections closed on the way out). Opening
    the database fails with :class:`StorageError` (see :func:`database_errors`)."""
    if sum(given is not None for given in (trail_dir, database_url, data_dir)) != 1:
        raise click.UsageError("give one of --trail DIR, --database-url URL or --data-dir DIR")
    if data_dir is not None:
        settings = _settings(data_dir)
        if settings.audit_store == "database":
            database_url = settings.database_url
        else:
            trail_dir = settings.trail_dir
            archive_dir = archive_dir or settings.archive_dir
    if database_url is None:
        assert trail_dir is not None
        yield files(trail_dir, archive_dir)
        return
    rows = TrailSql(database_url)
    try:
        yield DbTrailSource(rows)
    finally:
        rows.close()


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database trail that cannot be read (unreachable, not PostgreSQL, no such tables): a
    click error naming the failure's kind, never a traceback."""
    try:
        yield
    except StorageError as exc:
        raise click.ClickException(f"the database trail cannot be read: {exc}") from None


def _time(option: str, value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, now)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time nor -<n>s/m/h/d/w", param_hint=option
        ) from None


def _pairs(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--context")
        pairs.append((key, text))
    return tuple(pairs)


def _event_filter(options: Mapping[str, Any]) -> EventFilter:
    now = datetime.now(UTC)
    return EventFilter(
        event_names=frozenset(options["event_name"]),
        key=options["key"],
        principal=options["principal"],
        access_key_id=options["access_key_id"],
        start=_time("--start", options["start"], now),
        end=_time("--end", options["end"], now),
        error=options["error"],
        context=_pairs(options["context"]),
        account=options["account"],
    )


class _Printer:
    """Events out, as they come: JSON lines, or tables of fixed column widths under one
    header."""

    def __init__(self, output: str) -> None:
        self._json = output == "json"
        self._console = Console(highlight=False, soft_wrap=False)
        self._header = True
        fixed = sum(width for _, width in _COLUMNS) + 2 * (len(_COLUMNS) - 1)
        share = max(_MIN_SHARE, (self._console.width - fixed) // 2)
        self._widths = [(header, width or share) for header, width in _COLUMNS]

    def print(self, events: Iterable[Mapping[str, Any]]) -> None:
        rows = iter(events)
        while batch := list(islice(rows, _ROWS_PER_TABLE)):
            if self._json:
                sys.stdout.buffer.write(b"".join(orjson.dumps(e) + b"\n" for e in batch))
            else:
                self._console.print(self._table(batch))
            sys.stdout.flush()

    def _table(self, events: Iterable[Mapping[str, Any]]) -> Table:
        table = Table(box=None, show_header=self._header, header_style="bold", pad_edge=False)
        self._header = False
        for header, width in self._widths:
            table.add_column(header, width=width, overflow="fold")
        for event in events:
            table.add_row(
                *(
                    str(value or "")
                    for value in (
                        event.get("eventTime"),
                        event.get("eventName"),
                        event_principal(event),
                        event_key(event),
                        event.get("errorCode"),
                        event.get("requestID"),
                    )
                )
            )
        return table


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


@contextlib.contextmanager
def _reading(options: dict[str, Any]) -> Iterator[EventSource[Any]]:
    """The trail the options name, and the errors of reading it as click errors."""
    trail_dir, database_url, data_dir = (
        options.pop(name) for name in ("trail_dir", "database_url", "data_dir")
    )
    try:
        with (
            database_errors(),
            trail_source(trail_dir, None, database_url, data_dir, FileEvents) as source,
        ):
            yield source
    except BrokenPipeError:
        _quiet_broken_pipe()
    except LineError as exc:
        raise click.ClickException(_damaged(exc)) from None


@click.command("query")
@_filter_options
@click.option("--limit", type=click.IntRange(min=0), help="At most this many events.")
def query_command(limit: int | None, **options: Any) -> None:
    """The events that match every filter given, oldest first."""
    with _reading(options) as source:
        wanted = _event_filter(options)
        _Printer(options["output"]).print(query(source, wanted, limit))


@click.command("tail")
@_filter_options
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Print the last N matching events.",
)
@click.option("-f", "--follow", is_flag=True, help="Then print new events as they are committed.")
def tail_command(count: int, follow: bool, **options: Any) -> None:
    """The last matching events; with -f, then each new one until Ctrl-C or SIGTERM."""
    stopped: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.append(signum)

    with _reading(options) as source:
        wanted = _event_filter(options)
        printer = _Printer(options["output"])
        if follow:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        events, follower = last_events(source, wanted, count)
        printer.print(events)
        while follow and not stopped:
            time.sleep(POLL_SECONDS)
            printer.print(follower.poll())


def _damaged(exc: LineError) -> str:
    return f"the trail has a damaged line ({exc}); run `strongroom audit verify` to find it"
