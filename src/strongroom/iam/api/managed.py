"""Customer-managed policies and their attachments: CreatePolicy, GetPolicy, GetPolicyVersion,
ListPolicies, DeletePolicy, and Attach/Detach/ListAttached{User,Group,Role}Policies.

A policy has one version, ``v1``, its default. AWS-managed policies (``arn:aws:iam::aws:...``)
are not served: naming one is ``NoSuchEntity``, as for any policy that does not exist.
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import ManagedPolicyRecord, OwnerKind
from strongroom.errors import (
    DeleteConflictException,
    InvalidInputException,
    LimitExceededException,
    NoSuchEntityException,
)
from strongroom.iam.api.common import (
    Operation,
    Params,
    new_entity,
    paged,
    per_owner,
    policy_size,
    unique,
    valid_document,
    want_policy,
)
from strongroom.iam.service import IamService

__all__ = ["MANAGED_OPERATIONS"]

VERSION = "v1"
MAX_POLICY_SIZE = 6144
MAX_ATTACHED = 10


def _output(iam: IamService, policy: ManagedPolicyRecord, *, described: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": VERSION,
        "AttachmentCount": iam.storage.count_policy_attachments(policy.arn),
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
    }
    if described and policy.description:
        out["Description"] = policy.description
    return out


def create_policy(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    if params.get("Tags"):
        raise InvalidInputException("Tags on managed policies are not supported by Strongroom.")
    name, path = params["PolicyName"], params.get("Path", "/")
    document = valid_document(params["PolicyDocument"])
    if policy_size(document) > MAX_POLICY_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}")
    now = iam.clock.now()
    policy = new_entity(
        caller,
        ManagedPolicyRecord,
        name,
        path,
        now,
        document=document,
        description=params.get("Description", ""),
        updated_at=now,
    )
    duplicate = f"A policy called {name} already exists. Duplicate names are not allowed."
    unique(lambda: iam.storage.insert_managed_policy(policy), duplicate)
    return {"Policy": _output(iam, policy, described=False)}


def get_policy(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    policy = want_policy(iam, caller, params["PolicyArn"])
    return {"Policy": _output(iam, policy, described=True)}


def get_policy_version(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    policy = want_policy(iam, caller, params["PolicyArn"])
    version = params["VersionId"]
    if version != VERSION:
        raise NoSuchEntityException(
            f"Policy {policy.arn} version {version} does not exist or is not attachable."
        )
    return {
        "PolicyVersion": {
            "Document": policy.document,
            "VersionId": VERSION,
            "IsDefaultVersion": True,
            "CreateDate": policy.created_at,
        }
    }


def list_policies(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    if params.get("Scope", "All") == "AWS":
        return {"Policies": [], "IsTruncated": False}
    prefix = params.get("PathPrefix", "/")
    found = [
        p for p in iam.storage.list_managed_policies(caller.account) if p.path.startswith(prefix)
    ]
    if params.get("OnlyAttached"):
        found = [p for p in found if iam.storage.count_policy_attachments(p.arn)]
    return paged("Policies", found, params, lambda p: _output(iam, p, described=False))


def delete_policy(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    policy = want_policy(iam, caller, params["PolicyArn"])
    if iam.storage.count_policy_attachments(policy.arn):
        raise DeleteConflictException("Cannot delete a policy attached to entities.")
    iam.storage.delete_managed_policy(policy.arn)
    return {}


def _attach(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    policy = want_policy(iam, caller, params["PolicyArn"])
    attached = iam.storage.list_attached_policies(caller.account, kind, owner)
    if policy.arn in {p.arn for p in attached}:
        return {}
    if len(attached) >= MAX_ATTACHED:
        quota = f"PoliciesPer{kind.value.capitalize()}"
        raise LimitExceededException(f"Cannot exceed quota for {quota}: {MAX_ATTACHED}")
    iam.storage.attach_policy(caller.account, kind, owner, policy.arn)
    return {}


def _detach(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    arn = params["PolicyArn"]
    if not iam.storage.detach_policy(caller.account, kind, owner, arn):
        raise NoSuchEntityException(f"Policy {arn} was not found.")
    return {}


def _attached(policy: ManagedPolicyRecord) -> dict[str, Any]:
    return {"PolicyName": policy.name, "PolicyArn": policy.arn}


def _list_attached(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    prefix = params.get("PathPrefix", "/")
    found = iam.storage.list_attached_policies(caller.account, kind, owner)
    found = [p for p in found if p.path.startswith(prefix)]
    return paged("AttachedPolicies", found, params, _attached)


MANAGED_OPERATIONS: dict[str, Operation] = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "GetPolicyVersion": get_policy_version,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    **per_owner(
        {
            "Attach{}Policy": _attach,
            "Detach{}Policy": _detach,
            "ListAttached{}Policies": _list_attached,
        }
    ),
}
