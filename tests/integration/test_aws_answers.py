"""AWS's exact answers where they were recorded against AWS KMS: boto3 against the live dev server.

Each error is checked as a client sees it (``Error.Code``, ``Error.Message`` and the HTTP status);
an error AWS sends with no message is also checked on the wire, where its body has no ``message``.
The recordings: tags (duplicate keys, more than 50, the ``aws:`` prefix) in TagResource, CreateKey
and ReplicateKey; RotateKeyOnDemand's answer and refusals; ImportKeyMaterial of new material while
other material is pending rotation; ReplicateKey on a replica and ReplicateKey's answer;
DeriveSharedSecret's key-usage and peer-key refusals; CreateKey with SM2 outside China.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: TID251 -- independent check

from tests.integration.expect import aws_error
from tests.integration.server import Server, raw_post
from tests.integration.test_import import NEVER, import_material
from tests.integration.test_key_agreement import off_curve_spki, spki

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DUPLICATE = ("TagException", "Duplicate tag keys", 400)
TOO_MANY = ("TagException", "Too many tags", 400)
RESERVED = ("TagException", "Tags beginning with aws: are reserved", 400)


def _tags(n: int, prefix: str = "t") -> list[dict[str, str]]:
    return [{"TagKey": f"{prefix}{i:02d}", "TagValue": f"v{i}"} for i in range(n)]


def _listed(kms: Any, key_id: str) -> dict[str, str]:
    return {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}


def _no_message_on_the_wire(server: Server, target: str, body: dict[str, Any], code: str) -> None:
    """The raw reply: HTTP 400, ``__type`` ``code`` and no ``message`` member at all."""
    reply = raw_post(server, f"TrentService.{target}", json.dumps(body).encode())
    assert reply.error == (400, code, None)
    assert "message" not in reply.json()
    assert reply.headers["x-amzn-errortype"].startswith(code)


def _keys_of(*kinds: str) -> pytest.MarkDecorator:
    """Parametrize ``kind`` with ``"<KeySpec> <KeyUsage>"`` strings."""
    return pytest.mark.parametrize("kind", kinds)


def _new_key(dev: Server, kind: str) -> tuple[Any, dict[str, Any]]:
    """A dev client and a new key of ``kind`` (``"<KeySpec> <KeyUsage>"``)."""
    kms = dev.client()
    spec, usage = kind.split()
    return kms, kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]


@pytest.fixture
def mrk(dev: Server) -> dict[str, Any]:
    """A fresh multi-Region primary key in us-east-1."""
    meta: dict[str, Any] = dev.client(region=EAST).create_key(MultiRegion=True)["KeyMetadata"]
    return meta


# -- 1. tags ----------------------------------------------------------------------------------


def _taggers(dev: Server, mrk: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """Each operation that takes Tags, as ``call(Tags=...)``."""
    kms = dev.client(region=EAST)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]

    def tag(**params: Any) -> Any:
        return kms.tag_resource(KeyId=key_id, **params)

    def create(**params: Any) -> Any:
        return kms.create_key(**params)

    def replicate(**params: Any) -> Any:
        return kms.replicate_key(KeyId=mrk["Arn"], ReplicaRegion=EU, **params)

    return {"TagResource": tag, "CreateKey": create, "ReplicateKey": replicate}


def test_the_same_tag_key_twice(dev: Server, mrk: dict[str, Any]) -> None:
    twice = [{"TagKey": "team", "TagValue": "a"}, {"TagKey": "team", "TagValue": "b"}]
    for name, call in _taggers(dev, mrk).items():
        assert aws_error(call, Tags=twice) == DUPLICATE, name
    # Nothing was made or applied: the replica region is still free, and tags are case-sensitive.
    kms = dev.client(region=EAST)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert aws_error(kms.tag_resource, KeyId=key_id, Tags=[*twice, *_tags(1)]) == DUPLICATE
    assert _listed(kms, key_id) == {}
    cased = [{"TagKey": "team", "TagValue": "a"}, {"TagKey": "Team", "TagValue": "b"}]
    kms.tag_resource(KeyId=key_id, Tags=cased)
    assert _listed(kms, key_id) == {"team": "a", "Team": "b"}
    replica = kms.replicate_key(KeyId=mrk["Arn"], ReplicaRegion=EU, Tags=cased)
    assert replica["ReplicaTags"] == cased


def test_more_than_fifty_tags(dev: Server, mrk: dict[str, Any]) -> None:
    for name, call in _taggers(dev, mrk).items():
        assert aws_error(call, Tags=_tags(51)) == TOO_MANY, name
    # The count is of the key's tags once the request is applied.
    kms = dev.client(region=EAST)
    key_id = kms.create_key(Tags=_tags(45))["KeyMetadata"]["KeyId"]
    assert aws_error(kms.tag_resource, KeyId=key_id, Tags=_tags(6, "u")) == TOO_MANY
    assert len(_listed(kms, key_id)) == 45
    kms.tag_resource(KeyId=key_id, Tags=_tags(5, "u"))  # 50 exactly
    again = [{"TagKey": k, "TagValue": "new"} for k in _listed(kms, key_id)]
    kms.tag_resource(KeyId=key_id, Tags=again)  # 50 values replaced: no tag added
    assert aws_error(kms.tag_resource, KeyId=key_id, Tags=_tags(1, "w")) == TOO_MANY
    assert len(_listed(kms, key_id)) == 50
    kms.untag_resource(KeyId=key_id, TagKeys=["u00"])
    kms.tag_resource(KeyId=key_id, Tags=_tags(1, "w"))
    assert len(_listed(kms, key_id)) == 50


@pytest.mark.parametrize("tag_key", ["aws:x", "AWS:CreatedBy", "Aws:team"])
def test_tag_keys_beginning_with_aws_colon(dev: Server, mrk: dict[str, Any], tag_key: str) -> None:
    reserved = [*_tags(1), {"TagKey": tag_key, "TagValue": "v"}]
    for name, call in _taggers(dev, mrk).items():
        assert aws_error(call, Tags=reserved) == RESERVED, name
    kms = dev.client(region=EAST)
    key_id = kms.create_key(Tags=_tags(1))["KeyMetadata"]["KeyId"]
    # UntagResource answers the same for a reserved key (Strongroom's choice, unconfirmed).
    assert aws_error(kms.untag_resource, KeyId=key_id, TagKeys=["t00", tag_key]) == RESERVED
    assert _listed(kms, key_id) == {"t00": "v0"}  # nothing was removed
    # Only the prefix with its colon is reserved.
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "aws-team", "TagValue": "v"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["aws-team", "awsx"])
    assert _listed(kms, key_id) == {"t00": "v0"}


# -- 2. RotateKeyOnDemand ---------------------------------------------------------------------


def test_rotate_key_on_demand_answers_the_key_arn(dev: Server) -> None:
    kms = dev.client()
    key = kms.create_key()["KeyMetadata"]
    for key_id in (key["KeyId"], key["Arn"]):
        assert kms.rotate_key_on_demand(KeyId=key_id)["KeyId"] == key["Arn"]
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND", "ON_DEMAND"]


@_keys_of("RSA_2048 SIGN_VERIFY", "RSA_3072 ENCRYPT_DECRYPT", "ECC_NIST_P256 SIGN_VERIFY",
          "ECC_NIST_P384 KEY_AGREEMENT", "HMAC_256 GENERATE_VERIFY_MAC")  # fmt: skip
def test_rotate_key_on_demand_refuses_other_keys_with_no_message(dev: Server, kind: str) -> None:
    kms, key = _new_key(dev, kind)
    assert aws_error(kms.rotate_key_on_demand, KeyId=key["KeyId"]) == (
        "UnsupportedOperationException",
        "",
        400,
    )
    _no_message_on_the_wire(
        dev, "RotateKeyOnDemand", {"KeyId": key["Arn"]}, "UnsupportedOperationException"
    )
    # The key's state is checked first: a disabled one is DisabledException, with its message.
    kms.disable_key(KeyId=key["KeyId"])
    assert aws_error(kms.rotate_key_on_demand, KeyId=key["KeyId"]) == (
        "DisabledException",
        f"{key['Arn']} is disabled.",
        400,
    )


def test_rotate_key_on_demand_of_imported_material_with_none_pending(dev: Server) -> None:
    kms = dev.client()
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    first = import_material(kms, key["Arn"], os.urandom(32))["KeyMaterialId"]
    none_pending = (
        "KMSInvalidStateException",
        f"No available key material pending rotation for the key: {key['Arn']}.",
        400,
    )
    assert aws_error(kms.rotate_key_on_demand, KeyId=key["KeyId"]) == none_pending
    # Once new material is imported it rotates (the answer is the ARN), then none is pending.
    second = import_material(
        kms, key["Arn"], os.urandom(32), ExpirationModel=NEVER, ImportType="NEW_KEY_MATERIAL"
    )["KeyMaterialId"]
    assert second != first
    assert kms.rotate_key_on_demand(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"] == second
    assert aws_error(kms.rotate_key_on_demand, KeyId=key["Arn"]) == none_pending


# -- 3. ImportKeyMaterial of new material while other material is pending rotation ------------


def test_new_material_while_other_material_is_pending_rotation(dev: Server) -> None:
    kms = dev.client()
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    import_material(kms, key["Arn"], os.urandom(32))
    new = {"ExpirationModel": NEVER, "ImportType": "NEW_KEY_MATERIAL"}
    pending = import_material(kms, key["Arn"], os.urandom(32), **new)["KeyMaterialId"]
    third = os.urandom(32)
    code, message, status = aws_error(lambda: import_material(kms, key["Arn"], third, **new))
    assert (code, status) == ("KMSInvalidStateException", 400)
    # The id named for the refused material is the one it gets once nothing else is pending.
    kms.delete_imported_key_material(KeyId=key["Arn"], KeyMaterialId=pending)
    third_id = import_material(kms, key["Arn"], third, **new)["KeyMaterialId"]
    assert message == (
        f"New key material (id: {third_id}) cannot be imported into KMS key {key['KeyId']}, "
        f"because another key material (id: {pending}) is pending rotation."
    )


# -- 4. ReplicateKey --------------------------------------------------------------------------


def test_replicate_key_on_a_replica(dev: Server, mrk: dict[str, Any]) -> None:
    replica = dev.client(region=EAST).replicate_key(KeyId=mrk["Arn"], ReplicaRegion=WEST)
    replica_arn = replica["ReplicaKeyMetadata"]["Arn"]
    west = dev.client(region=WEST)
    for key_id in (replica_arn, mrk["KeyId"]):
        assert aws_error(west.replicate_key, KeyId=key_id, ReplicaRegion=EU) == (
            "UnsupportedOperationException",
            f"{replica_arn} is not a multi-region primary key.",
            400,
        )
    with pytest.raises(west.exceptions.NotFoundException):  # nothing was made in EU
        dev.client(region=EU).describe_key(KeyId=mrk["KeyId"])


def test_replicate_key_answer(dev: Server, mrk: dict[str, Any]) -> None:
    east = dev.client(region=EAST)
    out = east.replicate_key(KeyId=mrk["Arn"], ReplicaRegion=WEST)
    assert "ReplicaTags" not in out
    metadata = out["ReplicaKeyMetadata"]
    assert "CurrentKeyMaterialId" not in metadata
    assert metadata["KeyId"] == mrk["KeyId"]
    assert metadata["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    # The replica has the primary's material all the same, and DescribeKey shows it.
    described = dev.client(region=WEST).describe_key(KeyId=mrk["KeyId"])["KeyMetadata"]
    assert described["CurrentKeyMaterialId"] == mrk["CurrentKeyMaterialId"]
    tagged = east.replicate_key(KeyId=mrk["Arn"], ReplicaRegion=EU, Tags=_tags(2))
    assert tagged["ReplicaTags"] == _tags(2)
    assert "CurrentKeyMaterialId" not in tagged["ReplicaKeyMetadata"]


# -- 5. DeriveSharedSecret --------------------------------------------------------------------


@_keys_of("RSA_2048 ENCRYPT_DECRYPT", "RSA_2048 SIGN_VERIFY", "ECC_NIST_P256 SIGN_VERIFY",
          "SYMMETRIC_DEFAULT ENCRYPT_DECRYPT")  # fmt: skip
def test_derive_shared_secret_with_a_key_that_is_not_for_key_agreement(
    dev: Server, kind: str
) -> None:
    kms, key = _new_key(dev, kind)
    peer = spki(ec.generate_private_key(ec.SECP256R1()))
    answer = aws_error(
        kms.derive_shared_secret, KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer
    )
    assert answer == (
        "InvalidKeyUsageException",
        f"KeyUsage KEY_AGREEMENT is not compatible with KeySpec {key['KeySpec']}",
        400,
    )


def test_derive_shared_secret_with_an_invalid_peer_key(dev: Server) -> None:
    kms = dev.client()
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    peer = ec.generate_private_key(ec.SECP256R1())
    for name, public_key in {
        "not DER": b"InvalidPublicKey",
        "off the curve": off_curve_spki(peer),
        "truncated": spki(peer)[:-3],
        "another curve": spki(ec.generate_private_key(ec.SECP384R1())),
    }.items():
        for dry_run in (False, True):
            answer = aws_error(
                kms.derive_shared_secret,
                KeyId=key["KeyId"],
                KeyAgreementAlgorithm="ECDH",
                PublicKey=public_key,
                DryRun=dry_run,
            )
            assert answer == ("ValidationException", "", 400), name
    body = {"KeyId": key["Arn"], "KeyAgreementAlgorithm": "ECDH", "PublicKey": "SW52YWxpZA=="}
    _no_message_on_the_wire(dev, "DeriveSharedSecret", body, "ValidationException")
    # A valid peer key still derives.
    derived = kms.derive_shared_secret(
        KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki(peer)
    )
    assert len(derived["SharedSecret"]) == 32


# -- CreateKey with SM2 (recorded against AWS KMS in us-east-1) -------------------------------


def test_sm2_outside_the_china_regions(dev: Server) -> None:
    for region in (EAST, EU):
        kms = dev.client(region=region)
        for usage in ("SIGN_VERIFY", "ENCRYPT_DECRYPT"):
            assert aws_error(kms.create_key, KeySpec="SM2", KeyUsage=usage) == (
                "UnsupportedOperationException",
                "KeySpec SM2 is not supported in this Region",
                400,
            )
    # In a China Region AWS offers SM2; Strongroom does not implement it and says so.
    code, message, status = aws_error(
        dev.client(region="cn-north-1").create_key, KeySpec="SM2", KeyUsage="SIGN_VERIFY"
    )
    assert (code, status) == ("UnsupportedOperationException", 400)
    assert "Strongroom does not implement" in message
