"""``strongroom audit query`` and ``strongroom audit tail [-f]``: the trail's events, filtered,
as a table or as JSON lines. Both stream; ``tail -f`` polls the newest segment for growth and
follows the trail into new segments until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from strongroom.audit.format import LineError
from strongroom.audit.query import (
    ANY_ERROR,
    EventFilter,
    event_key,
    event_principal,
    last_events,
    parse_time,
    query,
)
from strongroom.config import ConfigError, load_settings

__all__ = ["query_command", "tail_command", "trail_and_archive"]

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
            "--data-dir",
            type=click.Path(path_type=Path, exists=True, file_okay=False),
            help="A data directory: read its trail (its audit_dir setting, else trail/) and "
            "archive (audit_archive_dir).",
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


def trail_and_archive(trail_dir: Path | None, data_dir: Path | None) -> tuple[Path, Path | None]:
    """The trail directory, and its archive when the data directory's settings say where
    (None: where the trail says, audit/stored.py)."""
    if (trail_dir is None) == (data_dir is None):
        raise click.UsageError("give either --trail DIR or --data-dir DIR")
    if trail_dir is not None:
        return trail_dir, None
    assert data_dir is not None
    try:
        settings = load_settings(data_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return settings.trail_dir, settings.archive_dir


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


@click.command("query")
@_filter_options
@click.option("--limit", type=click.IntRange(min=0), help="At most this many events.")
def query_command(limit: int | None, **options: Any) -> None:
    """The events that match every filter given, oldest first."""
    trail, archive = trail_and_archive(options.pop("trail_dir"), options.pop("data_dir"))
    wanted = _event_filter(options)
    try:
        _Printer(options["output"]).print(query(trail, wanted, limit, archive=archive))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except LineError as exc:
        raise click.ClickException(_damaged(exc)) from None


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
    trail, archive = trail_and_archive(options.pop("trail_dir"), options.pop("data_dir"))
    wanted = _event_filter(options)
    printer = _Printer(options["output"])
    stopped: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.append(signum)

    if follow:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    try:
        events, follower = last_events(trail, wanted, count, archive=archive)
        printer.print(events)
        while follow and not stopped:
            time.sleep(POLL_SECONDS)
            printer.print(follower.poll())
    except BrokenPipeError:
        _quiet_broken_pipe()
    except LineError as exc:
        raise click.ClickException(_damaged(exc)) from None


def _damaged(exc: LineError) -> str:
    return f"the trail has a damaged line ({exc}); run `strongroom audit verify` to find it"
