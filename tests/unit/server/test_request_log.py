"""The request log's own mechanics: the line, the queue, the buffer, whole lines to a pipe.

Over HTTP (every kind of call, never a secret): tests/integration/test_request_log.py.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.domain.record import Decided, RequestRecord
from strongroom.server import request_log
from strongroom.server.request_log import RequestLog, encode

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = Principal.root("111122223333")
ALLOWED = Decided("kms:Encrypt", ARN, True, ("key policy/Enable IAM User Permissions",))


def _record(n: int, *, padding: int = 0) -> RequestRecord:
    rec = RequestRecord(f"req-{n:05d}", 1.5, "10.0.0.1", principal=ROOT, action="Encrypt")
    rec.decided(ALLOWED)
    rec.request = {"KeyId": ARN, "Plaintext": b"secret", "Note": "x" * padding}
    rec.hidden = frozenset({"Plaintext"})
    return rec


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    path = tmp_path / "requests.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    yield fd, path
    os.close(fd)


def test_the_line_names_who_what_and_how_it_ended() -> None:
    rec = _record(1)
    rec.region, rec.status, rec.error_code = "us-east-1", 400, "ValidationException"
    rec.access_key_id = "AKIAEXAMPLE"
    rec.decided(Decided("kms:ReEncryptTo", ARN, False, ("grant g-1",)))
    line = encode(rec)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    got = orjson.loads(line)
    assert got["requestId"] == "req-00001"
    assert got["eventName"] == "Encrypt"
    assert got["userIdentity"] == {
        "type": "Root",
        "principalId": "111122223333",
        "arn": "arn:aws:iam::111122223333:root",
        "accountId": "111122223333",
        "accessKeyId": "AKIAEXAMPLE",
    }
    assert got["decisions"] == [
        {
            "action": "kms:Encrypt",
            "resource": ARN,
            "allowed": True,
            "by": ["key policy/Enable IAM User Permissions"],
        },
        {"action": "kms:ReEncryptTo", "resource": ARN, "allowed": False, "by": ["grant g-1"]},
    ]
    assert got["requestParameters"] == {"KeyId": ARN, "Note": ""}
    assert (got["status"], got["errorCode"]) == (400, "ValidationException")
    assert "tls" not in got


def test_error_code_tls_session_and_service_appear_only_when_they_apply() -> None:
    """As CloudTrail: errorCode for a call that failed, tls over TLS; in the identity, a
    temporary key and an integrated service only when the call had them."""
    plain = orjson.loads(encode(_record(1)))
    assert "errorCode" not in plain
    assert "tls" not in plain
    assert set(plain["userIdentity"]) == {"type", "principalId", "arn", "accountId"}
    rec = _record(2)
    rec.tls, rec.session_credentials, rec.via_service = True, True, "s3.amazonaws.com"
    got = orjson.loads(encode(rec))
    assert got["tls"] is True
    assert got["userIdentity"]["sessionCredentials"] is True
    assert got["userIdentity"]["invokedBy"] == "s3.amazonaws.com"


@pytest.mark.parametrize(
    ("principal", "kind"),
    [
        (Principal.root("111122223333"), "Root"),
        (Principal("111122223333", "arn:aws:iam::111122223333:user/app", PrincipalType.USER,
                   "AIDAEXAMPLE", name="app"), "IAMUser"),
        (Principal("111122223333", "arn:aws:sts::111122223333:assumed-role/r/s",
                   PrincipalType.ASSUMED_ROLE, "AROAEXAMPLE:s", name="r"), "AssumedRole"),
    ],
)  # fmt: skip
def test_the_identity_type_is_cloudtrails(principal: Principal, kind: str) -> None:
    rec = _record(1)
    rec.principal = principal
    got = orjson.loads(encode(rec))["userIdentity"]
    assert (got["type"], got["arn"], got["principalId"]) == (
        kind,
        principal.arn,
        principal.user_id,
    )


def test_a_caller_that_was_not_recognised_has_its_access_key_only() -> None:
    rec = _record(1)
    rec.principal = None
    assert orjson.loads(encode(rec))["userIdentity"] is None
    rec.access_key_id = "AKIAUNKNOWN"
    assert orjson.loads(encode(rec))["userIdentity"] == {"accessKeyId": "AKIAUNKNOWN"}


def test_hidden_members_and_nested_binary_values_never_reach_the_line() -> None:
    rec = _record(1)
    rec.request = {"KeyId": ARN, "Plaintext": b"top-secret", "Nested": {"blob": b"also-secret"}}
    line = encode(rec)
    assert b"secret" not in line
    assert orjson.loads(line)["requestParameters"] == {"KeyId": ARN, "Nested": {"blob": None}}


def test_repeated_parts_are_encoded_once_and_follow_the_value() -> None:
    """The members that repeat are kept by what they are made of: the same principal and
    decisions give the same bytes, and any change (another principal, key, session, service,
    operation, region, agent, key material, TLS, decisions) gets its own, never a stale part."""
    encoder = request_log._Encoder()
    first = encoder.lines([_record(1)])
    again = encoder.lines([_record(2)])
    assert first.replace(b"req-00001", b"req-00002") == again
    changes: list[dict[str, Any]] = [
        {"principal": Principal.root("444455556666")},
        {"access_key_id": "AKIAOTHER"},
        {"via_service": "s3.amazonaws.com"},
        {"session_credentials": True},
        {"action": "Decrypt"},
        {"service": "admin"},
        {"region": "eu-west-3"},
        {"source_ip": "10.9.9.9"},
        {"user_agent": "agent/2"},
        {"key_material_id": "f" * 64},
        {"tls": True},
    ]
    expected: dict[str, Callable[[dict[str, Any]], bool]] = {
        "principal": lambda got: got["userIdentity"]["accountId"] == "444455556666",
        "access_key_id": lambda got: got["userIdentity"]["accessKeyId"] == "AKIAOTHER",
        "via_service": lambda got: got["userIdentity"]["invokedBy"] == "s3.amazonaws.com",
        "session_credentials": lambda got: got["userIdentity"]["sessionCredentials"] is True,
        "action": lambda got: got["eventName"] == "Decrypt",
        "service": lambda got: got["eventSource"] == "admin",
        "region": lambda got: got["awsRegion"] == "eu-west-3",
        "source_ip": lambda got: got["sourceIPAddress"] == "10.9.9.9",
        "user_agent": lambda got: got["userAgent"] == "agent/2",
        "key_material_id": lambda got: got["keyMaterialId"] == "f" * 64,
        "tls": lambda got: got["tls"] is True,
    }
    for change in changes:
        rec = _record(4)
        for name, value in change.items():
            setattr(rec, name, value)
        got = orjson.loads(encoder.lines([rec]))
        assert all(expected[name](got) for name in change), (change, got)
        assert orjson.loads(encoder.lines([_record(5)])) == orjson.loads(encode(_record(5)))
    for decisions in ([], [ALLOWED], [ALLOWED, Decided("kms:ReEncryptTo", "*", False, ())]):
        rec = _record(6)
        rec.decisions = list(decisions)
        got = orjson.loads(encoder.lines([rec]))["decisions"]
        assert [d["action"] for d in got] == [d.action for d in decisions]


def test_in_one_flush_a_record_differing_from_the_one_before_gets_its_own_part() -> None:
    """In a flush, a record whose repeating members equal the record before's reuses its
    part; each member that differs (equal values in new objects count as the same) makes the
    line follow it, never the record before."""
    changes: list[tuple[str, Any]] = [
        ("principal", Principal.root("444455556666")),
        ("access_key_id", "AKIAOTHER"),
        ("via_service", "s3.amazonaws.com"),
        ("session_credentials", True),
        ("action", "Decrypt"),
        ("service", "admin"),
        ("region", "eu-west-3"),
        ("source_ip", "10.9.9.9"),
        ("user_agent", "agent/2"),
        ("key_material_id", "f" * 64),
        ("tls", True),
        ("decisions", [Decided("kms:Encrypt", "arn:aws:kms:us-east-1:1:key/other", True, ())]),
        ("decisions", [ALLOWED, ALLOWED]),
        ("decisions", []),
    ]
    records = []
    for n, (name, value) in enumerate(changes):
        records.append(_record(2 * n))
        changed = _record(2 * n + 1)
        setattr(changed, name, value)
        records.append(changed)
    records.append(_record(99))
    lines = request_log._Encoder().lines(records).splitlines()
    assert [orjson.loads(line) for line in lines] == [orjson.loads(encode(r)) for r in records]


def test_a_kept_part_never_outlives_what_it_was_made_of() -> None:
    """Principals and decisions come and go; their ids may be reused by new objects once they
    are gone. A kept part keeps its objects alive, so a new one never gets an old one's part;
    and the kept parts are bounded."""
    encoder = request_log._Encoder()
    for n in range(request_log._KEPT * 2 + 5):
        rec = _record(n)
        account = f"{n:012d}"
        rec.principal = Principal.root(account)
        rec.decisions = [Decided("kms:Encrypt", f"arn:aws:kms:us-east-1:{account}:key/k", True, ())]
        got = orjson.loads(encoder.lines([rec]))
        assert got["userIdentity"]["accountId"] == account
        assert got["decisions"][0]["resource"].split(":")[4] == account
        del rec
    assert len(encoder._contexts) <= request_log._KEPT


def test_event_time_is_cloudtrails_and_follows_each_record() -> None:
    encoder = request_log._Encoder()
    times = [1765063142.5, 1765063142.9, 1765063143.0, 1765063141.99, 0.5]
    records = []
    for n, started in enumerate(times):
        rec = _record(n)
        rec.started = started
        records.append(rec)
    got = [line["eventTime"] for line in map(orjson.loads, encoder.lines(records).splitlines())]
    assert got == [
        "2025-12-06T23:19:02Z",
        "2025-12-06T23:19:02Z",
        "2025-12-06T23:19:03Z",
        "2025-12-06T23:19:01Z",
        "1970-01-01T00:00:00Z",
    ]


def test_a_failed_call_has_its_error_code_whatever_was_kept() -> None:
    encoder = request_log._Encoder()
    failed = _record(2)
    failed.status, failed.error_code = 400, "ValidationException"
    lines = [orjson.loads(line) for line in encoder.lines([_record(1), failed]).splitlines()]
    assert "errorCode" not in lines[0]
    assert (lines[1]["status"], lines[1]["errorCode"]) == (400, "ValidationException")
    assert {k: v for k, v in lines[1].items() if k not in ("requestId", "status", "errorCode")} == {
        k: v for k, v in lines[0].items() if k not in ("requestId", "status")
    }


def test_without_a_running_loop_each_line_is_written_at_once(log_file: tuple[int, Path]) -> None:
    fd, path = log_file
    log = RequestLog(fd)
    log.write(_record(1))
    assert [line["requestId"] for line in _read_lines(path)] == ["req-00001"]


def test_lines_wait_for_the_flush_then_go_in_order(log_file: tuple[int, Path]) -> None:
    fd, path = log_file
    log = RequestLog(fd)

    async def serve() -> None:
        for n in range(5):
            log.write(_record(n))
        assert path.read_bytes() == b""  # queued, not written
        await asyncio.sleep((request_log.FLUSH_SECONDS + request_log.WRITE_SECONDS) * 3)

    asyncio.run(serve())
    assert [line["requestId"] for line in _read_lines(path)] == [f"req-{n:05d}" for n in range(5)]


def test_records_are_let_go_at_the_tick_and_their_lines_wait_to_be_written(
    log_file: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record is held one tick at most; its line waits for more lines (or WRITE_SECONDS)."""
    monkeypatch.setattr(request_log, "WRITE_SECONDS", 60.0)
    fd, path = log_file
    log = RequestLog(fd)

    async def serve() -> None:
        for n in range(3):
            log.write(_record(n))
        await asyncio.sleep(request_log.FLUSH_SECONDS * 3)
        assert log._queued == []  # the records let go, their lines made
        for n in range(3, 5):
            log.write(_record(n))
        await asyncio.sleep(request_log.FLUSH_SECONDS * 3)
        assert log._queued == []
        assert path.read_bytes() == b""  # not yet written

    asyncio.run(serve())
    log.flush()  # as the worker stops
    assert [line["requestId"] for line in _read_lines(path)] == [f"req-{n:05d}" for n in range(5)]


