"""Who is calling, from where: the authenticated principal an operation acts for."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind a verified request, and the region its signature was scoped to."""

    account: str
    region: str
    principal_arn: str
    access_key_id: str
    partition: str = "aws"

    def key_arn(self, key_id: str, account: str | None = None) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{account or self.account}:key/{key_id}"

    def alias_arn(self, alias_name: str, account: str | None = None) -> str:
        """``alias/x`` -> ``arn:aws:kms:<region>:<account>:alias/x``."""
        return f"arn:{self.partition}:kms:{self.region}:{account or self.account}:{alias_name}"
