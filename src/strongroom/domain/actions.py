"""The table of KMS actions: what each one is, written once and read everywhere.

An :class:`Action` is a KMS API operation, or one of the two permissions ReEncrypt is checked
against (``kms:ReEncryptFrom``, ``kms:ReEncryptTo``). Its :class:`Traits` say whether it is a
cryptographic operation, whether it can ever work across accounts, whether a grant can allow it,
whether it carries an encryption context (so grant constraints apply), what governs it (the key's
policy or identity policies alone), which key states allow it, and which request members a
policy sees defaulted when they are left out. Sources: AWS's KMS developer guide and API
reference, as summarised in kms-spec.md sections 5.2, 6.2, 6.3, 7.1 and 9 and kms-operations.tsv.

The key-state table (:data:`KEY_STATES`) is data too: for each :class:`StateRule`, the states it
refuses and how (``kms/states.py`` turns a refusal into AWS's error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from types import MappingProxyType

from strongroom.domain.keys import KeyState

__all__ = [
    "KEY_STATES",
    "Action",
    "Governed",
    "Refusal",
    "StateRule",
    "Traits",
    "action_named",
]


class StateRule(Enum):
    """The key states an action accepts (kms-spec.md 5.2), by the kind of action."""

    ANY = "any"  # DescribeKey, GetKeyPolicy, ListResourceTags, ... (every state)
    CRYPTO = "crypto"  # Encrypt, Decrypt, Sign, GetPublicKey, CreateGrant, rotation ...
    MUTATE = "mutate"  # CreateAlias, UpdateAlias, TagResource, UntagResource, descriptions
    ENABLE_DISABLE = "enable_disable"
    SCHEDULE_DELETION = "schedule_deletion"
    CANCEL_DELETION = "cancel_deletion"
    # ReplicateKey, UpdatePrimaryRegion: an Enabled key only (a replica is made, and the primary
    # Region moves, at once, so the transient Creating and Updating states never occur here).
    MULTI_REGION = "multi_region"
    IMPORT_PARAMETERS = "import_parameters"  # GetParametersForImport
    IMPORT = "import"  # ImportKeyMaterial
    DELETE_IMPORTED = "delete_imported"  # DeleteImportedKeyMaterial


class Refusal(Enum):
    """How a state refuses an action."""

    DISABLED = "disabled"  # DisabledException: "<arn> is disabled."
    INVALID = "invalid"  # KMSInvalidStateException: "<arn> is pending deletion." ...
    NOT_PENDING_DELETION = "not_pending_deletion"  # CancelKeyDeletion of a key not pending it


_S = KeyState
_PENDING_DELETION = (_S.PENDING_DELETION, _S.PENDING_REPLICA_DELETION)


def _refuse(refusal: Refusal, *states: KeyState) -> dict[KeyState, Refusal]:
    return dict.fromkeys(states, refusal)


_INVALID, _DISABLED = Refusal.INVALID, Refusal.DISABLED

# For each rule, the states that refuse and how; every state not named is allowed.
KEY_STATES: Mapping[StateRule, Mapping[KeyState, Refusal]] = MappingProxyType(
    {
        StateRule.ANY: {},
        StateRule.CRYPTO: {
            _S.DISABLED: _DISABLED,
            **_refuse(_INVALID, *_PENDING_DELETION, _S.PENDING_IMPORT, _S.UNAVAILABLE),
            _S.CREATING: _INVALID,
        },
        StateRule.MUTATE: _refuse(_INVALID, *_PENDING_DELETION),
        StateRule.ENABLE_DISABLE: _refuse(
            _INVALID, *_PENDING_DELETION, _S.PENDING_IMPORT, _S.CREATING, _S.UPDATING
        ),
        StateRule.SCHEDULE_DELETION: _refuse(_INVALID, *_PENDING_DELETION, _S.UPDATING),
        StateRule.CANCEL_DELETION: _refuse(
            Refusal.NOT_PENDING_DELETION, *(s for s in KeyState if s not in _PENDING_DELETION)
        ),
        StateRule.MULTI_REGION: {
            _S.DISABLED: _DISABLED,
            **_refuse(_INVALID, *(s for s in KeyState if s not in (_S.ENABLED, _S.DISABLED))),
        },
        StateRule.IMPORT_PARAMETERS: _refuse(
            _INVALID, *_PENDING_DELETION, _S.UNAVAILABLE, _S.CREATING, _S.UPDATING
        ),
        StateRule.IMPORT: _refuse(_INVALID, *_PENDING_DELETION, _S.UNAVAILABLE, _S.CREATING),
        StateRule.DELETE_IMPORTED: _refuse(_INVALID, _S.UNAVAILABLE, _S.CREATING, _S.UPDATING),
    }
)


class Governed(Enum):
    """What decides whether a caller may take the action (kms-spec.md 6.3)."""

    KEY = "key"  # the key policy (and identity policies where it delegates), then grants
    ACCOUNT = "account"  # identity policies alone: there is no key yet, or the action is global


@dataclass(frozen=True, slots=True)
class Traits:
    cryptographic: bool = False  # a cryptographic operation, not a management one
    cross_account: bool = False  # can ever be allowed on another account's key
    grantable: bool = False  # may be listed in a grant's Operations
    context: bool = False  # carries an encryption context: grant constraints apply
    governed: Governed = Governed.KEY
    states: StateRule = StateRule.ANY
    # Request members a policy sees with this value when the request leaves them out (7.1).
    defaults: Mapping[str, str] = field(default_factory=dict)
    permission_only: bool = False  # a permission, not an operation (kms:ReEncryptFrom, ...)


_ENC_DEFAULT = MappingProxyType({"EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
_RAW = MappingProxyType({"MessageType": "RAW"})


def _crypto(*, context: bool = False, defaults: Mapping[str, str] | None = None) -> Traits:
    """A cryptographic operation on a key: cross-account and grantable, Enabled keys only."""
    return Traits(
        cryptographic=True,
        cross_account=True,
        grantable=True,
        context=context,
        states=StateRule.CRYPTO,
        defaults=defaults or {},
    )


_ENCRYPTING = _crypto(context=True, defaults=_ENC_DEFAULT)
_MANAGE = Traits()
_MUTATE = Traits(states=StateRule.MUTATE)
_ACCOUNT = Traits(governed=Governed.ACCOUNT)


class Action(StrEnum):
    """A KMS action as policies name it after ``kms:``; :attr:`traits` says what it is."""

    CANCEL_KEY_DELETION = "CancelKeyDeletion"
    CONNECT_CUSTOM_KEY_STORE = "ConnectCustomKeyStore"
    CREATE_ALIAS = "CreateAlias"
    CREATE_CUSTOM_KEY_STORE = "CreateCustomKeyStore"
    CREATE_GRANT = "CreateGrant"
    CREATE_KEY = "CreateKey"
    DECAPSULATE = "Decapsulate"
    DECRYPT = "Decrypt"
    DELETE_ALIAS = "DeleteAlias"
    DELETE_CUSTOM_KEY_STORE = "DeleteCustomKeyStore"
    DELETE_IMPORTED_KEY_MATERIAL = "DeleteImportedKeyMaterial"
    DERIVE_SHARED_SECRET = "DeriveSharedSecret"  # noqa: S105 - an action name, not a secret
    DESCRIBE_CUSTOM_KEY_STORES = "DescribeCustomKeyStores"
    DESCRIBE_KEY = "DescribeKey"
    DISABLE_KEY = "DisableKey"
    DISABLE_KEY_ROTATION = "DisableKeyRotation"
    DISCONNECT_CUSTOM_KEY_STORE = "DisconnectCustomKeyStore"
    ENABLE_KEY = "EnableKey"
    ENABLE_KEY_ROTATION = "EnableKeyRotation"
    ENCAPSULATE = "Encapsulate"
    ENCRYPT = "Encrypt"
    GENERATE_DATA_KEY = "GenerateDataKey"
    GENERATE_DATA_KEY_PAIR = "GenerateDataKeyPair"
    GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT = "GenerateDataKeyPairWithoutPlaintext"
    GENERATE_DATA_KEY_WITHOUT_PLAINTEXT = "GenerateDataKeyWithoutPlaintext"
    GENERATE_MAC = "GenerateMac"
    GENERATE_RANDOM = "GenerateRandom"
    GET_KEY_LAST_USAGE = "GetKeyLastUsage"
    GET_KEY_POLICY = "GetKeyPolicy"
    GET_KEY_ROTATION_STATUS = "GetKeyRotationStatus"
    GET_PARAMETERS_FOR_IMPORT = "GetParametersForImport"
    GET_PUBLIC_KEY = "GetPublicKey"
    IMPORT_KEY_MATERIAL = "ImportKeyMaterial"
    LIST_ALIASES = "ListAliases"
    LIST_GRANTS = "ListGrants"
    LIST_KEY_POLICIES = "ListKeyPolicies"
    LIST_KEY_ROTATIONS = "ListKeyRotations"
    LIST_KEYS = "ListKeys"
    LIST_RESOURCE_TAGS = "ListResourceTags"
    LIST_RETIRABLE_GRANTS = "ListRetirableGrants"
    PUT_KEY_POLICY = "PutKeyPolicy"
    RE_ENCRYPT = "ReEncrypt"
    RE_ENCRYPT_FROM = "ReEncryptFrom"
    RE_ENCRYPT_TO = "ReEncryptTo"
    REPLICATE_KEY = "ReplicateKey"
    RETIRE_GRANT = "RetireGrant"
    REVOKE_GRANT = "RevokeGrant"
    ROTATE_KEY_ON_DEMAND = "RotateKeyOnDemand"
    SCHEDULE_KEY_DELETION = "ScheduleKeyDeletion"
    SIGN = "Sign"
    TAG_RESOURCE = "TagResource"
    UNTAG_RESOURCE = "UntagResource"
    UPDATE_ALIAS = "UpdateAlias"
    UPDATE_CUSTOM_KEY_STORE = "UpdateCustomKeyStore"
    UPDATE_KEY_DESCRIPTION = "UpdateKeyDescription"
    UPDATE_PRIMARY_REGION = "UpdatePrimaryRegion"
    VERIFY = "Verify"
    VERIFY_MAC = "VerifyMac"

    @property
    def traits(self) -> Traits:
        return _TRAITS[self]

    @property
    def permission(self) -> str:
        """The action as a policy names it: ``kms:Encrypt``."""
        return f"kms:{self.value}"


A = Action
_TRAITS: Mapping[Action, Traits] = MappingProxyType(
    {
        A.CANCEL_KEY_DELETION: Traits(states=StateRule.CANCEL_DELETION),
        A.CONNECT_CUSTOM_KEY_STORE: _ACCOUNT,
        A.CREATE_ALIAS: _MUTATE,
        A.CREATE_CUSTOM_KEY_STORE: _ACCOUNT,
        A.CREATE_GRANT: Traits(cross_account=True, grantable=True, states=StateRule.CRYPTO),
        A.CREATE_KEY: _ACCOUNT,
        A.DECAPSULATE: _crypto(),
        A.DECRYPT: _ENCRYPTING,
        A.DELETE_ALIAS: _MANAGE,
        A.DELETE_CUSTOM_KEY_STORE: _ACCOUNT,
        A.DELETE_IMPORTED_KEY_MATERIAL: Traits(states=StateRule.DELETE_IMPORTED),
        A.DERIVE_SHARED_SECRET: _crypto(),
        A.DESCRIBE_CUSTOM_KEY_STORES: _ACCOUNT,
        A.DESCRIBE_KEY: Traits(cross_account=True, grantable=True),
        A.DISABLE_KEY: Traits(states=StateRule.ENABLE_DISABLE),
        A.DISABLE_KEY_ROTATION: Traits(states=StateRule.CRYPTO),
        A.DISCONNECT_CUSTOM_KEY_STORE: _ACCOUNT,
        A.ENABLE_KEY: Traits(states=StateRule.ENABLE_DISABLE),
        A.ENABLE_KEY_ROTATION: Traits(states=StateRule.CRYPTO),
        A.ENCAPSULATE: _crypto(),
        A.ENCRYPT: _ENCRYPTING,
        A.GENERATE_DATA_KEY: _ENCRYPTING,
        A.GENERATE_DATA_KEY_PAIR: _ENCRYPTING,
        A.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT: _ENCRYPTING,
        A.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT: _ENCRYPTING,
        A.GENERATE_MAC: _crypto(),
        A.GENERATE_RANDOM: Traits(cryptographic=True, governed=Governed.ACCOUNT),
        A.GET_KEY_LAST_USAGE: _MANAGE,
        A.GET_KEY_POLICY: _MANAGE,
        A.GET_KEY_ROTATION_STATUS: Traits(cross_account=True),
        A.GET_PARAMETERS_FOR_IMPORT: Traits(states=StateRule.IMPORT_PARAMETERS),
        A.GET_PUBLIC_KEY: Traits(cross_account=True, grantable=True, states=StateRule.CRYPTO),
        A.IMPORT_KEY_MATERIAL: Traits(states=StateRule.IMPORT),
        A.LIST_ALIASES: _ACCOUNT,
        A.LIST_GRANTS: Traits(cross_account=True),
        A.LIST_KEY_POLICIES: _MANAGE,
        A.LIST_KEY_ROTATIONS: _MANAGE,
        A.LIST_KEYS: _ACCOUNT,
        A.LIST_RESOURCE_TAGS: _MANAGE,
        A.LIST_RETIRABLE_GRANTS: _ACCOUNT,
        A.PUT_KEY_POLICY: _MANAGE,
        # ReEncrypt is authorized as ReEncryptFrom on the source and ReEncryptTo on the target.
        A.RE_ENCRYPT: Traits(
            cryptographic=True, cross_account=True, context=True, states=StateRule.CRYPTO
        ),
        A.RE_ENCRYPT_FROM: replace(_ENCRYPTING, permission_only=True),
        A.RE_ENCRYPT_TO: replace(_ENCRYPTING, permission_only=True),
        A.REPLICATE_KEY: Traits(states=StateRule.MULTI_REGION),
        A.RETIRE_GRANT: Traits(cross_account=True, grantable=True),
        A.REVOKE_GRANT: Traits(cross_account=True),
        A.ROTATE_KEY_ON_DEMAND: Traits(states=StateRule.CRYPTO),
        A.SCHEDULE_KEY_DELETION: Traits(states=StateRule.SCHEDULE_DELETION),
        A.SIGN: _crypto(defaults=_RAW),
        A.TAG_RESOURCE: _MUTATE,
        A.UNTAG_RESOURCE: _MUTATE,
        A.UPDATE_ALIAS: _MUTATE,
        A.UPDATE_CUSTOM_KEY_STORE: _ACCOUNT,
        A.UPDATE_KEY_DESCRIPTION: _MUTATE,
        A.UPDATE_PRIMARY_REGION: Traits(states=StateRule.MULTI_REGION),
        A.VERIFY: _crypto(defaults=_RAW),
        A.VERIFY_MAC: _crypto(),
    }
)


def action_named(permission: str) -> Action | None:
    """The action a policy's ``kms:X`` (or a bare ``X``) names; None for anything else."""
    name = permission.removeprefix("kms:")
    try:
        return Action(name)
    except ValueError:
        return None
