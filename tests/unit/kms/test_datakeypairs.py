"""GenerateDataKeyPair(+WithoutPlaintext) on a real service (SQLite, software keys): the pair and
its sealing, the errors, DryRun, and what policies and grants see (kms:DataKeyPairSpec,
kms:EncryptionAlgorithm, encryption-context constraints)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strongroom.crypto.asymmetric import load_private_key, public_der_of, spec_of
from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import (
    AccessDeniedException,
    DryRunOperationException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    UnsupportedOperationException,
)
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService

A = "111122223333"
OPS = ("GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext")


def _user(name: str) -> Caller:
    principal = Principal(
        account=A,
        arn=f"arn:aws:iam::{A}:user/{name}",
        type=PrincipalType.USER,
        user_id=f"AIDA{name.upper()}",
        name=name,
    )
    return Caller(principal, "us-east-1", f"AKIA{name.upper()}")


def _run(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    svc.refresh()
    return call(svc, caller, op, params)


def _key(svc: KmsService, caller: Caller, **params: Any) -> dict[str, Any]:
    meta: dict[str, Any] = _run(svc, caller, "CreateKey", **params)["KeyMetadata"]
    return meta


@pytest.mark.parametrize(
    "spec", ["RSA_2048", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_KEM_768"]
)
def test_the_pair_is_of_the_spec_and_its_private_key_is_sealed(
    svc: KmsService, caller: Caller, spec: str
) -> None:
    meta = _key(svc, caller)
    context = {"app": "unit"}
    out = _run(
        svc, caller, OPS[0], KeyId=meta["KeyId"], KeyPairSpec=spec, EncryptionContext=context
    )
    private = load_private_key(out["PrivateKeyPlaintext"])
    assert spec_of(private) == spec
    assert public_der_of(private) == out["PublicKey"]
    assert (out["KeyId"], out["KeyPairSpec"]) == (meta["Arn"], spec)
    assert out["KeyMaterialId"] == meta["CurrentKeyMaterialId"]
    blob = out["PrivateKeyCiphertextBlob"]
    opened = _run(svc, caller, "Decrypt", CiphertextBlob=blob, EncryptionContext=context)
    assert opened["Plaintext"] == out["PrivateKeyPlaintext"]
    with pytest.raises(InvalidCiphertextException):
        _run(svc, caller, "Decrypt", CiphertextBlob=blob)
    bare = _run(svc, caller, OPS[1], KeyId=meta["Arn"], KeyPairSpec=spec)
    assert set(bare) == {
        "PrivateKeyCiphertextBlob", "PublicKey", "KeyId", "KeyPairSpec", "KeyMaterialId",
    }  # fmt: skip
    opened = _run(svc, caller, "Decrypt", CiphertextBlob=bare["PrivateKeyCiphertextBlob"])
    assert public_der_of(load_private_key(opened["Plaintext"])) == bare["PublicKey"]


@pytest.mark.parametrize("op", OPS)
def test_errors_and_dry_run(svc: KmsService, caller: Caller, op: str) -> None:
    meta = _key(svc, caller)
    for spec in ("SM2", "ML_KEM_512"):
        with pytest.raises(UnsupportedOperationException, match=f"KeySpec {spec}"):
            _run(svc, caller, op, KeyId=meta["KeyId"], KeyPairSpec=spec)
    with pytest.raises(DryRunOperationException):
        _run(svc, caller, op, KeyId=meta["KeyId"], KeyPairSpec="ECC_NIST_P256", DryRun=True)
    recipient = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"d"}
    with pytest.raises(UnsupportedOperationException, match="Recipient"):
        _run(svc, caller, op, KeyId=meta["KeyId"], KeyPairSpec="RSA_2048", Recipient=recipient)
    rsa_key = _key(svc, caller, KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")
    with pytest.raises(InvalidKeyUsageException) as info:
        _run(svc, caller, op, KeyId=rsa_key["KeyId"], KeyPairSpec="RSA_2048")
    assert (
        info.value.message
        == f"{rsa_key['Arn']} key KeySpec is RSA_3072 which is not valid for {op}."
    )


def _policy_key(svc: KmsService, caller: Caller, statement: dict[str, Any]) -> str:
    root = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [root, statement]})
    return str(_key(svc, caller, Policy=policy)["Arn"])


def test_policies_see_the_pair_spec_and_the_symmetric_algorithm(
    svc: KmsService, caller: Caller
) -> None:
    bob = _user("bob")

    def allowing(condition: dict[str, Any]) -> str:
        return _policy_key(
            svc,
            caller,
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:GenerateDataKeyPair*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalArn": bob.principal.arn,
                        **condition["StringEquals"],
                    }
                },
            },
        )

    by_spec = allowing({"StringEquals": {"kms:DataKeyPairSpec": "ECC_NIST_P384"}})
    _run(svc, bob, OPS[0], KeyId=by_spec, KeyPairSpec="ECC_NIST_P384")
    _run(svc, bob, OPS[1], KeyId=by_spec, KeyPairSpec="ECC_NIST_P384")
    with pytest.raises(AccessDeniedException):
        _run(svc, bob, OPS[0], KeyId=by_spec, KeyPairSpec="ECC_NIST_P256")
    by_algorithm = allowing({"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}})
    _run(svc, bob, OPS[0], KeyId=by_algorithm, KeyPairSpec="ECC_NIST_P256")
    never = allowing({"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}})
    with pytest.raises(AccessDeniedException):
        _run(svc, bob, OPS[0], KeyId=never, KeyPairSpec="ECC_NIST_P256")
    by_context = allowing({"StringEquals": {"kms:EncryptionContext:tenant": "blue"}})
    blue = {"tenant": "blue"}
    _run(svc, bob, OPS[1], KeyId=by_context, KeyPairSpec="ECC_NIST_P256", EncryptionContext=blue)
    with pytest.raises(AccessDeniedException):
        _run(svc, bob, OPS[1], KeyId=by_context, KeyPairSpec="ECC_NIST_P256")


def test_a_constrained_grant_allows_only_its_context(svc: KmsService, caller: Caller) -> None:
    carol = _user("carol")
    meta = _key(svc, caller)
    _run(
        svc,
        caller,
        "CreateGrant",
        KeyId=meta["KeyId"],
        GranteePrincipal=carol.principal.arn,
        Operations=["GenerateDataKeyPairWithoutPlaintext"],
        Constraints={"EncryptionContextSubset": {"tenant": "blue"}},
    )
    blue = {"tenant": "blue", "app": "x"}
    out = _run(
        svc, carol, OPS[1], KeyId=meta["Arn"], KeyPairSpec="RSA_2048", EncryptionContext=blue
    )
    opened = _run(
        svc,
        caller,
        "Decrypt",
        CiphertextBlob=out["PrivateKeyCiphertextBlob"],
        EncryptionContext=blue,
    )
    assert public_der_of(load_private_key(opened["Plaintext"])) == out["PublicKey"]
    with pytest.raises(AccessDeniedException):
        _run(svc, carol, OPS[1], KeyId=meta["Arn"], KeyPairSpec="RSA_2048")
    with pytest.raises(AccessDeniedException):
        _run(svc, carol, OPS[0], KeyId=meta["Arn"], KeyPairSpec="RSA_2048", EncryptionContext=blue)
