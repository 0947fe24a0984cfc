"""Several processes on one database: change detection, concurrent writers, and durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.domain.identity import AccountRecord
from strongroom.storage import SqlStorage, open_storage

WORKER = Path(__file__).with_name("storage_worker.py")


def _run_worker(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, *args],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_change_counter_sees_a_commit_from_another_process(
    storage: SqlStorage, db_url: str
) -> None:
    before = storage.change_counter()
    assert storage.change_counter() == before
    worker = _run_worker(db_url, "set-meta", "written_by", "worker")
    assert worker.wait(timeout=60) == 0
    assert storage.change_counter() != before
    assert storage.get_meta("written_by") == "worker"


def test_concurrent_writer_processes_all_succeed(storage: SqlStorage, db_url: str) -> None:
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    workers = [_run_worker(db_url, "many", f"w{n}", "25") for n in range(4)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    listed = storage.list_keys(ACCOUNT, REGION, None, 1000)
    assert len(listed) == 100
    assert storage.get_tags(ACCOUNT, REGION, "w3-0024") == {"n": "24"}


def test_acknowledged_write_survives_kill_9(storage: SqlStorage, db_url: str) -> None:
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    storage.close()
    worker = _run_worker(db_url, "write-key", "durable")
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "done"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    reopened = open_storage(db_url)
    try:
        material = make_material("durable")
        expected = make_key("durable", material_id=material.material_id)
        assert reopened.get_key(ACCOUNT, REGION, "durable") == expected
        assert reopened.get_materials(ACCOUNT, REGION, "durable") == [material]
    finally:
        reopened.close()


def test_every_commit_of_another_connection_moves_the_counter(
    storage: SqlStorage, db_url: str
) -> None:
    """SQLite's fast path (the WAL-index header in -shm) never hides a commit: each of many
    commits in a row by another connection moves the counter; reads in between do not."""
    other = open_storage(db_url)
    try:
        seen = {storage.change_counter()}
        for n in range(50):
            assert storage.change_counter() in seen  # nothing committed: the same answer
            other.set_meta("n", str(n))
            counter = storage.change_counter()
            assert counter not in seen, f"commit {n} was not seen"
            seen.add(counter)
    finally:
        other.close()
