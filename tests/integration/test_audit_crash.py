"""The trail survives a power cut: a production-like server (``--workers 2``) under concurrent
Encrypt / GenerateDataKey load is killed whole (SIGKILL to its process group: the supervisor and
every worker at once) at a random moment, ten times, each time started again on the same data
directory. After each restart every call whose 200 reply a client received has exactly one event
in the trail, no request has two, and ``strongroom audit verify`` passes with the exported public
key. A call whose reply was lost with the connection may have its event or not: it was never
acknowledged.

Segments are kept small and a digest is due every second, so that kills also land in the
middle of a rotation or a digest."""

from __future__ import annotations

import base64
import http.client
import json
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from strongroom.audit.trail import read_events
from tests.integration.server import (
    STRONGROOM,
    Server,
    free_port,
    read_credentials,
    sign_headers,
)

ROUNDS = 10
THREADS = 16
SEED = 13
# Load runs this long (seconds, drawn from the seeded RNG) before the whole server is killed.
KILL_AFTER = (0.15, 0.9)
SETTINGS = "audit_segment_bytes = 65536\naudit_digest_seconds = 1\n"


@dataclass
class Acknowledged:
    """The request ids of the replies clients received whole, with status 200."""

    ids: list[str] = field(default_factory=list)
    other: list[tuple[int, bytes]] = field(default_factory=list)  # any reply that was not 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, request_id: str, body: bytes) -> None:
        with self.lock:
            if status == 200:
                self.ids.append(request_id)
            else:
                self.other.append((status, body[:300]))


def _post(connection: http.client.HTTPConnection, server: Server, operation: str,
          params: dict[str, object]) -> tuple[int, str, bytes]:  # fmt: skip
    """One signed KMS call on a kept-alive connection: ``(status, x-amzn-RequestId, body)``;
    raises OSError or HTTPException when the connection breaks before the reply is whole."""
    body = json.dumps(params).encode()
    headers = sign_headers(
        server,
        body,
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{operation}"},
    )
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()  # the reply counts only once read to its end
    return response.status, response.getheader("x-amzn-RequestId") or "", data


def _call(server: Server, operation: str, params: dict[str, object], acked: Acknowledged) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        status, request_id, body = _post(connection, server, operation, params)
    finally:
        connection.close()
    acked.add(status, request_id, body)
    assert status == 200, body
    return body


def _load(server: Server, key_id: str, acked: Acknowledged, stop: threading.Event,
          seed: int) -> None:  # fmt: skip
    """Encrypt and GenerateDataKey in a loop until the server is gone or ``stop`` is set."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        while not stop.is_set():
            params: dict[str, object]
            if rng.random() < 0.5:
                plaintext = base64.b64encode(rng.randbytes(rng.randint(1, 256))).decode()
                operation, params = "Encrypt", {"KeyId": key_id, "Plaintext": plaintext}
            else:
                operation = "GenerateDataKey"
                params = {"KeyId": key_id, "KeySpec": "AES_256",
                          "EncryptionContext": {"thread": str(seed)}}  # fmt: skip
            try:
                status, request_id, body = _post(connection, server, operation, params)
            except (OSError, http.client.HTTPException):
                return  # killed: this call's reply never came, and no later call is made
            acked.add(status, request_id, body)
    finally:
        connection.close()


def _group_gone(pgid: int, timeout: float = 10.0) -> None:
    """Wait until no process of group ``pgid`` runs any more (zombies aside)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, _, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == pgid and state != "Z":
                running.append(entry.name)
        if not running:
            return
        time.sleep(0.02)
    raise AssertionError(f"processes {running} of the killed server's group still run")


def _verify(trail: Path, pem: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STRONGROOM, "audit", "verify", "--trail", str(trail), "--public-key", str(pem), *extra],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _verify_later(trail: Path, pem: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [STRONGROOM, "audit", "verify", "--trail", str(trail), "--public-key", str(pem), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _check_trail(trail: Path, acked: Acknowledged) -> None:
    """Every acknowledged call has exactly one event; no request has two."""
    per_request = Counter(
        event["requestID"] for event in read_events(trail) if event.get("eventType") == "AwsApiCall"
    )
    twice = {rid: n for rid, n in per_request.items() if n > 1}
    assert not twice, f"requests with more than one event: {twice}"
    missing = [rid for rid in acked.ids if per_request[rid] != 1]
    assert not missing, f"{len(missing)} of {len(acked.ids)} acknowledged calls have no event"


def test_killing_the_whole_server_under_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run([STRONGROOM, "init", "--data-dir", str(data)], check=True, capture_output=True)
    with (data / "strongroom.toml").open("a") as settings:
        settings.write(SETTINGS)
    access_key, secret_key = read_credentials(data)
    trail, pem = data / "trail", tmp_path / "audit.pem"
    rng = random.Random(SEED)
    acked = Acknowledged()
    key_id = ""
    served = 0  # acknowledged calls made under load, over all rounds
    checks: list[tuple[int, subprocess.Popen[str]]] = []

    def start() -> Server:
        server = Server(data, free_port(), ["--data-dir", str(data), "--workers", "2"],
                        access_key=access_key, secret_key=secret_key, own_group=True)  # fmt: skip
        return server.start()

    server = start()
    try:
        created = json.loads(_call(server, "CreateKey", {"Description": "crash"}, acked))
        key_id = created["KeyMetadata"]["KeyId"]
        pem.write_bytes(
            subprocess.run(
                [STRONGROOM, "audit", "public-key", "--data-dir", str(data)],
                check=True,
                capture_output=True,
                timeout=60,
            ).stdout
        )
        for round_ in range(ROUNDS):
            before = len(acked.ids)
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(server, key_id, acked, stop, round_ * 100 + n))
                for n in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(*KILL_AFTER))
            assert server.process is not None
            pgid = server.process.pid
            server.kill_group()
            _group_gone(pgid)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
                assert not thread.is_alive()
            assert acked.other == []
            served += len(acked.ids) - before

            server = start()  # a fresh port: the killed server's connections are not in the way
            # One call first: a line the kill left half-written is cut off by the next writer.
            _call(server, "Encrypt", {"KeyId": key_id, "Plaintext": "YWZ0ZXI="}, acked)
            _check_trail(trail, acked)
            # The CLI checks a copy of the trail as it is now, while the next round runs.
            copy = tmp_path / f"trail-after-round-{round_}"
            shutil.copytree(trail, copy)
            checks.append((round_, _verify_later(copy, pem, "--allow-unsigned-tail")))
    finally:
        if server.process is not None:
            server.stop()
        for _, check in checks:
            check.wait(timeout=60)
    for round_, check in checks:
        assert check.returncode == 0, f"after round {round_}: {check.communicate()}"
    # Stopped cleanly at last: the closing digest signs the whole trail, with nothing unsigned.
    _check_trail(trail, acked)
    verified = _verify(trail, pem)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert served >= ROUNDS * THREADS, f"too little load to mean anything: {served} calls"
