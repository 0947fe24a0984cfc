"""Start a real Strongroom server in a subprocess for the integration tests."""

from __future__ import annotations

import configparser
import datetime
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from strongroom.config import sqlite_url
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import open_storage

BIN = Path(sys.executable).parent
STRONGROOM = str(BIN / "strongroom")
AWS = str(BIN / "aws")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``strongroom serve`` process."""

    data_dir: Path
    port: int
    args: list[str]
    access_key: str = "test"
    secret_key: str = "test"
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: Start it as the leader of a process group of its own, so that :meth:`kill_group` can
    #: kill every process of the server at once (supervisor, workers and their helpers).
    own_group: bool = False
    # Served over TLS (--tls-cert/--tls-key): the scheme, and the CA file clients trust.
    scheme: str = "http"
    ca: str | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [STRONGROOM, "serve", "--port", str(self.port), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", **self.env},
            start_new_session=self.own_group,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(
                    self.endpoint + "/_strongroom/health",
                    timeout=1,
                    context=ssl.create_default_context(cafile=self.ca) if self.ca else None,
                ):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill9(self) -> None:
        """SIGKILL the whole server (uvicorn and any worker processes)."""
        assert self.process is not None
        subprocess.run(["pkill", "-9", "-P", str(self.process.pid)], check=False)
        self.process.kill()
        self.process.wait()
        self.process = None

    def kill_group(self) -> None:
        """SIGKILL every process of the server at once, as a power cut would (``own_group``)."""
        assert self.process is not None
        assert self.own_group
        os.killpg(self.process.pid, signal.SIGKILL)  # the leader's pid is the group's id
        self.process.wait()
        self.process = None

    def client(
        self,
        service: str = "kms",
        region: str = "us-east-1",
        *,
        validate: bool = True,
        **kwargs: Any,
    ) -> Any:
        """A boto3 client for this server that never retries. ``validate=False`` turns off
        botocore's client-side parameter validation, to reach the server's own."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=kwargs.pop("access_key", self.access_key),
            aws_secret_access_key=kwargs.pop("secret_key", self.secret_key),
            config=Config(
                parameter_validation=validate,
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
            **kwargs,
        )

    def post(self, path: str, body: bytes = b"{}") -> tuple[int, bytes]:
        request = urllib.request.Request(self.endpoint + path, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()

    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        return env

    def aws(
        self, *args: str, check: bool = False, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the AWS CLI against this server; ``env`` adds to (or overrides) its environment."""
        return subprocess.run(
            [AWS, "--endpoint-url", self.endpoint, "--output", "json", *args],
            env={**self.cli_env(), **(env or {})},
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )


def dev_server(data_dir: Path) -> Server:
    return Server(data_dir, free_port(), ["--dev", "--data-dir", str(data_dir)]).start()


def initialised_server(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """A production-mode server (every signature verified) with the root key ``init`` wrote."""
    env = env or {}
    subprocess.run(
        [STRONGROOM, "init", "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    creds = configparser.ConfigParser()
    creds.read(data_dir / "credentials")
    server = Server(
        data_dir,
        free_port(),
        ["--data-dir", str(data_dir), *extra],
        access_key=creds["strongroom"]["aws_access_key_id"],
        secret_key=creds["strongroom"]["aws_secret_access_key"],
        env=env,
    )
    return server.start()


def read_credentials(data_dir: Path) -> tuple[str, str]:
    """The (access key id, secret) that ``strongroom init`` wrote to ``data_dir/credentials``."""
    creds = configparser.ConfigParser()
    creds.read(data_dir / "credentials")
    profile = creds["strongroom"]
    return profile["aws_access_key_id"], profile["aws_secret_access_key"]


@dataclass(frozen=True)
class Reply:
    """One raw HTTP reply: status, lower-cased headers and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> tuple[int, str, str | None]:
        """``(status, __type, message)`` of an error reply (message None when absent)."""
        data = self.json()
        return self.status, str(data["__type"]), data.get("message")


def sign_headers(
    server: Server,
    body: bytes,
    headers: dict[str, str],
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = "us-east-1",
    service: str = "kms",
    signed_at: datetime.datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Amz-Date`` and a SigV4 ``Authorization`` made by botocore."""
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    signer = SigV4Auth(
        Credentials(access_key or server.access_key, secret_key or server.secret_key),
        service,
        region,
    )
    if signed_at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
            signer.add_auth(request)
    return dict(request.headers.items())


def raw_post(
    server: Server,
    target: str | None,
    body: bytes = b"{}",
    *,
    headers: dict[str, str] | None = None,
    sign: bool = True,
    **signing: Any,
) -> Reply:
    """POST ``body`` to ``/`` with ``X-Amz-Target: target``, signed by botocore unless told not."""
    sent = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        sent["X-Amz-Target"] = target
    sent.update(headers or {})
    if sign:
        sent = sign_headers(server, body, sent, **signing)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=sent)
        response = connection.getresponse()
        return Reply(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def create_account(server: Server, account_id: str) -> tuple[str, str]:
    """A second account on ``server``'s data dir, made by ``strongroom admin create-account``
    beside the running server; returns its root's (access key id, secret access key)."""
    done = subprocess.run(
        [STRONGROOM, "admin", "create-account", "--data-dir", str(server.data_dir),
         "--account-id", account_id],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    fields = dict(
        line.split(" = ", 1) for line in done.stdout.splitlines() if line.startswith("aws_")
    )
    return fields["aws_access_key_id"], fields["aws_secret_access_key"]


def raw_material(server: Server, meta: dict[str, Any]) -> bytes:
    """A single-version key's raw material (symmetric or HMAC key bytes, DER PKCS#8 private
    key), read from the server's SQLite database and unwrapped with its root key: what tests
    check real cryptography against."""
    keystore = SoftwareKeyStore(RootKey.load(server.data_dir / "root.key"))
    storage = open_storage(sqlite_url(server.data_dir))
    try:
        (record,) = storage.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
        return keystore.unwrap_material(_bytes(record.wrapped), meta["Arn"], record.material_id)
    finally:
        storage.close()


def _bytes(wrapped: bytes | None) -> bytes:
    assert wrapped is not None, "the material version has no bytes (deleted imported material)"
    return wrapped