def test_lines_are_written_once_write_bytes_of_them_wait(
    log_file: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_log, "WRITE_SECONDS", 60.0)
    monkeypatch.setattr(request_log, "WRITE_BYTES", 4000)
    fd, path = log_file
    log = RequestLog(fd)
    written: list[list[str]] = []

    async def serve() -> None:
        for n in range(4):
            log.write(_record(n, padding=1000))  # lines of about 1.6 KiB
            await asyncio.sleep(request_log.FLUSH_SECONDS * 3)
            written.append([line["requestId"] for line in _read_lines(path)])

    asyncio.run(serve())
    first_two = ["req-00000", "req-00001"]
    assert written == [[], [], [*first_two, "req-00002"], [*first_two, "req-00002"]]


def test_a_full_queue_has_its_lines_made_at_once(
    log_file: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_log, "WRITE_BYTES", 1)  # and written as soon as they are
    fd, path = log_file
    log = RequestLog(fd)

    async def serve() -> None:
        for n in range(request_log.QUEUED):
            log.write(_record(n))
        assert log._queued == []
        assert len(_read_lines(path)) == request_log.QUEUED

    asyncio.run(serve())


def test_a_buffer_smaller_than_the_batch_loses_and_cuts_no_line(
    log_file: tuple[int, Path],
) -> None:
    fd, path = log_file
    log = RequestLog(fd, buffer_bytes=2048)
    records = [_record(n, padding=n * 40) for n in range(60)]  # lines of about 0.4 to 2.8 KiB
    for rec in records:
        log._queued.append(rec)
    log.flush()
    lines = _read_lines(path)
    assert [line["requestId"] for line in lines] == [rec.request_id for rec in records]
    assert [line["requestParameters"]["Note"] for line in lines] == [
        "x" * n * 40 for n in range(60)
    ]


