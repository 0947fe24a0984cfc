"""The AWS Encryption SDK for Python (4.x, keyrings from the Material Providers Library) against a
live production-mode Strongroom: the AWS KMS keyring, a multi-keyring across two regions, the
AWS KMS RSA and ECDH keyrings, and the older master-key-provider API. Every keyring gets boto3
KMS clients pointed at the server; nothing is mocked."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_encryption_sdk
import boto3
import botocore.session
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.errors import CollectionOfErrors, ComAmazonawsKms
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsDiscoveryMultiKeyringInput,
    CreateAwsKmsEcdhKeyringInput,
    CreateAwsKmsKeyringInput,
    CreateAwsKmsMultiKeyringInput,
    CreateAwsKmsRsaKeyringInput,
    CreateDefaultCryptographicMaterialsManagerInput,
    CreateRawEcdhKeyringInput,
    CreateRequiredEncryptionContextCMMInput,
    DiscoveryFilter,
    EphemeralPrivateKeyToStaticPublicKeyInput,
    GetClientInput,
    KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey,
    KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery,
    KmsPrivateKeyToStaticPublicKeyInput,
    KmsPublicKeyDiscoveryInput,
    PublicKeyDiscoveryInput,
    RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey,
    RawEcdhStaticConfigurationsPublicKeyDiscovery,
)
from aws_cryptographic_material_providers.mpl.references import IClientSupplier
from aws_encryption_sdk import Algorithm, CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: TID251 -- independent check

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server

PLAINTEXT = b"Strongroom keeps the keys; the Encryption SDK keeps the data. " * 4
CONTEXT = {"purpose": "strongroom-esdk-test", "tenant": "acme"}
DATA_KEY_BYTES = 32  # every committing ESDK algorithm suite uses an AES-256 data key


class StrongroomClients(IClientSupplier):  # type: ignore[misc]  # the MPL has no type hints
    """A client supplier: a KMS client for whatever region a key ARN names, every one of them
    pointed at the same Strongroom server. Remembers the regions it was asked for."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.regions: list[str] = []

    def get_client(self, param: GetClientInput) -> Any:
        self.regions.append(param.region)
        return self.server.client(region=param.region)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = initialised_server(tmp_path_factory.mktemp("esdk") / "data")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def kms(server: Server) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def mpl() -> Any:
    return AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())


@pytest.fixture(scope="module")
def esdk() -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


@pytest.fixture(scope="module")
def key_arn(kms: Any) -> str:
    """A symmetric key in us-east-1 (never disabled: tests that disable make their own)."""
    return str(kms.create_key(Description="esdk")["KeyMetadata"]["Arn"])


@pytest.fixture(scope="module")
def other_key_arn(kms: Any) -> str:
    return str(kms.create_key(Description="esdk other")["KeyMetadata"]["Arn"])


@pytest.fixture(scope="module")
def eu_key_arn(server: Server) -> str:
    """A symmetric key made through the eu-west-1 client."""
    eu = server.client(region="eu-west-1")
    return str(eu.create_key(Description="esdk eu")["KeyMetadata"]["Arn"])


def kms_keyring(mpl: Any, arn: str, client: Any) -> Any:
    return mpl.create_aws_kms_keyring(
        input=CreateAwsKmsKeyringInput(kms_key_id=arn, kms_client=client)
    )


def kms_failures(error: BaseException) -> list[str]:
    """The messages of the KMS errors (the server's own replies) inside an SDK error; empty when
    the SDK failed without KMS refusing anything."""
    found: list[str] = []
    if isinstance(error, ComAmazonawsKms):
        found.append(str(error.message or ""))
    if isinstance(error, CollectionOfErrors):
        for inner in error.list:
            found += kms_failures(inner)
    for arg in error.args:
        if isinstance(arg, BaseException):
            found += kms_failures(arg)
    return found


def decrypt_error(esdk: Any, **kwargs: Any) -> AWSEncryptionSDKClientError:
    with pytest.raises(AWSEncryptionSDKClientError) as info:
        esdk.decrypt(**kwargs)
    return info.value


def pem_public_key(der: bytes) -> bytes:
    """GetPublicKey's DER SubjectPublicKeyInfo as PEM, which the RSA keyring takes."""
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return (
        "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
    ).encode()


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# --- 1. The AWS KMS keyring with a symmetric key --------------------------------------------


