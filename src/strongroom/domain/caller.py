"""Who is calling, from where: the authenticated principal an operation acts for."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.domain.principal import Principal

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind a verified request, the region its signature was scoped to, and the
    facts about the request that global condition keys read."""

    principal: Principal
    region: str
    access_key_id: str
    source_ip: str = "127.0.0.1"
    secure_transport: bool = False
    session_token: bool = False  # the request carried X-Amz-Security-Token
    session_created: float | None = None  # when its STS session was issued (epoch seconds)
    # Set when a registered integrated service forwarded the request for ``principal``
    # (docs/integrated-services.md): its kms:ViaService name, and aws:CalledVia.
    via_service: str | None = None
    called_via: tuple[str, ...] = ()

    @property
    def account(self) -> str:
        return self.principal.account

    @property
    def principal_arn(self) -> str:
        return self.principal.arn

    @property
    def partition(self) -> str:
        return self.principal.partition

    @classmethod
    def root(cls, account: str, region: str, access_key_id: str = "AKIAROOT") -> Caller:
        return cls(Principal.root(account), region, access_key_id)

    def key_arn(self, key_id: str, account: str | None = None) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{account or self.account}:key/{key_id}"

    def alias_arn(self, alias_name: str, account: str | None = None) -> str:
        """``alias/x`` -> ``arn:aws:kms:<region>:<account>:alias/x``."""
        return f"arn:{self.partition}:kms:{self.region}:{account or self.account}:{alias_name}"
