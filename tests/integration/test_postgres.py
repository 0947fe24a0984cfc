"""Strongroom on PostgreSQL: two server nodes on one database act as one KMS.

Needs ``STRONGROOM_TEST_POSTGRES_URL`` (``.ci/run`` sets it); skipped with that reason otherwise.
Each run gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from sqlalchemy.engine import make_url

from tests.integration.server import STRONGROOM, Server, free_port, initialised_server


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    base = os.environ.get("STRONGROOM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("STRONGROOM_TEST_POSTGRES_URL not set")
    url = make_url(base)
    name = f"strongroom_it_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def nodes(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two nodes: separate processes and data dirs sharing the database and the root key."""
    env = {"STRONGROOM_DATABASE_URL": database_url}
    first = initialised_server(tmp_path_factory.mktemp("pg-a") / "data", env=env)
    second_dir = tmp_path_factory.mktemp("pg-b") / "data"
    shutil.copytree(first.data_dir, second_dir)
    second = Server(
        second_dir,
        free_port(),
        ["--data-dir", str(second_dir)],
        access_key=first.access_key,
        secret_key=first.secret_key,
        env=env,
    ).start()
    yield first, second
    first.stop()
    second.stop()


def test_nodes_share_keys_and_state(nodes: tuple[Server, Server]) -> None:
    a, b = (node.client() for node in nodes)
    key_id = a.create_key(Description="on postgres")["KeyMetadata"]["KeyId"]
    a.create_alias(AliasName="alias/pg", TargetKeyId=key_id)
    blob = b.encrypt(KeyId="alias/pg", Plaintext=b"shared", EncryptionContext={"n": "1"})[
        "CiphertextBlob"
    ]
    assert a.decrypt(CiphertextBlob=blob, EncryptionContext={"n": "1"})["Plaintext"] == b"shared"
    a.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as caught:
        b.encrypt(KeyId=key_id, Plaintext=b"x")
    assert caught.value.response["Error"]["Code"] == "DisabledException"
    b.enable_key(KeyId=key_id)
    assert a.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)
    assert key_id in {k["KeyId"] for k in b.list_keys()["Keys"]}


def test_no_sqlite_file_is_used(nodes: tuple[Server, Server]) -> None:
    for node in nodes:
        assert not (Path(node.data_dir) / "strongroom.db").exists()


def test_survives_kill_9_on_postgres(nodes: tuple[Server, Server]) -> None:
    a, b = nodes
    key_id = a.client().create_key()["KeyMetadata"]["KeyId"]
    a.client().tag_resource(KeyId=key_id, Tags=[{"TagKey": "team", "TagValue": "pg"}])
    a.kill9()
    a.start()
    tags = b.client().list_resource_tags(KeyId=key_id)["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "pg"}]
    assert a.client().describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def _denying_decrypt(account: str) -> str:
    root = {"AWS": f"arn:aws:iam::{account}:root"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": root, "Action": "kms:Decrypt", "Resource": "*"},
            ],
        }
    )


def _lookup(node: Server, name: str) -> dict[str, dict[str, Any]]:
    """The events named ``name`` that LookupEvents on ``node`` finds, by request id."""
    found = node.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]
    )["Events"]
    events = (json.loads(entry["CloudTrailEvent"]) for entry in found)
    return {event["requestID"]: event for event in events}


def test_both_nodes_write_one_chain_in_the_database(
    nodes: tuple[Server, Server], database_url: str, tmp_path: Path
) -> None:
    a, b = nodes
    account = a.client("sts").get_caller_identity()["Account"]
    key = a.client().create_key(Policy=_denying_decrypt(account))["KeyMetadata"]
    encrypted = b.client().encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    with pytest.raises(ClientError) as denied:
        a.client().decrypt(CiphertextBlob=encrypted["CiphertextBlob"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    denied_id = denied.value.response["ResponseMetadata"]["RequestId"]
    for node in nodes:  # each node finds the other's events
        assert encrypted["ResponseMetadata"]["RequestId"] in _lookup(node, "Encrypt")
        event = _lookup(node, "Decrypt")[denied_id]
        assert event["errorCode"] == "AccessDeniedException"
    for node in nodes:  # no trail files: the database holds it
        assert not list((Path(node.data_dir) / "trail").glob("segments/*"))
    pem = tmp_path / "audit.pem"
    pem.write_bytes(
        subprocess.run(
            [STRONGROOM, "audit", "public-key", "--data-dir", str(a.data_dir)],
            check=True,
            capture_output=True,
        ).stdout
    )
    verify = [STRONGROOM, "audit", "verify", "--public-key", str(pem), "--json"]
    live = subprocess.run(
        [*verify, "--database-url", database_url, "--allow-unsigned-tail"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert live.returncode == 0, live.stdout + live.stderr
    report = json.loads(live.stdout)
    assert report["ok"]
    assert report["events"] == report["lastSeq"] >= 4
    b.stop()  # its closing digest signs everything so far
    b.start()
    signed = subprocess.run(
        [*verify, "--data-dir", str(b.data_dir)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "STRONGROOM_DATABASE_URL": database_url},
    )
    report = json.loads(signed.stdout)
    assert signed.returncode == 0, report
    assert report["digests"] >= 1
    assert report["coveredSeq"] == report["lastSeq"]
