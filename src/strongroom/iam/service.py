"""The IAM/STS service object for one worker: identity storage, key store and clock, plus caches
of what every authorization needs (a principal's identity policies).

Caches are dropped by :meth:`clear_caches` whenever storage's change counter moves (the server
calls it alongside ``KmsService.refresh``), so an identity change is seen on the next request by
every worker.
"""

from __future__ import annotations

from strongroom.clock import Clock
from strongroom.domain.principal import Principal
from strongroom.iam.policies import NamedPolicy, identity_policies
from strongroom.keystore.base import RootSecrets
from strongroom.storage import Database

__all__ = ["IamService"]


class IamService:
    def __init__(
        self,
        storage: Database,
        keystore: RootSecrets,
        clock: Clock,
        *,
        partition: str = "aws",
    ) -> None:
        self.storage = storage
        self.keystore = keystore
        self.clock = clock
        self.partition = partition
        self._policies: dict[str, list[NamedPolicy]] = {}

    def clear_caches(self) -> None:
        self._policies.clear()

    def policies_for(self, principal: Principal) -> list[NamedPolicy]:
        """The identity-based policies that apply to ``principal`` (cached)."""
        key = principal.role_arn or principal.arn
        found = self._policies.get(key)
        if found is None:
            found = identity_policies(self.storage, principal)
            self._policies[key] = found
        return found
