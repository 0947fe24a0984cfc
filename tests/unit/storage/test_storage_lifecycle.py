"""Storage for rotation, imported material and multi-Region keys (revision 0005): the guarded
rotation write, key members, material updates and the due-work queries."""

from __future__ import annotations

import dataclasses
import threading

import pytest

# A sibling module: pytest puts this folder on sys.path, mypy names it tests.unit.storage.
from storage_worker import ACCOUNT, REGION, make_key, make_material  # type: ignore[import-not-found]

from strongroom.domain.identity import AccountRecord
from strongroom.domain.keys import KeyRecord, KeyState, MaterialRecord, Rotation
from strongroom.storage import DuplicateError, SqlStorage, StorageError


@pytest.fixture
def store(storage: SqlStorage) -> SqlStorage:
    storage.insert_account(AccountRecord(ACCOUNT, 1.0))
    return storage


def _key(store: SqlStorage, key_id: str = "k1", region: str = REGION) -> KeyRecord:
    material = make_material(key_id)
    key: KeyRecord = make_key(key_id, region=region, material_id=material.material_id)
    store.insert_key(key, material, {})
    return key


def test_new_fields_round_trip(store: SqlStorage) -> None:
    key = dataclasses.replace(
        make_key("k1"),
        rotation_period_days=90,
        next_rotation_date=5.0,
        primary_region="eu-west-1",
        expiration_model="KEY_MATERIAL_EXPIRES",
        valid_to=7.5,
    )
    material = dataclasses.replace(
        make_material("k1"),
        rotation_type="ON_DEMAND",
        import_state="IMPORTED",
        expiration_model="KEY_MATERIAL_EXPIRES",
        valid_to=7.5,
        description="from the HSM",
        pending_rotation=True,
        rotated_at=3.0,
    )
    store.insert_key(key, [material, make_material("k1", 2)], {})
    assert store.get_key(ACCOUNT, REGION, "k1") == key
    assert store.get_materials(ACCOUNT, REGION, "k1") == [material, make_material("k1", 2)]


def test_apply_rotation_writes_only_while_the_current_material_is_as_expected(
    store: SqlStorage,
) -> None:
    key = _key(store)
    new = make_material("k1", 2, created_at=2e9)
    rotated = dataclasses.replace(key, current_material_id=new.material_id, next_rotation_date=9.0)
    assert store.apply_rotation(Rotation([(rotated, new)], key.current_material_id))
    assert store.get_key(ACCOUNT, REGION, "k1") == rotated
    # A second worker that read the key before the rotation loses, and writes nothing.
    late = make_material("k1", 3, created_at=2e9)
    stale = dataclasses.replace(key, current_material_id=late.material_id)
    assert not store.apply_rotation(Rotation([(stale, late)], key.current_material_id))
    assert store.get_key(ACCOUNT, REGION, "k1") == rotated
    assert [m.material_id for m in store.get_materials(ACCOUNT, REGION, "k1")] == [
        make_material("k1").material_id,
        new.material_id,
    ]


def test_apply_rotation_is_all_or_nothing_across_members(store: SqlStorage) -> None:
    primary = _key(store, "mrk-1", REGION)
    replica = _key(store, "mrk-1", "eu-west-1")
    replica = dataclasses.replace(replica, current_material_id="f" * 64)
    store.update_key(replica)  # the replica is out of step: the guard fails on it
    new = make_material("mrk-1", 2)
    updates = [
        (dataclasses.replace(primary, current_material_id=new.material_id), new),
        (dataclasses.replace(replica, current_material_id=new.material_id), new),
    ]
    assert not store.apply_rotation(Rotation(updates, primary.current_material_id))
    assert store.get_key(ACCOUNT, REGION, "mrk-1") == primary
    assert len(store.get_materials(ACCOUNT, REGION, "mrk-1")) == 1


