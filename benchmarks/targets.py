"""The servers under load: starting them, waiting for them, and giving them a key.

``--start-server`` runs Strongroom exactly as an operator would (``strongroom init`` then
``strongroom serve`` in production mode, so every signature is verified); ``--compare-moto``
runs ``moto_server``. Both listen on loopback only and are stopped, whatever happens.
Setup goes through boto3, as a real client would.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from benchmarks.signing import AccessKey, load_access_key

__all__ = [
    "MOTO_KEY",
    "Target",
    "connections_by_process",
    "free_port",
    "moto_server",
    "request_bodies",
    "session_cpu_s",
    "signal_session",
    "strongroom_server",
    "wait_until_answers",
    "wait_until_listening",
]

LOOPBACK = "127.0.0.1"
#: moto does not check signatures; requests are still signed with this key.
MOTO_KEY = AccessKey("AKIAIOSFODNN7EXAMPLE", "moto-ignores-this-secret-key-000000000000")
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Target:
    """A server to load: a name for the report, its endpoint and an access key; ``session``,
    the session id of a server this harness started (its processes, for :func:`session_cpu_s`)."""

    name: str
    endpoint: str
    key: AccessKey
    session: int | None = None

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answers(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float = _START_TIMEOUT_S
) -> None:
    """Poll until any HTTP response comes back; fail early if the process dies."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=2) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: loadgen\r\nConnection: close\r\n\r\n")
                if conn.recv(16).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not answer within {timeout_s:.0f}s:\n{_tail(log)}")


def listening(port: int) -> int:
    """How many sockets listen on loopback ``port`` (each Strongroom worker has its own)."""
    needle = f"0100007F:{port:04X} 00000000:0000 0A "
    with open("/proc/net/tcp", encoding="ascii") as table:
        return sum(needle in line for line in table)


def wait_until_listening(port: int, sockets: int, timeout_s: float = _START_TIMEOUT_S) -> None:
    """Wait until ``sockets`` listen on ``port``: a load that starts while a worker is still
    starting has all its connections on the others for its whole run."""
    if not os.path.exists("/proc/net/tcp"):  # not Linux: nothing to read; SO_REUSEPORT is Linux's
        return
    deadline = time.monotonic() + timeout_s
    while listening(port) < sockets:
        if time.monotonic() > deadline:
            raise SystemExit(f"{sockets} workers did not listen on {port} within {timeout_s:.0f}s")
        time.sleep(0.1)


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found (is it installed in this virtualenv?)")
    return found


