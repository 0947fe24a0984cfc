"""Per-request CPU cost of the server without HTTP: drive the ASGI app directly with one validly
signed Encrypt, replayed (every replay is verified and authorized as a real request).

    .venv/bin/python -m benchmarks.inprocess --data-dir DIR [--requests N] [--grants N]
        [--as-grantee]

DIR is an initialised data directory (``strongroom init``). Prints microseconds per request.
``--grants N`` first puts N grants (Encrypt, to other principals) on the key. ``--as-grantee``
signs as an IAM user with no policy access whom one more grant allows: the grant path.
Useful to compare two builds on a machine whose speed drifts (run them back to back).
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import json
import os
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--grants", type=int, default=0, help="grants to put on the key first")
    parser.add_argument(
        "--as-grantee",
        action="store_true",
        help="sign as an IAM user with no policy access, allowed by a grant of its own",
    )
    args = parser.parse_args(argv)
    os.environ["STRONGROOM_DATA_DIR"] = str(args.data_dir)
    os.environ["STRONGROOM_DEV"] = "0"
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
        return 1
    started = time.perf_counter()
    asyncio.run(run(args.requests))
    elapsed = time.perf_counter() - started
    print(f"{elapsed / args.requests * 1e6:.1f} us/request ({args.requests} Encrypt requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
