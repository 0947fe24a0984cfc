"""``strongroom audit query`` and ``strongroom audit tail [-f]`` on the trail in the database, on a
real PostgreSQL, over a trail written by the real ``DbTrail``: the filter matrix and both outputs
(the same as from a trail directory holding the same events), ``--database-url`` and
``--data-dir`` (its ``audit_store``), tail across blocks and ``tail -f`` as the real binary, and
a database that cannot be read as a clear error.

Needs ``STRONGROOM_TEST_POSTGRES_URL``; skipped with that reason otherwise (the errors that need
no server run anyway). Each fixture gets a schema of its own.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.unit.audit.helpers import event, make_signer
from tests.unit.audit.query_events import KEY_1, QUERY_CASES, trail_events
from tests.unit.cli.test_audit_query import BINARY, WAIT, _next_id, _reader, _run_all
from tests.unit.storage.conftest import _postgres_url

from strongroom.audit.dbtrail import DbTrail, DbTrailSource
from strongroom.audit.digest import Signer
from strongroom.audit.query import EventFilter, last_events, query
from strongroom.audit.trail import Trail
from strongroom.cli.init import initialise
from strongroom.cli.main import cli
from strongroom.storage import StorageError, migrate
from strongroom.storage.trail_sql import TrailSql

_postgres = pytest.mark.postgres


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return make_signer(tmp_path_factory.mktemp("keys"))


def _append(url: str, signer: Signer, events: list[dict[str, Any]]) -> None:
    """``events`` appended to the database trail, one transaction each, as a server would."""
    trail = DbTrail(TrailSql(url), signer, errors=(StorageError,))
    try:
        for one in events:
            trail.commit_sync([one])
    finally:
        trail.close()


@pytest.fixture(scope="module")
def same_events() -> list[dict[str, Any]]:
    return trail_events()


@pytest.fixture(scope="module")
def db(signer: Signer, same_events: list[dict[str, Any]]) -> Iterator[str]:
    """The seven query events in the database trail."""
    for url in _postgres_url():
        migrate(url)
        _append(url, signer, same_events)
        yield url


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory, signer: Signer, same_events: list[dict[str, Any]]
) -> Path:
    """The same seven events in a trail directory."""
    directory = tmp_path_factory.mktemp("audit") / "trail"
    trail = Trail(directory, signer)
    try:
        trail.commit_sync(same_events)
    finally:
        trail.close()
    return directory


@pytest.fixture
def fresh(signer: Signer) -> Iterator[str]:
    """A database trail of its own (tail -f appends to it)."""
    for url in _postgres_url():
        migrate(url)
        yield url


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args])


def _ids(stdout: str) -> list[str]:
    return [json.loads(line)["eventID"].removeprefix("event-") for line in stdout.splitlines()]


@_postgres
@pytest.mark.parametrize(("args", "expected"), QUERY_CASES)
def test_each_filter_on_the_database_trail(db: str, args: list[str], expected: list[str]) -> None:
    result = _invoke("query", "--database-url", db, "--output", "json", *args)
    assert result.exit_code == 0, result.output
    assert _ids(result.stdout) == expected


@_postgres
def test_both_outputs_are_those_of_the_same_events_in_files(db: str, files: Path) -> None:
    commands = [
        [BINARY, "audit", command, *where, *output]
        for command in ("query", "tail")
        for output in (["--output", "json"], ["--output", "table"])
        for where in (["--database-url", db], ["--trail", str(files)])
    ]
    results = _run_all(commands)
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr for r in results]
    for from_db, from_files in zip(results[::2], results[1::2], strict=True):
        assert from_db.stdout == from_files.stdout
    assert _ids(results[0].stdout) == ["r1", "r2", "r3", "rotate", "r5", "r6", "r7"]


@_postgres
def test_data_dir_follows_its_audit_store(db: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "kms"
    initialise(data_dir, "111122223333", "us-east-1")
    config = data_dir / "strongroom.toml"
    config.write_text(config.read_text() + f'database_url = "{db}"\naudit_store = "database"\n')
    queried = _invoke("query", "--data-dir", str(data_dir), "--output", "json", "--error")
    tailed = _invoke("tail", "--data-dir", str(data_dir), "--output", "json", "-n", "2")
    assert queried.exit_code == tailed.exit_code == 0, queried.output + tailed.output
    assert _ids(queried.stdout) == ["r2", "r6"]
    assert _ids(tailed.stdout) == ["r6", "r7"]


@_postgres
def test_tail_prints_the_last_matching_events(db: str) -> None:
    last3 = _invoke("tail", "--database-url", db, "-n", "3", "--output", "json")
    decrypts = _invoke(
        "tail", "--database-url", db, "-n", "1", "--event-name", "Decrypt", "--output", "json"
    )
    key_1 = _invoke("tail", "--database-url", db, "-n", "9", "--key", KEY_1, "--output", "json")
    none = _invoke("tail", "--database-url", db, "-n", "0")
    assert [r.exit_code for r in (last3, decrypts, key_1, none)] == [0] * 4
    assert _ids(last3.stdout) == ["r5", "r6", "r7"]
    assert _ids(decrypts.stdout) == ["r5"]
    assert _ids(key_1.stdout) == ["r1", "r2", "r7"]
    assert none.stdout == ""


@_postgres
def test_reading_across_blocks_and_following(fresh: str, signer: Signer) -> None:
    """Blocks of 3 seqs (the server's are 10000): the last events from the newest block back,
    only as far as needed; then a follower sees each new row once, across blocks."""
    _append(fresh, signer, [event(n) for n in range(1, 9)])  # blocks 1..3, the last holding 2
    rows = TrailSql(fresh)
    try:
        source = DbTrailSource(rows, segment_events=3)
        assert source.segment_numbers() == [1, 2, 3]
        assert [e["n"] for e in query(source, EventFilter())] == list(range(1, 9))
        assert [e["n"] for e in query(source, EventFilter(), 4)] == [1, 2, 3, 4]
        events, follower = last_events(source, EventFilter(), 5)
        assert [e["n"] for e in events] == [4, 5, 6, 7, 8]
        assert follower.mark == 8
        assert follower.poll() == []
        _append(fresh, signer, [event(n) for n in range(9, 13)])
        assert [e["n"] for e in follower.poll()] == [9, 10, 11, 12]
        assert follower.poll() == []
        ones, _ = last_events(source, EventFilter(event_names=frozenset({"Decrypt"})), 3)
        assert ones == []
    finally:
        rows.close()


@_postgres
def test_tail_follow_sees_new_rows(fresh: str, signer: Signer) -> None:
    encrypt, decrypt = trail_events()[0], trail_events()[1]
    _append(fresh, signer, [encrypt, decrypt])
    command = ["tail", "-f", "-n", "1", "--event-name", "Encrypt", "--output", "json"]
    proc = subprocess.Popen(
        [BINARY, "audit", *command, "--database-url", fresh],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines, reader = _reader(proc)
        assert _next_id(lines, time.monotonic() + WAIT) == "r1"  # following from here on
        _append(fresh, signer, [{**decrypt, "requestID": "n1"}, {**encrypt, "requestID": "n2"}])
        assert _next_id(lines, time.monotonic() + WAIT) == "n2"
        _append(fresh, signer, [{**encrypt, "requestID": "n3"}, {**encrypt, "requestID": "n4"}])
        assert _next_id(lines, time.monotonic() + WAIT) == "n3"
        assert _next_id(lines, time.monotonic() + WAIT) == "n4"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""
        reader.join(timeout=WAIT)
        assert lines.empty()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("command", ["query", "tail"])
def test_a_database_that_cannot_be_read_is_a_clear_error(command: str) -> None:
    unreachable = _invoke(command, "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    not_postgres = _invoke(command, "--database-url", "sqlite:///nothing.db")
    not_a_url = _invoke(command, "--database-url", "not a url")
    for result, says in (
        (unreachable, "the database trail cannot be read: the storage backend failed"),
        (not_postgres, "the audit trail in the database needs PostgreSQL"),
        (not_a_url, "the database url is not valid"),
    ):
        assert result.exit_code == 1, result.output
        assert says in result.output
        assert "Traceback" not in result.output


@_postgres
def test_a_database_without_the_trail_tables_is_a_clear_error() -> None:
    for url in _postgres_url():  # a schema of its own, not migrated
        result = _invoke("query", "--database-url", url)
        assert result.exit_code == 1
        assert "the database trail cannot be read" in result.output
        assert "Traceback" not in result.output


def test_usage_names_the_three_places(tmp_path: Path) -> None:
    both = _invoke("tail", "--database-url", "postgresql+psycopg://x@y/z", "--trail", str(tmp_path))
    assert both.exit_code == 2
    assert "give one of --trail DIR, --database-url URL or --data-dir DIR" in both.output
