"""Wiring: from settings to a ready service (storage, key store, clock, KMS, authenticator, model).

One runtime per worker process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from strongroom.audit.archive import archive_due
from strongroom.audit.sink import FileSink, open_sink
from strongroom.audit.trail import Trail
from strongroom.clock import Clock
from strongroom.config import Settings, load_settings
from strongroom.iam.auth import Authenticator
from strongroom.iam.service import IamService
from strongroom.keystore.base import KeyStore
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import AUDIT_KEY_FILE, SoftwareKeyStore
from strongroom.kms.service import KmsService
from strongroom.protocol.shapes import ServiceModel
from strongroom.storage import open_storage

__all__ = [
    "Runtime",
    "archive_trail",
    "build_runtime",
    "open_keystore",
    "open_trail",
    "settings_from_env",
]


@dataclass
class Runtime:
    settings: Settings
    kms: KmsService
    iam: IamService
    auth: Authenticator
    model: ServiceModel

    def refresh(self) -> None:
        """Once per request: if anything was committed since the last request (by any worker
        or node), every cache drops (the KMS repository tells the others: see build_runtime)."""
        self.kms.refresh()

    def close(self) -> None:
        self.kms.close()


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


def build_runtime(settings: Settings) -> Runtime:
    storage = open_storage(settings.database_url)
    keystore = open_keystore(settings)
    clock = Clock()
    iam = IamService(storage, keystore, clock, partition=settings.partition)
    kms = KmsService(
        storage,
        keystore,
        clock,
        dev=settings.dev,
        identity_policies=iam.policies_for,
        key_pool_depth=settings.key_pool_depth,
    )
    auth = Authenticator(
        storage,
        keystore,
        dev_account=settings.account_id if settings.dev else None,
        clock=clock,
    )
    # One coherence signal for every cache: whatever drops the KMS caches drops these too.
    kms.keys.on_change(auth.clear)
    kms.keys.on_change(iam.clear_caches)
    return Runtime(settings, kms, iam, auth, ServiceModel.load("kms"))


def settings_from_env() -> Settings:
    """Settings for a worker process, passed down by ``strongroom serve``."""
    data_dir = Path(os.environ["STRONGROOM_DATA_DIR"])
    return load_settings(
        data_dir,
        dev=os.environ.get("STRONGROOM_DEV") == "1",
        dev_allow_remote=os.environ.get("STRONGROOM_DEV_ALLOW_REMOTE") == "1",
    )
