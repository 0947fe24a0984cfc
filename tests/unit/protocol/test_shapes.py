"""Request validation from botocore's KMS model: typed results and AWS's exact error wording."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from strongroom.errors import SerializationException, UnknownOperationException, ValidationException
from strongroom.protocol.shapes import ServiceModel, java_regex, lower_camel

KMS = ServiceModel.load()
NOT_NULL = "failed to satisfy constraint: Member must not be null"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wire(body: object) -> object:
    """The body as the server sees it: encoded by a client, decoded by orjson."""
    return orjson.loads(orjson.dumps(body))


def invalid(operation: str, body: object) -> str:
    with pytest.raises(ValidationException) as caught:
        KMS.validate(operation, wire(body))
    assert caught.value.message is not None
    return caught.value.message


def malformed(operation: str, body: object) -> str | None:
    with pytest.raises(SerializationException) as caught:
        KMS.validate(operation, wire(body))
    return caught.value.message


# -- loading ---------------------------------------------------------------------------------------


def test_load_is_cached_and_knows_every_kms_operation() -> None:
    assert ServiceModel.load("kms") is KMS
    assert len(KMS.operation_names) == 56
    assert {"Encrypt", "Decrypt", "CreateGrant", "GenerateRandom"} <= KMS.operation_names


def test_unknown_operation() -> None:
    with pytest.raises(UnknownOperationException):
        KMS.validate("Frobnicate", {})


def test_lower_camel() -> None:
    assert lower_camel("NumberOfBytes") == "numberOfBytes"
    assert lower_camel("KeyId") == "keyId"


def test_java_regex_is_a_full_ascii_match() -> None:
    alias = java_regex("^[a-zA-Z0-9:/_-]+$")
    assert alias.fullmatch("alias/app_1-x")
    assert alias.fullmatch("alias/app\n") is None  # Java's matches() needs the whole input
    word = java_regex("[\\w]+")
    assert word.fullmatch("default")
    assert word.fullmatch("d\u00e9faut") is None  # Java's \w is ASCII
    assert java_regex("[\\u0020-\\u00FF]*").fullmatch("abc \u00ff")


# -- valid bodies ----------------------------------------------------------------------------------


def test_encrypt_decodes_blobs_and_keeps_modelled_members() -> None:
    body = {
        "KeyId": "alias/app",
        "Plaintext": b64(b"hello"),
        "EncryptionContext": {"purpose": "test", "tenant": "t1"},
        "GrantTokens": ["token-1"],
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DryRun": False,
        "Unknown": {"dropped": True},
    }
    result = KMS.validate("Encrypt", wire(body))
    assert result == {
        "KeyId": "alias/app",
        "Plaintext": b"hello",
        "EncryptionContext": {"purpose": "test", "tenant": "t1"},
        "GrantTokens": ["token-1"],
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DryRun": False,
    }


def test_null_is_absent_and_the_input_is_not_changed() -> None:
    body = wire({"KeyId": "k", "Plaintext": b64(b"x"), "EncryptionContext": None, "DryRun": None})
    assert KMS.validate("Encrypt", body) == {"KeyId": "k", "Plaintext": b"x"}
    assert body == {"KeyId": "k", "Plaintext": "eA==", "EncryptionContext": None, "DryRun": None}


def test_null_list_items_and_map_values_are_dropped() -> None:
    body = {
        "KeyId": "k",
        "Plaintext": "eA==",
        "GrantTokens": [None, "g"],
        "EncryptionContext": {"a": None},
    }
    result = KMS.validate("Encrypt", wire(body))
    assert result["GrantTokens"] == ["g"]
    assert result["EncryptionContext"] == {}


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        (
            "GenerateDataKey",
            {"KeyId": "k", "NumberOfBytes": 64},
            {"KeyId": "k", "NumberOfBytes": 64},
        ),
        (
            "GenerateDataKey",
            {"KeyId": "k", "KeySpec": "AES_256"},
            {"KeyId": "k", "KeySpec": "AES_256"},
        ),
        ("GenerateRandom", {}, {}),
        ("GenerateRandom", {"NumberOfBytes": 1024}, {"NumberOfBytes": 1024}),
        ("CreateAlias", {"AliasName": "alias/a", "TargetKeyId": "k"}, None),
        ("ScheduleKeyDeletion", {"KeyId": "k", "PendingWindowInDays": 7}, None),
        ("ListKeys", {"Limit": 1000, "Marker": "m"}, None),
        ("TagResource", {"KeyId": "k", "Tags": [{"TagKey": "a", "TagValue": ""}]}, None),
    ],
)
def test_valid_bodies_pass(operation: str, body: dict[str, Any], expected: object) -> None:
    assert KMS.validate(operation, wire(body)) == (body if expected is None else expected)


def test_create_key_with_everything() -> None:
    body = {
        "Policy": '{"Version": "2012-10-17"}',
        "Description": "",
        "KeyUsage": "SIGN_VERIFY",
        "KeySpec": "ECC_NIST_P256",
        "Origin": "AWS_KMS",
        "BypassPolicyLockoutSafetyCheck": True,
        "Tags": [{"TagKey": "team", "TagValue": "x"}, {"TagKey": "env", "TagValue": "dev"}],
        "MultiRegion": False,
    }
    assert KMS.validate("CreateKey", wire(body)) == body


def test_create_grant_constraints_are_converted_recursively() -> None:
    body = {
        "KeyId": "k",
        "GranteePrincipal": "arn:aws:iam::111122223333:role/app",
        "Operations": ["Decrypt", "Encrypt"],
        "Constraints": {"EncryptionContextSubset": {"dept": "it"}, "Other": 1},
        "Name": "grant:1",
    }
    result = KMS.validate("CreateGrant", wire(body))
    assert result["Constraints"] == {"EncryptionContextSubset": {"dept": "it"}}
    assert result["Operations"] == ["Decrypt", "Encrypt"]


def test_timestamps_are_float_epoch_seconds() -> None:
    body = {
        "KeyId": "k",
        "ImportToken": b64(b"t"),
        "EncryptedKeyMaterial": b64(b"m"),
        "ValidTo": 1604958290,
    }
    result = KMS.validate("ImportKeyMaterial", wire(body))
    assert result["ValidTo"] == 1604958290.0
    assert type(result["ValidTo"]) is float


def test_a_decimal_integer_is_truncated_as_coral_does() -> None:
    assert KMS.validate("GenerateRandom", {"NumberOfBytes": 32.9}) == {"NumberOfBytes": 32}


def test_strings_are_measured_in_characters() -> None:
    tag = {"TagKey": "\u00e9" * 128, "TagValue": "v"}
    assert KMS.validate("TagResource", wire({"KeyId": "k", "Tags": [tag]}))["Tags"] == [tag]


# -- constraint messages ---------------------------------------------------------------------------


def test_the_verbatim_aws_examples() -> None:
    assert invalid("GenerateRandom", {"NumberOfBytes": 0}) == (
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert invalid("GenerateRandom", {"NumberOfBytes": 1025}) == (
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value less than or equal to 1024"
    )
    assert invalid("Encrypt", {"KeyId": "k", "Plaintext": b64(bytes(4097))}) == (
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )


def test_enum_lists_the_model_values_in_model_order() -> None:
    # AWS's older recording reads [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]; the model
    # botocore 1.44.8 installs has five values, SIGN_VERIFY first.
    assert invalid("CreateKey", {"KeyUsage": "RANDOM"}) == (
        "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, "
        "KEY_AGREEMENT, ENCAPSULATE_DECAPSULATE]"
    )


def test_pattern_and_length_are_separate_violations_in_member_order() -> None:
    assert invalid("CreateAlias", {"AliasName": "", "TargetKeyId": "k"}) == (
        "2 validation errors detected: "
        "Value '' at 'aliasName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '' at 'aliasName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
    )
    assert invalid("CreateAlias", {"AliasName": "alias/a b", "TargetKeyId": "k"}) == (
        "1 validation error detected: Value 'alias/a b' at 'aliasName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
    )


def test_required_members_are_reported_in_model_order() -> None:
    assert invalid("Encrypt", {}) == (
        f"2 validation errors detected: Value null at 'keyId' {NOT_NULL}; "
        f"Value null at 'plaintext' {NOT_NULL}"
    )


def test_several_kinds_are_counted_and_joined() -> None:
    body = {"KeyId": "k" * 2049, "Plaintext": "", "NumberOfBytes": 0}
    message = invalid("Encrypt", body)
    assert message == (
        "2 validation errors detected: "
        f"Value '{'k' * 2049}' at 'keyId' failed to satisfy constraint: "
        "Member must have length less than or equal to 2048; "
        "Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_ranges_on_other_operations() -> None:
    assert invalid("ScheduleKeyDeletion", {"KeyId": "k", "PendingWindowInDays": 366}).endswith(
        "Value '366' at 'pendingWindowInDays' failed to satisfy constraint: "
        "Member must have value less than or equal to 365"
    )
    assert invalid("ListKeys", {"Limit": 0}) == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_list_items_have_one_based_member_paths() -> None:
    body = {"KeyId": "k", "Tags": [{"TagKey": "ok", "TagValue": "v"}, {"TagKey": ""}]}
    assert invalid("TagResource", body) == (
        "2 validation errors detected: "
        "Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        f"Value null at 'tags.2.member.tagValue' {NOT_NULL}"
    )


def test_a_list_of_scalars_reports_all_member_constraints_once() -> None:
    body = {"KeyId": "k", "Plaintext": "eA==", "GrantTokens": ["", "a", ""]}
    assert invalid("Encrypt", body) == (
        "1 validation error detected: Value '[, a, ]' at 'grantTokens' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or "
        "equal to 8192, Member must have length greater than or equal to 1]"
    )
    operations = {"KeyId": "k", "GranteePrincipal": "p", "Operations": ["Encrypt", "Fly"]}
    assert "at 'operations' failed to satisfy constraint: Member must satisfy constraint: " in (
        invalid("CreateGrant", operations)
    )


def test_list_length_renders_the_list() -> None:
    tokens = [f"t{n}" for n in range(11)]
    assert invalid("Encrypt", {"KeyId": "k", "Plaintext": "eA==", "GrantTokens": tokens}) == (
        f"1 validation error detected: Value '[{', '.join(tokens)}]' at 'grantTokens' failed to "
        "satisfy constraint: Member must have length less than or equal to 10"
    )


def test_nested_structure_path() -> None:
    body: dict[str, Any] = {"KeyId": "k", "GranteePrincipal": "p", "Operations": ["Encrypt"]}
    body["Constraints"] = {"SourceArn": "arn:nope"}
    message = invalid("CreateGrant", body)
    assert message.startswith(
        "2 validation errors detected: Value 'arn:nope' at 'constraints.sourceArn'"
    )
    assert "Member must have length greater than or equal to 20; Value 'arn:nope'" in message


def test_a_blob_is_rendered_as_java_prints_its_buffer() -> None:
    assert invalid("Decrypt", {"CiphertextBlob": ""}) == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]' at "
        "'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or "
        "equal to 1"
    )


def test_sensitive_values_never_appear() -> None:
    secret = b"correct horse battery staple" * 147  # 4116 bytes
    message = invalid("Encrypt", {"KeyId": "k", "Plaintext": b64(secret)})
    assert "horse" not in message
    assert b64(secret)[:16] not in message
    assert "Value at 'plaintext'" in message


def test_strings_over_the_limit_in_characters() -> None:
    body = {"KeyId": "k", "Tags": [{"TagKey": "\u00e9" * 129, "TagValue": "v"}]}
    assert invalid("TagResource", body).endswith(
        "at 'tags.1.member.tagKey' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )


# -- JSON type errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"NumberOfBytes": "32"}, "STRING_VALUE can not be converted to an Integer"),
        ({"NumberOfBytes": True}, "TRUE_VALUE can not be converted to an Integer"),
        ({"NumberOfBytes": [1]}, "Start of list found where not expected"),
        ({"NumberOfBytes": {}}, "Start of structure or map found where not expected."),
        ({"CustomKeyStoreId": 5}, "NUMBER_VALUE can not be converted to a String"),
        ({"CustomKeyStoreId": 5.5}, "NUMBER_VALUE can not be converted to a String"),
        ({"CustomKeyStoreId": False}, "FALSE_VALUE can not be converted to a String"),
        ({"Recipient": "x"}, "Expected null"),
        ({"Recipient": []}, "Start of list found where not expected"),
    ],
)
def test_wrong_json_types(body: dict[str, Any], message: str) -> None:
    assert malformed("GenerateRandom", body) == message


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("DryRun", 1, "NUMBER_VALUE can not be converted to a Boolean"),
        ("DryRun", "true", "STRING_VALUE can not be converted to a Boolean"),
        ("GrantTokens", "t", "Expected list or null"),
        ("GrantTokens", {"a": "b"}, "Start of structure or map found where not expected."),
        ("GrantTokens", [1], "NUMBER_VALUE can not be converted to a String"),
        ("EncryptionContext", "a=b", "Expected map or null"),
        ("EncryptionContext", [], "Start of list found where not expected"),
        ("EncryptionContext", {"a": 1}, "NUMBER_VALUE can not be converted to a String"),
        ("Plaintext", 12, "only base-64-encoded strings are convertible to bytes"),
        (
            "Plaintext",
            "abcde",
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        ("Plaintext", "ab$=", "Invalid Base64 character"),
        ("Plaintext", "ab c", "Invalid Base64 character"),
        ("Plaintext", "\u00e9\u00e9\u00e9\u00e9", "Invalid Base64 character"),
        ("Plaintext", "+/+=", "Invalid last non-pad Base64 character dectected"),
        ("Plaintext", "QR==", "Invalid last non-pad Base64 character dectected"),
    ],
)
def test_wrong_member_encodings(member: str, value: object, message: str) -> None:
    body = {"KeyId": "k", "Plaintext": "eA==", member: value}
    assert malformed("Encrypt", body) == message


def test_a_string_timestamp_is_rejected() -> None:
    body = {"KeyId": "k", "ImportToken": "eA==", "EncryptedKeyMaterial": "eA==", "ValidTo": "2030"}
    assert malformed("ImportKeyMaterial", body) == "STRING_VALUE can not be converted to a Date"


@pytest.mark.parametrize(
    ("body", "message"),
    [([], "Start of list found where not expected"), ("x", None), (None, None), (3, None)],
)
def test_the_body_must_be_an_object(body: object, message: str | None) -> None:
    assert malformed("ListKeys", body) == message


def test_a_type_error_wins_over_constraint_violations() -> None:
    assert malformed("Encrypt", {"KeyId": "", "DryRun": "yes"}) == (
        "STRING_VALUE can not be converted to a Boolean"
    )


# -- shapes KMS does not use today (a synthetic model) ---------------------------------------------

SYNTHETIC: dict[str, Any] = {
    "operations": {"Op": {"name": "Op", "input": {"shape": "OpRequest"}}, "Bare": {"name": "Bare"}},
    "shapes": {
        "OpRequest": {
            "type": "structure",
            "members": {
                "Labels": {"shape": "Labels"},
                "Count": {"shape": "Count"},
                "Ratio": {"shape": "Ratio"},
            },
        },
        "Labels": {"type": "map", "key": {"shape": "Key"}, "value": {"shape": "Value"}, "max": 2},
        "Key": {"type": "string", "min": 1, "max": 3},
        "Value": {"type": "string", "enum": ["x", "y"]},
        "Count": {"type": "long", "min": 0, "max": 10},
        "Ratio": {"type": "double", "min": 0, "max": 1},
    },
}


def test_map_keys_and_values_are_reported_once_each() -> None:
    model = ServiceModel(SYNTHETIC)
    with pytest.raises(ValidationException) as caught:
        model.validate("Op", {"Labels": {"long": "z", "ok": "x", "k": "x"}})
    assert caught.value.message == (
        "3 validation errors detected: "
        "Value '{long=z, ok=x, k=x}' at 'labels' failed to satisfy constraint: "
        "Member must have length less than or equal to 2; "
        "Value '{long=z, ok=x, k=x}' at 'labels' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 3, Member must have "
        "length greater than or equal to 1]; "
        "Value '{long=z, ok=x, k=x}' at 'labels' failed to satisfy constraint: Map value must "
        "satisfy constraint: [Member must satisfy enum value set: [x, y]]"
    )


def test_long_and_double() -> None:
    model = ServiceModel(SYNTHETIC)
    assert model.validate("Op", {"Count": 3, "Ratio": 1}) == {"Count": 3, "Ratio": 1.0}
    assert model.validate("Bare", {"x": 1}) == {}
    with pytest.raises(SerializationException, match="STRING_VALUE can not be converted to a Long"):
        model.validate("Op", {"Count": "3"})
    with pytest.raises(
        ValidationException, match=r"Member must have value less than or equal to 1\.0$"
    ):
        model.validate("Op", {"Ratio": 1.5})


def test_a_recursive_shape_is_refused_at_load() -> None:
    shapes = {"R": {"type": "structure", "members": {"Self": {"shape": "R"}}}}
    with pytest.raises(ValueError, match="recursive"):
        ServiceModel({"operations": {"Op": {"input": {"shape": "R"}}}, "shapes": shapes})


def test_a_member_holding_a_sensitive_value_at_any_depth_is_hidden_whole() -> None:
    """XKS's authentication credential is a structure whose RawSecretAccessKey is sensitive: the
    whole member is hidden, so no record or log line can hold the secret (it once reached the
    request log's line for CreateCustomKeyStore)."""
    model = ServiceModel.load("kms")
    for operation in ("CreateCustomKeyStore", "UpdateCustomKeyStore"):
        assert "XksProxyAuthenticationCredential" in model.hidden_members(operation)
    assert model.hidden_members("Decrypt") >= {"CiphertextBlob", "Recipient"}
    assert "EncryptionContext" not in model.hidden_members("Encrypt")
