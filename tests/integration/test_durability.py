"""Durability and coherence: a change whose reply was received survives ``kill -9``, and a change
answered by one worker process is seen at once by the others (issue 2, item 9)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from strongroom.server.workers import WORKER_NAME
from tests.integration.server import Server, free_port, initialised_server, raw_post


def _code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Code"])


def test_changes_survive_kill_9(tmp_path: Path) -> None:
    server = initialised_server(tmp_path / "data")
    try:
        kms = server.client()
        west = server.client(region="eu-west-1")
        key = kms.create_key(Description="kept")["KeyMetadata"]
        off = kms.create_key()["KeyMetadata"]
        pending = kms.create_key()["KeyMetadata"]
        west_key = west.create_key()["KeyMetadata"]
        kms.create_alias(AliasName="alias/durable", TargetKeyId=key["KeyId"])
        kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "team", "TagValue": "vault"}])
        kms.update_key_description(KeyId=key["KeyId"], Description="kept, then edited")
        blob = kms.encrypt(
            KeyId="alias/durable", Plaintext=b"old secret", EncryptionContext={"a": "1"}
        )["CiphertextBlob"]
        kms.disable_key(KeyId=off["KeyId"])
        scheduled = kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
        server.kill9()

        again = Server(
            server.data_dir,
            free_port(),
            server.args,
            access_key=server.access_key,
            secret_key=server.secret_key,
        ).start()
    except BaseException:
        server.stop()
        raise
    try:
        kms, west = again.client(), again.client(region="eu-west-1")
        meta = kms.describe_key(KeyId="alias/durable")["KeyMetadata"]
        assert (meta["Arn"], meta["KeyState"]) == (key["Arn"], "Enabled")
        assert meta["Description"] == "kept, then edited"
        assert meta["CurrentKeyMaterialId"] == key["CurrentKeyMaterialId"]
        tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
        assert tags == [{"TagKey": "team", "TagValue": "vault"}]
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "1"})
        assert (out["Plaintext"], out["KeyId"]) == (b"old secret", key["Arn"])
        fresh = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"new")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=fresh)["Plaintext"] == b"new"

        assert kms.describe_key(KeyId=off["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
        assert _code(kms.encrypt, KeyId=off["KeyId"], Plaintext=b"x") == "DisabledException"
        pending_meta = kms.describe_key(KeyId=pending["KeyId"])["KeyMetadata"]
        assert pending_meta["KeyState"] == "PendingDeletion"
        assert pending_meta["DeletionDate"] == scheduled["DeletionDate"]
        assert west.describe_key(KeyId=west_key["KeyId"])["KeyMetadata"]["Arn"] == west_key["Arn"]
        listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
        assert listed == {key["KeyId"], off["KeyId"], pending["KeyId"]}
        aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
        assert "alias/durable" in aliases
    finally:
        again.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = initialised_server(tmp_path_factory.mktemp("workers") / "data", "--workers", "2")
    yield server
    server.stop()


def _encrypt(server: Server, key_id: str) -> tuple[int, str]:
    """One Encrypt on a new connection (so that requests spread over the workers)."""
    body = orjson.dumps({"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()})
    reply = raw_post(server, "TrentService.Encrypt", body)
    return reply.status, str(reply.json().get("__type", ""))


def test_disable_is_seen_by_every_worker(two_workers: Server) -> None:
    kms = two_workers.client()
    for _ in range(3):
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        # Warm both workers' caches with the enabled key.
        assert {_encrypt(two_workers, key_id) for _ in range(20)} == {(200, "")}
        kms.disable_key(KeyId=key_id)
        results = [_encrypt(two_workers, key_id) for _ in range(40)]
        assert set(results) == {(400, "DisabledException")}
        kms.enable_key(KeyId=key_id)
        assert {_encrypt(two_workers, key_id) for _ in range(20)} == {(200, "")}


def test_alias_change_is_seen_by_every_worker(two_workers: Server) -> None:
    kms = two_workers.client()
    first = kms.create_key()["KeyMetadata"]
    second = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/workers", TargetKeyId=first["KeyId"])
    body = orjson.dumps({"KeyId": "alias/workers", "Plaintext": base64.b64encode(b"x").decode()})

    def target() -> set[str]:
        return {
            raw_post(two_workers, "TrentService.Encrypt", body).json()["KeyId"] for _ in range(20)
        }

    assert target() == {first["Arn"]}
    kms.update_alias(AliasName="alias/workers", TargetKeyId=second["KeyId"])
    assert target() == {second["Arn"]}
    kms.delete_alias(AliasName="alias/workers")
    statuses = {raw_post(two_workers, "TrentService.Encrypt", body).status for _ in range(20)}
    assert statuses == {400}


def test_deletion_is_seen_by_every_worker(two_workers: Server) -> None:
    kms = two_workers.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert {_encrypt(two_workers, key_id) for _ in range(20)} == {(200, "")}
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert {_encrypt(two_workers, key_id) for _ in range(40)} == {(400, "KMSInvalidStateException")}


def _workers(server: Server) -> set[int]:
    """The server's worker processes (children of the supervisor named ``sr-worker``: the
    trail's writer and index are its children too)."""
    assert server.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid), "-x", WORKER_NAME.decode()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return {int(pid) for pid in found.stdout.split()}


def test_a_killed_worker_is_replaced(tmp_path: Path) -> None:
    server = initialised_server(tmp_path / "data", "--workers", "2")
    try:
        key_id = server.client().create_key()["KeyMetadata"]["KeyId"]
        before = _workers(server)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after = _workers(server)
            if len(after) == 2 and victim not in after:
                break
            time.sleep(0.2)
        assert len(after) == 2
        assert victim not in after
        statuses = {_encrypt(server, key_id)[0] for _ in range(20)}
        assert statuses == {200}
    finally:
        server.stop()
    assert _workers_alive(before | after) == set()


def _workers_alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.add(pid)
    return alive
