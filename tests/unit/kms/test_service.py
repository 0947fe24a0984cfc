"""The service's caches stay coherent with storage across instances (= worker processes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.errors import DisabledException, NotFoundException
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.access import is_static
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService
from strongroom.policy.document import PolicyKind, parse_policy
from strongroom.storage import open_storage


@pytest.fixture
def other(db_url: str, keystore: SoftwareKeyStore) -> Iterator[KmsService]:
    storage = open_storage(db_url)
    yield KmsService(storage, keystore, Clock(), dev=True)
    storage.close()


def _request(svc: KmsService, caller: Caller, op: str, **params: object) -> dict[str, object]:
    svc.refresh()
    return call(svc, caller, op, dict(params))


def test_a_change_by_one_instance_is_seen_by_the_other(
    svc: KmsService, other: KmsService, caller: Caller
) -> None:
    key_id = _request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"]  # type: ignore[index]
    _request(other, caller, "Encrypt", KeyId=key_id, Plaintext=b"x")  # warms other's cache
    _request(svc, caller, "DisableKey", KeyId=key_id)
    with pytest.raises(DisabledException):
        _request(other, caller, "Encrypt", KeyId=key_id, Plaintext=b"x")


def test_refresh_reports_changes_only_once(svc: KmsService, caller: Caller) -> None:
    assert svc.refresh() is False
    call(svc, caller, "CreateKey", {})
    assert svc.refresh() is True
    assert svc.refresh() is False


def test_clock_offset_follows_storage_in_dev_mode(svc: KmsService, other: KmsService) -> None:
    svc.set_clock_offset(3600.0)
    other.refresh()
    assert other.clock.offset == 3600.0


def _travel(svc: KmsService, seconds: float) -> None:
    """Move dev mode's clock as POST /_strongroom/clock does: through storage."""
    svc.refresh()
    svc.set_clock_offset(svc.clock.advance(seconds))


def test_key_past_its_deletion_window_is_destroyed(svc: KmsService, caller: Caller) -> None:
    key_id = _request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"]  # type: ignore[index]
    _request(svc, caller, "CreateAlias", AliasName="alias/doomed", TargetKeyId=key_id)
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _travel(svc, 7 * 86_400 - 60)
    assert _request(svc, caller, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    _travel(svc, 120)
    with pytest.raises(NotFoundException):
        _request(svc, caller, "DescribeKey", KeyId=key_id)
    assert svc.keys.read.get_materials(caller.account, caller.region, key_id) == []
    assert svc.keys.get_alias(caller.account, caller.region, "alias/doomed") is None


def test_sweep_deletes_due_keys_nobody_asked_for(svc: KmsService, caller: Caller) -> None:
    key_id = _request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"]  # type: ignore[index]
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id)
    assert svc.deletions.sweep() == 0
    _travel(svc, 30 * 86_400 + 1)
    svc.refresh()
    assert svc.deletions.sweep() == 1
    assert svc.keys.get_key(caller.account, caller.region, key_id) is None


def test_decisions_are_remembered_only_for_policies_that_read_no_context(
    svc: KmsService, caller: Caller
) -> None:
    key_id = _request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"]  # type: ignore[index]
    key = svc.get_key(caller.account, caller.region, key_id)
    assert key is not None
    assert is_static(parse_policy(key.policy, PolicyKind.RESOURCE))
    svc.access.authorize_key(caller, "kms:Encrypt", key, {})
    assert len(svc.access._decisions) == 1
    conditional = key.policy.replace(
        '"Resource" : "*"',
        '"Resource" : "*", "Condition": {"StringEquals": {"kms:EncryptionContext:t": "a"}}',
    )
    assert not is_static(parse_policy(conditional, PolicyKind.RESOURCE))
    svc.access.decide_key(caller, "kms:Encrypt", key, {}, policy=conditional)
    assert len(svc.access._decisions) == 1
    svc.keys.invalidate()
    assert svc.access._decisions == {}


def test_a_change_to_a_key_another_worker_just_deleted_is_not_found(
    svc: KmsService, other: KmsService, caller: Caller
) -> None:
    """This worker still has the key cached when another worker's sweep deletes it: the write
    answers NotFoundException (as a request a moment later would), never an internal error."""
    key_id = str(_request(svc, caller, "CreateKey")["KeyMetadata"]["KeyId"])  # type: ignore[index]
    _request(svc, caller, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    _request(svc, caller, "DescribeKey", KeyId=key_id)  # this worker caches the key
    other.keys.delete_key(caller.account, caller.region, key_id)  # the other worker's sweep
    with pytest.raises(NotFoundException, match="does not exist"):
        call(svc, caller, "CancelKeyDeletion", {"KeyId": key_id})  # no refresh: a stale cache
