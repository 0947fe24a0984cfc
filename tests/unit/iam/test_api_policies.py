"""Inline and managed policies through the IAM operations, and the authorization of IAM calls:
the root may do anything in its account; anyone else needs an identity-policy Allow and no Deny."""

from __future__ import annotations

import json

import pytest
from api_world import (  # type: ignore[import-not-found]
    ACCOUNT,
    allow,
    iam,
    refused,
    run,
    storage,
    user_caller,
)

from strongroom import errors
from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.iam.service import IamService

__all__ = ["iam", "storage"]  # fixtures

POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/team/read"


# -- inline policies ----------------------------------------------------------------------------


@pytest.mark.parametrize(("noun", "param"), [("User", "UserName"), ("Group", "GroupName")])
def test_inline_policies(iam: IamService, noun: str, param: str) -> None:
    run(iam, f"Create{noun}", **{param: "x"})
    document = allow("iam:GetUser")
    run(iam, f"Put{noun}Policy", **{param: "x"}, PolicyName="p", PolicyDocument=document)
    got = run(iam, f"Get{noun}Policy", **{param: "x"}, PolicyName="p")
    assert got == {param: "x", "PolicyName": "p", "PolicyDocument": document}
    assert run(iam, f"List{noun}Policies", **{param: "x"})["PolicyNames"] == ["p"]
    conflict = refused(errors.DeleteConflictException, iam, f"Delete{noun}", **{param: "x"})
    assert conflict == "Cannot delete entity, must delete policies first."
    run(iam, f"Delete{noun}Policy", **{param: "x"}, PolicyName="p")
    missing = refused(
        errors.NoSuchEntityException, iam, f"Get{noun}Policy", **{param: "x"}, PolicyName="p"
    )
    assert missing == f"The {noun.lower()} policy with name p cannot be found."


def test_role_inline_policy_and_refusals(iam: IamService) -> None:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    run(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=trust)
    run(iam, "PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=allow("kms:*"))
    assert run(iam, "ListRolePolicies", RoleName="r")["PolicyNames"] == ["p"]
    refused(
        errors.MalformedPolicyDocumentException,
        iam,
        "PutRolePolicy",
        RoleName="r",
        PolicyName="q",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}',
    )
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": [
                        f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{n:036d}" for n in range(300)
                    ],
                }
            ],
        }
    )
    message = refused(
        errors.LimitExceededException,
        iam,
        "PutRolePolicy",
        RoleName="r",
        PolicyName="q",
        PolicyDocument=big,
    )
    assert message == "Maximum policy size of 10240 bytes exceeded for role r"
    refused(
        errors.NoSuchEntityException,
        iam,
        "PutRolePolicy",
        RoleName="nope",
        PolicyName="p",
        PolicyDocument=allow("kms:*"),
    )


# -- managed policies ---------------------------------------------------------------------------


