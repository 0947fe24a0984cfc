"""The audit trail over the wire: each call's CloudTrail event is on disk before its reply, denials
carry their error, no secret reaches the trail or the log, the trail verifies offline with only the
public key, and a trail that cannot be written refuses every call (500) until it can again."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strongroom.audit.trail import read_events
from strongroom.server.trail_writer import SOCKET_ENV
from strongroom.server.workers import INDEXER_NAME, WORKER_NAME, WRITER_NAME
from tests.integration.server import STRONGROOM, Server, dev_server, free_port

POLICY_DENYING_DECRYPT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "NoDecrypt",
            "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ],
}


def _events(server: Server) -> dict[str, list[dict[str, Any]]]:
    """The trail's events by request id (a cross-account call has two)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event in read_events(server.data_dir / "trail"):
        found.setdefault(event.get("requestID", ""), []).append(event)
    return found


def _request_id(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


@pytest.fixture
def server(own_dev: Server) -> Server:
    """This module's own dev server (its trail holds only this module's calls)."""
    return own_dev


def test_each_call_is_on_disk_with_its_request_id_before_its_reply(server: Server) -> None:
    kms = server.client()
    created = kms.create_key(Description="audited")
    arn = created["KeyMetadata"]["Arn"]
    context = {"purpose": "audit-test"}
    encrypted = kms.encrypt(KeyId=arn, Plaintext=b"x" * 16, EncryptionContext=context)
    # Read at once: the reply came, so the event is already in the trail.
    events = _events(server)
    [create_event] = events[_request_id(created)]
    assert create_event["eventName"] == "CreateKey"
    assert create_event["responseElements"]["keyMetadata"]["arn"] == arn
    assert create_event["readOnly"] is False
    [event] = events[_request_id(encrypted)]
    assert event["eventName"] == "Encrypt"
    assert event["eventSource"] == "kms.amazonaws.com"
    assert event["requestParameters"]["keyId"] == arn
    assert event["requestParameters"]["encryptionContext"] == context
    assert event["responseElements"] is None
    assert event["readOnly"] is True
    assert event["resources"] == [
        {"accountId": "000000000000", "type": "AWS::KMS::Key", "ARN": arn}
    ]
    assert event["additionalEventData"] == {
        "keyMaterialId": created["KeyMetadata"]["CurrentKeyMaterialId"]
    }
    assert event["userIdentity"]["type"] == "Root"
    assert event["recipientAccountId"] == "000000000000"
    assert "errorCode" not in event


def test_a_denied_decrypt_is_recorded_with_its_error(server: Server) -> None:
    kms = server.client()
    arn = kms.create_key(Policy=json.dumps(POLICY_DENYING_DECRYPT))["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=arn, Plaintext=b"denied")["CiphertextBlob"]
    with pytest.raises(ClientError) as denied:
        kms.decrypt(CiphertextBlob=blob)
    error = denied.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    [event] = _events(server)[_request_id(error)]
    assert event["eventName"] == "Decrypt"
    assert event["errorCode"] == "AccessDeniedException"
    assert event["errorMessage"] == error["Error"]["Message"]


def test_no_secret_reaches_the_trail_or_the_log(server: Server) -> None:
    kms = server.client()
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    plaintext = os.urandom(24)
    blob = kms.encrypt(KeyId=arn, Plaintext=plaintext)["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob)
    data_key = kms.generate_data_key(KeyId=arn, KeySpec="AES_256")["Plaintext"]
    random = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    iam = server.client("iam")
    user = f"audit-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    access = iam.create_access_key(UserName=user)["AccessKey"]
    secrets = [plaintext, blob, data_key, random, access["SecretAccessKey"].encode()]
    written = b"".join(
        path.read_bytes() for path in (server.data_dir / "trail").rglob("*") if path.is_file()
    )
    written += server.log_path.read_bytes()
    assert access["AccessKeyId"].encode() in written  # the trail names the key id, as AWS's
    for secret in secrets:
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
            assert form not in written


def _verify(trail: Path, pem: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STRONGROOM, "audit", "verify", "--trail", str(trail), "--public-key", str(pem), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_trail_verifies_offline_with_only_the_public_key(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    own = dev_server(tmp_path_factory.mktemp("audit-verify") / "data")
    try:
        kms = own.client()
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        for n in range(5):
            kms.encrypt(KeyId=arn, Plaintext=bytes([n]) * 8)
    finally:
        own.stop()  # a closing digest signs the whole trail
    pem = tmp_path / "audit.pem"
    exported = subprocess.run(
        [STRONGROOM, "audit", "public-key", "--data-dir", str(own.data_dir)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    pem.write_bytes(exported.stdout)
    copy = tmp_path / "trail"
    shutil.copytree(own.data_dir / "trail", copy)
    verified = _verify(copy, pem)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout
    [segment] = sorted((copy / "segments").iterdir())
    data = bytearray(segment.read_bytes())
    at = data.index(b'"Encrypt"') + 2
    data[at] ^= 0x01  # one byte of one event
    segment.write_bytes(bytes(data))
    tampered = _verify(copy, pem, "--json")
    assert tampered.returncode != 0
    assert segment.name in tampered.stdout
    assert "changed" in tampered.stdout


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs for the trail, so that it can fill up (needs root and mount)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_trail_refuses_every_call_and_recovers_without_a_restart(
    tmp_path: Path, small_disk: Path
) -> None:
    data = tmp_path / "data"
    server = Server(
        data,
        free_port(),
        ["--dev", "--data-dir", str(data)],
        env={"STRONGROOM_AUDIT_DIR": str(small_disk / "trail")},
    ).start()
    try:
        kms = server.client()
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        kms.encrypt(KeyId=arn, Plaintext=b"before")
        filler = small_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill the disk to its last byte
            for size in (4096, 1):
                with contextlib.suppress(OSError):
                    while os.write(fd, b"\0" * size):
                        pass
        finally:
            os.close(fd)
        for _ in range(3):
            with pytest.raises(ClientError) as refused:
                kms.encrypt(KeyId=arn, Plaintext=b"unaudited")
            response = refused.value.response
            assert response["Error"]["Code"] == "KMSInternalException"
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
        before = len(list(read_events(small_disk / "trail")))
        filler.unlink()
        answered = kms.encrypt(KeyId=arn, Plaintext=b"after")
        events = list(read_events(small_disk / "trail"))
        assert len(events) == before + 1
        assert events[-1]["requestID"] == _request_id(answered)
    finally:
        server.stop()


def _public_key(data: Path, pem: Path) -> Path:
    exported = subprocess.run(
        [STRONGROOM, "audit", "public-key", "--data-dir", str(data)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    pem.write_bytes(exported.stdout)
    return pem


def _alive(pid: int) -> bool:
    """``pid`` runs (a zombie not yet reaped by whoever adopted it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _socket_dir(pid: int) -> str:
    """The private directory of the writer's socket (from its environment)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    [path] = [e.split(b"=", 1)[1] for e in environ if e.startswith(SOCKET_ENV.encode() + b"=")]
    return str(Path(path.decode()).parent)


def _children_named(parent: int, name: bytes) -> list[int]:
    """The child processes of ``parent`` whose ``comm`` is ``name`` (see server/workers.py)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and (entry / "comm").read_bytes().strip() == name:
                found.append(int(entry.name))
    return found


def test_a_dead_trail_writer_refuses_calls_until_it_is_started_again(tmp_path: Path) -> None:
    """The trail's writer is a process of its own: while it is gone every call answers 500 and
    none is served unaudited; the supervisor starts another and calls succeed again, with no
    restart of the server."""
    data = tmp_path / "data"
    server = Server(data, free_port(), ["--dev", "--data-dir", str(data), "--workers", "2"])
    server.start()
    try:
        assert server.process is not None
        kms = server.client()
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        [writer] = _children_named(server.process.pid, WRITER_NAME)
        assert len(_children_named(server.process.pid, WORKER_NAME)) == 2
        assert len(_children_named(server.process.pid, INDEXER_NAME)) == 1
        os.kill(writer, signal.SIGKILL)
        while _alive(writer) and _children_named(server.process.pid, WRITER_NAME) == [writer]:
            time.sleep(0.01)
        answered: list[str] = []
        refused: list[tuple[str, int]] = []
        deadline = time.monotonic() + 60
        while len(answered) < 5:
            assert time.monotonic() < deadline, "calls did not succeed again"
            try:
                answered.append(_request_id(kms.encrypt(KeyId=arn, Plaintext=b"x")))
            except ClientError as exc:
                error = exc.response
                refused.append(
                    (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"])
                )
        assert refused, "a call was answered while the writer was gone"
        assert set(refused) == {("KMSInternalException", 500)}
        events = _events(server)
        assert all(len(events[request_id]) == 1 for request_id in answered)
        [again] = _children_named(server.process.pid, WRITER_NAME)
        assert again != writer
    finally:
        server.stop()
    verified = _verify(data / "trail", _public_key(data, tmp_path / "audit.pem"))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_processes_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """A SIGKILL of ``strongroom serve`` alone leaves no worker holding the port beside the
    next server's: every child stops (the writer after the workers, with its closing digest)."""
    data = tmp_path / "data"
    server = Server(data, free_port(), ["--dev", "--data-dir", str(data), "--workers", "2"])
    server.start()
    assert server.process is not None
    kms = server.client()
    kms.encrypt(KeyId=kms.create_key()["KeyMetadata"]["Arn"], Plaintext=b"x")
    children = [
        pid
        for name in (WORKER_NAME, WRITER_NAME, INDEXER_NAME)
        for pid in _children_named(server.process.pid, name)
    ]
    assert len(children) == 4
    [writer] = _children_named(server.process.pid, WRITER_NAME)
    socket_dir = _socket_dir(writer)
    server.process.kill()
    server.process.wait()
    server.process = None
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children):
        assert time.monotonic() < deadline, "a child outlived the supervisor"
        time.sleep(0.05)
    assert not Path(socket_dir).exists()  # the writer took its private directory with it
    verified = _verify(data / "trail", _public_key(data, tmp_path / "audit.pem"))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_call_over_tls_records_its_tls_details(tmp_path: Path) -> None:
    """CloudTrail's tlsDetails: the protocol and cipher suite the connection agreed on, and the
    Host header the client sent."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    data = tmp_path / "data"
    server = Server(
        data,
        free_port(),
        ["--dev", "--data-dir", str(data), "--tls-cert", str(cert), "--tls-key", str(key)],
        scheme="https",
        ca=str(cert),
    ).start()
    try:
        kms = server.client(verify=str(cert))
        created = kms.create_key()
        [event] = _events(server)[_request_id(created)]
        details = event["tlsDetails"]
        assert details["tlsVersion"] in {"TLSv1.2", "TLSv1.3"}
        assert details["cipherSuite"]
        assert details["clientProvidedHostHeader"] == f"127.0.0.1:{server.port}"
    finally:
        server.stop()
