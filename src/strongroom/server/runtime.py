"""Wiring: from settings to a ready service (storage, key store, clock, KMS, authenticator, model).

One runtime per worker process.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.clock import Clock
from strongroom.config import Settings
from strongroom.iam.auth import Authenticator
from strongroom.iam.service import IamService
from strongroom.kms.service import KmsService
from strongroom.protocol.shapes import ServiceModel
from strongroom.server.children import archive_trail, open_keystore, open_trail, settings_from_env
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
