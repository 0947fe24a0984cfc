"""Multi-Region keys over HTTP: a production-mode Strongroom spoken to by boto3 clients signing for
three regions (regions are SigV4 scopes, so one server serves them all). ReplicateKey and its
errors, crypto across regions, the AWS Encryption SDK's multi-Region-aware keyrings,
UpdatePrimaryRegion, authorization and condition keys, ListKeys per region, the AWS CLI; and the
deletion rules of primaries and replicas on a dev server whose clock the tests move."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsKeyringInput,
    CreateAwsKmsMrkDiscoveryKeyringInput,
    CreateAwsKmsMrkKeyringInput,
    CreateAwsKmsMrkMultiKeyringInput,
    DiscoveryFilter,
)
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server
from tests.integration.test_authorization import DENIED, allow, client, doc, new_user
from tests.integration.test_encryption_sdk import StrongroomClients, kms_failures

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DAY = 86_400
PLAINTEXT = b"one ciphertext, any region that holds the key " * 3
CONTEXT = {"purpose": "strongroom-mrk-test"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("mrk") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def east(server: Server) -> Any:
    return server.client(region=EAST)


@pytest.fixture(scope="module")
def west(server: Server) -> Any:
    return server.client(region=WEST)


@pytest.fixture(scope="module")
def eu(server: Server) -> Any:
    return server.client(region=EU)


def in_region(arn: str, region: str) -> str:
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def new_mrk(kms: Any, **params: Any) -> dict[str, Any]:
    meta: dict[str, Any] = kms.create_key(MultiRegion=True, **params)["KeyMetadata"]
    return meta


# --- the scenario ---------------------------------------------------------------------


def test_a_replica_decrypts_the_first_regions_ciphertext(east: Any, west: Any) -> None:
    primary = new_mrk(east, Description="scenario")
    key_id, arn = primary["KeyId"], primary["Arn"]
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", key_id)
    assert primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": arn, "Region": EAST},
        "ReplicaKeys": [],
    }
    blob = east.encrypt(KeyId=arn, Plaintext=PLAINTEXT, EncryptionContext=CONTEXT)["CiphertextBlob"]

    out = east.replicate_key(KeyId=arn, ReplicaRegion=WEST)
    replica = out["ReplicaKeyMetadata"]
    west_arn = in_region(arn, WEST)
    assert (replica["KeyId"], replica["Arn"]) == (key_id, west_arn)
    # Replication is synchronous here: the replica is Enabled at once (AWS: Creating first).
    assert (replica["KeyState"], replica["Enabled"]) == ("Enabled", True)
    assert (replica["KeySpec"], replica["KeyUsage"], replica["Origin"]) == (
        primary["KeySpec"],
        primary["KeyUsage"],
        primary["Origin"],
    )
    assert replica["Description"] == ""
    assert replica["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": arn, "Region": EAST},
        "ReplicaKeys": [{"Arn": west_arn, "Region": WEST}],
    }
    assert json.loads(out["ReplicaPolicy"])["Id"] == "key-default-1"
    assert "ReplicaTags" not in out  # absent when the request has no Tags, as AWS's answer
    assert "CurrentKeyMaterialId" not in replica

    opened = west.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    assert opened["Plaintext"] == PLAINTEXT
    assert opened["KeyId"] == west_arn
    assert opened["KeyMaterialId"] == primary["CurrentKeyMaterialId"]
    named = west.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=west_arn)
    assert named["Plaintext"] == PLAINTEXT
    # ...and the other way round, with the first region's key disabled meanwhile.
    back = west.encrypt(KeyId=key_id, Plaintext=b"from the west")["CiphertextBlob"]
    east.disable_key(KeyId=key_id)
    code, message, status = aws_error(east.decrypt, CiphertextBlob=back)
    assert (code, message, status) == ("DisabledException", f"{arn} is disabled.", 400)
    assert west.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"] == PLAINTEXT
    east.enable_key(KeyId=key_id)
    assert east.decrypt(CiphertextBlob=back)["Plaintext"] == b"from the west"

    described = east.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert described["ReplicaKeys"] == [{"Arn": west_arn, "Region": WEST}]
    code, message, status = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion=WEST)
    assert (code, status) == ("AlreadyExistsException", 400)
    assert west_arn in message


def test_signatures_and_macs_verify_with_the_replica(east: Any, eu: Any) -> None:
    signer = new_mrk(east, KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyId"]
    hmac = new_mrk(east, KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    for key_id in (signer, hmac):
        east.replicate_key(KeyId=key_id, ReplicaRegion=EU)
    signature = east.sign(KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_384")
    verified = eu.verify(
        KeyId=signer,
        Message=b"m",
        Signature=signature["Signature"],
        SigningAlgorithm="ECDSA_SHA_384",
    )
    assert verified["SignatureValid"] is True
    assert verified["KeyId"] == in_region(signature["KeyId"], EU)
    assert (
        eu.get_public_key(KeyId=signer)["PublicKey"]
        == east.get_public_key(KeyId=signer)["PublicKey"]
    )
    code, _, status = aws_error(
        eu.verify,
        KeyId=signer,
        Message=b"other",
        Signature=signature["Signature"],
        SigningAlgorithm="ECDSA_SHA_384",
    )
    assert (code, status) == ("KMSInvalidSignatureException", 400)

    mac = east.generate_mac(KeyId=hmac, Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert eu.verify_mac(KeyId=hmac, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"]
    code, _, _ = aws_error(
        eu.verify_mac, KeyId=hmac, Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_384"
    )
    assert code == "KMSInvalidMacException"


# --- the AWS Encryption SDK's multi-Region-aware keyrings ----------------------------------


def test_encryption_sdk_mrk_keyrings_decrypt_with_the_replica(
    server: Server, east: Any, west: Any
) -> None:
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    esdk = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    primary = new_mrk(east, Description="esdk mrk")
    arn = primary["Arn"]
    replica_arn = east.replicate_key(KeyId=arn, ReplicaRegion=WEST)["ReplicaKeyMetadata"]["Arn"]

    encrypting = mpl.create_aws_kms_mrk_keyring(
        input=CreateAwsKmsMrkKeyringInput(kms_key_id=arn, kms_client=east)
    )
    message, header = esdk.encrypt(source=PLAINTEXT, keyring=encrypting, encryption_context=CONTEXT)
    (edk,) = header.encrypted_data_keys
    assert edk.key_provider.key_info == arn.encode()  # wrapped under the primary

    # The first region's key is disabled: only the replica can open the data key now.
    east.disable_key(KeyId=arn)
    with pytest.raises(AWSEncryptionSDKClientError) as info:
        esdk.decrypt(source=message, keyring=encrypting)
    assert kms_failures(info.value) == [f"{arn} is disabled."]

    replica_only = mpl.create_aws_kms_mrk_keyring(
        input=CreateAwsKmsMrkKeyringInput(kms_key_id=replica_arn, kms_client=west)
    )
    plaintext, decrypted = esdk.decrypt(source=message, keyring=replica_only)
    assert plaintext == PLAINTEXT
    assert CONTEXT.items() <= decrypted.encryption_context.items()

    # A keyring that is not multi-Region aware does not take the replica for the primary.
    strict = mpl.create_aws_kms_keyring(
        input=CreateAwsKmsKeyringInput(kms_key_id=replica_arn, kms_client=west)
    )
    with pytest.raises(AWSEncryptionSDKClientError) as info:
        esdk.decrypt(source=message, keyring=strict)
    assert kms_failures(info.value) == []

    # The MRK multi-keyring (a client per region from the supplier) and MRK discovery.
    clients = StrongroomClients(server)
    multi = mpl.create_aws_kms_mrk_multi_keyring(
        input=CreateAwsKmsMrkMultiKeyringInput(kms_key_ids=[replica_arn], client_supplier=clients)
    )
    assert esdk.decrypt(source=message, keyring=multi)[0] == PLAINTEXT
    assert set(clients.regions) == {WEST}
    discovery = mpl.create_aws_kms_mrk_discovery_keyring(
        input=CreateAwsKmsMrkDiscoveryKeyringInput(
            kms_client=west,
            region=WEST,
            discovery_filter=DiscoveryFilter(
                account_ids=[primary["AWSAccountId"]], partition="aws"
            ),
        )
    )
    assert esdk.decrypt(source=message, keyring=discovery)[0] == PLAINTEXT

    # Encrypting in the replica's region, decrypting with the primary once it is enabled again.
    west_message, _ = esdk.encrypt(source=b"west", keyring=replica_only)
    east.enable_key(KeyId=arn)
    assert esdk.decrypt(source=west_message, keyring=encrypting)[0] == b"west"


# --- ReplicateKey's errors -------------------------------------------------------------------


def test_replicate_key_errors(server: Server, east: Any, west: Any) -> None:
    single = east.create_key()["KeyMetadata"]["Arn"]
    code, message, status = aws_error(east.replicate_key, KeyId=single, ReplicaRegion=WEST)
    assert (code, status) == ("UnsupportedOperationException", 400)
    assert message.startswith(f"{single} is not a multi-Region key.")

    arn = new_mrk(east)["Arn"]
    east.replicate_key(KeyId=arn, ReplicaRegion=WEST)
    assert aws_error(west.replicate_key, KeyId=in_region(arn, WEST), ReplicaRegion=EU) == (
        "UnsupportedOperationException",
        f"{in_region(arn, WEST)} is not a multi-region primary key.",
        400,
    )

    code, message, _ = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion=EAST)
    assert code == "AlreadyExistsException"
    code, message, _ = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion="cn-north-1")
    assert code == "UnsupportedOperationException"
    assert "partition" in message
    code, message, status = aws_error(
        server.client(region=EAST, validate=False).replicate_key,
        KeyId=arn,
        ReplicaRegion="Not_A_Region",
    )
    assert (code, status) == ("ValidationException", 400)
    assert "replicaRegion" in message
    code, _, _ = aws_error(
        east.replicate_key, KeyId=arn, ReplicaRegion=EU, Tags=[{"TagKey": "aws:t", "TagValue": ""}]
    )
    assert code == "TagException"
    code, message, _ = aws_error(
        east.replicate_key,
        KeyId=arn,
        ReplicaRegion=EU,
        Policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*"}
        ),
    )
    assert code == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy" in message
    # None of the refused requests left a replica in eu-west-1.
    assert aws_error(server.client(region=EU).describe_key, KeyId=arn.split("/")[1])[0] == (
        "NotFoundException"
    )

    east.disable_key(KeyId=arn)
    code, message, status = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion=EU)
    assert (code, message, status) == ("DisabledException", f"{arn} is disabled.", 400)
    east.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)  # it has a replica: waits
    code, message, _ = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion=EU)
    assert code == "KMSInvalidStateException"
    assert message.startswith(f"{arn} is pending")


def test_replica_policy_description_and_tags(east: Any, eu: Any) -> None:
    arn = new_mrk(east, Tags=[{"TagKey": "copied", "TagValue": "no"}])["Arn"]
    policy = east.get_key_policy(KeyId=arn)["Policy"].replace("key-default-1", "eu-policy")
    out = east.replicate_key(
        KeyId=arn,
        ReplicaRegion=EU,
        Policy=policy,
        Description="eu copy",
        Tags=[{"TagKey": "team", "TagValue": "eu"}],
    )
    assert out["ReplicaPolicy"] == policy
    assert out["ReplicaTags"] == [{"TagKey": "team", "TagValue": "eu"}]
    eu_arn = out["ReplicaKeyMetadata"]["Arn"]
    assert eu.describe_key(KeyId=eu_arn)["KeyMetadata"]["Description"] == "eu copy"
    assert eu.get_key_policy(KeyId=eu_arn)["Policy"] == policy
    assert eu.list_resource_tags(KeyId=eu_arn)["Tags"] == [{"TagKey": "team", "TagValue": "eu"}]
    # Independent from then on: an alias, a description and a state of its own.
    eu.create_alias(AliasName="alias/eu-only", TargetKeyId=eu_arn)
    eu.update_key_description(KeyId=eu_arn, Description="changed in eu")
    eu.disable_key(KeyId=eu_arn)
    primary = east.describe_key(KeyId=arn)["KeyMetadata"]
    assert (primary["Description"], primary["KeyState"]) == ("", "Enabled")
    assert aws_error(east.describe_key, KeyId="alias/eu-only")[0] == "NotFoundException"
    code, message, _ = aws_error(eu.encrypt, KeyId="alias/eu-only", Plaintext=b"x")
    assert (code, message) == ("DisabledException", f"{eu_arn} is disabled.")
    assert east.encrypt(KeyId=arn, Plaintext=b"x")["KeyId"] == arn


# --- UpdatePrimaryRegion -----------------------------------------------------------------------


def test_update_primary_region(east: Any, west: Any, eu: Any) -> None:
    arn = new_mrk(east)["Arn"]
    key_id = arn.split("/")[1]
    east.replicate_key(KeyId=arn, ReplicaRegion=WEST)
    east.replicate_key(KeyId=arn, ReplicaRegion=EU)
    blob = east.encrypt(KeyId=arn, Plaintext=b"before")["CiphertextBlob"]

    code, message, status = aws_error(
        east.update_primary_region, KeyId=arn, PrimaryRegion="ap-south-1"
    )
    assert (code, status) == ("NotFoundException", 400)
    assert message == f"Key '{in_region(arn, 'ap-south-1')}' does not exist"

    assert set(east.update_primary_region(KeyId=arn, PrimaryRegion=WEST)) == {"ResponseMetadata"}
    for kms, region in ((east, EAST), (west, WEST), (eu, EU)):
        config = kms.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
        assert config["MultiRegionKeyType"] == ("PRIMARY" if region == WEST else "REPLICA")
        assert config["PrimaryKey"] == {"Arn": in_region(arn, WEST), "Region": WEST}
        assert sorted(r["Region"] for r in config["ReplicaKeys"]) == [EU, EAST]
    # Crypto is unaffected; replicating and moving the primary now start from us-west-2.
    assert eu.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"
    code, _, _ = aws_error(east.replicate_key, KeyId=arn, ReplicaRegion="ap-south-1")
    assert code == "UnsupportedOperationException"
    west.update_primary_region(KeyId=key_id, PrimaryRegion=EAST)
    config = east.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "PRIMARY"


# --- authorization and condition keys ---------------------------------------------------------


def test_replicate_key_permissions_and_condition_keys(server: Server, east: Any) -> None:
    keys = new_user(server, "replicator")
    iam = client(server, "iam")

    def policy(*statements: dict[str, Any]) -> None:
        iam.put_user_policy(UserName="replicator", PolicyName="p", PolicyDocument=doc(*statements))

    arn = new_mrk(east)["Arn"]
    user_east = server.client(region=EAST, access_key=keys[0], secret_key=keys[1])
    user_west = server.client(region=WEST, access_key=keys[0], secret_key=keys[1])

    policy(allow("kms:CreateKey"))
    code, message, _ = aws_error(user_east.replicate_key, KeyId=arn, ReplicaRegion=EU)
    assert code == DENIED
    assert f"kms:ReplicateKey on resource: {arn}" in message

    policy(allow("kms:ReplicateKey", arn))
    code, message, _ = aws_error(user_east.replicate_key, KeyId=arn, ReplicaRegion=EU)
    assert code == DENIED
    assert "kms:CreateKey" in message

    # kms:ReplicaRegion limits where; CreateKey is seen as a multi-Region key's (kms:MultiRegion).
    policy(
        allow(
            "kms:ReplicateKey",
            arn,
            Condition={"StringEquals": {"kms:ReplicaRegion": WEST}},
        ),
        allow("kms:CreateKey", Condition={"Bool": {"kms:MultiRegion": "true"}}),
    )
    code, message, _ = aws_error(user_east.replicate_key, KeyId=arn, ReplicaRegion=EU)
    assert code == DENIED
    assert "kms:ReplicateKey" in message
    code, message, _ = aws_error(
        user_east.replicate_key,
        KeyId=arn,
        ReplicaRegion=WEST,
        Tags=[{"TagKey": "a", "TagValue": "b"}],
    )
    assert code == DENIED
    assert "kms:TagResource" in message
    out = user_east.replicate_key(KeyId=arn, ReplicaRegion=WEST)
    west_arn = out["ReplicaKeyMetadata"]["Arn"]

    # UpdatePrimaryRegion: the permission on both keys; kms:PrimaryRegion is the target region.
    policy(allow("kms:UpdatePrimaryRegion", arn))
    code, message, _ = aws_error(user_east.update_primary_region, KeyId=arn, PrimaryRegion=WEST)
    assert code == DENIED
    assert f"kms:UpdatePrimaryRegion on resource: {west_arn}" in message
    policy(
        allow(
            "kms:UpdatePrimaryRegion",
            [arn, west_arn],
            Condition={"StringEquals": {"kms:PrimaryRegion": EU}},
        )
    )
    assert aws_error(user_east.update_primary_region, KeyId=arn, PrimaryRegion=WEST)[0] == DENIED
    policy(
        allow(
            "kms:UpdatePrimaryRegion",
            [arn, west_arn],
            Condition={"StringEquals": {"kms:PrimaryRegion": WEST}},
        )
    )
    user_east.update_primary_region(KeyId=arn, PrimaryRegion=WEST)
    policy(allow("kms:DescribeKey"))
    config = user_west.describe_key(KeyId=west_arn)["KeyMetadata"]["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "PRIMARY"


# --- ListKeys and the AWS CLI ----------------------------------------------------------------


def test_list_keys_in_each_region(east: Any, west: Any, eu: Any) -> None:
    arn = new_mrk(east)["Arn"]
    key_id = arn.split("/")[1]
    east.replicate_key(KeyId=arn, ReplicaRegion=EU)

    def listed(kms: Any) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in kms.get_paginator("list_keys").paginate():
            found.update((k["KeyId"], k["KeyArn"]) for k in page["Keys"])
        return found

    assert listed(east)[key_id] == arn
    assert listed(eu)[key_id] == in_region(arn, EU)
    assert key_id not in listed(west)


def test_aws_cli_replicate_key(server: Server, east: Any, west: Any) -> None:
    arn = new_mrk(east)["Arn"]
    done = server.aws("kms", "replicate-key", "--key-id", arn, "--replica-region", WEST)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ReplicaKeyMetadata"]["Arn"] == in_region(arn, WEST)
    assert out["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == (
        "REPLICA"
    )
    assert west.describe_key(KeyId=arn.split("/")[1])["KeyMetadata"]["KeyState"] == "Enabled"
    again = server.aws("kms", "replicate-key", "--key-id", arn, "--replica-region", WEST)
    assert again.returncode != 0
    assert "AlreadyExistsException" in again.stderr


# --- deletion, on a dev server whose clock moves ------------------------------------------------


def _advance(server: Server, seconds: int) -> dict[str, int]:
    status, body = server.post(
        "/_strongroom/clock", json.dumps({"advance_seconds": seconds}).encode()
    )
    assert status == 200, body
    answer: dict[str, int] = json.loads(body)
    return answer


def test_deletion_rules(own_dev: Server) -> None:
    east, west, eu = (own_dev.client(region=r) for r in (EAST, WEST, EU))
    arn = new_mrk(east)["Arn"]
    key_id = arn.split("/")[1]
    east.replicate_key(KeyId=arn, ReplicaRegion=WEST)
    east.replicate_key(KeyId=arn, ReplicaRegion=EU)

    out = east.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert (out["KeyState"], out["PendingWindowInDays"]) == ("PendingReplicaDeletion", 7)
    assert "DeletionDate" not in out
    meta = east.describe_key(KeyId=arn)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingReplicaDeletion", False)
    assert "DeletionDate" not in meta
    code, _, status = aws_error(east.encrypt, KeyId=arn, Plaintext=b"x")
    assert (code, status) == ("KMSInvalidStateException", 400)
    # Cancelling lands in Disabled; scheduling again waits for the replicas again.
    assert east.cancel_key_deletion(KeyId=arn)["KeyId"] == arn
    assert east.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"
    east.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)

    # Replicas are scheduled with the normal window, at any time.
    assert west.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"] == in_region(arn, WEST)
    west_out = west.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert west_out["KeyState"] == "PendingDeletion"
    eu_out = eu.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=10)

    assert _advance(own_dev, 7 * DAY + 60)["keys_deleted"] == 1  # us-west-2's replica
    assert aws_error(west.describe_key, KeyId=key_id)[0] == "NotFoundException"
    assert east.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingReplicaDeletion"

    assert _advance(own_dev, 3 * DAY)["keys_deleted"] == 1  # eu-west-1's, the last replica
    meta = east.describe_key(KeyId=arn)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    # The primary's 7-day window began when its last replica was deleted.
    expected = eu_out["DeletionDate"] + datetime.timedelta(days=7)
    assert abs((meta["DeletionDate"] - expected).total_seconds()) < 1
    assert meta["MultiRegionConfiguration"]["ReplicaKeys"] == []

    assert _advance(own_dev, 7 * DAY)["keys_deleted"] == 1
    assert aws_error(east.describe_key, KeyId=arn)[0] == "NotFoundException"
