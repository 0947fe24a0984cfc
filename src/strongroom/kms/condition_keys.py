"""The condition keys a KMS request carries (kms-spec.md section 7): global ``aws:`` keys about
the caller and the request, and ``kms:`` keys about the key and the parameters.

Keys that cost a storage read (``aws:ResourceTag/*``, ``kms:ResourceAliases``) are loaded only
when a policy asks for them. Names are lower-cased, as the policy engine looks them up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord

__all__ = ["ConditionKeys", "grant_keys", "request_keys"]

Value = Any  # str | bool | int | float | Sequence[str]


class ConditionKeys(Mapping[str, Value]):
    """Condition keys computed on first use: most policies (AWS's default key policy among them)
    read none, so most requests never pay for them. ``families`` maps a name prefix to a loader
    run only when a key with that prefix is asked for (each costs a storage read)."""

    def __init__(
        self,
        build: Callable[[], dict[str, Value]],
        families: dict[str, Callable[[], dict[str, Value]]] | None = None,
    ) -> None:
        self._build: Callable[[], dict[str, Value]] | None = build
        self._base: dict[str, Value] = {}
        self._families = families or {}
        self._loaded: set[str] = set()

    def _ready(self) -> dict[str, Value]:
        if self._build is not None:
            self._base = self._build()
            self._build = None
        return self._base

    def _load(self, prefix: str) -> None:
        if prefix not in self._loaded:
            self._loaded.add(prefix)
            for name, value in self._families[prefix]().items():
                self._base[name.lower()] = value

    def __getitem__(self, name: str) -> Value:
        base = self._ready()
        name = name.lower()
        if name not in base:
            for prefix in self._families:
                if name.startswith(prefix):
                    self._load(prefix)
        return base[name]

    def __iter__(self) -> Iterator[str]:
        self._ready()
        for prefix in list(self._families):
            self._load(prefix)
        return iter(self._base)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def caller_keys(caller: Caller, now: float) -> dict[str, Value]:
    """Global keys about the principal and the request (``aws:*``, ``kms:CallerAccount``), and
    for a request a registered service forwarded, ``kms:ViaService`` and ``aws:CalledVia*``."""
    principal = caller.principal
    keys: dict[str, Value] = {
        "aws:principalarn": principal.role_arn or principal.arn,
        "aws:principalaccount": principal.account,
        "aws:principaltype": principal.type.value,
        "aws:userid": principal.user_id,
        "aws:sourceip": caller.source_ip,
        "aws:securetransport": caller.secure_transport,
        "aws:currenttime": _iso(now),
        "aws:epochtime": int(now),
        "aws:requestedregion": caller.region,
        "kms:calleraccount": principal.account,
    }
    if principal.name is not None and principal.role_arn is None:
        keys["aws:username"] = principal.name
    if caller.session_token:
        keys["aws:tokenissuetime"] = _iso(now)
    if caller.via_service is not None:
        keys["kms:viaservice"] = caller.via_service
    if caller.called_via:
        keys["aws:calledvia"] = list(caller.called_via)
        keys["aws:calledviafirst"] = caller.called_via[0]
        keys["aws:calledvialast"] = caller.called_via[-1]
    for tag, value in principal.tags.items():
        keys[f"aws:principaltag/{tag.lower()}"] = value
    return keys


def key_keys(key: KeyRecord) -> dict[str, Value]:
    """``kms:`` keys that describe the key itself."""
    keys: dict[str, Value] = {
        "kms:keyorigin": key.origin.value,
        "kms:keyspec": key.key_spec.value,
        "kms:keyusage": key.key_usage.value,
        "kms:multiregion": key.multi_region,
        "kms:customermasterkeyspec": key.key_spec.value,
        "kms:customermasterkeyusage": key.key_usage.value,
    }
    if key.multi_region:
        primary = key.primary_region in (None, key.region)
        keys["kms:multiregionkeytype"] = "PRIMARY" if primary else "REPLICA"
    return keys


_PARAMETER_KEYS = (
    ("EncryptionAlgorithm", "kms:encryptionalgorithm"),
    ("MacAlgorithm", "kms:macalgorithm"),
    ("SigningAlgorithm", "kms:signingalgorithm"),
    ("MessageType", "kms:messagetype"),
    ("KeyAgreementAlgorithm", "kms:keyagreementalgorithm"),
    ("BypassPolicyLockoutSafetyCheck", "kms:bypasspolicylockoutsafetycheck"),
    ("PendingWindowInDays", "kms:schedulekeydeletionpendingwindowindays"),
    ("KeyPairSpec", "kms:datakeypairspec"),
    ("ExpirationModel", "kms:expirationmodel"),  # ImportKeyMaterial
    ("ValidTo", "kms:validto"),
    ("WrappingAlgorithm", "kms:wrappingalgorithm"),  # GetParametersForImport
    ("WrappingKeySpec", "kms:wrappingkeyspec"),
    ("ReplicaRegion", "kms:replicaregion"),  # ReplicateKey
    ("PrimaryRegion", "kms:primaryregion"),  # UpdatePrimaryRegion
    ("RotationPeriodInDays", "kms:rotationperiodindays"),  # EnableKeyRotation
    ("GranteePrincipal", "kms:granteeprincipal"),
    ("RetiringPrincipal", "kms:retiringprincipal"),
    ("GrantIsForAWSResource", "kms:grantisforawsresource"),  # set by the grant operations
)
_CONSTRAINTS = ("EncryptionContextEquals", "EncryptionContextSubset")


def _context_keys(context: Mapping[str, str]) -> dict[str, Value]:
    keys: dict[str, Value] = {"kms:encryptioncontextkeys": list(context)}
    for name, value in context.items():
        keys[f"kms:encryptioncontext:{name.lower()}"] = value
    return keys


def grant_keys(params: Mapping[str, Any]) -> dict[str, Value]:
    """CreateGrant's keys: its operations, and its constraint (type and pairs, which policies
    read as ``kms:EncryptionContext:*``)."""
    keys: dict[str, Value] = {"kms:grantoperations": list(params["Operations"])}
    constraints = params.get("Constraints") or {}
    for kind in _CONSTRAINTS:
        if constraints.get(kind) is not None:
            keys["kms:grantconstrainttype"] = kind
            keys.update(_context_keys(constraints[kind]))
    return keys


def create_key_keys(params: Mapping[str, Any]) -> dict[str, Value]:
    """For CreateKey: the key-describing keys, from the parameters or their defaults."""
    keys: dict[str, Value] = {
        "kms:keyspec": params.get("KeySpec")
        or params.get("CustomerMasterKeySpec")
        or "SYMMETRIC_DEFAULT",
        "kms:keyusage": params.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "kms:keyorigin": params.get("Origin", "AWS_KMS"),
        "kms:multiregion": bool(params.get("MultiRegion", False)),
    }
    if keys["kms:multiregion"]:  # ReplicateKey's view says REPLICA
        keys["kms:multiregionkeytype"] = params.get("MultiRegionKeyType", "PRIMARY")
    return keys


def parameter_keys(params: Mapping[str, Any]) -> dict[str, Value]:
    """``kms:`` and ``aws:`` keys taken from the request's parameters."""
    keys: dict[str, Value] = {}
    context = params.get("EncryptionContext")
    if context is not None:
        keys.update(_context_keys(context))
    if "Operations" in params:
        keys.update(grant_keys(params))
    for member, name in _PARAMETER_KEYS:
        if member in params:
            keys[name] = params[member]
    tags = params.get("Tags")
    if tags is not None:
        keys["aws:tagkeys"] = [tag["TagKey"] for tag in tags]
        for tag in tags:
            keys[f"aws:requesttag/{tag['TagKey'].lower()}"] = tag["TagValue"]
    if "TagKeys" in params:
        keys["aws:tagkeys"] = list(params["TagKeys"])
    return keys


def request_keys(
    caller: Caller,
    params: Mapping[str, Any],
    *,
    key: KeyRecord | None,
    request_alias: str | None = None,
    creating: bool = False,
    tags: Callable[[], dict[str, str]] | None = None,
    aliases: Callable[[], list[str]] | None = None,
    now: float | None = None,
) -> ConditionKeys:
    """Every condition key for one KMS request (computed when a policy first reads one)."""
    moment = time.time() if now is None else now

    def build() -> dict[str, Value]:
        base = caller_keys(caller, moment)
        if key is not None:
            base.update(key_keys(key))
        elif creating:
            base.update(create_key_keys(params))
        base.update(parameter_keys(params))
        if request_alias is not None:
            base["kms:requestalias"] = request_alias
        return base

    families: dict[str, Callable[[], dict[str, Value]]] = {}
    if tags is not None:
        loader = tags
        families["aws:resourcetag/"] = lambda: {
            f"aws:resourcetag/{k}": v for k, v in loader().items()
        }
    if aliases is not None:
        alias_loader = aliases
        families["kms:resourcealiases"] = lambda: {"kms:resourcealiases": alias_loader()}
    return ConditionKeys(build, families)
