"""Per-request CPU cost of the server without HTTP: drive the ASGI app directly with one validly
signed Encrypt, replayed (every replay is verified and authorized as a real request).

    .venv/bin/python -m benchmarks.inprocess --data-dir DIR [--requests N] [--grants N]
        [--as-grantee]
    .venv/bin/python -m benchmarks.inprocess --model [--shared DIR]
    .venv/bin/python -m benchmarks.inprocess --data-dir DIR --versus-model [--shared DIR]

DIR is an initialised data directory (``strongroom init``). Prints microseconds per request.
``--grants N`` first puts N grants (Encrypt, to other principals) on the key. ``--as-grantee``
signs as an IAM user with no policy access whom one more grant allows: the grant path.
``--model`` drives the model KMS of ``../shared/bench`` the same way instead (its ASGI app,
the same Encrypt); ``--versus-model`` both, by batches of 1,000 in turn, and prints their
microseconds and ratio as JSON. Useful to compare two builds on a machine whose speed drifts
(run them back to back), and two hosts (:func:`app_speeds`: the model's work is mostly C,
Strongroom's mostly Python, and hosts do not run the two alike).
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.ceiling import MODEL_KEY, MODEL_KEY_ID, SHARED


def _root_keys(data_dir: Path) -> tuple[str, str]:
    creds = configparser.ConfigParser()
    creds.read(data_dir / "credentials")
    return creds["strongroom"]["aws_access_key_id"], creds["strongroom"]["aws_secret_access_key"]


def _signed_scope(access: str, secret: str, key_id: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"KeyId": key_id, "Plaintext": "aGVsbG8gd29ybGQ="}).encode()
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8400/",
        data=body,
        headers={
            "X-Amz-Target": "TrentService.Encrypt",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(access, secret), "kms", "us-east-1").add_auth(request)
    headers = [(k.lower().encode(), str(v).encode()) for k, v in request.headers.items()]
    headers += [(b"host", b"127.0.0.1:8400"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
    }
    return scope, body


def _grantee_keys(runtime: Any) -> tuple[str, str, str]:
    """A new IAM user (no policies) and an access key for it: (key id, secret, user ARN)."""
    from strongroom.domain.identity import UserRecord  # noqa: PLC0415
    from strongroom.iam.credentials import create_access_key  # noqa: PLC0415
    from strongroom.storage import open_storage  # noqa: PLC0415

    account = runtime.settings.account_id
    arn = f"arn:aws:iam::{account}:user/bench-grantee"
    now = time.time()
    storage = open_storage(runtime.settings.database_url)  # as the IAM API would write
    try:
        storage.insert_user(
            UserRecord(account, "bench-grantee", "/", "AIDABENCHGRANTEE00", arn, now)
        )
        key = create_access_key(storage, runtime.kms.keystore, account, now, principal_arn=arn)
    finally:
        storage.close()
    return key.access_key_id, key.secret_access_key, arn


def _model_app(shared: Path) -> tuple[Any, tuple[dict[str, Any], bytes]]:
    """The model KMS's ASGI app (its one key shared, as ``ceiling.py`` serves it) and a signed
    Encrypt for it."""
    sys.path.insert(0, str(shared))
    from benchmarks import model_shared_key  # noqa: PLC0415 - needs the kit on the path

    scope = _signed_scope(MODEL_KEY.access_key_id, MODEL_KEY.secret_access_key, MODEL_KEY_ID)
    return model_shared_key.asgi_app, scope


def _player(app: Any, scope: dict[str, Any], body: bytes) -> Callable[[int], float] | None:
    """A function that has ``app`` serve the request n times and returns the seconds taken;
    None if any of 500 first requests (not counted) failed."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run(count: int) -> None:
        for _ in range(count):
            await app(scope, receive, send)

    asyncio.run(run(500))
    if set(statuses) != {200}:
        print(f"requests failed: statuses {sorted(set(statuses))}")
        return None

    def play(count: int) -> float:
        started = time.perf_counter()
        asyncio.run(run(count))
        return time.perf_counter() - started

    return play


