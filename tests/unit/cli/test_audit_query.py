"""``strongroom audit query`` and ``strongroom audit tail [-f]`` over a trail written by the real
``Trail`` writer: the outputs, the data directory, tail and tail -f as the real binary; the
filter matrix through the same command in process (CliRunner), since each cold start of the
binary costs most of a second."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.unit.audit.helpers import make_signer
from tests.unit.audit.query_events import (
    KEY_1,
    QUERY_CASES,
    trail_events,
)

from strongroom.audit.digest import Signer
from strongroom.audit.trail import Trail
from strongroom.cli.init import initialise
from strongroom.cli.main import cli

BINARY = str(Path(sys.executable).parent / "strongroom")
WAIT = 20.0


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return make_signer(tmp_path_factory.mktemp("keys"))


def _write(directory: Path, signer: Signer, events: list[dict[str, Any]], **options: Any) -> None:
    trail = Trail(directory, signer, **options)
    try:
        trail.commit_sync(events)
    finally:
        trail.close()


def _write_in_segments(directory: Path, signer: Signer) -> None:
    """The seven events in four segments (two a commit; each commit starts a segment)."""
    events = trail_events()
    for start in range(0, len(events), 2):
        _write(directory, signer, events[start : start + 2], segment_bytes=1)


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Path:
    directory = tmp_path_factory.mktemp("audit") / "trail"
    _write_in_segments(directory, signer)
    assert len(list((directory / "segments").iterdir())) == 4
    return directory


def _cmd(*args: str) -> list[str]:
    return [BINARY, "audit", *args]


def _run_all(commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands at once (each is a cold start of the binary) and wait for all."""
    env = {**os.environ, "COLUMNS": "300"}
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for c in commands
    ]
    done = []
    for command, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return done


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def _ids(stdout: str) -> list[str]:
    return [json.loads(line)["eventID"].removeprefix("event-") for line in stdout.splitlines()]


