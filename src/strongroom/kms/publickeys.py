"""GetPublicKey for every asymmetric key: signing, RSA encryption, key agreement and ML-KEM
(kms-spec.md 2.3, 4.2, 4.3).

The public key leaves as DER SubjectPublicKeyInfo with the key's spec, usage and the one
algorithm list its usage exposes. Symmetric and HMAC keys have no public key.
"""

from __future__ import annotations

from typing import Any

from strongroom.crypto.keyspecs import is_asymmetric
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.errors import UnsupportedOperationException
from strongroom.kms.keys import algorithm_fields
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_state

__all__ = ["get_public_key"]


def get_public_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(svc, caller, p["KeyId"], action="GetPublicKey", allow_alias=True, params=p)
    require_state(key, Action.GET_PUBLIC_KEY)
    if not is_asymmetric(key.key_spec.value):
        raise UnsupportedOperationException(
            f"{key.arn} key usage is {key.key_usage.value} which is not valid for GetPublicKey."
        )
    return {
        "KeyId": key.arn,
        "PublicKey": svc.keystore.public_key(svc.handle(key)),
        "CustomerMasterKeySpec": key.key_spec.value,
        "KeySpec": key.key_spec.value,
        "KeyUsage": key.key_usage.value,
        **algorithm_fields(key),
    }