def test_kms_keyring_round_trip(kms: Any, mpl: Any, esdk: Any, key_arn: str) -> None:
    keyring = kms_keyring(mpl, key_arn, kms)
    message, header = esdk.encrypt(source=PLAINTEXT, keyring=keyring, encryption_context=CONTEXT)

    assert PLAINTEXT[:16] not in message
    (edk,) = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms"
    assert edk.key_provider.key_info == key_arn.encode()
    assert CONTEXT.items() <= header.encryption_context.items()
    # The signing suite (the SDK's default) adds its public key to the context KMS sees.
    assert "aws-crypto-public-key" in header.encryption_context

    plaintext, decrypted_header = esdk.decrypt(source=message, keyring=keyring)
    assert plaintext == PLAINTEXT
    assert decrypted_header.encryption_context == header.encryption_context

    # The wrapped data key is an ordinary Strongroom ciphertext of ``key_arn``, bound to the
    # message's whole encryption context.
    opened = kms.decrypt(
        CiphertextBlob=edk.encrypted_data_key,
        EncryptionContext=header.encryption_context,
        KeyId=key_arn,
    )
    assert opened["KeyId"] == key_arn
    assert len(opened["Plaintext"]) == DATA_KEY_BYTES
    code, _, status = aws_error(
        kms.decrypt, CiphertextBlob=edk.encrypted_data_key, EncryptionContext=CONTEXT
    )
    assert (code, status) == ("InvalidCiphertextException", 400)


def test_keyring_on_another_key_cannot_decrypt(
    kms: Any, mpl: Any, esdk: Any, key_arn: str, other_key_arn: str
) -> None:
    message, header = esdk.encrypt(
        source=PLAINTEXT, keyring=kms_keyring(mpl, key_arn, kms), encryption_context=CONTEXT
    )
    # The keyring only offers KMS the data keys wrapped under its own key: there are none.
    error = decrypt_error(esdk, source=message, keyring=kms_keyring(mpl, other_key_arn, kms))
    assert "No Encrypted Data Keys found to match" in str(error)
    assert kms_failures(error) == []

    # Nor does KMS open the data key under the other key when asked to.
    (edk,) = header.encrypted_data_keys
    code, _, status = aws_error(
        kms.decrypt,
        CiphertextBlob=edk.encrypted_data_key,
        EncryptionContext=header.encryption_context,
        KeyId=other_key_arn,
    )
    assert (code, status) == ("IncorrectKeyException", 400)


