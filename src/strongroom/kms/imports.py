"""Imported key material (kms-spec.md section 11): GetParametersForImport, ImportKeyMaterial,
DeleteImportedKeyMaterial, and the expiry of imported material.

A key of Origin EXTERNAL starts in PendingImport with no material. GetParametersForImport gives
a fresh RSA wrapping public key and a stateless import token (``crypto.key_import``: the wrapping
private key, the key ARN, the algorithm and spec, and the end of its 24 hours, sealed by the key
store). ImportKeyMaterial opens the token, unwraps the material, checks its form against the key
spec and stores it wrapped like any material, under a deterministic material id (an HMAC of the
key id and the material under a deployment secret), so the same material imported again, in any
Region, has the same id, and different material is recognised and refused.

Each material row keeps its own terms (``import_state`` IMPORTED or PENDING_IMPORT,
``expiration_model``, ``valid_to``). A deleted or expired material keeps its row without bytes:
its id is what proves a later re-import is the same material. The key follows its rows: it is
PendingImport while any permanently associated material (any but one pending rotation) has no
bytes, and becomes Enabled again when the last of them is re-imported; KeyMetadata's
ExpirationModel and ValidTo are those of the permanently associated materials that are imported
(the earliest ValidTo), absent when none is. A key pending deletion keeps its state throughout.

A symmetric key can take NEW material besides its first (ImportType NEW_KEY_MATERIAL): it waits as
PENDING_ROTATION until RotateKeyOnDemand makes it current (``kms.rotation``). On a multi-Region
primary, NEW material also adds a row without bytes to each replica, which must import the same
material (ImportType EXISTING_KEY_MATERIAL) before the primary can rotate.

Choices where AWS does not say: a key that was Disabled when its material was deleted or expired
comes back Enabled when the material is re-imported (a key's state does not remember Disabled
through PendingImport; disable it again if needed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.audit.event import service_event
from strongroom.crypto import key_import
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeySpec, KeyState, MaterialRecord, Origin, key_arn
from strongroom.errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.partitions import partition_of
from strongroom.kms.repository import DuplicateError
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_origin, require_state

__all__ = [
    "delete_imported_key_material",
    "expire_due_material",
    "get_parameters_for_import",
    "import_key_material",
]

log = logging.getLogger(__name__)

DAY = 86_400
EXPIRES = "KEY_MATERIAL_EXPIRES"
DOES_NOT_EXPIRE = "KEY_MATERIAL_DOES_NOT_EXPIRE"
NEW = "NEW_KEY_MATERIAL"
EXISTING = "EXISTING_KEY_MATERIAL"
IMPORTED = "IMPORTED"
PENDING_IMPORT = "PENDING_IMPORT"
MAX_VALIDITY_SECONDS = 365 * DAY

# The deployment's secret for material ids, sealed by the key store, in the meta table.
_ID_KEY_PURPOSE = "imported-material-id"


_EXPIRED_WORDING = (
    "The import token has expired. Call GetParametersForImport for a new public key and import "
    "token, wrap the key material again, and retry."
)
_INVALID_WORDING = "The import token is invalid or was issued for a different KMS key."


# -- shared checks --------------------------------------------------------------------------------


def _material_id_key(svc: KmsService) -> bytes:
    """The deployment's secret for material ids: derived from the root key, so every worker
    and node has the same one from the start, and nothing is stored."""
    return svc.keystore.derive_secret(_ID_KEY_PURPOSE)


def _settled(key: KeyRecord, rows: Sequence[MaterialRecord]) -> KeyRecord:
    """``key`` with the state and terms its material rows call for (see the module doc)."""
    permanent = [r for r in rows if not r.pending_rotation]
    missing = any(r.import_state != IMPORTED or r.wrapped is None for r in permanent)
    state = key.state
    if missing and state in (KeyState.ENABLED, KeyState.DISABLED):
        state = KeyState.PENDING_IMPORT
    elif not missing and state is KeyState.PENDING_IMPORT and key.current_material_id:
        state = KeyState.ENABLED
    imported = [r for r in permanent if r.import_state == IMPORTED and r.wrapped is not None]
    ends = [r.valid_to for r in imported if r.expiration_model == EXPIRES and r.valid_to]
    model: str | None = None
    if imported:
        model = EXPIRES if ends else DOES_NOT_EXPIRE
    return dataclasses.replace(
        key, state=state, expiration_model=model, valid_to=min(ends) if ends else None
    )


def _removed(row: MaterialRecord) -> MaterialRecord:
    """A material row after its bytes are deleted (the id stays, proving a re-import)."""
    return dataclasses.replace(
        row, wrapped=None, import_state=PENDING_IMPORT, expiration_model=None, valid_to=None
    )


def _response(key: KeyRecord, material_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"KeyId": key.arn}
    # Only symmetric encryption keys have key material ids in AWS's answers.
    if material_id is not None and key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        out["KeyMaterialId"] = material_id
    return out


# -- GetParametersForImport -----------------------------------------------------------------------


def _check_wrapping(p: Mapping[str, Any]) -> None:
    algorithm, spec = p["WrappingAlgorithm"], p["WrappingKeySpec"]
    if algorithm == "RSAES_PKCS1_V1_5":
        raise ValidationException(
            "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported (AWS KMS ended "
            "support on October 10, 2023). Use RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, "
            "RSA_AES_KEY_WRAP_SHA_256 or RSA_AES_KEY_WRAP_SHA_1."
        )
    if algorithm == "SM2PKE" or spec == "SM2":
        raise UnsupportedOperationException(
            "The SM2 wrapping key spec and the SM2PKE wrapping algorithm are available only in "
            "AWS's China Regions, and Strongroom does not implement SM2. Use an RSA wrapping "
            "key spec with an RSAES_OAEP or RSA_AES_KEY_WRAP wrapping algorithm."
        )


def get_parameters_for_import(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    _check_wrapping(p)
    key = authorized_key(
        svc, caller, p["KeyId"], action="GetParametersForImport", allow_alias=False, params=p
    )
    require_origin(key, Origin.EXTERNAL)
    require_state(key, Action.GET_PARAMETERS_FOR_IMPORT)
    if key.key_spec.value not in key_import.IMPORTABLE_SPECS:
        raise UnsupportedOperationException(
            f"{key.arn} key spec is {key.key_spec.value}, which does not support imported key "
            "material."
        )
    algorithm, spec = p["WrappingAlgorithm"], p["WrappingKeySpec"]
    private_der, public_der = key_import.new_wrapping_key(spec, svc.key_pairs.take)
    valid_to = svc.clock.now() + key_import.TOKEN_LIFETIME_SECONDS
    params = key_import.ImportParameters(key.arn, algorithm, spec, valid_to, private_der)
    return {
        "KeyId": key.arn,
        "ImportToken": key_import.issue_token(svc.keystore, params),
        "PublicKey": public_der,
        "ParametersValidTo": valid_to,
    }


# -- ImportKeyMaterial ----------------------------------------------------------------------------


def _check_terms(p: Mapping[str, Any], now: float) -> tuple[str, float | None]:
    """The ExpirationModel (default KEY_MATERIAL_EXPIRES) and ValidTo, checked."""
    model = p.get("ExpirationModel", EXPIRES)
    valid_to = p.get("ValidTo")
    if model == EXPIRES:
        if valid_to is None:
            raise ValidationException(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
            )
        if valid_to <= now:
            raise ValidationException("ValidTo must be in the future")
        if valid_to > now + MAX_VALIDITY_SECONDS:
            raise ValidationException("ValidTo must be no more than 365 days from now")
        return model, float(valid_to)
    if valid_to is not None:
        raise ValidationException(
            "The parameter ValidTo cannot be specified for a key with an expiration model of "
            "KEY_MATERIAL_DOES_NOT_EXPIRE"
        )
    return model, None


def _check_options(key: KeyRecord, p: Mapping[str, Any]) -> None:
    """ImportType, KeyMaterialId and KeyMaterialDescription are for symmetric encryption keys;
    a KeyMaterialId names existing material, so it cannot come with NEW_KEY_MATERIAL."""
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        for member in ("ImportType", "KeyMaterialId", "KeyMaterialDescription"):
            if member in p:
                raise ValidationException(
                    f"{member} is valid only for symmetric encryption keys; {key.arn} is a "
                    f"{key.key_spec.value} key, which holds exactly one key material."
                )
    if p.get("ImportType") == NEW and "KeyMaterialId" in p:
        raise ValidationException(
            "KeyMaterialId cannot be specified when the ImportType is NEW_KEY_MATERIAL."
        )


def _open_token(svc: KmsService, key: KeyRecord, token: bytes) -> key_import.ImportParameters:
    try:
        params = key_import.open_token(svc.keystore, token)
    except ValueError:
        raise InvalidImportTokenException(_INVALID_WORDING) from None
    if params.key_arn != key.arn:
        raise InvalidImportTokenException(_INVALID_WORDING)
    if svc.clock.now() > params.valid_to:
        raise ExpiredImportTokenException(_EXPIRED_WORDING)
    return params


def _unwrap(params: key_import.ImportParameters, encrypted: bytes) -> bytes:
    try:
        return key_import.unwrap_key_material(
            params.private_der, params.wrapping_algorithm, encrypted
        )
    except key_import.EncryptedSizeError as error:
        raise ValidationException(str(error)) from None


def _incorrect(key: KeyRecord) -> IncorrectKeyMaterialException:
    return IncorrectKeyMaterialException(
        f"The key material is not the key material previously imported into {key.arn}. "
        "Import the same key material, or, to add new key material to a symmetric encryption "
        "key, set ImportType to NEW_KEY_MATERIAL."
    )


def _check_new(key: KeyRecord, rows: Sequence[MaterialRecord], material_id: str) -> None:
    """NEW_KEY_MATERIAL: the key's first material, or (symmetric keys only) material for an
    on-demand rotation; refused when the material is already the key's, on a multi-Region
    replica, and while other imported material waits for rotation."""
    if any(r.material_id == material_id for r in rows):
        raise IncorrectKeyMaterialException(
            f"The key material is already associated with {key.arn}: KMS expected new key "
            "material. To re-import it, set ImportType to EXISTING_KEY_MATERIAL."
        )
    if not rows:
        return
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise _incorrect(key)  # unreachable through _check_options; kept as the rule
    if key.is_replica:
        raise UnsupportedOperationException(
            f"{key.arn} is a multi-Region replica key. Import new key material into its "
            f"primary key (in {key.primary_region}) with ImportType NEW_KEY_MATERIAL, then the "
            "same key material into each replica with ImportType EXISTING_KEY_MATERIAL."
        )
    waiting = [r for r in rows if r.pending_rotation and r.wrapped is not None]
    if waiting:
        raise KMSInvalidStateException(
            f"New key material (id: {material_id}) cannot be imported into KMS key "
            f"{key.key_id}, because another key material (id: {waiting[0].material_id}) is "
            "pending rotation."
        )


def _store_new_row(svc: KmsService, key: KeyRecord, row: MaterialRecord, first: bool) -> KeyRecord:
    """Insert a new material row (for a multi-Region primary's NEW material, also a row
    without bytes in each replica); returns the key record to write."""
    svc.keys.insert_material(key.account, key.region, key.key_id, row)
    if not first and key.multi_region:
        for member in svc.keys.read.key_members(key.account, key.key_id):
            if member.region == key.region:
                continue
            try:
                svc.keys.insert_material(
                    member.account, member.region, member.key_id, _removed(row)
                )
            except DuplicateError:  # the replica has that material already
                continue
    if first:
        return dataclasses.replace(key, current_material_id=row.material_id)
    return key


def import_key_material(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    now = svc.clock.now()
    model, valid_to = _check_terms(p, now)
    # kms:ExpirationModel sees the default (KEY_MATERIAL_EXPIRES) when the request leaves it out.
    view = p if "ExpirationModel" in p else {**p, "ExpirationModel": model}
    key = authorized_key(
        svc, caller, p["KeyId"], action="ImportKeyMaterial", allow_alias=False, params=view
    )
    require_origin(key, Origin.EXTERNAL)
    require_state(key, Action.IMPORT_KEY_MATERIAL)
    _check_options(key, p)
    params = _open_token(svc, key, p["ImportToken"])
    unwrapped = _unwrap(params, p["EncryptedKeyMaterial"])
    try:
        material = key_import.check_material(key.key_spec.value, unwrapped)
    except key_import.MaterialError as error:
        raise IncorrectKeyMaterialException(str(error)) from None
    material_id = key_import.material_id(_material_id_key(svc), key.key_id, material)

    rows = svc.keys.read.get_materials(key.account, key.region, key.key_id)
    import_type = p.get("ImportType") or (NEW if not rows else EXISTING)
    wrapped = svc.keystore.import_material(key, material_id, material)
    terms: dict[str, Any] = {
        "wrapped": wrapped,
        "import_state": IMPORTED,
        "expiration_model": model,
        "valid_to": valid_to,
    }
    if "KeyMaterialDescription" in p:
        terms["description"] = p["KeyMaterialDescription"]
    if import_type == NEW:
        _check_new(key, rows, material_id)
        first = not rows
        row = MaterialRecord(
            key_id=key.key_id,
            material_id=material_id,
            created_at=now,
            pending_rotation=not first,
            **terms,
        )
        key = _store_new_row(svc, key, row, first)
        rows = [*rows, row]
    else:
        if "KeyMaterialId" in p and p["KeyMaterialId"] != material_id:
            raise IncorrectKeyMaterialException(
                f"The key material is not the key material {p['KeyMaterialId']} of {key.arn}."
            )
        existing = next((r for r in rows if r.material_id == material_id), None)
        if existing is None:
            raise _incorrect(key)
        row = dataclasses.replace(existing, **terms)
        svc.keys.update_material(key.account, key.region, row)
        rows = [row if r.material_id == material_id else r for r in rows]
    svc.keys.update_key(_settled(key, rows))
    log.info(
        "imported key material %s into %s (%s)",
        material_id,
        key.arn,
        "new" if import_type == NEW else "existing",
    )
    return _response(key, material_id)


# -- DeleteImportedKeyMaterial --------------------------------------------------------------------


def _clear_pending_in_replicas(svc: KmsService, key: KeyRecord, material_id: str) -> None:
    """A multi-Region primary's material pending rotation is deleted in every replica too."""
    for member in svc.keys.read.key_members(key.account, key.key_id):
        if member.region == key.region:
            continue
        for row in svc.keys.read.get_materials(member.account, member.region, member.key_id):
            if row.material_id == material_id and row.wrapped is not None:
                svc.keys.update_material(member.account, member.region, _removed(row))