def test_key_members_and_update_keys(store: SqlStorage) -> None:
    a = _key(store, "mrk-1", "us-east-1")
    b = _key(store, "mrk-1", "eu-west-1")
    _key(store, "other", "us-east-1")
    assert [m.region for m in store.key_members(ACCOUNT, "mrk-1")] == ["eu-west-1", "us-east-1"]
    moved = [dataclasses.replace(k, primary_region="eu-west-1") for k in (a, b)]
    store.update_keys(moved)
    assert {m.primary_region for m in store.key_members(ACCOUNT, "mrk-1")} == {"eu-west-1"}
    with pytest.raises(StorageError):
        store.update_keys([dataclasses.replace(a, description="x"), make_key("missing")])
    assert store.get_key(ACCOUNT, "us-east-1", "mrk-1") == moved[0]  # nothing half-applied


def test_due_rotations_and_expiring_material(store: SqlStorage) -> None:
    key = _key(store)
    store.update_key(dataclasses.replace(key, rotation_period_days=90, next_rotation_date=100.0))
    assert [k.key_id for k in store.keys_due_for_rotation(99.0)] == []
    assert [k.key_id for k in store.keys_due_for_rotation(100.0)] == ["k1"]
    (material,) = store.get_materials(ACCOUNT, REGION, "k1")
    imported = dataclasses.replace(material, import_state="IMPORTED", valid_to=50.0)
    store.update_material(ACCOUNT, REGION, imported)
    assert store.materials_due_to_expire(49.0) == []
    assert store.materials_due_to_expire(50.0) == [(ACCOUNT, REGION, imported)]
    gone = dataclasses.replace(imported, wrapped=None, import_state="PENDING_IMPORT")
    store.update_material(ACCOUNT, REGION, gone)
    assert store.materials_due_to_expire(60.0) == []
    assert store.get_materials(ACCOUNT, REGION, "k1") == [gone]
    with pytest.raises(StorageError):
        store.update_material(ACCOUNT, REGION, dataclasses.replace(gone, material_id="e" * 64))


def test_a_key_awaiting_import_has_no_material(store: SqlStorage) -> None:
    key = dataclasses.replace(make_key("k1"), current_material_id=None)
    store.insert_key(key, None, {})
    assert store.get_materials(ACCOUNT, REGION, "k1") == []
    unused: MaterialRecord | None = None
    assert store.apply_rotation(Rotation([(key, unused)], None))


def test_apply_rotation_updates_existing_material_in_the_same_transaction(
    store: SqlStorage,
) -> None:
    key = _key(store)
    pending = dataclasses.replace(make_material("k1", 2), pending_rotation=True)
    store.insert_material(ACCOUNT, REGION, "k1", pending)
    promoted = dataclasses.replace(key, current_material_id=pending.material_id)
    done = dataclasses.replace(pending, pending_rotation=False, rotation_type="ON_DEMAND")
    # Overtaken: neither the key nor the material row changes.
    assert not store.apply_rotation(
        Rotation([(promoted, None)], "0" * 64, [(ACCOUNT, REGION, done)])
    )
    assert store.get_materials(ACCOUNT, REGION, "k1")[1] == pending
    assert store.apply_rotation(
        Rotation([(promoted, None)], key.current_material_id, [(ACCOUNT, REGION, done)])
    )
    assert store.get_key(ACCOUNT, REGION, "k1") == promoted
    assert store.get_materials(ACCOUNT, REGION, "k1")[1] == done


def test_expire_material_changes_the_row_once_and_respects_a_new_term(store: SqlStorage) -> None:
    _key(store)
    (material,) = store.get_materials(ACCOUNT, REGION, "k1")
    imported = dataclasses.replace(
        material, import_state="IMPORTED", expiration_model="KEY_MATERIAL_EXPIRES", valid_to=50.0
    )
    store.update_material(ACCOUNT, REGION, imported)
    assert not store.expire_material(ACCOUNT, REGION, "k1", material.material_id, 49.0)
    assert store.expire_material(ACCOUNT, REGION, "k1", material.material_id, 50.0)
    assert not store.expire_material(ACCOUNT, REGION, "k1", material.material_id, 50.0)
    (gone,) = store.get_materials(ACCOUNT, REGION, "k1")
    assert (gone.wrapped, gone.import_state, gone.valid_to) == (None, "PENDING_IMPORT", None)
    renewed = dataclasses.replace(imported, valid_to=500.0)
    store.update_material(ACCOUNT, REGION, renewed)  # re-imported with a later term
    assert not store.expire_material(ACCOUNT, REGION, "k1", material.material_id, 100.0)
    assert store.get_materials(ACCOUNT, REGION, "k1") == [renewed]