def test_tampered_message_fails(kms: Any, mpl: Any, esdk: Any, key_arn: str) -> None:
    keyring = kms_keyring(mpl, key_arn, kms)
    message, header = esdk.encrypt(
        source=PLAINTEXT * 16, keyring=keyring, encryption_context=CONTEXT, frame_length=1024
    )
    assert esdk.decrypt(source=message, keyring=keyring)[0] == PLAINTEXT * 16

    # A flipped bit in the framed body: KMS still opens the data key, but the frame does not
    # verify (a flip in ciphertext, IV or tag fails the tag; one in a frame number, the framing).
    with pytest.raises((InvalidTag, AWSEncryptionSDKClientError)) as info:
        esdk.decrypt(source=flip(message, len(message) // 2), keyring=keyring)
    assert kms_failures(info.value) == []

    # A flipped bit in the wrapped data key: Strongroom refuses to decrypt it.
    (edk,) = header.encrypted_data_keys
    at = message.index(edk.encrypted_data_key) + len(edk.encrypted_data_key) // 2
    error = decrypt_error(esdk, source=flip(message, at), keyring=keyring)
    assert len(kms_failures(error)) == 1

    # A changed encryption context in the header: KMS, given the changed context, refuses too.
    at = message.index(CONTEXT["purpose"].encode())
    error = decrypt_error(esdk, source=flip(message, at), keyring=keyring)
    assert len(kms_failures(error)) == 1


def test_encryption_context_is_checked(kms: Any, mpl: Any, esdk: Any, key_arn: str) -> None:
    keyring = kms_keyring(mpl, key_arn, kms)
    message, _ = esdk.encrypt(source=PLAINTEXT, keyring=keyring, encryption_context=CONTEXT)
    # Decrypt with the context the caller expects: a match passes, a mismatch is refused.
    assert esdk.decrypt(source=message, keyring=keyring, encryption_context=CONTEXT)[0] == (
        PLAINTEXT
    )
    error = decrypt_error(
        esdk, source=message, keyring=keyring, encryption_context={**CONTEXT, "tenant": "evil"}
    )
    assert "does not match" in str(error)

    # A required-context CMM keeps "tenant" out of the message: only KMS binds it, so decrypt
    # must supply it, and KMS refuses a wrong value.
    cmm = mpl.create_required_encryption_context_cmm(
        input=CreateRequiredEncryptionContextCMMInput(
            required_encryption_context_keys=["tenant"],
            underlying_cmm=mpl.create_default_cryptographic_materials_manager(
                input=CreateDefaultCryptographicMaterialsManagerInput(keyring=keyring)
            ),
        )
    )
    message, header = esdk.encrypt(
        source=PLAINTEXT, materials_manager=cmm, encryption_context=CONTEXT
    )
    assert "tenant" not in header.encryption_context
    assert header.encryption_context["purpose"] == CONTEXT["purpose"]
    plaintext, _ = esdk.decrypt(
        source=message, materials_manager=cmm, encryption_context={"tenant": "acme"}
    )
    assert plaintext == PLAINTEXT
    error = decrypt_error(
        esdk, source=message, materials_manager=cmm, encryption_context={"tenant": "evil"}
    )
    assert len(kms_failures(error)) == 1
    error = decrypt_error(esdk, source=message, materials_manager=cmm, encryption_context={})
    assert "missing required keys" in str(error)
    assert kms_failures(error) == []


# --- 2. A multi-keyring across two regions --------------------------------------------------


def test_multi_region_multi_keyring(server: Server, mpl: Any, esdk: Any) -> None:
    us, eu = server.client(region="us-east-1"), server.client(region="eu-west-1")
    us_meta = us.create_key(Description="esdk multi us")["KeyMetadata"]
    us_arn, eu_arn = (
        us_meta["Arn"],
        eu.create_key(Description="esdk multi eu")["KeyMetadata"]["Arn"],
    )
    assert us_arn.split(":")[3] == "us-east-1"
    assert eu_arn.split(":")[3] == "eu-west-1"
    # Each region's keys are its own.
    assert aws_error(eu.describe_key, KeyId=us_arn)[0] == "NotFoundException"
    assert aws_error(us.describe_key, KeyId=eu_arn)[0] == "NotFoundException"

    clients = StrongroomClients(server)
    multi = mpl.create_aws_kms_multi_keyring(
        input=CreateAwsKmsMultiKeyringInput(
            generator=us_arn, kms_key_ids=[eu_arn], client_supplier=clients
        )
    )
    message, header = esdk.encrypt(source=PLAINTEXT, keyring=multi, encryption_context=CONTEXT)
    assert sorted(clients.regions) == ["eu-west-1", "us-east-1"]
    wrapped_under = sorted(edk.key_provider.key_info for edk in header.encrypted_data_keys)
    assert wrapped_under == sorted([us_arn.encode(), eu_arn.encode()])

    us_only, eu_only = kms_keyring(mpl, us_arn, us), kms_keyring(mpl, eu_arn, eu)

    # With the eu-west-1 key disabled, the us-east-1 keyring still decrypts and the eu-west-1
    # keyring is refused by eu-west-1: each keyring calls its own region, and only that one.
    eu.disable_key(KeyId=eu_arn)
    assert esdk.decrypt(source=message, keyring=us_only)[0] == PLAINTEXT
    error = decrypt_error(esdk, source=message, keyring=eu_only)
    assert kms_failures(error) == [f"{eu_arn} is disabled."]
    eu.enable_key(KeyId=eu_arn)

    us.disable_key(KeyId=us_arn)
    assert esdk.decrypt(source=message, keyring=eu_only)[0] == PLAINTEXT
    error = decrypt_error(esdk, source=message, keyring=us_only)
    assert kms_failures(error) == [f"{us_arn} is disabled."]

    # A discovery multi-keyring over both regions (with the supplier) finds the eu-west-1 key.
    discovery = mpl.create_aws_kms_discovery_multi_keyring(
        input=CreateAwsKmsDiscoveryMultiKeyringInput(
            regions=["us-east-1", "eu-west-1"],
            discovery_filter=DiscoveryFilter(
                account_ids=[us_meta["AWSAccountId"]], partition="aws"
            ),
            client_supplier=StrongroomClients(server),
        )
    )
    assert esdk.decrypt(source=message, keyring=discovery)[0] == PLAINTEXT
    us.enable_key(KeyId=us_arn)


def test_default_client_supplier_follows_endpoint_environment(
    server: Server,
    mpl: Any,
    esdk: Any,
    key_arn: str,
    eu_key_arn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a client supplier, the MPL builds its own boto3 clients; AWS_ENDPOINT_URL_KMS
    (botocore's standard variable) points them at Strongroom, no code change needed."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a fresh default session sees the env

    multi = mpl.create_aws_kms_multi_keyring(
        input=CreateAwsKmsMultiKeyringInput(generator=key_arn, kms_key_ids=[eu_key_arn])
    )
    message, header = esdk.encrypt(source=PLAINTEXT, keyring=multi, encryption_context=CONTEXT)
    assert len(header.encrypted_data_keys) == 2
    eu_only = kms_keyring(mpl, eu_key_arn, server.client(region="eu-west-1"))
    assert esdk.decrypt(source=message, keyring=eu_only)[0] == PLAINTEXT


# --- 3. The AWS KMS RSA keyring -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_spec", "algorithm"),
    [("RSA_2048", "RSAES_OAEP_SHA_256"), ("RSA_3072", "RSAES_OAEP_SHA_1")],
)
def test_rsa_keyring(kms: Any, mpl: Any, esdk: Any, key_spec: str, algorithm: str) -> None:
    arn = kms.create_key(KeySpec=key_spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    public = kms.get_public_key(KeyId=arn)
    assert algorithm in public["EncryptionAlgorithms"]

    # Encrypt with the public key alone: this keyring has no KMS client to call.
    encrypting = mpl.create_aws_kms_rsa_keyring(
        input=CreateAwsKmsRsaKeyringInput(
            kms_key_id=arn,
            encryption_algorithm=algorithm,
            public_key=pem_public_key(public["PublicKey"]),
        )
    )
    # The RSA keyring refuses signing suites (anyone with the public key could sign).
    message, header = esdk.encrypt(
        source=PLAINTEXT,
        keyring=encrypting,
        encryption_context=CONTEXT,
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    )
    (edk,) = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms-rsa"
    assert edk.key_provider.key_info == arn.encode()

    # Decrypt through KMS Decrypt: no private key exists anywhere but in Strongroom.
    decrypting = mpl.create_aws_kms_rsa_keyring(
        input=CreateAwsKmsRsaKeyringInput(
            kms_key_id=arn, encryption_algorithm=algorithm, kms_client=kms
        )
    )
    plaintext, decrypted_header = esdk.decrypt(source=message, keyring=decrypting)
    assert plaintext == PLAINTEXT
    assert CONTEXT.items() <= decrypted_header.encryption_context.items()

    # The wrapped data key is plain RSAES-OAEP under the key: KMS Decrypt opens it with the
    # key and algorithm, and refuses it under another RSA key of the same size.
    opened = kms.decrypt(
        KeyId=arn, CiphertextBlob=edk.encrypted_data_key, EncryptionAlgorithm=algorithm
    )
    assert opened["KeyId"] == arn
    assert opened["EncryptionAlgorithm"] == algorithm
    other = kms.create_key(KeySpec=key_spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    code, _, status = aws_error(
        kms.decrypt,
        KeyId=other,
        CiphertextBlob=edk.encrypted_data_key,
        EncryptionAlgorithm=algorithm,
    )
    assert (code, status) == ("InvalidCiphertextException", 400)
    # And disabling the key stops the keyring: its decrypt goes through KMS.
    kms.disable_key(KeyId=arn)
    error = decrypt_error(esdk, source=message, keyring=decrypting)
    assert kms_failures(error) == [f"{arn} is disabled."]


# --- 4. The AWS KMS ECDH keyring ------------------------------------------------------------


def agreement_key(kms: Any, curve: str) -> tuple[str, bytes]:
    arn = kms.create_key(KeySpec=curve, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
    return str(arn), bytes(kms.get_public_key(KeyId=arn)["PublicKey"])


def ecdh_keyring(mpl: Any, kms: Any, curve: str, scheme: Any) -> Any:
    return mpl.create_aws_kms_ecdh_keyring(
        input=CreateAwsKmsEcdhKeyringInput(
            key_agreement_scheme=scheme, curve_spec=curve, kms_client=kms
        )
    )


def discovery_scheme(arn: str) -> Any:
    return KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery(
        KmsPublicKeyDiscoveryInput(recipient_kms_identifier=arn)
    )


@pytest.mark.parametrize("curve", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"])
def test_ecdh_keyring_between_two_kms_keys(kms: Any, mpl: Any, esdk: Any, curve: str) -> None:
    sender, _ = agreement_key(kms, curve)
    recipient, recipient_public = agreement_key(kms, curve)
    sender_scheme = KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey(
        KmsPrivateKeyToStaticPublicKeyInput(
            sender_kms_identifier=sender, recipient_public_key=recipient_public
        )
    )
    sending = ecdh_keyring(mpl, kms, curve, sender_scheme)
    message, header = esdk.encrypt(source=PLAINTEXT, keyring=sending, encryption_context=CONTEXT)
    (edk,) = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms-ecdh"

    # The recipient derives the same secret from its private key and the sender's public key.
    receiving = ecdh_keyring(mpl, kms, curve, discovery_scheme(recipient))
    assert esdk.decrypt(source=message, keyring=receiving)[0] == PLAINTEXT
    # So does the sender, with its own configuration.
    assert esdk.decrypt(source=message, keyring=sending)[0] == PLAINTEXT

    # A third key of the curve is no recipient: its public key is not the one in the message,
    # so the keyring never asks KMS.
    stranger, _ = agreement_key(kms, curve)
    error = decrypt_error(
        esdk, source=message, keyring=ecdh_keyring(mpl, kms, curve, discovery_scheme(stranger))
    )
    assert kms_failures(error) == []
    # Disabling the recipient key stops its keyring: decrypting goes through KMS.
    kms.disable_key(KeyId=recipient)
    error = decrypt_error(esdk, source=message, keyring=receiving)
    assert kms_failures(error) == [f"{recipient} is disabled."]


def test_ecdh_keyring_interoperates_with_raw_ecdh(kms: Any, mpl: Any, esdk: Any) -> None:
    """Strongroom's key agreement against the MPL's own ECDH, both ways (P-256)."""
    curve = "ECC_NIST_P256"
    raw_private = ec.generate_private_key(ec.SECP256R1())
    raw_private_pem = raw_private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    raw_public_der = raw_private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kms_arn, kms_public = agreement_key(kms, curve)

    # A KMS sender to a raw recipient, who decrypts with no KMS at all.
    sending = ecdh_keyring(
        mpl,
        kms,
        curve,
        KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey(
            KmsPrivateKeyToStaticPublicKeyInput(
                sender_kms_identifier=kms_arn,
                sender_public_key=kms_public,
                recipient_public_key=raw_public_der,
            )
        ),
    )
    message, _ = esdk.encrypt(source=PLAINTEXT, keyring=sending, encryption_context=CONTEXT)
    raw_recipient = mpl.create_raw_ecdh_keyring(
        input=CreateRawEcdhKeyringInput(
            key_agreement_scheme=RawEcdhStaticConfigurationsPublicKeyDiscovery(
                PublicKeyDiscoveryInput(recipient_static_private_key=raw_private_pem)
            ),
            curve_spec=curve,
        )
    )
    assert esdk.decrypt(source=message, keyring=raw_recipient)[0] == PLAINTEXT

    # An ephemeral raw sender to the KMS key, which decrypts through DeriveSharedSecret.
    raw_sender = mpl.create_raw_ecdh_keyring(
        input=CreateRawEcdhKeyringInput(
            key_agreement_scheme=RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey(
                EphemeralPrivateKeyToStaticPublicKeyInput(recipient_public_key=kms_public)
            ),
            curve_spec=curve,
        )
    )
    message, _ = esdk.encrypt(source=PLAINTEXT, keyring=raw_sender, encryption_context=CONTEXT)
    receiving = ecdh_keyring(mpl, kms, curve, discovery_scheme(kms_arn))
    assert esdk.decrypt(source=message, keyring=receiving)[0] == PLAINTEXT


# --- 5. The master-key-provider API ---------------------------------------------------------


def test_strict_master_key_provider(
    server: Server,
    mpl: Any,
    esdk: Any,
    key_arn: str,
    eu_key_arn: str,
    tmp_path: Path,
) -> None:
    """StrictAwsKmsMasterKeyProvider makes its own regional clients from a botocore session;
    an ``endpoint_url`` in that session's config file sends every region to Strongroom."""
    config = tmp_path / "config"
    config.write_text(f"[profile strongroom]\nendpoint_url = {server.endpoint}\n")
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("profile", "strongroom")
    session.set_credentials(server.access_key, server.secret_key)

    both = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[key_arn, eu_key_arn], botocore_session=session
    )
    message, header = esdk.encrypt(source=PLAINTEXT, key_provider=both, encryption_context=CONTEXT)
    wrapped_under = sorted(edk.key_provider.key_info for edk in header.encrypted_data_keys)
    assert wrapped_under == sorted([key_arn.encode(), eu_key_arn.encode()])
    assert {edk.key_provider.provider_id for edk in header.encrypted_data_keys} == {"aws-kms"}

    eu_only = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[eu_key_arn], botocore_session=session
    )
    assert esdk.decrypt(source=message, key_provider=eu_only)[0] == PLAINTEXT
    # The two APIs write the same messages: a keyring reads what the provider wrote.
    keyring = kms_keyring(mpl, key_arn, server.client())
    assert esdk.decrypt(source=message, keyring=keyring)[0] == PLAINTEXT