def delete_imported_key_material(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="DeleteImportedKeyMaterial", allow_alias=False, params=p
    )
    require_origin(key, Origin.EXTERNAL)
    require_state(key, Action.DELETE_IMPORTED_KEY_MATERIAL)
    material_id = p.get("KeyMaterialId", key.current_material_id)
    rows = svc.keys.read.get_materials(key.account, key.region, key.key_id)
    row = next((r for r in rows if r.material_id == material_id), None)
    if row is None:
        if "KeyMaterialId" in p:
            raise NotFoundException(
                f"Key material {p['KeyMaterialId']} is not associated with {key.arn}."
            )
        return _response(key, None)  # nothing was ever imported: no effect
    if row.wrapped is not None:
        gone = _removed(row)
        svc.keys.update_material(key.account, key.region, gone)
        rows = [gone if r.material_id == row.material_id else r for r in rows]
        if row.pending_rotation and key.multi_region and not key.is_replica:
            _clear_pending_in_replicas(svc, key, row.material_id)
        svc.keys.update_key(_settled(key, rows))
        log.info("deleted imported key material %s of %s", row.material_id, key.arn)
    return _response(key, row.material_id)


# -- expiry (the scheduler) -----------------------------------------------------------------------


def _expiry_event(account: str, region: str, due: MaterialRecord, now: float) -> dict[str, Any]:
    return service_event(
        "DeleteExpiredKeyMaterial",
        account=account,
        region=region,
        key_arn=key_arn(partition_of(region), region, account, due.key_id),
        event_time=now,
        service_event_details={"keyId": due.key_id, "keyMaterialId": due.material_id},
    )


