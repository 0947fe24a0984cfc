"""The events AWS KMS logs without a caller (``AwsServiceEvent``), as the KMS code that makes
each change builds them: RotateKey (``kms.rotation``), DeleteKey (``kms.deletion``),
DeleteExpiredKeyMaterial (``kms.imports``) and a replica's CreateKey (``kms.replicas``).

Each is handed to :meth:`KmsService.emit` only by the call whose guarded write happened, so a
change that several workers race to make is recorded once. Shapes: docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.audit.event import service_event
from strongroom.domain.keys import KeyRecord

__all__ = ["key_event"]


def key_event(
    name: str,
    key: KeyRecord,
    at: float,
    details: Mapping[str, Any] | None = None,
    *,
    response: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The service event ``name`` of ``key`` (in its account and region) at ``at``, the
    service's (dev-mode) clock's epoch seconds."""
    return service_event(
        name,
        account=key.account,
        region=key.region,
        key_arn=key.arn,
        event_time=at,
        service_event_details=details,
        response_elements=response,
    )