@pytest.mark.parametrize(("args", "expected"), QUERY_CASES)
def test_each_filter_and_their_combinations(
    trail: Path, args: list[str], expected: list[str]
) -> None:
    result = _invoke("query", "--trail", str(trail), "--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert _ids(result.stdout) == expected


def test_json_lines_are_the_events_as_committed(trail: Path) -> None:
    (result,) = _run_all([_cmd("query", "--trail", str(trail), "--output", "json")])
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    expected = trail_events()
    for event in (printed[-1], expected[-1]):  # the last one's time is "ten minutes ago"
        del event["eventTime"]
    assert printed == expected


def test_table_shows_time_name_identity_key_error_and_request_id(trail: Path) -> None:
    (result,) = _run_all([_cmd("query", "--trail", str(trail), "--error")])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Time", "Event", "Identity", "Key", "Error", "Request", "ID"]
    assert len(lines) == 3
    denied = lines[1].split()
    assert denied == [
        "2025-05-20T20:50:00Z",
        "Decrypt",
        "arn:aws:sts::111122223333:assumed-role/Deployer/build-42",
        f"arn:aws:kms:us-west-2:111122223333:key/{KEY_1}",
        "AccessDeniedException",
        "r2",
    ]
    assert lines[2].split()[-2:] == ["DisabledException", "r6"]


def test_data_dir_reads_the_trail_its_settings_name(tmp_path: Path, signer: Signer) -> None:
    data_dir = tmp_path / "kms"
    initialise(data_dir, "111122223333", "us-east-1")
    config = data_dir / "strongroom.toml"
    config.write_text(config.read_text() + 'audit_dir = "elsewhere"\n')
    _write(data_dir / "elsewhere", signer, trail_events()[:2])
    (good,) = _run_all([_cmd("query", "--data-dir", str(data_dir), "--output", "json")])
    assert good.returncode == 0, good.stderr
    assert _ids(good.stdout) == ["r1", "r2"]
    assert _ids(_invoke("tail", "--data-dir", str(data_dir), "--output", "json").stdout) == [
        "r1",
        "r2",
    ]


def test_usage_errors(tmp_path: Path) -> None:
    both = _invoke("query", "--data-dir", str(tmp_path), "--trail", str(tmp_path))
    neither = _invoke("tail")
    bad_time = _invoke("query", "--trail", str(tmp_path), "--start", "yesterday")
    bad_pair = _invoke("query", "--trail", str(tmp_path), "--context", "Department")
    not_data = _invoke("query", "--data-dir", str(tmp_path))
    assert both.exit_code == neither.exit_code == 2
    assert "give one of --trail DIR, --database-url URL or --data-dir DIR" in both.stderr
    assert bad_time.exit_code == 2
    assert "'yesterday' is not an ISO 8601 time" in bad_time.stderr
    assert bad_pair.exit_code == 2
    assert "is not KEY=VALUE" in bad_pair.stderr
    assert not_data.exit_code == 1
    assert "not a Strongroom data directory" in not_data.stderr


def test_tail_prints_the_last_matching_events_across_segments(trail: Path) -> None:
    results = _run_all(
        [
            _cmd("tail", "--trail", str(trail), "-n", "3", "--output", "json"),
            _cmd(
                "tail",
                "--trail",
                str(trail),
                "-n",
                "2",
                "--event-name",
                "Decrypt",
                "--output",
                "json",
            ),
            _cmd("tail", "--trail", str(trail), "-n", "9", "--key", KEY_1, "--output", "json"),
            _cmd("tail", "--trail", str(trail), "-n", "0", "--output", "json"),
            _cmd("tail", "--trail", str(trail), "-n", "1"),
        ]
    )
    assert [r.returncode for r in results] == [0] * 5, [r.stderr for r in results]
    last3, decrypts, key_1, none, table = results
    assert _ids(last3.stdout) == ["r5", "r6", "r7"]
    assert _ids(decrypts.stdout) == ["r2", "r5"]
    assert _ids(key_1.stdout) == ["r1", "r2", "r7"]
    assert none.stdout == ""
    assert table.stdout.splitlines()[1].split()[-1] == "r7"


def _reader(proc: subprocess.Popen[str]) -> tuple[queue.Queue[str], threading.Thread]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return lines, thread


def _next_id(lines: queue.Queue[str], deadline: float) -> str:
    try:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        pytest.fail("tail -f printed nothing before the deadline")
    return str(json.loads(line)["requestID"])


def test_tail_follow_sees_new_events_in_the_segment_and_in_new_ones(
    tmp_path: Path, signer: Signer
) -> None:
    directory = tmp_path / "trail"
    _write_in_segments(directory, signer)
    proc = subprocess.Popen(
        _cmd(
            "tail",
            "-f",
            "-n",
            "1",
            "--event-name",
            "Encrypt",
            "--output",
            "json",
            "--trail",
            str(directory),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines, reader = _reader(proc)
        # The last Encrypt already there: from here on, tail is following.
        assert _next_id(lines, time.monotonic() + WAIT) == "r7"
        encrypt, decrypt = trail_events()[0], trail_events()[1]
        # Into a new segment (a writer that starts one for each commit) ...
        _write(directory, signer, [{**decrypt, "requestID": "n1"}], segment_bytes=1)
        _write(directory, signer, [{**encrypt, "requestID": "n2"}], segment_bytes=1)
        assert _next_id(lines, time.monotonic() + WAIT) == "n2"
        # ... and more lines in that same segment.
        _write(directory, signer, [{**encrypt, "requestID": "n3"}, {**decrypt, "requestID": "n4"}])
        _write(directory, signer, [{**encrypt, "requestID": "n5"}])
        assert _next_id(lines, time.monotonic() + WAIT) == "n3"
        assert _next_id(lines, time.monotonic() + WAIT) == "n5"
        assert len(list((directory / "segments").iterdir())) == 6
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""
        reader.join(timeout=WAIT)
        assert lines.empty()  # n1 and n4 are Decrypts
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_damaged_line_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    """A line that is not a trail line (a byte changed where the quick check cannot see it)
    answers with an error that names the fault and points at `audit verify`."""
    segments = tmp_path / "trail" / "segments"
    segments.mkdir(parents=True)
    (segments / "0000000001.jsonl").write_bytes(b'{"seq":1,"event":{"eventName":"Encrypt"}}\n')
    result = CliRunner().invoke(cli, ["audit", "query", "--trail", str(tmp_path / "trail")])
    assert result.exit_code == 1
    assert "damaged line" in result.output
    assert "strongroom audit verify" in result.output
    assert "Traceback" not in result.output
