"""The ``services`` table: registrations by name and by principal, listing and deletion."""

from __future__ import annotations

import pytest

from strongroom.domain.identity import ServiceRecord
from strongroom.storage import DuplicateError, SqlStorage

ARN = "arn:aws:iam::111122223333:user/objects-service"


def _service(name: str = "objects", arn: str = ARN) -> ServiceRecord:
    return ServiceRecord(name, f"{name}.us-east-1.strongroom", "s3", arn, 5.0)


def test_insert_and_read_back_by_name_and_principal(storage: SqlStorage) -> None:
    service = _service()
    storage.insert_service(service)
    assert storage.get_service("objects") == service
    assert storage.service_for_principal(ARN) == service
    assert storage.get_service("other") is None
    assert storage.service_for_principal(ARN + "x") is None


def test_name_and_principal_are_unique(storage: SqlStorage) -> None:
    storage.insert_service(_service())
    with pytest.raises(DuplicateError):
        storage.insert_service(_service(arn=ARN + "-2"))
    with pytest.raises(DuplicateError):
        storage.insert_service(_service(name="db"))
    assert storage.list_services() == [_service()]


def test_list_is_by_name_and_delete_removes_one(storage: SqlStorage) -> None:
    storage.insert_service(_service("objects"))
    storage.insert_service(_service("database", ARN + "-db"))
    assert [s.name for s in storage.list_services()] == ["database", "objects"]
    assert storage.delete_service("objects") is True
    assert storage.delete_service("objects") is False
    assert [s.name for s in storage.list_services()] == ["database"]


def test_a_registration_survives_a_dev_reset(storage: SqlStorage) -> None:
    storage.insert_service(_service())
    storage.reset()
    assert storage.get_service("objects") == _service()
