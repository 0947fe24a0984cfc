"""The key spec table against the botocore model and AWS's documented combinations."""

from __future__ import annotations

import botocore.session
import pytest

from strongroom.crypto import keyspecs

MODEL = botocore.session.get_session().get_service_model("kms")


def _enum(shape: str) -> set[str]:
    return set(MODEL.shape_for(shape).enum)


def test_every_model_key_spec_and_usage_is_in_the_table() -> None:
    for spec in _enum("KeySpec"):
        assert keyspecs.usages(spec), spec
        assert set(keyspecs.usages(spec)) <= _enum("KeyUsageType")


@pytest.mark.parametrize(
    ("usage", "shape"),
    [
        ("ENCRYPT_DECRYPT", "EncryptionAlgorithmSpec"),
        ("SIGN_VERIFY", "SigningAlgorithmSpec"),
        ("GENERATE_VERIFY_MAC", "MacAlgorithmSpec"),
        ("KEY_AGREEMENT", "KeyAgreementAlgorithmSpec"),
        ("ENCAPSULATE_DECAPSULATE", "EncapsulationAlgorithmSpec"),
    ],
)
def test_every_algorithm_is_a_model_algorithm_of_its_usage(usage: str, shape: str) -> None:
    named = {a for spec in _enum("KeySpec") for a in keyspecs.algorithms(spec, usage)}
    assert named == _enum(shape)


def test_data_key_pair_specs_are_the_model_s() -> None:
    assert set(keyspecs.DATA_KEY_PAIR_SPECS) == _enum("DataKeyPairSpec")


def test_aws_combinations() -> None:
    assert keyspecs.usages("RSA_3072") == ("ENCRYPT_DECRYPT", "SIGN_VERIFY")
    assert keyspecs.usages("ECC_NIST_P384") == ("SIGN_VERIFY", "KEY_AGREEMENT")
    assert keyspecs.usages("ECC_SECG_P256K1") == ("SIGN_VERIFY",)
    assert keyspecs.algorithms("ECC_NIST_P521", "SIGN_VERIFY") == ("ECDSA_SHA_512",)
    assert keyspecs.algorithms("ECC_NIST_P521", "ENCRYPT_DECRYPT") == ()
    assert keyspecs.algorithms("HMAC_384", "GENERATE_VERIFY_MAC") == ("HMAC_SHA_384",)
    assert keyspecs.algorithms("RSA_2048", "ENCRYPT_DECRYPT") == (
        "RSAES_OAEP_SHA_1",
        "RSAES_OAEP_SHA_256",
    )
    assert keyspecs.usages("NOT_A_SPEC") == ()


def test_asymmetric_specs() -> None:
    assert not keyspecs.is_asymmetric("SYMMETRIC_DEFAULT")
    assert not keyspecs.is_asymmetric("HMAC_256")
    assert all(keyspecs.is_asymmetric(spec) for spec in keyspecs.DATA_KEY_PAIR_SPECS)
    assert keyspecs.is_asymmetric("ML_DSA_65")


def test_unsupported_entries_name_real_specs_and_algorithms() -> None:
    assert set(keyspecs.UNSUPPORTED_SPECS) <= _enum("KeySpec")
    assert set(keyspecs.UNSUPPORTED_ALGORITHMS) <= _enum("SigningAlgorithmSpec")