def app_speeds(shared: Path = SHARED, requests: int = 20_000) -> dict[str, float]:
    """Strongroom's and the model KMS's microseconds per Encrypt in process (no HTTP), in one
    process, by batches of a thousand in turn, on a new data dir: how this host runs each
    server's own work. The model's work is mostly C, Strongroom's mostly Python, and hosts do
    not run the two alike: a share of the model-KMS ceiling read on two hosts compares only
    beside these (``ratio``, Strongroom's time over the model's)."""
    with tempfile.TemporaryDirectory(prefix="strongroom-inprocess-") as tmp:
        data = Path(tmp) / "data"
        strongroom = Path(sys.executable).parent / "strongroom"
        subprocess.run(
            [str(strongroom), "init", "--data-dir", str(data)], capture_output=True, check=True
        )
        argv = [sys.executable, "-m", "benchmarks.inprocess", "--data-dir", str(data)]
        done = subprocess.run(
            [*argv, "--versus-model", "--shared", str(shared), "--requests", str(requests)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent.parent,
        )
    speeds: dict[str, float] = json.loads(done.stdout)
    return speeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--grants", type=int, default=0, help="grants to put on the key first")
    parser.add_argument(
        "--as-grantee",
        action="store_true",
        help="sign as an IAM user with no policy access, allowed by a grant of its own",
    )
    parser.add_argument("--model", action="store_true", help="the model KMS instead")
    parser.add_argument(
        "--versus-model",
        action="store_true",
        help="Strongroom and the model KMS by batches of 1,000 in turn; prints JSON",
    )
    parser.add_argument("--shared", type=Path, default=SHARED, help="the model-KMS kit")
    args = parser.parse_args(argv)
    model = None
    if args.model or args.versus_model:
        model_app, (model_scope, model_body) = _model_app(args.shared)
        model = _player(model_app, model_scope, model_body)
        if model is None:
            return 1
    if args.model:
        assert model is not None
        model_us = model(args.requests) / args.requests * 1e6
        print(f"{model_us:.1f} us/request ({args.requests} Encrypt requests, model KMS)")
        return 0
    if args.data_dir is None:
        parser.error("--data-dir is needed (or --model)")
    os.environ["STRONGROOM_DATA_DIR"] = str(args.data_dir)
    os.environ["STRONGROOM_DEV"] = "0"
    os.environ["STRONGROOM_AUDIT"] = "0"  # the app's own work: the trail waits on the disk
    from strongroom.domain.caller import Caller  # noqa: PLC0415 - after the environment is set
    from strongroom.kms.operations import call  # noqa: PLC0415
    from strongroom.server.app import create_app  # noqa: PLC0415

    app = create_app()
    runtime = app.runtime
    runtime.kms.refresh()
    root = Caller.root(runtime.settings.account_id, "us-east-1")
    key_id = str(call(runtime.kms, root, "CreateKey", {})["KeyMetadata"]["KeyId"])
    for n in range(args.grants):
        grantee = f"arn:aws:iam::{runtime.settings.account_id}:user/bench-{n}"
        grant = {"KeyId": key_id, "GranteePrincipal": grantee, "Operations": ["Encrypt"]}
        call(runtime.kms, root, "CreateGrant", grant)
    access, secret = _root_keys(args.data_dir)
    if args.as_grantee:
        access, secret, arn = _grantee_keys(runtime)
        grant = {"KeyId": key_id, "GranteePrincipal": arn, "Operations": ["Encrypt"]}
        call(runtime.kms, root, "CreateGrant", grant)
    scope, body = _signed_scope(access, secret, key_id)
    ours = _player(app, scope, body)
    if ours is None:
        return 1
    if model is not None:
        spent = {"strongroom": 0.0, "model": 0.0}
        batches = max(1, args.requests // 1000)
        for n in range(batches):  # in turn, each first every other time
            turns = (("strongroom", ours), ("model", model))
            for name, play in turns if n % 2 == 0 else turns[::-1]:
                spent[name] += play(1000)
        ours_us = spent["strongroom"] / batches / 1000 * 1e6
        model_us = spent["model"] / batches / 1000 * 1e6
        speeds = {
            "strongroom_us": round(ours_us, 1),
            "model_us": round(model_us, 1),
            "ratio": round(ours_us / model_us, 2),
        }
        print(json.dumps(speeds))
        return 0
    per_request = ours(args.requests) / args.requests * 1e6
    print(f"{per_request:.1f} us/request ({args.requests} Encrypt requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