def test_apply_rotation_leaves_state_and_policy_to_other_writers(store: SqlStorage) -> None:
    key = _key(store)
    disabled = dataclasses.replace(key, state=KeyState.DISABLED, policy="{}")
    store.update_key(disabled)  # a DisableKey and a PutKeyPolicy land while a rotation runs
    new = make_material("k1", 2)
    stale = dataclasses.replace(key, current_material_id=new.material_id, next_rotation_date=9.0)
    assert store.apply_rotation(Rotation([(stale, new)], key.current_material_id))
    assert store.get_key(ACCOUNT, REGION, "k1") == dataclasses.replace(
        disabled, current_material_id=new.material_id, next_rotation_date=9.0
    )


def test_insert_replica_only_while_the_primary_material_is_as_copied(store: SqlStorage) -> None:
    primary = _key(store, "mrk-1", REGION)
    (material,) = store.get_materials(ACCOUNT, REGION, "mrk-1")
    replica = _replica_of(primary)
    # A rotation of the primary landed after the materials were read: nothing is written.
    stale = dataclasses.replace(replica, current_material_id="9" * 64)
    assert not store.insert_replica(stale, [material], {"t": "v"})
    assert store.get_key(ACCOUNT, "eu-west-1", "mrk-1") is None
    assert store.get_tags(ACCOUNT, "eu-west-1", "mrk-1") == {}
    assert store.insert_replica(replica, [material], {"t": "v"})
    assert store.get_key(ACCOUNT, "eu-west-1", "mrk-1") == replica
    assert store.get_materials(ACCOUNT, "eu-west-1", "mrk-1") == [material]
    assert store.get_tags(ACCOUNT, "eu-west-1", "mrk-1") == {"t": "v"}
    with pytest.raises(DuplicateError):
        store.insert_replica(replica, [], {})


def test_insert_replica_wants_a_replica(store: SqlStorage) -> None:
    primary = _key(store, "mrk-1", REGION)
    with pytest.raises(ValueError, match="replica"):
        store.insert_replica(dataclasses.replace(primary, region="eu-west-1"), [], {})
    with pytest.raises(ValueError, match="replica"):
        store.insert_replica(dataclasses.replace(primary, primary_region=REGION), [], {})


def _replica_of(primary: KeyRecord) -> KeyRecord:
    """``primary``'s replica in eu-west-1 (the same material, the primary's region named)."""
    region = "eu-west-1"
    arn = primary.arn.replace(primary.region, region)
    return dataclasses.replace(primary, region=region, arn=arn, primary_region=primary.region)


def test_apply_rotation_refuses_when_a_replica_it_does_not_name_exists(store: SqlStorage) -> None:
    primary = _key(store, "mrk-1", REGION)
    _key(store, "mrk-1", "eu-west-1")  # replicated after the rotation read the members
    new = make_material("mrk-1", 2)
    rotated = dataclasses.replace(primary, current_material_id=new.material_id)
    assert not store.apply_rotation(Rotation([(rotated, new)], primary.current_material_id))
    assert store.get_key(ACCOUNT, REGION, "mrk-1") == primary
    assert len(store.get_materials(ACCOUNT, REGION, "mrk-1")) == 1