def test_managed_policy_lifecycle(iam: IamService) -> None:
    document = allow("kms:Decrypt")
    made = run(iam, "CreatePolicy", PolicyName="read", Path="/team/", PolicyDocument=document)[
        "Policy"
    ]
    assert made["Arn"] == POLICY_ARN
    assert made["DefaultVersionId"] == "v1"
    assert made["PolicyId"].startswith("ANPA")
    assert made["AttachmentCount"] == 0
    version = run(iam, "GetPolicyVersion", PolicyArn=POLICY_ARN, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == document
    assert version["IsDefaultVersion"] is True
    refused(
        errors.NoSuchEntityException, iam, "GetPolicyVersion", PolicyArn=POLICY_ARN, VersionId="v2"
    )
    duplicate = refused(
        errors.EntityAlreadyExistsException,
        iam,
        "CreatePolicy",
        PolicyName="read",
        PolicyDocument=document,
    )
    assert duplicate == "A policy called read already exists. Duplicate names are not allowed."
    run(iam, "CreateUser", UserName="alice")
    run(iam, "AttachUserPolicy", UserName="alice", PolicyArn=POLICY_ARN)
    run(iam, "AttachUserPolicy", UserName="alice", PolicyArn=POLICY_ARN)  # idempotent
    attached = run(iam, "ListAttachedUserPolicies", UserName="alice")["AttachedPolicies"]
    assert attached == [{"PolicyName": "read", "PolicyArn": POLICY_ARN}]
    assert run(iam, "GetPolicy", PolicyArn=POLICY_ARN)["Policy"]["AttachmentCount"] == 1
    assert [
        p["PolicyName"]
        for p in run(iam, "ListPolicies", Scope="Local", OnlyAttached=True)["Policies"]
    ] == ["read"]
    assert run(iam, "ListPolicies", Scope="AWS")["Policies"] == []
    conflict = refused(errors.DeleteConflictException, iam, "DeletePolicy", PolicyArn=POLICY_ARN)
    assert conflict == "Cannot delete a policy attached to entities."
    assert refused(errors.DeleteConflictException, iam, "DeleteUser", UserName="alice") == (
        "Cannot delete entity, must detach all policies first."
    )
    run(iam, "DetachUserPolicy", UserName="alice", PolicyArn=POLICY_ARN)
    assert refused(
        errors.NoSuchEntityException,
        iam,
        "DetachUserPolicy",
        UserName="alice",
        PolicyArn=POLICY_ARN,
    ) == (f"Policy {POLICY_ARN} was not found.")
    run(iam, "DeletePolicy", PolicyArn=POLICY_ARN)
    assert refused(errors.NoSuchEntityException, iam, "GetPolicy", PolicyArn=POLICY_ARN) == (
        f"Policy {POLICY_ARN} does not exist or is not attachable."
    )


def test_aws_managed_policies_are_not_served(iam: IamService) -> None:
    run(
        iam,
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    refused(errors.NoSuchEntityException, iam, "AttachRolePolicy", RoleName="r", PolicyArn=arn)


def test_operations_not_served_say_so(iam: IamService) -> None:
    message = refused(
        errors.UnsupportedOperationException, iam, "CreateLoginProfile", UserName="alice"
    )
    assert message == "CreateLoginProfile is not yet supported by Strongroom."


# -- authorization ------------------------------------------------------------------------------


def bob(iam: IamService) -> Caller:
    run(iam, "CreateUser", UserName="bob")
    caller: Caller = user_caller(iam, "bob")
    return caller


def test_a_user_without_policies_is_denied(iam: IamService) -> None:
    caller = bob(iam)
    with pytest.raises(errors.AccessDeniedException) as caught:
        run(iam, "CreateUser", caller, UserName="x")
    assert caught.value.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: iam:CreateUser "
        f"on resource: arn:aws:iam::{ACCOUNT}:user/x because no identity-based policy allows "
        "the iam:CreateUser action"
    )
    with pytest.raises(errors.AccessDeniedException):
        run(iam, "ListUsers", caller)


def test_an_inline_policy_allows_on_its_resources_only(iam: IamService) -> None:
    caller = bob(iam)
    resource = f"arn:aws:iam::{ACCOUNT}:user/team/*"
    run(
        iam,
        "PutUserPolicy",
        UserName="bob",
        PolicyName="p",
        PolicyDocument=allow("iam:CreateUser", resource),
    )
    assert run(iam, "CreateUser", caller, UserName="x", Path="/team/")["User"]["Path"] == "/team/"
    with pytest.raises(errors.AccessDeniedException):
        run(iam, "CreateUser", caller, UserName="y")


def test_a_group_policy_allows_its_members(iam: IamService) -> None:
    caller = bob(iam)
    run(iam, "CreateGroup", GroupName="admins")
    run(iam, "PutGroupPolicy", GroupName="admins", PolicyName="p", PolicyDocument=allow("iam:*"))
    with pytest.raises(errors.AccessDeniedException):
        run(iam, "ListUsers", caller)
    run(iam, "AddUserToGroup", GroupName="admins", UserName="bob")
    assert [u["UserName"] for u in run(iam, "ListUsers", caller)["Users"]] == ["bob"]


def test_an_explicit_deny_beats_every_allow(iam: IamService) -> None:
    caller = bob(iam)
    run(iam, "PutUserPolicy", UserName="bob", PolicyName="all", PolicyDocument=allow("iam:*"))
    run(
        iam,
        "CreatePolicy",
        PolicyName="no-delete",
        PolicyDocument=allow("iam:Delete*", effect="Deny"),
    )
    run(
        iam,
        "AttachUserPolicy",
        UserName="bob",
        PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/no-delete",
    )
    run(iam, "CreateUser", caller, UserName="x")
    with pytest.raises(errors.AccessDeniedException) as caught:
        run(iam, "DeleteUser", caller, UserName="x")
    assert caught.value.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: iam:DeleteUser "
        f"on resource: arn:aws:iam::{ACCOUNT}:user/x with an explicit deny in an "
        "identity-based policy"
    )


def test_cross_account_iam_is_never_allowed(iam: IamService) -> None:
    other = "arn:aws:iam::444455556666:policy/p"
    with pytest.raises(errors.AccessDeniedException):
        run(iam, "GetPolicy", PolicyArn=other)


def test_a_role_session_must_name_the_user(iam: IamService) -> None:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = run(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=trust)["Role"]
    run(iam, "PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=allow("iam:*"))
    principal = Principal(
        ACCOUNT,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        PrincipalType.ASSUMED_ROLE,
        f"{role['RoleId']}:s",
        name="r",
        role_arn=role["Arn"],
        session_name="s",
    )
    session = Caller(principal, "us-east-1", "ASIAEXAMPLE")
    for action in ("CreateAccessKey", "ListAccessKeys", "GetUser"):
        with pytest.raises(errors.ValidationException) as caught:
            run(iam, action, session)
        assert caught.value.message == (
            "Must specify userName when calling with non-User credentials"
        )
    assert run(iam, "ListRoles", session)["Roles"][0]["RoleName"] == "r"
