"""Imported material on a real service (SQLite, software key store): expiry happens once whatever
the number of workers, the material id is the same in every Region and across restarts, new
material for rotation on a multi-Region key, and what the stored rows hold."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from strongroom.clock import Clock
from strongroom.crypto.key_import import wrap_key_material
from strongroom.domain.caller import Caller
from strongroom.errors import (
    IncorrectKeyMaterialException,
    KMSInvalidStateException,
    UnsupportedOperationException,
)
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.imports import expire_due_material
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService
from strongroom.storage import open_storage

NEVER = {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}
HOUR = 3600


def external(svc: KmsService, caller: Caller, **create: Any) -> dict[str, Any]:
    meta: dict[str, Any] = call(svc, caller, "CreateKey", {"Origin": "EXTERNAL", **create})[
        "KeyMetadata"
    ]
    return meta


def imported(
    svc: KmsService, caller: Caller, key_id: str, material: bytes, **terms: Any
) -> dict[str, Any]:
    params = call(
        svc,
        caller,
        "GetParametersForImport",
        {"KeyId": key_id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
    )
    wrapped = wrap_key_material(params["PublicKey"], "RSAES_OAEP_SHA_256", material)
    request = {
        "KeyId": key_id,
        "ImportToken": params["ImportToken"],
        "EncryptedKeyMaterial": wrapped,
    }
    return call(svc, caller, "ImportKeyMaterial", request | (terms or NEVER))


def state(svc: KmsService, caller: Caller, key_id: str) -> str:
    return str(call(svc, caller, "DescribeKey", {"KeyId": key_id})["KeyMetadata"]["KeyState"])


@pytest.fixture
def second_worker(db_url: str, keystore: SoftwareKeyStore, svc: KmsService) -> Iterator[KmsService]:
    """Another worker process's service on the same database, its clock moved with ``svc``'s."""
    storage = open_storage(db_url)
    worker = KmsService(storage, keystore, Clock(), dev=True)
    worker.refresh()
    yield worker
    storage.close()


def test_expiry_happens_once_across_workers(
    svc: KmsService, caller: Caller, second_worker: KmsService
) -> None:
    keys = [external(svc, caller)["Arn"] for _ in range(3)]
    now = svc.clock.now()
    for hours, arn in enumerate(keys, start=1):
        imported(svc, caller, arn, os.urandom(32), ValidTo=now + hours * HOUR)
    blob = call(svc, caller, "Encrypt", {"KeyId": keys[0], "Plaintext": b"x"})["CiphertextBlob"]
    for service in (svc, second_worker):
        service.clock.advance(2.5 * HOUR)
    assert expire_due_material(svc) == 2
    assert expire_due_material(second_worker) == 0
    assert expire_due_material(svc) == 0
    assert [state(svc, caller, arn) for arn in keys] == ["PendingImport"] * 2 + ["Enabled"]
    with pytest.raises(KMSInvalidStateException, match="is pending import"):
        call(svc, caller, "Decrypt", {"CiphertextBlob": blob})
    for service in (svc, second_worker):
        service.clock.advance(HOUR)
    assert expire_due_material(second_worker) == 1
    assert expire_due_material(svc) == 0


def test_expired_rows_keep_their_id_but_not_their_bytes(svc: KmsService, caller: Caller) -> None:
    meta = external(svc, caller)
    answer = imported(svc, caller, meta["Arn"], os.urandom(32), ValidTo=svc.clock.now() + HOUR)
    svc.clock.advance(2 * HOUR)
    assert expire_due_material(svc) == 1
    (row,) = svc.keys.read.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
    assert row.material_id == answer["KeyMaterialId"]
    assert (row.wrapped, row.import_state, row.valid_to) == (None, "PENDING_IMPORT", None)
    key = svc.keys.get_key(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
    assert key is not None
    assert (key.expiration_model, key.valid_to) == (None, None)


def test_a_key_pending_deletion_stays_so_when_its_material_expires(
    svc: KmsService, caller: Caller
) -> None:
    arn = external(svc, caller)["Arn"]
    imported(svc, caller, arn, os.urandom(32), ValidTo=svc.clock.now() + HOUR)
    call(svc, caller, "ScheduleKeyDeletion", {"KeyId": arn, "PendingWindowInDays": 7})
    svc.clock.advance(2 * HOUR)
    assert expire_due_material(svc) == 1
    assert state(svc, caller, arn) == "PendingDeletion"


def test_material_ids_survive_a_restart_and_are_secret_keyed(
    svc: KmsService, caller: Caller, second_worker: KmsService
) -> None:
    arn = external(svc, caller)["Arn"]
    material = os.urandom(32)
    first = imported(svc, caller, arn, material)["KeyMaterialId"]
    # Another worker (or the same after a restart) computes the same id from the same root key.
    assert imported(second_worker, caller, arn, material)["KeyMaterialId"] == first
    # The id is keyed: it is no plain hash of the key id and the material.
    assert first not in {
        hashlib.sha256(arn.split("/")[-1].encode() + material).hexdigest(),
        hashlib.sha256(material).hexdigest(),
    }
    # The same material in another key has another id.
    other = external(svc, caller)["Arn"]
    assert imported(svc, caller, other, material)["KeyMaterialId"] != first


def test_a_multi_region_key_has_the_same_material_id_in_every_region(
    svc: KmsService, caller: Caller
) -> None:
    primary = external(svc, caller, MultiRegion=True)
    there = Caller.root(caller.account, "eu-west-1", "AKIATEST")
    material = os.urandom(32)
    material_id = imported(svc, caller, primary["KeyId"], material)["KeyMaterialId"]
    replica = call(
        svc, caller, "ReplicateKey", {"KeyId": primary["KeyId"], "ReplicaRegion": "eu-west-1"}
    )["ReplicaKeyMetadata"]
    assert replica["KeyState"] == "PendingImport"
    with pytest.raises(IncorrectKeyMaterialException):
        imported(svc, there, replica["Arn"], os.urandom(32))
    assert imported(svc, there, replica["Arn"], material)["KeyMaterialId"] == material_id
    assert state(svc, there, replica["Arn"]) == "Enabled"
    blob = call(svc, caller, "Encrypt", {"KeyId": primary["Arn"], "Plaintext": b"mrk"})
    assert (
        call(svc, there, "Decrypt", {"CiphertextBlob": blob["CiphertextBlob"]})["Plaintext"]
        == b"mrk"
    )


def test_new_material_on_a_multi_region_primary_waits_in_every_replica(
    svc: KmsService, caller: Caller
) -> None:
    primary = external(svc, caller, MultiRegion=True)
    account, key_id = primary["AWSAccountId"], primary["KeyId"]
    there = Caller.root(caller.account, "eu-west-1", "AKIATEST")
    first = os.urandom(32)
    imported(svc, caller, key_id, first)
    replica = call(svc, caller, "ReplicateKey", {"KeyId": key_id, "ReplicaRegion": "eu-west-1"})[
        "ReplicaKeyMetadata"
    ]
    imported(svc, there, replica["Arn"], first)
    # New material goes into the primary only...
    with pytest.raises(UnsupportedOperationException, match="replica"):
        imported(svc, there, replica["Arn"], os.urandom(32), ImportType="NEW_KEY_MATERIAL", **NEVER)
    new = os.urandom(32)
    new_id = imported(svc, caller, key_id, new, ImportType="NEW_KEY_MATERIAL", **NEVER)[
        "KeyMaterialId"
    ]
    # ...and waits, without bytes, in the replica until the same material is imported there.
    waiting = {r.material_id: r for r in svc.keys.read.get_materials(account, "eu-west-1", key_id)}
    assert waiting[new_id].pending_rotation
    assert (waiting[new_id].wrapped, waiting[new_id].import_state) == (None, "PENDING_IMPORT")
    assert state(svc, there, replica["Arn"]) == "Enabled"  # pending material is not required
    imported(svc, there, replica["Arn"], new)
    held = {r.material_id: r for r in svc.keys.read.get_materials(account, "eu-west-1", key_id)}
    assert held[new_id].wrapped is not None
    assert held[new_id].pending_rotation
    # Other new material waits its turn (AWS's words, recorded).
    third = os.urandom(32)
    with pytest.raises(KMSInvalidStateException) as refused:
        imported(svc, caller, key_id, third, ImportType="NEW_KEY_MATERIAL", **NEVER)
    # Deleting the primary's pending material deletes the replicas' copies too.
    call(svc, caller, "DeleteImportedKeyMaterial", {"KeyId": key_id, "KeyMaterialId": new_id})
    held = {r.material_id: r for r in svc.keys.read.get_materials(account, "eu-west-1", key_id)}
    assert held[new_id].wrapped is None
    assert state(svc, caller, key_id) == "Enabled"
    assert state(svc, there, replica["Arn"]) == "Enabled"
    # Now the refused material imports, under the id the refusal named.
    third_id = imported(svc, caller, key_id, third, ImportType="NEW_KEY_MATERIAL", **NEVER)[
        "KeyMaterialId"
    ]
    assert refused.value.message == (
        f"New key material (id: {third_id}) cannot be imported into KMS key {key_id}, because "
        f"another key material (id: {new_id}) is pending rotation."
    )


def test_pending_material_that_expires_leaves_the_key_enabled(
    svc: KmsService, caller: Caller
) -> None:
    arn = external(svc, caller)["Arn"]
    imported(svc, caller, arn, os.urandom(32))
    now = svc.clock.now()
    imported(svc, caller, arn, os.urandom(32), ImportType="NEW_KEY_MATERIAL", ValidTo=now + HOUR)
    svc.clock.advance(2 * HOUR)
    assert expire_due_material(svc) == 1
    assert state(svc, caller, arn) == "Enabled"
    # Its place is free again for other new material.
    imported(svc, caller, arn, os.urandom(32), ImportType="NEW_KEY_MATERIAL", **NEVER)


def test_key_metadata_shows_the_earliest_valid_to(svc: KmsService, caller: Caller) -> None:
    arn = external(svc, caller)["Arn"]
    now = svc.clock.now()
    first, second = os.urandom(32), os.urandom(32)
    imported(svc, caller, arn, first, ValidTo=now + 10 * HOUR)
    imported(svc, caller, arn, second, ImportType="NEW_KEY_MATERIAL", ValidTo=now + 2 * HOUR)
    meta = call(svc, caller, "DescribeKey", {"KeyId": arn})["KeyMetadata"]
    assert meta["ValidTo"] == now + 10 * HOUR  # pending material is not the key's yet
    call(svc, caller, "RotateKeyOnDemand", {"KeyId": arn})
    meta = call(svc, caller, "DescribeKey", {"KeyId": arn})["KeyMetadata"]
    assert (meta["ExpirationModel"], meta["ValidTo"]) == ("KEY_MATERIAL_EXPIRES", now + 2 * HOUR)
