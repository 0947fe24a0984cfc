"""Helpers for the KMS unit tests: a plain key record (``a_key``), a key's material read back
out of the software key store (``software``, ``raw``), and workers racing (``race``)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence

from strongroom.domain.keys import (
    KeyManager,
    KeyRecord,
    KeySpec,
    KeyState,
    KeyUsage,
    Origin,
    key_arn,
)
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.service import KmsService

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def a_key(account: str = "111122223333", region: str = "us-east-1", **changes: object) -> KeyRecord:
    """An enabled SYMMETRIC_DEFAULT key ``KEY_ID`` in ``account`` and ``region``, with
    ``changes`` applied (any KeyRecord field)."""
    key = KeyRecord(
        account=account,
        region=region,
        key_id=KEY_ID,
        arn=key_arn("aws", region, account, KEY_ID),
        created_at=0.0,
        state=KeyState.ENABLED,
        description="",
        key_spec=KeySpec.SYMMETRIC_DEFAULT,
        key_usage=KeyUsage.ENCRYPT_DECRYPT,
        origin=Origin.AWS_KMS,
        key_manager=KeyManager.CUSTOMER,
        policy="{}",
        current_material_id=None,
    )
    return dataclasses.replace(key, **changes)  # type: ignore[arg-type]


def software(svc: KmsService) -> SoftwareKeyStore:
    """The service's key store, as the software store it is in these tests."""
    assert isinstance(svc.keystore, SoftwareKeyStore)
    return svc.keystore


def raw(svc: KmsService, key: KeyRecord, material_id: str) -> bytes:
    """Material version ``material_id`` of ``key``, exported (the software store allows it)."""
    handle = svc.find_handle(key, material_id)
    assert handle is not None
    return svc.keystore.export_material(handle)


def race(workers: Sequence[KmsService], work: Callable[[KmsService], int]) -> list[int]:
    """Run ``work`` in each worker at once (one thread each, released together), close the
    workers, and return what each call returned, sorted."""
    done: list[int] = []
    start = threading.Barrier(len(workers))

    def run(worker: KmsService) -> None:
        start.wait()
        done.append(work(worker))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    return sorted(done)