def test_a_line_that_cannot_be_encoded_loses_no_other(log_file: tuple[int, Path]) -> None:
    fd, path = log_file
    log = RequestLog(fd)
    bad = _record(2)
    bad.request = {"Limit": 2**70}  # beyond what JSON numbers carry here: orjson refuses
    for rec in (_record(1), bad, _record(3)):
        log._queued.append(rec)
    log.flush()
    assert [line["requestId"] for line in _read_lines(path)] == ["req-00001", "req-00003"]


def _through_a_pipe(records: list[RequestRecord], flags: int = 0) -> list[bytes]:
    """What the log writes for ``records`` to a pipe, read by another thread as it comes."""
    read_end, write_end = os.pipe2(flags)
    reads: list[bytes] = []

    def reader() -> None:
        while chunk := os.read(read_end, 1 << 16):
            reads.append(chunk)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        log = RequestLog(write_end)
        log._queued.extend(records)
        log.flush()
    finally:
        os.close(write_end)
        thread.join(timeout=10)
        os.close(read_end)
    return reads


@pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="packet-mode pipes are Linux's")
def test_to_a_pipe_each_write_is_whole_lines_of_at_most_pipe_buf() -> None:
    """A packet-mode pipe (O_DIRECT) hands each write to one read, so the writes can be seen."""
    records = [_record(n, padding=(n % 7) * 300) for n in range(40)]
    writes = _through_a_pipe(records, os.O_DIRECT)
    assert len(writes) < len(records)  # lines travel together
    assert all(write.endswith(b"\n") and len(write) <= select.PIPE_BUF for write in writes)
    lines = [orjson.loads(line) for write in writes for line in write.splitlines()]
    assert [line["requestId"] for line in lines] == [rec.request_id for rec in records]


