"""KMS keys: their enumerations and records (keys, material versions, aliases, grants, and what
a rotation writes).

Records are frozen; a change is a new record written through storage, so a failed write leaves
memory as it was. Enumerations persist as their string values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AliasRecord",
    "GrantRecord",
    "KeyManager",
    "KeyRecord",
    "KeySpec",
    "KeyState",
    "KeyUsage",
    "MaterialRecord",
    "Origin",
    "Rotation",
    "key_arn",
]


class KeyState(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"
    PENDING_REPLICA_DELETION = "PendingReplicaDeletion"
    PENDING_IMPORT = "PendingImport"
    UNAVAILABLE = "Unavailable"
    CREATING = "Creating"
    UPDATING = "Updating"


class KeySpec(StrEnum):
    SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
    HMAC_224 = "HMAC_224"
    HMAC_256 = "HMAC_256"
    HMAC_384 = "HMAC_384"
    HMAC_512 = "HMAC_512"
    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    ECC_NIST_P256 = "ECC_NIST_P256"
    ECC_NIST_P384 = "ECC_NIST_P384"
    ECC_NIST_P521 = "ECC_NIST_P521"
    ECC_SECG_P256K1 = "ECC_SECG_P256K1"
    ECC_NIST_EDWARDS25519 = "ECC_NIST_EDWARDS25519"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"
    ML_KEM_512 = "ML_KEM_512"
    ML_KEM_768 = "ML_KEM_768"
    ML_KEM_1024 = "ML_KEM_1024"
    SM2 = "SM2"

    @property
    def mac_algorithm(self) -> str | None:
        """The one MAC algorithm of an HMAC spec (kms-spec.md 4.2), ``None`` for other specs."""
        if self.value.startswith("HMAC_"):
            return f"HMAC_SHA_{self.value[5:]}"
        return None


class KeyUsage(StrEnum):
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
    SIGN_VERIFY = "SIGN_VERIFY"
    GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
    KEY_AGREEMENT = "KEY_AGREEMENT"
    ENCAPSULATE_DECAPSULATE = "ENCAPSULATE_DECAPSULATE"


class Origin(StrEnum):
    AWS_KMS = "AWS_KMS"
    EXTERNAL = "EXTERNAL"
    AWS_CLOUDHSM = "AWS_CLOUDHSM"
    EXTERNAL_KEY_STORE = "EXTERNAL_KEY_STORE"


class KeyManager(StrEnum):
    CUSTOMER = "CUSTOMER"
    AWS = "AWS"


def key_arn(partition: str, region: str, account: str, key_id: str) -> str:
    return f"arn:{partition}:kms:{region}:{account}:key/{key_id}"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One KMS key in one account and region. ``policy`` is the stored key policy text."""

    account: str
    region: str
    key_id: str
    arn: str
    created_at: float
    state: KeyState
    description: str
    key_spec: KeySpec
    key_usage: KeyUsage
    origin: Origin
    key_manager: KeyManager
    policy: str
    current_material_id: str | None
    deletion_date: float | None = None
    pending_window_days: int | None = None
    multi_region: bool = False
    # Automatic rotation: on when ``rotation_period_days`` is set (kms-spec.md section 10).
    rotation_period_days: int | None = None
    next_rotation_date: float | None = None
    # Multi-Region keys: the primary's region, the same in every member (section 14).
    primary_region: str | None = None
    # Imported material (Origin EXTERNAL): the current material's terms (section 11).
    expiration_model: str | None = None
    valid_to: float | None = None

    @property
    def is_replica(self) -> bool:
        """A replica of a multi-Region key (its primary is in another Region)."""
        return self.multi_region and self.primary_region not in (None, self.region)

    @property
    def is_primary(self) -> bool:
        """The primary key of a multi-Region key (a single-Region key is neither)."""
        return self.multi_region and not self.is_replica


@dataclass(frozen=True, slots=True)
class MaterialRecord:
    """One version of a key's material, wrapped by the key store; never stored in the clear."""

    key_id: str
    material_id: str  # 64 lower-case hex
    wrapped: bytes | None  # None: imported material that was deleted or expired
    created_at: float
    rotation_type: str | None = None  # AUTOMATIC or ON_DEMAND; None for the first material
    import_state: str | None = None  # IMPORTED or PENDING_IMPORT (Origin EXTERNAL only)
    expiration_model: str | None = None  # KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE
    valid_to: float | None = None
    description: str | None = None  # KeyMaterialDescription
    pending_rotation: bool = False  # imported NEW material awaiting RotateKeyOnDemand
    rotated_at: float | None = None  # when it became current by a rotation


@dataclass(frozen=True, slots=True)
class Rotation:
    """What one rotation writes, all or nothing: every Region's key with its new material fields
    (current material id, rotation schedule, expiry terms) and the material version it inserts
    (None when the version is stored already); ``material_updates``, existing versions to write
    again, as ``(account, region, material)``. It applies only while every key's stored current
    material is still ``expected_material_id``."""

    updates: Sequence[tuple[KeyRecord, MaterialRecord | None]]
    expected_material_id: str | None
    material_updates: Sequence[tuple[str, str, MaterialRecord]] = ()


@dataclass(frozen=True, slots=True)
class AliasRecord:
    account: str
    region: str
    name: str  # "alias/..."
    target_key_id: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant on a key (kms-spec.md section 9): allow-only permission for a grantee principal to
    use the key for ``operations``, under optional encryption-context constraints."""

    account: str  # the key's account
    region: str
    key_id: str
    grant_id: str  # 64 lower-case hex
    name: str | None  # CreateGrant's Name (idempotency)
    grantee_principal: str  # an ARN (or a service principal name)
    retiring_principal: str | None
    operations: tuple[str, ...]  # e.g. ("Decrypt", "Encrypt")
    context_equals: dict[str, str] | None  # Constraints.EncryptionContextEquals
    context_subset: dict[str, str] | None  # Constraints.EncryptionContextSubset
    issuing_account: str  # arn:aws:iam::A:root of the account that created the grant
    created_at: float
    for_aws_resource: bool = False  # created by an integrated service (kms:GrantIsForAWSResource)
