"""One scenario over HTTP, then its trail: every KMS operation the server serves, IAM and STS
calls, a call an integrated service forwards and calls on another account's key, each made by
a known identity (the account root, an IAM user, an assumed role's session, a second account's
root). Each call must have left exactly one event per account CloudTrail delivers it to, found
by the reply's ``x-amzn-RequestId``, with the event AWS writes (kms-spec.md 16.1 and 16.2, the
``ct-<operation>`` pages of the KMS developer guide, CloudTrail's userIdentity page); and the
trail must hold no API call the scenario did not make.

What is uncertain in AWS's record and how this test takes it:

- A call forwarded by an integrated service: the user's identity plus ``invokedBy`` (the
  service's ``kms:ViaService`` name), as kms-spec.md 16.2 says for a service acting for a user.
  AWS writes the service's name as ``sourceIPAddress`` too; Strongroom's services are not AWS's,
  so the source is left unchecked here.
- The key owner's copy of a cross-account call names the caller as ``{"type": "AWSAccount",
  "principalId", "accountId"}`` (kms-spec.md 16.2), with the caller's ``sharedEventID``.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- the client's side
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: TID251 -- the client's side

from strongroom.audit.trail import read_events
from strongroom.kms.operations import OPERATIONS
from tests.integration.server import (
    STRONGROOM,
    Server,
    create_account,
    initialised_server,
    raw_post,
)
from tests.integration.test_via_service import VIA, _via

B = "444455556666"
EU, WEST = "eu-west-1", "us-west-2"
SOURCES = {"kms": "kms.amazonaws.com", "iam": "iam.amazonaws.com", "sts": "sts.amazonaws.com"}
# Cryptographic operations: readOnly, responseElements null (kms-spec.md 16.1).
CRYPTOGRAPHIC = frozenset({
    "Decapsulate", "Decrypt", "DeriveSharedSecret", "Encapsulate", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GenerateRandom", "ReEncrypt", "Sign",
    "Verify", "VerifyMac",
})  # fmt: skip
# Request members that must never be in requestParameters, whatever their depth.
NEVER = frozenset({
    "plaintext", "ciphertextBlob", "message", "signature", "mac", "importToken",
    "encryptedKeyMaterial", "grantToken", "grantTokens", "sharedSecretCiphertextBlob",
    "privateKeyPlaintext", "secretAccessKey", "sessionToken",
})  # fmt: skip
TOKENS = frozenset({"GrantToken", "GrantTokens"})  # bearer tokens: never written
# The key ARN in responseElements.keyId, though the operation does not return it (AWS's events
# since December 2022, ct-enablekey, ct-disablekey, ...).
# The alias operations show the key, never the alias (ct-createalias, ct-updatealias: the key the
# alias now points to, ct-deletealias).
KEY_ID_RESPONSES = {
    "CreateAlias": 0,
    "CreateGrant": 0,
    "DeleteAlias": 0,
    "DeleteImportedKeyMaterial": 0,
    "DisableKey": 0,
    "EnableKey": 0,
    "UpdateAlias": 0,
}  # fmt: skip  (the index of the key in the call's resources)


@dataclass
class Call:
    """One call the scenario made, and what its event(s) must say."""

    request_id: str
    service: str
    name: str
    region: str
    who: str
    params: dict[str, Any]
    resources: list[str]  # key (or role) ARNs, in the order the event lists them
    owners: list[str]  # the other accounts CloudTrail also delivers the event to
    error: tuple[str, str] | None = None
    response: dict[str, Any] | None = None  # members responseElements must hold


@dataclass
class Scenario:
    server: Server
    account: str = ""
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # strings no event may contain

    def client(self, who: str, service: str = "kms", region: str = "us-east-1") -> Any:
        access, secret, token = self.credentials[who]
        extra: dict[str, Any] = {"aws_session_token": token} if token else {}
        return self.server.client(service, region, access_key=access, secret_key=secret, **extra)

    def call(self, who: str, service: str, name: str, *, region: str = "us-east-1",
             resources: tuple[str, ...] = (), owners: tuple[str, ...] = (),
             error: str | None = None, response: dict[str, Any] | None = None,
             **params: Any) -> Any:  # fmt: skip
        """``name`` made by ``who``, recorded with what its event must show."""
        method = getattr(self.client(who, service, region), xform_name(name))
        failed: tuple[str, str] | None = None
        try:
            answer = method(**params)
        except ClientError as exc:
            if error is None:
                raise
            answer = exc.response
            failed = (answer["Error"]["Code"], answer["Error"].get("Message", ""))
            assert failed[0] == error, answer
        else:
            assert error is None, f"{name} should have failed with {error}"
        request_id = str(answer["ResponseMetadata"]["RequestId"])
        self.calls.append(
            Call(
                request_id,
                service,
                name,
                region,
                who,
                params,
                list(resources),
                list(owners),
                failed,
                response,
            )
        )
        return answer

    def kms(self, who: str, name: str, *resources: str, **kwargs: Any) -> Any:
        return self.call(who, "kms", name, resources=resources, **kwargs)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _identity_policy(actions: list[str]) -> str:
    return _policy({"Effect": "Allow", "Action": actions, "Resource": "*"})


def _allow(principal: str | list[str], action: str | list[str] = "kms:*") -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    server = initialised_server(tmp_path_factory.mktemp("audit-scenario") / "data")
    try:
        scenario = Scenario(server)
        scenario.credentials["root"] = (server.access_key, server.secret_key, None)
        _play(scenario)
        yield scenario
    finally:
        server.stop()


def _play(s: Scenario) -> None:
    server = s.server
    who_am_i = s.call("root", "sts", "GetCallerIdentity")
    a = s.account = who_am_i["Account"]
    root_arn = f"arn:aws:iam::{a}:root"
    s.identities["root"] = {"type": "Root", "principalId": a, "arn": root_arn, "accountId": a,
                            "accessKeyId": server.access_key}  # fmt: skip
    # A second account (made beside the server: no API call), whose root uses the first's key.
    b_access, b_secret = create_account(server, B)
    s.credentials["b"] = (b_access, b_secret, None)
    s.identities["b"] = {"type": "Root", "principalId": B, "arn": f"arn:aws:iam::{B}:root",
                         "accountId": B, "accessKeyId": b_access}  # fmt: skip

    # -- IAM: a user with a policy, a service user, a role to assume --------------------------
    users = {}
    for name in ("alice", "objects-service"):
        made = s.call("root", "iam", "CreateUser", UserName=name,
                      response={"user": {"userName": name}})  # fmt: skip
        key = s.call("root", "iam", "CreateAccessKey", UserName=name)["AccessKey"]
        s.secrets.append(key["SecretAccessKey"])
        s.credentials[name] = (key["AccessKeyId"], key["SecretAccessKey"], None)
        users[name] = made["User"]
        s.identities[name] = {"type": "IAMUser", "principalId": made["User"]["UserId"],
                              "arn": made["User"]["Arn"], "accountId": a,
                              "accessKeyId": key["AccessKeyId"], "userName": name}  # fmt: skip
    alice_arn = users["alice"]["Arn"]
    s.call("root", "iam", "PutUserPolicy", UserName="alice", PolicyName="kms-and-sts",
           PolicyDocument=_identity_policy(["kms:*", "sts:AssumeRole"]))  # fmt: skip
    role = s.call("root", "iam", "CreateRole", RoleName="auditor",
                  AssumeRolePolicyDocument=_policy({
                      "Effect": "Allow", "Principal": {"AWS": alice_arn},
                      "Action": "sts:AssumeRole"}),
                  response={"role": {"roleName": "auditor"}})["Role"]  # fmt: skip
    s.call("root", "iam", "PutRolePolicy", RoleName="auditor", PolicyName="kms",
           PolicyDocument=_identity_policy(["kms:*"]))  # fmt: skip
    assumed = s.call("alice", "sts", "AssumeRole", RoleArn=role["Arn"],
                     RoleSessionName="scenario", resources=(role["Arn"],))  # fmt: skip
    creds = assumed["Credentials"]
    s.secrets += [creds["SecretAccessKey"], creds["SessionToken"]]
    s.credentials["role"] = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    s.identities["role"] = {
        "type": "AssumedRole",
        "principalId": assumed["AssumedRoleUser"]["AssumedRoleId"],
        "arn": f"arn:aws:sts::{a}:assumed-role/auditor/scenario",
        "accountId": a,
        "accessKeyId": creds["AccessKeyId"],
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": role["RoleId"],
                                             "arn": role["Arn"], "accountId": a,
                                             "userName": "auditor"}},
    }  # fmt: skip
    s.call("role", "sts", "GetCallerIdentity")

    # -- keys: lifecycle, aliases, tags, policies -----------------------------------------------
    key_policy = _policy(_allow(root_arn), _allow(f"arn:aws:iam::{B}:root"))
    described = {"keyMetadata": {"description": "scenario: first"}}
    first = s.kms("root", "CreateKey", Description="scenario: first", Policy=key_policy,
                  response=described)["KeyMetadata"]  # fmt: skip
    arn, key_id = first["Arn"], first["KeyId"]
    s.calls[-1].resources = [arn]  # CreateKey's event names the key it made
    second = s.kms("root", "CreateKey", Description="scenario: second")["KeyMetadata"]
    s.calls[-1].resources = [second["Arn"]]
    s.kms("root", "DescribeKey", arn, KeyId=key_id)
    s.kms("root", "ListKeys")
    s.kms("root", "UpdateKeyDescription", second["Arn"], KeyId=second["Arn"], Description="b")
    s.kms("root", "DisableKey", second["Arn"], KeyId=second["KeyId"])
    s.kms("root", "EnableKey", second["Arn"], KeyId=second["Arn"])
    s.kms("root", "GetKeyLastUsage", arn, KeyId=arn)
    s.kms("root", "ScheduleKeyDeletion", second["Arn"], KeyId=second["KeyId"],
          PendingWindowInDays=7,
          response={"keyId": second["Arn"], "keyState": "PendingDeletion",
                    "pendingWindowInDays": 7})  # fmt: skip
    s.kms("root", "CancelKeyDeletion", second["Arn"], KeyId=second["Arn"],
          response={"keyId": second["Arn"]})  # fmt: skip
    s.kms("root", "EnableKey", second["Arn"], KeyId=second["Arn"])
    alias = f"alias/scenario-{uuid.uuid4().hex[:8]}"
    alias_arn = f"{arn.rsplit(':', 1)[0]}:{alias}"
    # The alias's ARN is a resource too, typed as a key (ct-createalias, ct-updatealias); for
    # UpdateAlias Strongroom lists the new target, the previous one and the alias (AWS's example
    # shows the alias and a key: which keys, and in which order, it does not say).
    s.kms("root", "CreateAlias", arn, alias_arn, AliasName=alias, TargetKeyId=key_id)
    s.kms("root", "UpdateAlias", second["Arn"], arn, alias_arn, AliasName=alias,
          TargetKeyId=second["Arn"])  # fmt: skip
    s.kms("root", "ListAliases")
    s.kms("root", "DeleteAlias", second["Arn"], alias_arn, AliasName=alias)
    s.kms("root", "TagResource", second["Arn"], KeyId=second["Arn"],
          Tags=[{"TagKey": "team", "TagValue": "core"}])  # fmt: skip
    s.kms("root", "UntagResource", second["Arn"], KeyId=second["KeyId"], TagKeys=["team"])
    s.kms("root", "ListResourceTags", second["Arn"], KeyId=second["Arn"])
    s.kms("root", "ListKeyPolicies", arn, KeyId=arn)
    s.kms("root", "GetKeyPolicy", arn, KeyId=key_id, PolicyName="default")
    s.kms("root", "PutKeyPolicy", arn, KeyId=arn, PolicyName="default", Policy=key_policy)

    # -- cryptography, by the user, the role's session and the second account ------------------
    context = {"purpose": "audit-scenario"}
    s.kms("root", "GenerateRandom", NumberOfBytes=32)
    blob = s.kms("alice", "Encrypt", arn, KeyId=arn, Plaintext=b"scenario",
                 EncryptionContext=context)["CiphertextBlob"]  # fmt: skip
    s.kms("role", "Decrypt", arn, CiphertextBlob=blob, EncryptionContext=context)
    s.kms("role", "ReEncrypt", arn, second["Arn"], CiphertextBlob=blob,
          SourceEncryptionContext=context, DestinationKeyId=second["KeyId"])  # fmt: skip
    s.kms("role", "Decrypt", arn, CiphertextBlob=blob, error="InvalidCiphertextException")
    s.kms("alice", "GenerateDataKey", arn, KeyId=key_id, KeySpec="AES_256",
          EncryptionContext=context)  # fmt: skip
    s.kms("alice", "GenerateDataKeyWithoutPlaintext", arn, KeyId=key_id,
          NumberOfBytes=48)  # fmt: skip
    s.kms("alice", "GenerateDataKeyPair", arn, KeyId=arn, KeyPairSpec="ECC_NIST_P256",
          EncryptionContext=context)  # fmt: skip
    s.kms("alice", "GenerateDataKeyPairWithoutPlaintext", arn, KeyId=key_id,
          KeyPairSpec="RSA_2048")  # fmt: skip

    signing = s.kms("root", "CreateKey", KeySpec="ECC_NIST_P256",
                    KeyUsage="SIGN_VERIFY")["KeyMetadata"]  # fmt: skip
    s.calls[-1].resources = [signing["Arn"]]
    s.kms("role", "GetPublicKey", signing["Arn"], KeyId=signing["Arn"])
    signed = {"KeyId": signing["KeyId"], "Message": b"scenario", "MessageType": "RAW",
              "SigningAlgorithm": "ECDSA_SHA_256"}  # fmt: skip
    signature = s.kms("role", "Sign", signing["Arn"], **signed)["Signature"]
    s.kms("role", "Verify", signing["Arn"], Signature=signature, **signed)
    s.kms("role", "Verify", signing["Arn"], Signature=signature,
          error="KMSInvalidSignatureException", **{**signed, "Message": b"forged"})  # fmt: skip

    mac_key = s.kms("root", "CreateKey", KeySpec="HMAC_256",
                    KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]  # fmt: skip
    s.calls[-1].resources = [mac_key["Arn"]]
    maced = {"KeyId": mac_key["Arn"], "Message": b"scenario", "MacAlgorithm": "HMAC_SHA_256"}
    mac = s.kms("alice", "GenerateMac", mac_key["Arn"], **maced)["Mac"]
    s.kms("alice", "VerifyMac", mac_key["Arn"], Mac=mac, **maced)

    agreeing = s.kms("root", "CreateKey", KeySpec="ECC_NIST_P256",
                     KeyUsage="KEY_AGREEMENT")["KeyMetadata"]  # fmt: skip
    s.calls[-1].resources = [agreeing["Arn"]]
    mine = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    s.kms("alice", "DeriveSharedSecret", agreeing["Arn"], KeyId=agreeing["KeyId"],
          KeyAgreementAlgorithm="ECDH", PublicKey=mine)  # fmt: skip

    kem = s.kms("root", "CreateKey", KeySpec="ML_KEM_768",
                KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]  # fmt: skip
    s.calls[-1].resources = [kem["Arn"]]
    made = s.kms("alice", "Encapsulate", kem["Arn"], KeyId=kem["Arn"],
                 EncapsulationAlgorithm="ML_KEM")  # fmt: skip
    s.kms("alice", "Decapsulate", kem["Arn"], KeyId=kem["KeyId"], EncapsulationAlgorithm="ML_KEM",
          SharedSecretCiphertextBlob=made["SharedSecretCiphertextBlob"])  # fmt: skip

    # -- rotation, imported material, multi-Region keys, grants --------------------------------
    s.kms("root", "EnableKeyRotation", second["Arn"], KeyId=second["KeyId"],
          RotationPeriodInDays=180)  # fmt: skip
    s.kms("root", "GetKeyRotationStatus", second["Arn"], KeyId=second["Arn"])
    s.kms("root", "RotateKeyOnDemand", second["Arn"], KeyId=second["Arn"])
    s.kms("root", "ListKeyRotations", second["Arn"], KeyId=second["KeyId"])
    s.kms("root", "DisableKeyRotation", second["Arn"], KeyId=second["Arn"])

    external = s.kms("root", "CreateKey", Origin="EXTERNAL")["KeyMetadata"]
    s.calls[-1].resources = [external["Arn"]]
    parameters = s.kms("root", "GetParametersForImport", external["Arn"],
                       KeyId=external["Arn"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                       WrappingKeySpec="RSA_2048")  # fmt: skip
    wrapping = serialization.load_der_public_key(parameters["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = wrapping.encrypt(b"\x07" * 32, oaep)  # type: ignore[union-attr]
    s.kms("root", "ImportKeyMaterial", external["Arn"], KeyId=external["KeyId"],
          ImportToken=parameters["ImportToken"], EncryptedKeyMaterial=wrapped,
          ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")  # fmt: skip
    s.kms("root", "DeleteImportedKeyMaterial", external["Arn"], KeyId=external["Arn"])

    primary = s.kms("root", "CreateKey", region=EU, MultiRegion=True)["KeyMetadata"]
    s.calls[-1].resources = [primary["Arn"]]
    replica_arn = primary["Arn"].replace(f":{EU}:", f":{WEST}:")
    # ReplicateKey names the key it was called on (AWS's example does not show its resources);
    # the replica's CreateKey is a service event of its own region (test_audit_service_events).
    s.kms("root", "ReplicateKey", primary["Arn"], region=EU, KeyId=primary["Arn"],
          ReplicaRegion=WEST)  # fmt: skip
    s.kms("root", "UpdatePrimaryRegion", primary["Arn"], replica_arn, region=EU,
          KeyId=primary["KeyId"], PrimaryRegion=WEST)  # fmt: skip

    grant = s.kms("root", "CreateGrant", arn, KeyId=arn, GranteePrincipal=role["Arn"],
                  RetiringPrincipal=alice_arn, Operations=["Decrypt"])  # fmt: skip
    s.calls[-1].response = {"grantId": grant["GrantId"]}
    s.secrets.append(grant["GrantToken"])
    s.kms("root", "ListGrants", arn, KeyId=key_id)
    s.kms("alice", "ListRetirableGrants", RetiringPrincipal=alice_arn)
    s.kms("alice", "RetireGrant", arn, GrantToken=grant["GrantToken"])
    other = s.kms("root", "CreateGrant", arn, KeyId=key_id, GranteePrincipal=alice_arn,
                  Operations=["Encrypt"])  # fmt: skip
    s.secrets.append(other["GrantToken"])
    s.kms("root", "RevokeGrant", arn, KeyId=arn, GrantId=other["GrantId"])

    # -- through an integrated service: alice's request, forwarded by the object store ---------
    subprocess.run(
        [STRONGROOM, "admin", "register-service", "--data-dir", str(server.data_dir),
         "--name", "objects", "--via-name", VIA, "--signing-name", "s3",
         "--principal", users["objects-service"]["Arn"]],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    alice = s.credentials["alice"]
    service = s.credentials["objects-service"]
    sent = {"KeyId": arn, "Plaintext": base64.b64encode(b"via").decode()}
    reply = raw_post(server, "TrentService.Encrypt", json.dumps(sent).encode(),
                     headers=_via((alice[0], alice[1])), access_key=service[0],
                     secret_key=service[1])  # fmt: skip
    assert reply.status == 200, reply.body
    s.calls.append(Call(reply.headers["x-amzn-requestid"], "kms", "Encrypt", "us-east-1", "via",
                        {"KeyId": arn}, [arn], []))  # fmt: skip
    s.identities["via"] = {**s.identities["alice"], "invokedBy": VIA}

    # -- another account's calls on this account's key: one event for each account -------------
    s.call("b", "sts", "GetCallerIdentity")
    s.kms("b", "DescribeKey", arn, owners=(a,), KeyId=arn)
    b_blob = s.kms("b", "Encrypt", arn, owners=(a,), KeyId=arn, Plaintext=b"from b",
                   EncryptionContext=context)["CiphertextBlob"]  # fmt: skip
    s.kms("b", "Decrypt", arn, owners=(a,), CiphertextBlob=b_blob, EncryptionContext=context,
          KeyId=arn)  # fmt: skip
    b_grant = s.kms("b", "CreateGrant", arn, owners=(a,), KeyId=arn,
                    GranteePrincipal=f"arn:aws:iam::{B}:root", Operations=["Decrypt"])  # fmt: skip
    s.calls[-1].response = {"grantId": b_grant["GrantId"]}
    s.secrets.append(b_grant["GrantToken"])


# -- the trail ------------------------------------------------------------------------------------


def _api_events(scenario: Scenario) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event in read_events(scenario.server.data_dir / "trail"):
        if event["eventType"] == "AwsServiceEvent":
            continue  # the rotation's and the replica's own events (test_audit_service_events)
        found.setdefault(event.get("requestID", ""), []).append(event)
    return found


def _camel(name: str) -> str:
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _names(value: Any) -> Iterator[str]:
    """Every member name in a JSON value, at any depth."""
    if isinstance(value, dict):
        for name, member in value.items():
            yield name
            yield from _names(member)
    elif isinstance(value, list):
        for member in value:
            yield from _names(member)


def _subset(expected: dict[str, Any], actual: Any, where: str) -> None:
    assert isinstance(actual, dict), f"{where}: {actual!r}"
    for name, value in expected.items():
        if isinstance(value, dict):
            _subset(value, actual.get(name), f"{where}.{name}")
        else:
            assert actual.get(name) == value, f"{where}.{name}: {actual.get(name)!r} != {value!r}"


def _check_parameters(call: Call, parameters: Any) -> None:
    """Each non-secret member as sent (names in camelCase, maps' keys as sent), no secret."""
    where = f"{call.name} requestParameters"
    public = [n for n, v in call.params.items() if not isinstance(v, bytes) and n not in TOKENS]
    if not public:  # nothing but binaries and tokens (or nothing) was sent
        # null (ct-retire-grant), or only what AWS writes in by default (Decrypt's algorithm)
        assert parameters is None or not set(_names(parameters)) & NEVER, f"{where}: {parameters}"
        return
    assert isinstance(parameters, dict), f"{where}: {parameters!r}"
    assert not set(_names(parameters)) & NEVER, f"{where}: {parameters}"
    for name, value in call.params.items():
        if isinstance(value, bytes) or name in TOKENS:
            continue
        written = value
        if isinstance(value, list) and value and isinstance(value[0], dict):
            written = [{_camel(k): v for k, v in item.items()} for item in value]
        assert parameters.get(_camel(name)) == written, f"{where}: {name} {parameters}"
    if call.service == "kms" and call.name in {"Encrypt", "Decrypt"}:
        assert parameters["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT", parameters


def _check(scenario: Scenario, call: Call, events: list[dict[str, Any]]) -> None:
    caller = scenario.identities[call.who]
    recipients = [caller["accountId"], *call.owners]
    assert sorted(e["recipientAccountId"] for e in events) == sorted(recipients), events
    shared = {e.get("sharedEventID") for e in events}
    assert len(shared) == 1, events
    assert (None in shared) == (not call.owners), events
    assert len({e["eventID"] for e in events}) == len(events)
    read_only = (
        call.service == "sts"
        or call.name.startswith(("Describe", "Get", "List"))
        or (call.service == "kms" and call.name in CRYPTOGRAPHIC)
    )
    for event in events:
        where = f"{call.name} ({call.who}) for {event['recipientAccountId']}"
        assert event["requestID"] == call.request_id
        assert event["eventName"] == call.name, where
        assert event["eventSource"] == SOURCES[call.service], where
        assert event["awsRegion"] == ("us-east-1" if call.service == "iam" else call.region), where
        assert (event["eventType"], event["managementEvent"], event["eventCategory"]) == (
            "AwsApiCall", True, "Management",
        ), where  # fmt: skip
        assert event["readOnly"] is read_only, where
        assert event["eventVersion"].startswith("1."), where
        if event["recipientAccountId"] == caller["accountId"]:
            _subset(caller, event["userIdentity"], f"{where} userIdentity")
            if call.who != "via":
                assert "invokedBy" not in event["userIdentity"], where
        else:  # the key owner's copy (kms-spec.md 16.2)
            assert event["userIdentity"] == {
                "type": "AWSAccount", "principalId": caller["principalId"], "accountId": B,
            }, where  # fmt: skip
        resources = event.get("resources", [])
        if call.service == "sts":
            assert resources == [
                {"accountId": scenario.account, "type": "AWS::IAM::Role", "ARN": arn}
                for arn in call.resources
            ], where
        else:
            assert resources == [
                {"accountId": arn.split(":")[4], "type": "AWS::KMS::Key", "ARN": arn}
                for arn in call.resources
            ], where
        _check_parameters(call, event["requestParameters"])
        elements = event["responseElements"]
        if call.error is not None:
            code, message = call.error
            assert event["errorCode"] == code, where
            assert event.get("errorMessage", "") == message, where
            assert elements is None, where
            continue
        assert "errorCode" not in event, where
        assert "errorMessage" not in event, where
        if call.service == "kms" and (call.name in CRYPTOGRAPHIC or read_only):
            assert elements is None, f"{where}: {elements}"
        if call.service == "kms" and call.name in KEY_ID_RESPONSES:
            assert (elements or {}).get("keyId") == call.resources[KEY_ID_RESPONSES[call.name]], (
                where
            )
        if call.response is not None:
            _subset(call.response, elements, f"{where} responseElements")


def test_every_call_left_exactly_one_event_per_recipient_account(played: Scenario) -> None:
    events = _api_events(played)
    for call in played.calls:
        _check(played, call, events.get(call.request_id, []))


def test_the_trail_holds_no_api_call_the_scenario_did_not_make(played: Scenario) -> None:
    made = {call.request_id for call in played.calls}
    assert len(made) == len(played.calls)
    assert set(_api_events(played)) == made


def test_the_scenario_called_every_kms_operation_iam_and_sts(played: Scenario) -> None:
    kms = {call.name for call in played.calls if call.service == "kms"}
    assert sorted(set(OPERATIONS) - kms) == []
    assert {call.name for call in played.calls if call.service == "iam"} >= {
        "CreateUser", "CreateAccessKey", "PutUserPolicy",
    }  # fmt: skip
    assert {call.name for call in played.calls if call.service == "sts"} == {
        "GetCallerIdentity", "AssumeRole",
    }  # fmt: skip
    assert {call.who for call in played.calls} == {"root", "alice", "role", "via", "b"}


def test_no_secret_of_the_scenario_is_in_the_trail(played: Scenario) -> None:
    written = b"".join(
        path.read_bytes() for path in (played.server.data_dir / "trail").rglob("*.jsonl")
    )
    assert played.secrets
    for secret in played.secrets:
        assert secret.encode() not in written


def test_retire_grant_names_the_grant_it_retired(played: Scenario) -> None:
    """As AWS's example (ct-retire-grant): the grant id in additionalEventData, and no
    requestParameters when the grant was named by its token."""
    events = _api_events(played)
    [retire] = [call for call in played.calls if call.name == "RetireGrant"]
    [create] = [
        call
        for call in played.calls
        if call.name == "CreateGrant" and call.params.get("RetiringPrincipal")
    ]
    [event] = events[retire.request_id]
    assert create.response is not None
    assert event["additionalEventData"] == {"grantId": create.response["grantId"]}
    assert event["requestParameters"] is None