def _race(store: SqlStorage, key_id: str) -> dict[str, bool]:
    """One round: replicate ``key_id`` and rotate it (the rotation naming the primary only)
    from two threads started together. Returns which of the two committed."""
    primary = _key(store, key_id, REGION)
    (material,) = store.get_materials(ACCOUNT, REGION, key_id)
    replica = _replica_of(primary)
    new = make_material(key_id, 2)
    rotated = dataclasses.replace(primary, current_material_id=new.material_id)
    start = threading.Barrier(2)
    won: dict[str, bool] = {}

    def replicate() -> None:
        start.wait()
        won["replicate"] = store.insert_replica(replica, [material], {})

    def rotate() -> None:
        start.wait()
        won["rotate"] = store.apply_rotation(
            Rotation([(rotated, new)], primary.current_material_id)
        )

    threads = [threading.Thread(target=replicate), threading.Thread(target=rotate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


def test_replication_and_rotation_racing_never_both_win(store: SqlStorage) -> None:
    """Real threads on one database: a ReplicateKey copying the primary's materials and a
    rotation that read the members before the replica existed. If both committed, the replica
    would miss the new material; the guards let exactly one through."""
    for n in range(15):
        won = _race(store, f"mrk-{n}")
        assert sorted(won.values()) == [False, True], (n, won)


def test_delete_due_key_spares_a_cancelled_or_rescheduled_key(store: SqlStorage) -> None:
    key = _key(store)
    pending = dataclasses.replace(key, state=KeyState.PENDING_DELETION, deletion_date=100.0)
    store.update_key(pending)
    assert not store.delete_due_key(ACCOUNT, REGION, "k1", 99.0)  # not yet due
    # A CancelKeyDeletion landed after the sweep read the key as due: the key stays.
    store.update_key(dataclasses.replace(key, state=KeyState.DISABLED))
    assert not store.delete_due_key(ACCOUNT, REGION, "k1", 200.0)
    assert store.get_key(ACCOUNT, REGION, "k1") is not None
    store.update_key(pending)
    assert store.delete_due_key(ACCOUNT, REGION, "k1", 200.0)
    assert store.get_key(ACCOUNT, REGION, "k1") is None
    assert store.get_materials(ACCOUNT, REGION, "k1") == []
    assert not store.delete_due_key(ACCOUNT, REGION, "k1", 200.0)  # a second worker: nothing


def test_update_key_in_state_is_guarded(store: SqlStorage) -> None:
    key = dataclasses.replace(_key(store), state=KeyState.PENDING_REPLICA_DELETION)
    store.update_key(key)
    started = dataclasses.replace(key, state=KeyState.PENDING_DELETION, deletion_date=5.0)
    cancelled = dataclasses.replace(key, state=KeyState.DISABLED)
    store.update_key(cancelled)
    assert not store.update_key_in_state(started, KeyState.PENDING_REPLICA_DELETION)
    assert store.get_key(ACCOUNT, REGION, "k1") == cancelled
    store.update_key(key)
    assert store.update_key_in_state(started, KeyState.PENDING_REPLICA_DELETION)
    assert store.get_key(ACCOUNT, REGION, "k1") == started


def _sweep_against_cancel(
    store: SqlStorage, key_id: str
) -> tuple[dict[str, bool], KeyRecord | None]:
    """One round: a due key deleted by a sweep while a CancelKeyDeletion writes Disabled, from
    two threads started together. Returns what each saw and the stored key afterwards."""
    key = _key(store, key_id)
    store.update_key(dataclasses.replace(key, state=KeyState.PENDING_DELETION, deletion_date=1.0))
    start = threading.Barrier(2)
    outcome: dict[str, bool] = {}

    def sweep() -> None:
        start.wait()
        outcome["deleted"] = store.delete_due_key(ACCOUNT, REGION, key_id, 10.0)

    def cancel() -> None:
        start.wait()
        try:
            store.update_key(dataclasses.replace(key, state=KeyState.DISABLED))
            outcome["cancelled"] = True
        except StorageError:  # the key was already deleted
            outcome["cancelled"] = False

    threads = [threading.Thread(target=sweep), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome, store.get_key(ACCOUNT, REGION, key_id)


def test_sweeps_racing_a_cancel_never_delete_a_cancelled_key(store: SqlStorage) -> None:
    """Either the key is gone and the cancel found nothing (the sweep won), or it is Disabled
    and kept (the cancel won); never a cancel that reported success on a deleted key."""
    for n in range(15):
        outcome, stored = _sweep_against_cancel(store, f"k-{n}")
        if outcome["deleted"]:
            assert stored is None, n
            assert not outcome["cancelled"], n
        else:
            assert stored is not None, n
            assert stored.state is KeyState.DISABLED, n
