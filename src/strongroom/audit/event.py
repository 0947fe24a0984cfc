"""A completed :class:`RequestRecord` -> the CloudTrail event(s) of the call, and the events AWS
KMS logs without a caller (:func:`service_event`).

The shape is CloudTrail's record for KMS (kms-spec.md 16.1 and 16.2, checked against AWS's
``ct-<operation>`` pages of the KMS developer guide: Encrypt, Decrypt, CreateKey, CreateGrant,
ScheduleKeyDeletion, EnableKey, DisableKey, UpdateAlias, DeleteImportedKeyMaterial,
ReplicateKey, DeleteKey, DeleteExpiredKeyMaterial, and CloudTrail's page on AWS service events
for RotateKey). What this module writes, member by member:

- ``eventSource``: ``kms.amazonaws.com``, ``iam.amazonaws.com``, ``sts.amazonaws.com``; the
  calls of Strongroom's own admin API (``/_strongroom/...``, ``StrongroomAdmin.*``), which AWS
  has no name for, ``strongroom.admin`` (:data:`EVENT_SOURCES`).
- ``awsRegion``: the region of the call's signature; IAM is global and CloudTrail writes its
  events in ``us-east-1``, as does this module for an IAM call and for a call refused before its
  signature named a region.
- ``userIdentity``: Root, IAMUser (with ``userName``), AssumedRole (with ``sessionContext``:
  ``sessionIssuer`` the role, ``attributes`` the session's ``creationDate`` and
  ``mfaAuthenticated``), ``sessionContext.attributes`` for a root or user signing with
  GetSessionToken credentials, ``invokedBy`` for a call an integrated service forwarded
  (``record.via_service``), ``accessKeyId`` always when known. A call refused before its
  caller was known is ``{"type": "Unknown", "accessKeyId": ...}`` (the key it claimed).
- ``requestParameters``: the request's members less those the service model marks sensitive or
  binary and the grant tokens (``record.parameters``), with CloudTrail's names: each structure
  member's first letter lowered as Java's ``Introspector.decapitalize`` does (``KeyId`` ->
  ``keyId``, ``AWSAccountId`` stays), map keys kept as sent (an encryption context's keys are
  the caller's data). A binary value nested anywhere is left out, and so is every member named
  in :data:`SECRET_MEMBERS` at any depth (the model marks some nested secrets, such as an XKS
  proxy's credential, and not STS's session token). KMS's defaults are written in, as AWS
  does (Decrypt's ``encryptionAlgorithm`` is there even when the request left it out).
  ``null`` when there are none.
- ``responseElements``: ``null`` except for the operations in :data:`RESPONSE_MEMBERS`, whose
  listed members of the result are written (never a token, secret key or session token), and
  those of :data:`KEY_ID_RESPONSES`, whose event shows the key's ARN as ``keyId`` although the
  operation does not return it (AWS's events since December 2022). Dates are written as
  CloudTrail's Java-style ``Aug 10, 2022, 10:38:27 PM`` (UTC).
- ``resources``: each key the call was decided on (``record.resources``; two for ReEncrypt and
  UpdateAlias), and the key CreateKey made, as ``{"accountId", "type": "AWS::KMS::Key",
  "ARN"}``; for AssumeRole, the role (``AWS::IAM::Role``).
- ``tlsDetails``: on a TLS call, ``{"tlsVersion", "cipherSuite", "clientProvidedHostHeader"}``
  (as the connection agreed them, ``TLSv1.3``, ``TLS_AES_256_GCM_SHA384``; each left out when
  unknown).
- A KMS call on a key of another account yields one event per account, each with its
  ``recipientAccountId`` and the same ``sharedEventID``; the key owner's copy names the caller
  as ``{"type": "AWSAccount", "principalId", "accountId"}``.

Everything is worked out here, once per request; the record holds only references.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.domain.record import RequestRecord

__all__ = [
    "AWS_INTERNAL",
    "EVENT_SOURCES",
    "EVENT_VERSION",
    "KEY_ID_RESPONSES",
    "RESPONSE_MEMBERS",
    "SECRET_MEMBERS",
    "events_for",
    "service_event",
]

EVENT_VERSION = "1.11"
AWS_INTERNAL = "AWS Internal"
KEY_RESOURCE = "AWS::KMS::Key"
GLOBAL_REGION = "us-east-1"  # where CloudTrail writes IAM's (global) events
EVENT_SOURCES: Mapping[str, str] = {
    "kms": "kms.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "admin": "strongroom.admin",
}

# Members never written, at any depth, whatever the model says of them: secrets and tokens.
SECRET_MEMBERS = frozenset(
    {
        "AttestationDocument",
        "Base32StringSeed",
        "GrantToken",
        "GrantTokens",
        "NewPassword",
        "OldPassword",
        "Password",
        "Plaintext",
        "PrivateKeyPlaintext",
        "QRCodePNG",
        "RawSecretAccessKey",
        "SecretAccessKey",
        "ServiceCredentialSecret",
        "ServicePassword",
        "SessionToken",
        "XksProxyAuthenticationCredential",
    }
)

# (service, operation) -> the members of its result CloudTrail shows in responseElements.
RESPONSE_MEMBERS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("kms", "CreateKey"): ("KeyMetadata",),
    ("kms", "CreateGrant"): ("GrantId",),
    ("kms", "ScheduleKeyDeletion"): ("KeyId", "DeletionDate", "KeyState", "PendingWindowInDays"),
    ("kms", "CancelKeyDeletion"): ("KeyId",),
    ("kms", "DeleteImportedKeyMaterial"): ("KeyMaterialId",),
    ("kms", "ReplicateKey"): ("ReplicaKeyMetadata", "ReplicaPolicy", "ReplicaTags"),
    ("iam", "CreateUser"): ("User",),
    ("iam", "CreateRole"): ("Role",),
    ("iam", "CreateGroup"): ("Group",),
    ("iam", "CreatePolicy"): ("Policy",),
    ("iam", "CreateAccessKey"): ("AccessKey",),  # its SecretAccessKey is a SECRET_MEMBER
    ("sts", "AssumeRole"): ("Credentials", "AssumedRoleUser", "PackedPolicySize"),
    ("sts", "GetSessionToken"): ("Credentials",),
}

# KMS operations whose event shows the key's ARN as responseElements.keyId (the alias
# operations too: ct-createalias, ct-deletealias, ct-updatealias; the key, never the alias).
KEY_ID_RESPONSES = frozenset(
    {
        "CreateAlias",
        "CreateGrant",
        "DeleteAlias",
        "DeleteImportedKeyMaterial",
        "DisableKey",
        "EnableKey",
        "UpdateAlias",
        "UpdatePrimaryRegion",
    }
)

_MAP_MEMBERS = ("EncryptionContext",)  # a member whose name holds this is a map: keys as sent
_DATE_SUFFIXES = ("Date", "Expiration", "ValidTo")
_READ_PREFIXES = ("Describe", "Get", "List", "Lookup")
_BINARY = (bytes, bytearray, memoryview)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# What the KMS action table says, by operation name, read once per event.
_KMS_DEFAULTS: Mapping[str, Mapping[str, str]] = {a.value: a.traits.defaults for a in Action}
_KMS_CRYPTOGRAPHIC = frozenset(a.value for a in Action if a.traits.cryptographic)

_IDENTITY_TYPES = {
    PrincipalType.ACCOUNT: "Root",
    PrincipalType.USER: "IAMUser",
    PrincipalType.ASSUMED_ROLE: "AssumedRole",
}


def events_for(record: RequestRecord) -> list[dict[str, Any]]:
    """The CloudTrail event(s) of one completed call: one, or for a KMS call on another
    account's key, one per account (the caller's first), sharing a ``sharedEventID``."""
    service = record.service
    resources = _resources(record) if service == "kms" else _sts_resources(record)
    who = record.principal
    caller_account = None if who is None else who.account
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _identity(record),
        "eventTime": _event_time(record.started),
        "eventSource": EVENT_SOURCES.get(service, f"{service}.amazonaws.com"),
        "eventName": record.action,
        "awsRegion": (record.region if service != "iam" else None) or GLOBAL_REGION,
        "sourceIPAddress": record.source_ip,
        "userAgent": record.user_agent,
        "requestParameters": _request_parameters(record),
        "responseElements": _response_elements(record, resources),
    }
    if record.error_code is not None:
        event["errorCode"] = record.error_code
        if record.error_message:
            event["errorMessage"] = record.error_message
    if record.key_material_id is not None:
        event["additionalEventData"] = {"keyMaterialId": record.key_material_id}
    elif record.grant_id is not None:  # RetireGrant, as AWS's example shows it
        event["additionalEventData"] = {"grantId": record.grant_id}
    event["requestID"] = record.request_id
    event["eventID"] = _event_id()
    event["readOnly"] = _read_only(service, record.action)
    if resources:
        event["resources"] = resources
    event["eventType"] = "AwsApiCall"
    event["managementEvent"] = True
    event["recipientAccountId"] = caller_account
    event["eventCategory"] = "Management"
    if record.tls:
        event["tlsDetails"] = _tls_details(record)
    if who is None or service != "kms":
        return [event]
    owners = [a for a in dict.fromkeys(r["accountId"] for r in resources) if a != caller_account]
    if not owners:
        return [event]
    event["sharedEventID"] = shared = _event_id()
    events = [event]
    for owner in owners:
        copy = dict(event)
        identity: dict[str, Any] = {
            "type": "AWSAccount",
            "principalId": who.user_id,
            "accountId": who.account,
        }
        if record.via_service is not None:
            identity["invokedBy"] = record.via_service
        copy["userIdentity"] = identity
        copy["eventID"] = _event_id()
        copy["recipientAccountId"] = owner
        copy["sharedEventID"] = shared
        events.append(copy)
    return events


def service_event(
    name: str,
    *,
    account: str,
    region: str,
    key_arn: str,
    event_time: float,
    service_event_details: Mapping[str, Any] | None = None,
    additional: Mapping[str, Any] | None = None,
    response_elements: Mapping[str, Any] | None = None,
    invoked_by: str = AWS_INTERNAL,
) -> dict[str, Any]:
    """An event AWS KMS logs without a caller (``AwsServiceEvent``): RotateKey (automatic or on
    demand; details ``{"rotationType", "keyOrigin", "previousKeyMaterialId",
    "currentKeyMaterialId", "keyId"}``), DeleteKey when a deletion window ends (response
    ``{"keyId": <ARN>}``), DeleteExpiredKeyMaterial (details ``{"keyId", "keyMaterialId"}``),
    and the CreateKey of a ReplicateKey in the replica's region (docs/audit.md). ``event_time``
    is the (dev-mode) clock's epoch seconds; ``additional`` becomes ``additionalEventData``,
    ``response_elements`` ``responseElements``. As AWS writes them: no ``requestID``, the
    identity ``{"accountId", "invokedBy": "AWS Internal"}``, source IP and user agent ``AWS
    Internal``, null parameters (and response, unless given)."""
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": account, "invokedBy": invoked_by},
        "eventTime": _event_time(event_time),
        "eventSource": EVENT_SOURCES["kms"],
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": invoked_by,
        "userAgent": invoked_by,
        "requestParameters": None,
        "responseElements": None if response_elements is None else dict(response_elements),
    }
    if additional:
        event["additionalEventData"] = dict(additional)
    event["eventID"] = _event_id()
    event["readOnly"] = False
    event["resources"] = [_resource(key_arn)]
    event["eventType"] = "AwsServiceEvent"
    event["managementEvent"] = True
    event["recipientAccountId"] = account
    if service_event_details is not None:
        event["serviceEventDetails"] = dict(service_event_details)
    event["eventCategory"] = "Management"
    return event


# -- identity ------------------------------------------------------------------------------------


def _identity(record: RequestRecord) -> dict[str, Any]:
    who = record.principal
    if who is None:
        unknown: dict[str, Any] = {"type": "Unknown"}
        if record.access_key_id is not None:
            unknown["accessKeyId"] = record.access_key_id
        return unknown
    identity: dict[str, Any] = {
        "type": _IDENTITY_TYPES[who.type],
        "principalId": who.user_id,
        "arn": who.arn,
        "accountId": who.account,
    }
    if record.access_key_id is not None:
        identity["accessKeyId"] = record.access_key_id
    if who.type is PrincipalType.USER:
        identity["userName"] = who.name
    if who.type is PrincipalType.ASSUMED_ROLE:
        identity["sessionContext"] = {
            "sessionIssuer": _issuer(who),
            "webIdFederationData": {},
            "attributes": _session_attributes(record),
        }
    elif record.session_credentials:  # a root or user with GetSessionToken credentials
        identity["sessionContext"] = {"attributes": _session_attributes(record)}
    if record.via_service is not None:
        identity["invokedBy"] = record.via_service
    return identity


def _issuer(who: Principal) -> dict[str, Any]:
    return {
        "type": "Role",
        "principalId": who.user_id.split(":", 1)[0],
        "arn": who.role_arn,
        "accountId": who.account,
        "userName": who.name,
    }


def _session_attributes(record: RequestRecord) -> dict[str, Any]:
    created = record.session_created
    return {
        "creationDate": None if created is None else _event_time(created),
        "mfaAuthenticated": "false",  # Strongroom has no MFA
    }


# -- parameters and response ---------------------------------------------------------------------


def _request_parameters(record: RequestRecord) -> dict[str, Any] | None:
    params = record.parameters
    if params is None:
        return None
    if record.service == "kms":
        for name, value in _KMS_DEFAULTS.get(record.action, {}).items():
            params.setdefault(name, value)
    return _structure(params) or None


def _response_elements(
    record: RequestRecord, resources: Sequence[Mapping[str, str]]
) -> dict[str, Any] | None:
    if record.error_code is not None:
        return None
    service, action = record.service, record.action
    members = RESPONSE_MEMBERS.get((service, action))
    elements: dict[str, Any] = {}
    if members is not None and record.response is not None:
        response = record.response
        elements = _structure({m: response[m] for m in members if m in response})
    if service == "kms" and action in KEY_ID_RESPONSES and resources:
        elements.setdefault("keyId", _affected_key(record, resources))
    return elements or None


def _affected_key(record: RequestRecord, resources: Sequence[Mapping[str, str]]) -> str:
    """The key ARN a management event shows as ``responseElements.keyId``: the last key of
    ``resources`` (an alias's ARN is among them, and is not a key), or for UpdateAlias the key
    the alias now points to (its ``TargetKeyId``, an id or ARN; the previous target is listed
    too)."""
    keys = [r["ARN"] for r in resources if ":key/" in r["ARN"]] or [resources[-1]["ARN"]]
    target = record.request.get("TargetKeyId") if record.request else None
    if isinstance(target, str):
        suffix = "/" + target.rsplit("/", 1)[-1]
        for arn in keys:
            if arn.endswith(suffix):
                return arn
    return keys[-1]


def _structure(members: Mapping[str, Any]) -> dict[str, Any]:
    """A structure as CloudTrail writes it: camelCase names, no secret, no binary value."""
    out: dict[str, Any] = {}
    for name, value in members.items():
        if name in SECRET_MEMBERS:
            continue
        kind = type(value)
        if kind is str or kind is bool:  # most members: written as they are
            written: Any = value
        elif isinstance(value, _BINARY):
            continue
        elif isinstance(value, Mapping):
            written = _map(value) if any(m in name for m in _MAP_MEMBERS) else _structure(value)
        elif isinstance(value, list | tuple):
            written = _list(value)
        elif isinstance(value, float | int) and name.endswith(_DATE_SUFFIXES):
            written = _java_date(value)
        else:
            written = value
        out[_camel(name)] = written
    return out


def _map(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if not isinstance(v, _BINARY)}


def _list(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, Mapping):
            out.append(_structure(value))
        elif not isinstance(value, _BINARY):
            out.append(value)
    return out


_CAMEL: dict[str, str] = {}


def _camel(name: str) -> str:
    """Java's ``Introspector.decapitalize``: ``KeyId`` -> ``keyId``; ``AWSAccountId`` (two
    capitals first) stays."""
    found = _CAMEL.get(name)
    if found is None:
        found = name if name[1:2].isupper() else name[:1].lower() + name[1:]
        if len(_CAMEL) < 4096:
            _CAMEL[name] = found
    return found


# -- resources -----------------------------------------------------------------------------------


def _resource(arn: str, kind: str = KEY_RESOURCE) -> dict[str, str]:
    parts = arn.split(":", 5)
    return {"accountId": parts[4] if len(parts) > 4 else "", "type": kind, "ARN": arn}


def _resources(record: RequestRecord) -> list[dict[str, str]]:
    arns = record.resources
    if record.action == "CreateKey" and record.error_code is None and record.response:
        made = record.response.get("KeyMetadata", {}).get("Arn")
        if made is not None and made not in arns:
            arns.append(made)
    return [_resource(arn) for arn in arns]


def _sts_resources(record: RequestRecord) -> list[dict[str, str]]:
    if record.service != "sts" or record.action != "AssumeRole" or not record.request:
        return []
    role = record.request.get("RoleArn")
    return [_resource(role, "AWS::IAM::Role")] if isinstance(role, str) else []


# -- small things --------------------------------------------------------------------------------


def _read_only(service: str, action: str) -> bool:
    if service == "sts":
        return True
    if action.startswith(_READ_PREFIXES):
        return True
    return service == "kms" and action in _KMS_CRYPTOGRAPHIC


def _tls_details(record: RequestRecord) -> dict[str, str]:
    details = {
        "tlsVersion": record.tls_version,
        "cipherSuite": record.tls_cipher,
        "clientProvidedHostHeader": record.host,
    }
    return {name: value for name, value in details.items() if value is not None}


def _event_id() -> str:
    """A random (version 4) UUID, as CloudTrail's eventID: in under half the time of
    ``str(uuid.uuid4())``."""
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


_last_second: list[tuple[int, str]] = [(-1, "")]  # one tuple, replaced whole


def _event_time(epoch: float) -> str:
    """``eventTime``: second precision, UTC, ``Z``. The last second's text is kept, as most
    events of a moment share it."""
    second = int(epoch)
    kept = _last_second[0]
    if kept[0] == second:
        return kept[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_second[0] = (second, text)
    return text


def _java_date(epoch: float) -> str:
    """CloudTrail's date in responseElements, as Java's medium format in English, UTC:
    ``Aug 10, 2022, 10:38:27 PM``."""
    t = time.gmtime(epoch)
    hour = t.tm_hour % 12 or 12
    half = "AM" if t.tm_hour < 12 else "PM"
    return (
        f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday}, {t.tm_year}, "
        f"{hour}:{t.tm_min:02d}:{t.tm_sec:02d} {half}"
    )
