"""SoftwareKeyStore: wrapped material and secrets are bound to their ARN, material id, purpose."""

from __future__ import annotations

import os
import re

import pytest

from strongroom.errors import KMSInternalException
from strongroom.keystore.base import new_material_id
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def store() -> SoftwareKeyStore:
    return SoftwareKeyStore(RootKey(os.urandom(32)))


def _symmetric(store: SoftwareKeyStore) -> bytes:
    return os.urandom(32)


def test_new_material_id_is_64_lower_hex() -> None:
    ids = {new_material_id() for _ in range(10)}
    assert len(ids) == 10
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids)


def test_material_round_trip(store: SoftwareKeyStore) -> None:
    material, material_id = _symmetric(store), new_material_id()
    wrapped = store.wrap_material(material, ARN, material_id)
    assert store.unwrap_material(wrapped, ARN, material_id) == material


def test_wrapped_material_does_not_contain_the_material(store: SoftwareKeyStore) -> None:
    material = _symmetric(store)
    wrapped = store.wrap_material(material, ARN, new_material_id())
    for window in range(0, 32 - 8 + 1):
        assert material[window : window + 8] not in wrapped


@pytest.mark.parametrize(
    ("arn", "material_id_changed"),
    [(OTHER_ARN, False), (ARN + "x", False), (ARN, True)],
)
def test_material_is_bound_to_arn_and_material_id(
    store: SoftwareKeyStore, arn: str, material_id_changed: bool
) -> None:
    material_id = new_material_id()
    wrapped = store.wrap_material(_symmetric(store), ARN, material_id)
    unwrap_id = new_material_id() if material_id_changed else material_id
    with pytest.raises(KMSInternalException, match="stored secret could not be unwrapped"):
        store.unwrap_material(wrapped, arn, unwrap_id)


def test_field_boundaries_are_unambiguous(store: SoftwareKeyStore) -> None:
    """Moving bytes between the ARN and the material id must not unwrap."""
    material_id = new_material_id()
    wrapped = store.wrap_material(b"m" * 32, ARN, material_id)
    with pytest.raises(KMSInternalException):
        store.unwrap_material(wrapped, ARN + material_id[:1], material_id[1:])


def test_secret_round_trip_and_purpose_binding(store: SoftwareKeyStore) -> None:
    wrapped = store.wrap_secret(b"wJalrXUtnFEMI/K7MDENG", "access-key:AKIAEXAMPLE1")
    assert store.unwrap_secret(wrapped, "access-key:AKIAEXAMPLE1") == b"wJalrXUtnFEMI/K7MDENG"
    assert b"wJalrXUtnFEMI" not in wrapped
    with pytest.raises(KMSInternalException):
        store.unwrap_secret(wrapped, "access-key:AKIAEXAMPLE2")


def test_material_and_secret_domains_are_separate(store: SoftwareKeyStore) -> None:
    material_id = new_material_id()
    wrapped = store.wrap_material(b"m" * 32, ARN, material_id)
    with pytest.raises(KMSInternalException):
        store.unwrap_secret(wrapped, ARN)


def test_other_root_key_cannot_unwrap(store: SoftwareKeyStore) -> None:
    material_id = new_material_id()
    wrapped = store.wrap_material(b"m" * 32, ARN, material_id)
    other = SoftwareKeyStore(RootKey(os.urandom(32)))
    with pytest.raises(KMSInternalException):
        other.unwrap_material(wrapped, ARN, material_id)


def test_repr_shows_nothing_secret() -> None:
    assert repr(SoftwareKeyStore(RootKey(b"k" * 32))) == "SoftwareKeyStore()"


def test_derived_secrets_are_per_purpose_and_shared_by_stores_on_one_root_key() -> None:
    raw = os.urandom(32)
    store, twin = SoftwareKeyStore(RootKey(raw)), SoftwareKeyStore(RootKey(raw))
    assert store.derive_secret("a") == twin.derive_secret("a")
    assert store.derive_secret("a") != store.derive_secret("b")
    assert store.derive_secret("a") != SoftwareKeyStore(RootKey(os.urandom(32))).derive_secret("a")