def test_to_a_pipe_a_line_longer_than_pipe_buf_goes_whole_and_alone() -> None:
    records = [_record(1), _record(2, padding=3 * select.PIPE_BUF), _record(3)]
    data = b"".join(_through_a_pipe(records))
    lines = [orjson.loads(line) for line in data.splitlines()]
    assert [line["requestId"] for line in lines] == ["req-00001", "req-00002", "req-00003"]
    assert lines[1]["requestParameters"]["Note"] == "x" * 3 * select.PIPE_BUF


_TEXT = st.text(max_size=12)
DENIED = Decided("kms:Decrypt", "*", False, ())
_RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "request_id": _TEXT,
            "started": st.floats(0, 4e9),
            "source_ip": st.sampled_from(["10.0.0.1", "127.0.0.1"]),
            "user_agent": st.none() | st.sampled_from(["a/1", 'quote"d \\ agent\n']) | _TEXT,
            "tls": st.booleans(),
            "service": st.sampled_from(["kms", "iam", "admin"]),
            "action": st.sampled_from(["Encrypt", "Decrypt"]) | _TEXT,
            "region": st.none() | st.sampled_from(["us-east-1"]),
            "principal": st.none() | st.sampled_from([ROOT, Principal.root("444455556666")]),
            "access_key_id": st.none() | st.sampled_from(["AKIAONE", "AKIATWO"]),
            "session_credentials": st.booleans(),
            "via_service": st.none() | st.just("s3.amazonaws.com"),
            "decisions": st.lists(st.sampled_from([ALLOWED, DENIED])),
            "key_material_id": st.none() | st.just("m" * 64),
            "request": st.none()
            | st.dictionaries(
                st.sampled_from(["KeyId", "Plaintext", "GrantTokens", "Note", '"},{"requestId":']),
                _TEXT | st.integers(-(2**53), 2**53) | st.binary(max_size=4),
            ),
            "error_code": st.none() | st.sampled_from(["ValidationException"]),
            "status": st.sampled_from([200, 400]),
            "duration_ms": st.none() | st.floats(0, 1e6),
        }
    ),
    min_size=1,
    max_size=8,
)


