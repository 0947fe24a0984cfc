"""Key agreement: DeriveSharedSecret (kms-spec.md 4.2, 4.3, 7.1, 17.3).

The key must be an Enabled KEY_AGREEMENT key (NIST P-256, P-384 or P-521), else
``InvalidKeyUsageException: KeyUsage KEY_AGREEMENT is not compatible with KeySpec <spec>`` (AWS's
words, recorded, with no final period), and the request's KeyAgreementAlgorithm one of its spec's
(ECDH). The peer's PublicKey, a DER SubjectPublicKeyInfo, must be a valid point on the key's
curve, else ValidationException with no message, as AWS answers (the reason is logged). The answer
is the raw ECDH shared secret, with no KDF, as AWS's. ``Recipient`` (Nitro Enclaves) is not
supported.
"""

from __future__ import annotations

import logging
from typing import Any

from strongroom.crypto import agreement, keyspecs
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeyUsage
from strongroom.errors import (
    DryRunOperationException,
    InvalidKeyUsageException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_state

__all__ = ["derive_shared_secret"]

log = logging.getLogger(__name__)

_ACTION = "DeriveSharedSecret"


def _check_usable(key: KeyRecord, algorithm: str) -> None:
    """State first, then usage, then the algorithm against the spec."""
    require_state(key, Action.DERIVE_SHARED_SECRET)
    if key.key_usage is not KeyUsage.KEY_AGREEMENT:
        raise InvalidKeyUsageException(
            f"KeyUsage KEY_AGREEMENT is not compatible with KeySpec {key.key_spec.value}"
        )
    if algorithm not in keyspecs.algorithms(key.key_spec.value, key.key_usage.value):
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )


def derive_shared_secret(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    key = authorized_key(svc, caller, p["KeyId"], action=_ACTION, allow_alias=True, params=p)
    algorithm = p["KeyAgreementAlgorithm"]
    _check_usable(key, algorithm)
    try:
        if p.get("DryRun"):  # the call would fail on a bad peer key: check it, derive nothing
            agreement.peer_public_key(key.key_spec.value, p["PublicKey"])
            raise DryRunOperationException()
        secret = svc.keystore.derive_shared_secret(svc.handle(key), p["PublicKey"])
    except agreement.PeerKeyError as error:  # derive_shared_secret checks the peer key too
        # The reason names curves and forms, never key bytes.
        log.info("DeriveSharedSecret with %s: peer public key refused: %s", key.arn, error)
        raise ValidationException(None) from None
    return {
        "KeyId": key.arn,
        "SharedSecret": secret,
        "KeyAgreementAlgorithm": algorithm,
        "KeyOrigin": key.origin.value,
    }