@contextmanager
def _running(
    argv: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` in its own session, wait for ``port`` to answer, stop it on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_answers(port, process, log)
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the session we started (server and its workers), then SIGKILL if needed."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(_STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def strongroom_server(
    workers: int,
    port: int | None = None,
    env: dict[str, str] | None = None,
    output: Path | None = None,
) -> Iterator[Target]:
    """``strongroom init`` a temporary data dir, then ``strongroom serve`` it (with ``env``
    added to the environment), its output (the request log's lines too) to ``output``, a file
    in the data dir's directory if not given."""
    strongroom = _executable("strongroom")
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        data = Path(tmp) / "data"
        init = subprocess.run(
            [strongroom, "init", "--data-dir", str(data)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            raise SystemExit(f"strongroom init failed:\n{init.stderr.decode(errors='replace')}")
        key = load_access_key(data / "credentials", "strongroom")
        argv = [
            strongroom,
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        with _running(argv, port, output or Path(tmp) / "server.log", env) as process:
            wait_until_listening(port, workers)
            _report_pids(process, sys.stderr)
            yield Target("strongroom", f"http://{LOOPBACK}:{port}", key, process.pid)


@contextmanager
def moto_server(port: int | None = None) -> Iterator[Target]:
    """``moto_server`` on a free loopback port."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="moto-bench-") as tmp:
        argv = [_executable("moto_server"), "-H", LOOPBACK, "-p", str(port)]
        with _running(argv, port, Path(tmp) / "moto.log") as process:
            _report_pids(process, sys.stderr)
            yield Target("moto", f"http://{LOOPBACK}:{port}", MOTO_KEY, process.pid)


def _session_stats(session: int) -> Iterator[tuple[int, list[bytes]]]:
    """Each live process of ``session``: its pid and the fields of /proc/PID/stat after its
    command (state, ppid, pgrp, session, ..., utime and stime 12th and 13th)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[3]) == session:
            yield int(entry), fields


def session_cpu_s(session: int) -> float:
    """The CPU time (user and system, in seconds) used so far by the live processes of
    ``session`` (a server started by this harness and its workers), from /proc."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in _session_stats(session))
    return ticks / os.sysconf("SC_CLK_TCK")


def signal_session(session: int, sig: int) -> None:
    """Send ``sig`` to every process of ``session`` (``timeout`` puts wrk in a process group
    of its own, so one ``killpg`` does not reach it)."""
    for pid, _ in _session_stats(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def connections_by_process(session: int, port: int) -> list[int]:
    """How many established connections to loopback ``port`` each process of ``session``
    holds, largest first: SO_REUSEPORT hands each connection to a worker by a hash, so 32
    connections may sit 16/16 or 22/10, and an unequal split moves a run's requests/s."""
    sockets: dict[str, int] = {}  # socket inode -> pid
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                if int(stat.read().rsplit(b")", 1)[1].split()[3]) != session:
                    continue
            for fd in os.listdir(f"/proc/{entry}/fd"):
                target = os.readlink(f"/proc/{entry}/fd/{fd}")
                if target.startswith("socket:["):
                    sockets[target[8:-1]] = int(entry)
        except OSError:  # gone meanwhile
            continue
    counts: dict[int, int] = {}
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        for line in table:
            fields = line.split()
            # sl, local address, remote address, state (01: established), ..., inode (10th)
            if fields[1] == local and fields[3] == "01" and fields[9] in sockets:
                pid = sockets[fields[9]]
                counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def _report_pids(process: subprocess.Popen[bytes], out: IO[str]) -> None:
    """Print the server's pid, so that py-spy can be pointed at it during a run."""
    print(f"server pid {process.pid} (session {os.getsid(process.pid)})", file=out, flush=True)


def request_bodies(
    target: Target,
    region: str,
    operations: list[str],
    pool_size: int,
    plaintext_size: int,
    grants: int = 0,
) -> dict[str, list[dict[str, object]]]:
    """Create a symmetric key through boto3 (with ``grants`` grants on it, to other principals)
    and build the JSON bodies for each operation."""
    kms = boto3.client(
        "kms",
        endpoint_url=target.endpoint,
        region_name=region,
        aws_access_key_id=target.key.access_key_id,
        aws_secret_access_key=target.key.secret_access_key,
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )
    try:
        return _bodies(kms, operations, pool_size, plaintext_size, grants)
    except (BotoCoreError, ClientError) as exc:
        raise SystemExit(f"setup on {target.name} ({target.endpoint}) failed: {exc}") from None


def _bodies(
    kms: Any, operations: list[str], pool_size: int, plaintext_size: int, grants: int
) -> dict[str, list[dict[str, object]]]:
    key = kms.create_key(Description="strongroom loadgen")["KeyMetadata"]
    key_id: str = key["KeyId"]
    for n in range(grants):
        grantee = f"arn:aws:iam::{key['AWSAccountId']}:user/loadgen-grantee-{n}"
        kms.create_grant(KeyId=key_id, GranteePrincipal=grantee, Operations=["Encrypt"])
    plaintexts = [os.urandom(plaintext_size) for _ in range(pool_size)]
    bodies: dict[str, list[dict[str, object]]] = {}
    for operation in operations:
        if operation == "Encrypt":
            bodies[operation] = [{"KeyId": key_id, "Plaintext": _b64(p)} for p in plaintexts]
        elif operation == "Decrypt":
            blobs = [kms.encrypt(KeyId=key_id, Plaintext=p)["CiphertextBlob"] for p in plaintexts]
            bodies[operation] = [{"CiphertextBlob": _b64(blob)} for blob in blobs]
        elif operation == "GenerateDataKey":
            bodies[operation] = [{"KeyId": key_id, "KeySpec": "AES_256"}] * pool_size
        elif operation.partition(":")[0] in ("Sign", "Verify"):
            bodies[operation] = _signing_bodies(kms, operation, plaintexts)
        elif operation.startswith("GenerateDataKeyPair"):
            spec = operation.partition(":")[2]
            bodies[operation] = [{"KeyId": key_id, "KeyPairSpec": spec}] * pool_size
        else:
            raise SystemExit(f"unsupported operation {operation!r}")
    return bodies


def _signing_bodies(kms: Any, operation: str, messages: list[bytes]) -> list[dict[str, object]]:
    """``Sign:SPEC`` / ``Verify:SPEC``: a signing key of SPEC, the first algorithm DescribeKey
    lists, RAW messages; Verify's signatures are made first, through Sign."""
    name, _, spec = operation.partition(":")
    meta = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    algorithm = meta["SigningAlgorithms"][0]
    bodies: list[dict[str, object]] = []
    for message in messages:
        body: dict[str, object] = {
            "KeyId": meta["KeyId"],
            "Message": _b64(message),
            "MessageType": "RAW",
            "SigningAlgorithm": algorithm,
        }
        if name == "Verify":
            signed = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm=algorithm)
            body["Signature"] = _b64(signed["Signature"])
        bodies.append(body)
    return bodies


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
