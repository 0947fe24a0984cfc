"""Strongroom on PostgreSQL: two server nodes on one database act as one KMS.

Needs ``STRONGROOM_TEST_POSTGRES_URL`` (``.ci/run`` sets it); skipped with that reason otherwise.
Each run gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError
from sqlalchemy.engine import make_url

from tests.integration.server import Server, free_port, initialised_server


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
