"""HMAC operations: GenerateMac and VerifyMac (kms-spec.md 4.2, 5.2, 17.3).

The key must be an Enabled HMAC key (usage GENERATE_VERIFY_MAC) and the request's MacAlgorithm
the one algorithm of its spec. VerifyMac never answers ``MacValid: false``: a MAC that does not
verify is ``KMSInvalidMacException``, with no message.
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyUsage
from strongroom.errors import InvalidKeyUsageException
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state, require_usage

__all__ = ["generate_mac", "verify_mac"]


def _check_usable(key: KeyRecord, action: str, algorithm: str) -> None:
    """State first, then usage, then the algorithm against the spec."""
    require_state(key, Action(action))
    require_usage(key, KeyUsage.GENERATE_VERIFY_MAC, action)
    if algorithm != key.key_spec.mac_algorithm:
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )


def _mac_key(svc: KmsService, caller: Caller, p: dict[str, Any], action: str) -> KeyRecord:
    key = authorized_key(svc, caller, p["KeyId"], action=action, allow_alias=True, params=p)
    _check_usable(key, action, p["MacAlgorithm"])
    dry_run(p)
    return key


def generate_mac(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _mac_key(svc, caller, p, "GenerateMac")
    algorithm = p["MacAlgorithm"]
    tag = svc.keystore.generate_mac(svc.handle(key), algorithm, p["Message"])
    return {"Mac": tag, "MacAlgorithm": algorithm, "KeyId": key.arn}


def verify_mac(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _mac_key(svc, caller, p, "VerifyMac")
    algorithm = p["MacAlgorithm"]
    svc.keystore.verify_mac(svc.handle(key), algorithm, p["Message"], p["Mac"])
    return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}
