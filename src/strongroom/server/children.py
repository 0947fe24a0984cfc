"""What the supervisor's children share, and the bodies of the trail's writer and index
processes: kept apart from the app so that those two start in a tenth of the time (they import
the trail and the key store, not uvicorn, botocore's models and the services).

Also the settings a child reads (``strongroom serve`` passes them down in the environment) and
the opening of the trail's files with the key store's signing key.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
from pathlib import Path

from strongroom.audit.archive import archive_due
from strongroom.audit.sink import FileSink, open_sink
from strongroom.audit.trail import Trail
from strongroom.config import Settings, load_settings
from strongroom.keystore.base import KeyStore
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore
from strongroom.server.trail_writer import run_writer

__all__ = [
    "INDEXER_NAME",
    "INDEX_EVERY_S",
    "WORKER_NAME",
    "WRITER_NAME",
    "archive_trail",
    "become",
    "open_keystore",
    "open_trail",
    "settings_from_env",
    "trail_indexer",
    "trail_writer",
]

INDEX_EVERY_S = 5.0
# The processes' names (``ps -o comm``; Linux keeps 15 bytes).
WORKER_NAME = b"sr-worker"
WRITER_NAME = b"sr-trail-writer"
INDEXER_NAME = b"sr-trail-index"
_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1


def settings_from_env() -> Settings:
    """Settings for a child process, passed down by ``strongroom serve``."""
    data_dir = Path(os.environ["STRONGROOM_DATA_DIR"])
    return load_settings(
        data_dir,
        dev=os.environ.get("STRONGROOM_DEV") == "1",
        dev_allow_remote=os.environ.get("STRONGROOM_DEV_ALLOW_REMOTE") == "1",
    )


def open_keystore(settings: Settings) -> SoftwareKeyStore:
    return SoftwareKeyStore(
        RootKey.load(settings.root_key_path), audit_key_file=settings.data_dir / AUDIT_KEY_FILE
    )


def open_trail(settings: Settings, keystore: KeyStore) -> tuple[Trail, FileSink | None]:
    """The audit trail's files, written by this process (signed with the key store's key), and
    the SIEM sink it feeds if one is set (close it after the trail)."""
    sink = open_sink(settings.audit_sink)
    trail = Trail(
        settings.trail_dir,
        keystore.audit_signer(),
        segment_bytes=settings.audit_segment_bytes,
        segment_seconds=settings.audit_segment_seconds,
        digest_seconds=settings.audit_digest_seconds,
        sink=sink,
    )
    return trail, sink


def archive_trail(settings: Settings) -> None:
    """Move the trail's segments older than the retention to the archive (nothing when the
    retention is 0). Segments not yet covered by a signed digest wait for the next one."""
    if settings.audit_retention_seconds > 0:
        archive_due(
            settings.trail_dir,
            settings.archive_dir,
            older_than=settings.audit_retention_seconds,
        )


def become(name: bytes, parent: int) -> None:
    """A child of the supervisor ``parent``: named ``name`` for ``ps -o comm`` and ``top``
    (Linux keeps 15 bytes), and sent SIGTERM when the supervisor is gone (even by SIGKILL: a
    worker left behind would go on holding the port beside the next server's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # gone before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _helper_logging() -> None:
    """The writer's and the indexer's warnings on standard error, as the workers' are."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("strongroom").addHandler(handler)
    logging.getLogger("strongroom").setLevel(logging.WARNING)


def trail_writer(path: str, parent: int) -> None:
    """The trail's writer process (server/trail_writer.py)."""
    become(WRITER_NAME, parent)
    _helper_logging()
    settings = settings_from_env()
    trail, sink = open_trail(settings, open_keystore(settings))
    try:
        run_writer(trail, Path(path), parent)
    finally:
        if sink is not None:
            sink.close()  # after the trail's last events


def trail_indexer(parent: int) -> None:
    """The trail's index process (server/trail_index.py), which also applies the retention."""
    become(INDEXER_NAME, parent)
    _helper_logging()
    # Imported here: the database's modules are for this process, not the writer's.
    from strongroom.server.trail_index import TrailIndexer, run_indexer  # noqa: PLC0415
    from strongroom.storage import open_storage  # noqa: PLC0415

    settings = settings_from_env()
    storage = open_storage(settings.database_url)
    try:
        run_indexer(
            TrailIndexer(settings.trail_dir, storage),
            INDEX_EVERY_S,
            parent,
            then=lambda: archive_trail(settings),  # retention, at the same low priority
        )
    finally:
        storage.close()