def _expected(rec: RequestRecord) -> dict[str, Any]:
    """The line as its definition reads, member by member (order aside)."""
    line: dict[str, Any] = {
        "requestId": rec.request_id,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(rec.started))),
        "eventSource": rec.service,
        "eventName": rec.action,
        "awsRegion": rec.region,
        "sourceIPAddress": rec.source_ip,
        "userAgent": rec.user_agent,
        "userIdentity": None
        if rec.principal is None and rec.access_key_id is None
        else request_log._identity(rec),
        "decisions": [request_log._decision(d) for d in rec.decisions],
        "keyMaterialId": rec.key_material_id,
        "requestParameters": None
        if rec.request is None
        else {
            name: None if isinstance(value, bytes) else value
            for name, value in rec.request.items()
            if name not in rec.hidden and name != "GrantTokens"
        },
        "status": rec.status,
        "durationMs": rec.duration_ms,
    }
    if rec.error_code is not None:
        line["errorCode"] = rec.error_code
    if rec.tls:
        line["tls"] = True
    return line


@given(batches=st.lists(_RECORDS, min_size=1, max_size=3))
def test_every_line_is_one_json_object_holding_its_own_record(
    batches: list[list[dict[str, Any]]],
) -> None:
    """Lines are assembled from kept parts: whatever the records (quotes, newlines and JSON
    in their strings, members kept or not, in any order and mix), each line is one JSON object
    with exactly its record's members and values."""
    encoder = request_log._Encoder()
    for batch in batches:
        records = []
        for fields in batch:
            rec = RequestRecord(**fields)
            rec.hidden = frozenset({"Plaintext"})
            records.append(rec)
        data = encoder.lines(records)
        assert data.endswith(b"\n")
        lines = data.splitlines()
        assert [orjson.loads(line) for line in lines] == [_expected(rec) for rec in records]