def expire_due_material(svc: KmsService) -> int:
    """Delete every imported material whose ValidTo has passed, and settle its key (to
    PendingImport, unless pending deletion). Safe in every worker at once: storage expires each
    material only for the call that still finds its bytes, which alone counts it and records
    its DeleteExpiredKeyMaterial service event. Returns how many materials this call expired."""
    now = svc.clock.now()
    expired = 0
    touched: dict[tuple[str, str, str], None] = {}
    for account, region, due in svc.keys.read.materials_due_to_expire(now):
        try:
            # Guarded in storage: only the call that still finds the bytes (and the old term)
            # expires and counts it; a re-import with a new term that landed first stands.
            if not svc.keys.expire_material(account, region, due.key_id, due.material_id, now):
                continue
            expired += 1
            touched[(account, region, due.key_id)] = None
            log.info("imported key material %s of key %s expired", due.material_id, due.key_id)
            svc.emit([_expiry_event(account, region, due, now)])
        except Exception:  # one material's failure must not hold back the others
            log.exception("expiring imported key material %s failed", due.material_id)
    for account, region, key_id in touched:
        key = svc.keys.get_key(account, region, key_id)
        if key is not None:
            rows = svc.keys.read.get_materials(account, region, key_id)
            svc.keys.update_key(_settled(key, rows))
    return expired
