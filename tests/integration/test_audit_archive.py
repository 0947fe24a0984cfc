"""Retention and export over the wire: calls made to a running server, `strongroom audit archive`
run beside it, the old segments in CloudTrail's file layout ({"Records": [...]}), LookupEvents
still finding an archived event, `strongroom audit verify` passing across archive and live
trail; and the SIEM sink receiving each committed event."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.audit.trail import read_events
from strongroom.cli.init import initialise
from tests.integration.server import STRONGROOM, Server, free_port

ACCOUNT = "000000000000"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STRONGROOM, "audit", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dev server whose segments hold about one call each (1 KiB), with a SIEM sink file."""
    root = tmp_path_factory.mktemp("audit-archive")
    data_dir = root / "data"
    initialise(data_dir, ACCOUNT, "us-east-1")
    config = data_dir / "strongroom.toml"
    config.write_text(config.read_text() + "audit_segment_bytes = 1024\n")
    own = Server(
        data_dir,
        free_port(),
        ["--dev", "--data-dir", str(data_dir)],
        env={"STRONGROOM_AUDIT_SINK": str(root / "siem.jsonl")},
    ).start()
    yield own
    own.stop()


def _records(path: Path) -> list[dict[str, Any]]:
    content = json.loads(gzip.decompress(path.read_bytes()))
    assert list(content) == ["Records"]
    records = content["Records"]
    assert isinstance(records, list)
    return records


def test_archive_export_lookup_and_verify_across_archive_and_live(
    server: Server, tmp_path: Path
) -> None:
    request_ids: dict[str, str] = {}
    for region in ("us-east-1", "eu-west-2"):
        kms = server.client(region=region)
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        for n in range(3):
            done = kms.encrypt(KeyId=arn, Plaintext=bytes([n]) * 8)
            request_ids[done["ResponseMetadata"]["RequestId"]] = region
    trail = server.data_dir / "trail"
    archived = _run("archive", "--data-dir", str(server.data_dir), "--older-than", "0", "--json")
    assert archived.returncode == 0, archived.stdout + archived.stderr
    result = json.loads(archived.stdout)
    assert len(result["archived"]) >= 6, result
    # The live trail keeps only the newest segments; the archive has the rest, in CloudTrail's
    # layout: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_...
    exports = sorted((trail / "archive" / "AWSLogs").rglob("*.json.gz"))
    seen: dict[str, str] = {}
    for path in exports:
        _, account, kind, region, year, month, day, name = path.relative_to(trail / "archive").parts
        assert (account, kind) == (ACCOUNT, "CloudTrail")
        assert name.startswith(f"{ACCOUNT}_CloudTrail_{region}_{year}{month}{day}T")
        for record in _records(path):
            assert record["awsRegion"] == region
            assert record["recipientAccountId"] == ACCOUNT
            if record.get("eventName") == "Encrypt":
                seen[record["requestID"]] = region
    archived_ids = {rid for rid in request_ids if rid in seen}
    assert archived_ids, (request_ids, seen)
    assert all(seen[rid] == request_ids[rid] for rid in archived_ids)
    assert {"us-east-1", "eu-west-2"} <= {
        p.relative_to(trail / "archive").parts[3] for p in exports
    }
    # An archived event is still found by CloudTrail's LookupEvents (read from the archive).
    rid = sorted(archived_ids)[0]
    [event] = [e for e in read_events(trail) if e.get("requestID") == rid]
    found = server.client("cloudtrail", region=seen[rid]).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event["eventID"]}]
    )["Events"]
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in found] == [rid]
    # Calls go on into the live trail; the whole verifies with only the public key.
    server.client().list_keys()
    pem = tmp_path / "audit.pem"
    exported = _run("public-key", "--data-dir", str(server.data_dir))
    pem.write_text(exported.stdout)
    verified = _run(
        "verify", "--trail", str(trail), "--public-key", str(pem), "--allow-unsigned-tail"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert [
        e["requestID"] for e in read_events(trail) if e.get("requestID") in request_ids
    ] == list(request_ids)
    # One byte of an archived segment changed: reported, at the archived file.
    copy = tmp_path / "trail"
    subprocess.run(["cp", "-a", str(trail), str(copy)], check=True)
    segment = sorted((copy / "archive/strongroom/segments").iterdir())[1]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    tampered = _run(
        "verify", "--trail", str(copy), "--public-key", str(pem), "--allow-unsigned-tail"
    )
    assert tampered.returncode == 1
    assert f"archive/strongroom/segments/{segment.name}" in tampered.stdout


def test_the_sink_file_receives_each_committed_event(server: Server) -> None:
    kms = server.client()
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.encrypt(KeyId=arn, Plaintext=b"x" * 8)
    server.stop()  # the sink writes what it has queued as the server closes
    try:
        sink = server.data_dir.parent / "siem.jsonl"
        lines = [json.loads(line) for line in sink.read_text().splitlines()]
        assert lines == list(read_events(server.data_dir / "trail"))
    finally:
        server.start()


def test_the_server_archives_by_itself_when_a_retention_is_set(tmp_path: Path) -> None:
    """With ``audit_retention_seconds`` the server moves old segments to the archive by itself
    (the index's process, at low priority), once a signed digest covers them; the trail still
    verifies across archive and live."""
    data_dir = tmp_path / "data"
    initialise(data_dir, ACCOUNT, "us-east-1")
    config = data_dir / "strongroom.toml"
    config.write_text(
        config.read_text()
        + "audit_segment_bytes = 1024\naudit_digest_seconds = 1\naudit_retention_seconds = 1\n"
    )
    own = Server(data_dir, free_port(), ["--dev", "--data-dir", str(data_dir)]).start()
    try:
        kms = own.client()
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        for _ in range(4):
            kms.encrypt(KeyId=arn, Plaintext=b"x")
        archived = data_dir / "trail" / "archive" / "strongroom" / "segments"
        deadline = time.monotonic() + 60
        while not (archived.is_dir() and any(archived.iterdir())):
            assert time.monotonic() < deadline, "nothing was archived"
            time.sleep(0.2)
        assert list((data_dir / "trail" / "archive" / "AWSLogs").rglob("*.json.gz"))
    finally:
        own.stop()
    pem = tmp_path / "audit.pem"
    exported = subprocess.run(
        [STRONGROOM, "audit", "public-key", "--data-dir", str(data_dir)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    pem.write_bytes(exported.stdout)
    verified = _run("verify", "--trail", str(data_dir / "trail"), "--public-key", str(pem))
    assert verified.returncode == 0, verified.stdout + verified.stderr
