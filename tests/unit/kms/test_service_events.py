"""Service events on a real service (SQLite, software key store): each change made by the service
is recorded once, by the worker whose guarded write made it, however many race for it; a
multi-Region rotation is recorded in each member's region; a sink that fails leaves the change
made and logs which event was lost."""

from __future__ import annotations

import calendar
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.unit.kms.helpers import race

from strongroom.audit.trail import TrailUnavailable
from strongroom.clock import Clock
from strongroom.crypto.key_import import wrap_key_material
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.imports import expire_due_material
from strongroom.kms.operations import call
from strongroom.kms.rotation import _rotate_automatically, rotate_due_keys
from strongroom.kms.service import KmsService
from strongroom.storage import open_storage

DAY = 86_400


def _travel(svc: KmsService, seconds: float) -> None:
    svc.refresh()
    svc.set_clock_offset(svc.clock.advance(seconds))
    svc.refresh()


def _recorded(svc: KmsService) -> list[dict[str, Any]]:
    """Let ``svc`` record its service events into the returned list."""
    events: list[dict[str, Any]] = []
    svc.service_events = events.extend
    return events


def _names(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["eventName"], e["resources"][0]["ARN"]) for e in events]


def _import_expiring(svc: KmsService, caller: Caller, valid_to: float) -> dict[str, Any]:
    meta: dict[str, Any] = call(svc, caller, "CreateKey", {"Origin": "EXTERNAL"})["KeyMetadata"]
    params = call(
        svc,
        caller,
        "GetParametersForImport",
        {"KeyId": meta["KeyId"], "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
         "WrappingKeySpec": "RSA_2048"},
    )  # fmt: skip
    call(
        svc,
        caller,
        "ImportKeyMaterial",
        {
            "KeyId": meta["KeyId"],
            "ImportToken": params["ImportToken"],
            "EncryptedKeyMaterial": wrap_key_material(
                params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32)
            ),
            "ValidTo": valid_to,
        },
    )
    return meta


def _due_rotation(svc: KmsService, caller: Caller) -> str:
    key_id = call(svc, caller, "CreateKey", {})["KeyMetadata"]["KeyId"]
    call(svc, caller, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": 90})
    _travel(svc, 91 * DAY)
    return str(key_id)


def _due_deletion(svc: KmsService, caller: Caller) -> str:
    key_id = call(svc, caller, "CreateKey", {})["KeyMetadata"]["KeyId"]
    call(svc, caller, "ScheduleKeyDeletion", {"KeyId": key_id, "PendingWindowInDays": 7})
    _travel(svc, 8 * DAY)
    return str(key_id)


def _due_expiry(svc: KmsService, caller: Caller) -> str:
    meta = _import_expiring(svc, caller, svc.clock.now() + 3600)
    _travel(svc, 2 * 3600)
    return str(meta["KeyId"])


MakeDue = Callable[[KmsService, Caller], str]  # makes a change due; returns the key's id
Work = Callable[[KmsService], int]  # a worker's due work; returns how many changes it made
Retry = Callable[[KmsService, KeyRecord], bool]  # the same change from a stale read

DUE: dict[str, tuple[MakeDue, Work]] = {
    "RotateKey": (_due_rotation, rotate_due_keys),
    "DeleteKey": (_due_deletion, lambda worker: worker.deletions.sweep()),
    "DeleteExpiredKeyMaterial": (_due_expiry, expire_due_material),
}


@pytest.mark.parametrize("name", list(DUE))
def test_workers_racing_record_the_change_once(
    name: str, svc: KmsService, caller: Caller, db_url: str, keystore: SoftwareKeyStore
) -> None:
    make_due, work = DUE[name]
    key_id = make_due(svc, caller)
    workers = [
        KmsService(open_storage(db_url), keystore, Clock(svc.clock.offset), dev=True)
        for _ in range(4)
    ]
    recorded: list[dict[str, Any]] = []  # list.extend holds the GIL: safe across threads
    for worker in workers:
        worker.service_events = recorded.extend
    assert race(workers, work) == [0, 0, 0, 1]
    arn = f"arn:aws:kms:{caller.region}:{caller.account}:key/{key_id}"
    assert _names(recorded) == [(name, arn)]
    # The time of the moved clock (days ahead of the real one), to the second.
    at = calendar.timegm(time.strptime(recorded[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ"))
    assert svc.clock.now() - 30 <= at <= svc.clock.now()


OVERTAKEN: dict[str, tuple[MakeDue, Work, Retry]] = {
    "RotateKey": (
        _due_rotation,
        rotate_due_keys,
        lambda worker, key: _rotate_automatically(worker, key, worker.clock.now()),
    ),
    "DeleteKey": (
        _due_deletion,
        lambda worker: worker.deletions.sweep(),
        lambda worker, key: worker.deletions.destroy(key),
    ),
}


@pytest.mark.parametrize("name", list(OVERTAKEN))
def test_a_change_overtaken_by_another_worker_records_nothing(
    name: str, svc: KmsService, caller: Caller
) -> None:
    make_due, work, retry = OVERTAKEN[name]
    events = _recorded(svc)
    key_id = make_due(svc, caller)
    stale = svc.keys.get_key(caller.account, caller.region, key_id)  # a slower worker's read
    assert stale is not None
    assert work(svc) == 1
    assert retry(svc, stale) is False
    assert _names(events) == [(name, stale.arn)]


def test_a_multi_region_rotation_is_recorded_in_each_region(
    svc: KmsService, caller: Caller
) -> None:
    events = _recorded(svc)
    key_id = call(svc, caller, "CreateKey", {"MultiRegion": True})["KeyMetadata"]["KeyId"]
    replica = call(svc, caller, "ReplicateKey", {"KeyId": key_id, "ReplicaRegion": "eu-west-1"})
    replica_arn = replica["ReplicaKeyMetadata"]["Arn"]
    assert _names(events) == [("CreateKey", replica_arn)]
    primary = svc.keys.get_key(caller.account, caller.region, key_id)
    assert primary is not None
    events.clear()
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": key_id})
    assert sorted(_names(events)) == sorted(
        [("RotateKey", primary.arn), ("RotateKey", replica_arn)]
    )
    assert [e["awsRegion"] for e in events] == [caller.region, "eu-west-1"]
    assert {e["serviceEventDetails"]["rotationType"] for e in events} == {"ON_DEMAND"}
    assert len({e["serviceEventDetails"]["currentKeyMaterialId"] for e in events}) == 1


def test_a_sink_that_fails_leaves_the_change_made_and_logs_the_event(
    svc: KmsService, caller: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    def unwritable(events: list[dict[str, Any]]) -> None:
        raise TrailUnavailable("the audit trail cannot be written (ENOSPC: No space left)")

    svc.service_events = unwritable
    key_id = _due_deletion(svc, caller)
    key = svc.keys.get_key(caller.account, caller.region, key_id)
    assert key is not None
    with caplog.at_level(logging.ERROR, logger="strongroom.kms.service"):
        assert svc.deletions.sweep() == 1
    assert svc.keys.get_key(caller.account, caller.region, key_id) is None
    [record] = [r for r in caplog.records if r.name == "strongroom.kms.service"]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert "DeleteKey" in message
    assert key.arn in message
    assert "ENOSPC" in message
