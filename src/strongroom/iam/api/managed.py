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
    entity_arn,
    new_id,
    page,
    unique,
    valid_document,
    want_owner,
    want_policy,
)
from strongroom.iam.service import IamService

__all__ = ["MANAGED_OPERATIONS"]

VERSION = "v1"
MAX_POLICY_SIZE = 6144
MAX_ATTACHED = 10
_PARAM = {OwnerKind.USER: "UserName", OwnerKind.GROUP: "GroupName", OwnerKind.ROLE: "RoleName"}


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
    if sum(1 for char in document if not char.isspace()) > MAX_POLICY_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}")
    now = iam.clock.now()
    policy = ManagedPolicyRecord(
        account=caller.account,
        name=name,
        path=path,
        policy_id=new_id("ANPA"),
        arn=entity_arn(caller, "policy", path, name),
        document=document,
        description=params.get("Description", ""),
        created_at=now,
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
    chosen, more = page(found, params, lambda policy: policy.name)
    return {"Policies": [_output(iam, p, described=False) for p in chosen], **more}


def delete_policy(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    policy = want_policy(iam, caller, params["PolicyArn"])
    if iam.storage.count_policy_attachments(policy.arn):
        raise DeleteConflictException("Cannot delete a policy attached to entities.")
    iam.storage.delete_managed_policy(policy.arn)
    return {}


def _attach(kind: OwnerKind) -> Operation:
    def attach(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = want_owner(iam, caller, kind, params[_PARAM[kind]])
        policy = want_policy(iam, caller, params["PolicyArn"])
        attached = iam.storage.list_attached_policies(caller.account, kind, owner)
        if policy.arn in {p.arn for p in attached}:
            return {}
        if len(attached) >= MAX_ATTACHED:
            quota = f"PoliciesPer{kind.value.capitalize()}"
            raise LimitExceededException(f"Cannot exceed quota for {quota}: {MAX_ATTACHED}")
        iam.storage.attach_policy(caller.account, kind, owner, policy.arn)
        return {}

    return attach


def _detach(kind: OwnerKind) -> Operation:
    def detach(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = want_owner(iam, caller, kind, params[_PARAM[kind]])
        arn = params["PolicyArn"]
        if not iam.storage.detach_policy(caller.account, kind, owner, arn):
            raise NoSuchEntityException(f"Policy {arn} was not found.")
        return {}

    return detach


def _list_attached(kind: OwnerKind) -> Operation:
    def list_attached(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = want_owner(iam, caller, kind, params[_PARAM[kind]])
        prefix = params.get("PathPrefix", "/")
        found = iam.storage.list_attached_policies(caller.account, kind, owner)
        found = [p for p in found if p.path.startswith(prefix)]
        chosen, more = page(found, params, lambda policy: policy.name)
        attached = [{"PolicyName": p.name, "PolicyArn": p.arn} for p in chosen]
        return {"AttachedPolicies": attached, **more}

    return list_attached


def _operations() -> dict[str, Operation]:
    table: dict[str, Operation] = {
        "CreatePolicy": create_policy,
        "GetPolicy": get_policy,
        "GetPolicyVersion": get_policy_version,
        "ListPolicies": list_policies,
        "DeletePolicy": delete_policy,
    }
    for kind in OwnerKind:
        noun = kind.value.capitalize()
        table[f"Attach{noun}Policy"] = _attach(kind)
        table[f"Detach{noun}Policy"] = _detach(kind)
        table[f"ListAttached{noun}Policies"] = _list_attached(kind)
    return table


MANAGED_OPERATIONS: dict[str, Operation] = _operations()
