"""Listing grants: ListGrants (one key) and ListRetirableGrants (by retiring principal), with
AWS's GrantListEntry and opaque paging markers (kms-spec.md 9.2)."""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.keys import GrantRecord, key_arn
from strongroom.errors import InvalidGrantIdException, ValidationException
from strongroom.kms.grants import CONSTRAINT_KINDS, GRANT_ID, one_of, principal_of
from strongroom.kms.paging import page
from strongroom.kms.resolve import resolve_key
from strongroom.kms.service import KmsService

__all__ = ["list_grants", "list_retirable_grants"]


def _entry(caller: Caller, grant: GrantRecord) -> dict[str, Any]:
    """A GrantListEntry."""
    entry: dict[str, Any] = {
        "KeyId": key_arn(caller.partition, grant.region, grant.account, grant.key_id),
        "GrantId": grant.grant_id,
        "CreationDate": grant.created_at,
        "GranteePrincipal": grant.grantee_principal,
        "IssuingAccount": grant.issuing_account,
        "Operations": list(grant.operations),
    }
    if grant.name is not None:
        entry["Name"] = grant.name
    if grant.retiring_principal is not None:
        entry["RetiringPrincipal"] = grant.retiring_principal
    constraints = {
        kind: pairs
        for kind, pairs in zip(
            CONSTRAINT_KINDS, (grant.context_equals, grant.context_subset), strict=True
        )
        if pairs is not None
    }
    if constraints:
        entry["Constraints"] = constraints
    return entry


def list_grants(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = resolve_key(svc, caller, p["KeyId"], allow_alias=False)
    for_resource = caller.via_service is not None  # listed by an integrated service
    svc.access.authorize_key(
        caller, "kms:ListGrants", key, {**p, "GrantIsForAWSResource": for_resource}
    )
    grantee = principal_of(caller, one_of(p, "GranteePrincipal", "GranteeServicePrincipal"))
    grant_id = p.get("GrantId")
    if grant_id is not None and not GRANT_ID.fullmatch(grant_id):
        raise InvalidGrantIdException("Invalid grant ID.")

    def fetch(after: str | None, limit: int) -> list[GrantRecord]:
        return svc.keys.read.list_grants(
            key.account,
            key.region,
            key.key_id,
            after_grant_id=after,
            limit=limit,
            grant_id=grant_id,
            grantee_principal=grantee,
        )

    rows, paging = page(fetch, lambda g: g.grant_id, p, listing="grants", default=50, maximum=100)
    return {"Grants": [_entry(caller, g) for g in rows], **paging}


def list_retirable_grants(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    svc.access.authorize_account(caller, "kms:ListRetirableGrants", p)
    retiring = principal_of(caller, one_of(p, "RetiringPrincipal", "RetiringServicePrincipal"))
    if retiring is None:
        raise ValidationException("RetiringPrincipal or RetiringServicePrincipal is required.")

    def fetch(after: str | None, limit: int) -> list[GrantRecord]:
        return svc.keys.read.list_retirable_grants(retiring, after, limit, region=caller.region)

    rows, paging = page(
        fetch, lambda g: g.grant_id, p, listing="retirable", default=50, maximum=100
    )
    return {"Grants": [_entry(caller, g) for g in rows], **paging}
