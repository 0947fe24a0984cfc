"""The action table against botocore's KMS model and AWS's documented traits."""

from __future__ import annotations

from botocore.loaders import Loader

from strongroom.domain.actions import KEY_STATES, Action, Governed, Refusal, StateRule, action_named
from strongroom.domain.keys import KeyState

MODEL = Loader().load_service_model("kms", "service-2")
S = KeyState


def test_every_operation_of_the_model_is_an_action_and_back() -> None:
    operations = {a.value for a in Action if not a.traits.permission_only}
    assert operations == set(MODEL["operations"])
    assert {a.value for a in Action if a.traits.permission_only} == {"ReEncryptFrom", "ReEncryptTo"}


def test_grantable_actions_are_the_models_grant_operations() -> None:
    grantable = {a.value for a in Action if a.traits.grantable}
    assert grantable == set(MODEL["shapes"]["GrantOperation"]["enum"])


def test_only_these_actions_work_across_accounts() -> None:
    """kms-operations.tsv's CrossAccount column, plus the two permissions ReEncrypt checks."""
    assert {a.value for a in Action if a.traits.cross_account} == {
        "CreateGrant", "Decapsulate", "Decrypt", "DeriveSharedSecret", "DescribeKey",
        "Encapsulate", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
        "GetKeyRotationStatus", "GetPublicKey", "ListGrants", "ReEncrypt", "ReEncryptFrom",
        "ReEncryptTo", "RetireGrant", "RevokeGrant", "Sign", "Verify", "VerifyMac",
    }  # fmt: skip


def test_account_actions_are_governed_by_identity_policies_alone() -> None:
    assert {a.value for a in Action if a.traits.governed is Governed.ACCOUNT} == {
        "CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants",
        "ConnectCustomKeyStore", "CreateCustomKeyStore", "DeleteCustomKeyStore",
        "DescribeCustomKeyStores", "DisconnectCustomKeyStore", "UpdateCustomKeyStore",
    }  # fmt: skip


def test_context_actions_and_defaults() -> None:
    context = {a.value for a in Action if a.traits.context}
    assert context == {
        "Encrypt", "Decrypt", "ReEncrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }  # fmt: skip
    assert Action.SIGN.traits.defaults == {"MessageType": "RAW"}
    assert Action.ENCRYPT.traits.defaults == {"EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert Action.RE_ENCRYPT_FROM.traits.defaults == {"EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert Action.DESCRIBE_KEY.traits.defaults == {}


def test_the_key_state_table() -> None:
    """kms-spec.md 5.2, rule by rule: the states each refuses (all others allow)."""
    every = set(KeyState)
    pending = {S.PENDING_DELETION, S.PENDING_REPLICA_DELETION}
    invalid = Refusal.INVALID
    expected = {
        StateRule.ANY: {},
        StateRule.CRYPTO: {
            S.DISABLED: Refusal.DISABLED,
            **dict.fromkeys(pending | {S.PENDING_IMPORT, S.UNAVAILABLE, S.CREATING}, invalid),
        },
        StateRule.MUTATE: dict.fromkeys(pending, invalid),
        StateRule.ENABLE_DISABLE: dict.fromkeys(
            pending | {S.PENDING_IMPORT, S.CREATING, S.UPDATING}, invalid
        ),
        StateRule.SCHEDULE_DELETION: dict.fromkeys(pending | {S.UPDATING}, invalid),
        StateRule.CANCEL_DELETION: dict.fromkeys(every - pending, Refusal.NOT_PENDING_DELETION),
        StateRule.MULTI_REGION: {
            S.DISABLED: Refusal.DISABLED,
            **dict.fromkeys(every - {S.ENABLED, S.DISABLED}, invalid),
        },
        StateRule.IMPORT_PARAMETERS: dict.fromkeys(
            pending | {S.UNAVAILABLE, S.CREATING, S.UPDATING}, invalid
        ),
        StateRule.IMPORT: dict.fromkeys(pending | {S.UNAVAILABLE, S.CREATING}, invalid),
        StateRule.DELETE_IMPORTED: dict.fromkeys({S.UNAVAILABLE, S.CREATING, S.UPDATING}, invalid),
    }
    assert {rule: dict(states) for rule, states in KEY_STATES.items()} == expected
    assert set(KEY_STATES) == set(StateRule)


def test_every_cryptographic_key_action_takes_enabled_keys_only() -> None:
    for action in Action:
        traits = action.traits
        if traits.cryptographic and traits.governed is Governed.KEY:
            assert traits.states is StateRule.CRYPTO, action


def test_action_named() -> None:
    assert action_named("kms:Encrypt") is Action.ENCRYPT
    assert action_named("Encrypt") is Action.ENCRYPT
    assert action_named("kms:Nope") is None
    assert Action.ENCRYPT.permission == "kms:Encrypt"
