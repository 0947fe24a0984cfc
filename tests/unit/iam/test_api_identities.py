"""The IAM operations in process, over real SQLite storage, the real key store and the real policy
engine: users, access keys, groups, roles, tags and their AWS errors."""

from __future__ import annotations

import re

from api_world import (  # type: ignore[import-not-found]
    ACCOUNT,
    TRUST,
    allow,
    iam,
    refused,
    run,
    storage,
    user_caller,
)

from strongroom import errors
from strongroom.iam.service import IamService

__all__ = ["iam", "storage"]  # fixtures


# -- users --------------------------------------------------------------------------------------


def test_user_lifecycle(iam: IamService) -> None:
    made = run(iam, "CreateUser", UserName="alice", Path="/eng/", Tags=[{"Key": "t", "Value": "1"}])
    user = made["User"]
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["UserId"])
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert user["Tags"] == [{"Key": "t", "Value": "1"}]
    got = run(iam, "GetUser", UserName="alice")["User"]
    assert got["UserId"] == user["UserId"]
    assert got["Tags"] == user["Tags"]
    listed = run(iam, "ListUsers")
    assert [u["UserName"] for u in listed["Users"]] == ["alice"]
    assert listed["IsTruncated"] is False
    assert run(iam, "ListUsers", PathPrefix="/ops/")["Users"] == []
    run(iam, "DeleteUser", UserName="alice")
    assert run(iam, "ListUsers")["Users"] == []


def test_user_errors(iam: IamService) -> None:
    run(iam, "CreateUser", UserName="alice")
    message = refused(errors.EntityAlreadyExistsException, iam, "CreateUser", UserName="ALICE")
    assert message == "User with name ALICE already exists."
    message = refused(errors.NoSuchEntityException, iam, "GetUser", UserName="bob")
    assert message == "The user with name bob cannot be found."
    refused(errors.NoSuchEntityException, iam, "DeleteUser", UserName="bob")


def test_get_user_without_a_name_is_the_caller(iam: IamService) -> None:
    assert run(iam, "GetUser")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    run(iam, "CreateUser", UserName="alice")
    run(iam, "PutUserPolicy", UserName="alice", PolicyName="p", PolicyDocument=allow("iam:GetUser"))
    alice = user_caller(iam, "alice")
    assert run(iam, "GetUser", alice)["User"]["UserName"] == "alice"


def test_list_users_pages(iam: IamService) -> None:
    for name in ("c", "a", "b"):
        run(iam, "CreateUser", UserName=name)
    first = run(iam, "ListUsers", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["a", "b"]
    assert first["IsTruncated"] is True
    rest = run(iam, "ListUsers", Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["c"]
    assert rest["IsTruncated"] is False


def test_user_tags(iam: IamService) -> None:
    run(iam, "CreateUser", UserName="alice")
    run(
        iam,
        "TagUser",
        UserName="alice",
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    )
    run(iam, "TagUser", UserName="alice", Tags=[{"Key": "A", "Value": "3"}])
    tags = run(iam, "ListUserTags", UserName="alice")["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("A", "3"), ("b", "2")]
    run(iam, "UntagUser", UserName="alice", TagKeys=["B", "missing"])
    assert run(iam, "ListUserTags", UserName="alice")["Tags"] == [{"Key": "A", "Value": "3"}]
    message = refused(
        errors.InvalidInputException,
        iam,
        "TagUser",
        UserName="alice",
        Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}],
    )
    assert "case insensitive" in message


# -- access keys --------------------------------------------------------------------------------


def test_access_keys(iam: IamService) -> None:
    run(iam, "CreateUser", UserName="alice")
    made = [run(iam, "CreateAccessKey", UserName="alice")["AccessKey"] for _ in range(2)]
    for key in made:
        assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"])
        assert len(key["SecretAccessKey"]) == 40
        assert key["UserName"] == "alice"
        assert key["Status"] == "Active"
        stored = iam.storage.list_access_keys(f"arn:aws:iam::{ACCOUNT}:user/alice")
        record = next(k for k in stored if k.access_key_id == key["AccessKeyId"])
        secret = iam.keystore.unwrap_secret(
            record.wrapped_secret, f"access-key:{key['AccessKeyId']}"
        )
        assert secret.decode() == key["SecretAccessKey"]
    message = refused(errors.LimitExceededException, iam, "CreateAccessKey", UserName="alice")
    assert message == "Cannot exceed quota for AccessKeysPerUser: 2"
    first = made[0]["AccessKeyId"]
    run(iam, "UpdateAccessKey", UserName="alice", AccessKeyId=first, Status="Inactive")
    listed = run(iam, "ListAccessKeys", UserName="alice")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed}[first] == "Inactive"
    assert all("SecretAccessKey" not in k for k in listed)
    run(iam, "DeleteAccessKey", UserName="alice", AccessKeyId=first)
    message = refused(
        errors.NoSuchEntityException, iam, "DeleteAccessKey", UserName="alice", AccessKeyId=first
    )
    assert message == f"The Access Key with id {first} cannot be found."


# -- groups -------------------------------------------------------------------------------------


def test_groups_and_members(iam: IamService) -> None:
    group = run(iam, "CreateGroup", GroupName="devs")["Group"]
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", group["GroupId"])
    run(iam, "CreateUser", UserName="alice")
    run(iam, "AddUserToGroup", GroupName="devs", UserName="alice")
    got = run(iam, "GetGroup", GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["alice"]
    assert [g["GroupName"] for g in run(iam, "ListGroupsForUser", UserName="alice")["Groups"]] == [
        "devs"
    ]
    assert refused(errors.DeleteConflictException, iam, "DeleteGroup", GroupName="devs") == (
        "Cannot delete entity, must remove users from group first."
    )
    assert refused(errors.DeleteConflictException, iam, "DeleteUser", UserName="alice") == (
        "Cannot delete entity, must remove users from group first."
    )
    run(iam, "RemoveUserFromGroup", GroupName="devs", UserName="alice")
    refused(
        errors.NoSuchEntityException, iam, "RemoveUserFromGroup", GroupName="devs", UserName="alice"
    )
    run(iam, "DeleteGroup", GroupName="devs")
    assert run(iam, "ListGroups")["Groups"] == []
    assert refused(errors.NoSuchEntityException, iam, "GetGroup", GroupName="devs") == (
        "The group with name devs cannot be found."
    )


# -- roles --------------------------------------------------------------------------------------


def test_role_lifecycle(iam: IamService) -> None:
    role = run(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST, Description="d")[
        "Role"
    ]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["MaxSessionDuration"] == 3600
    assert role["Description"] == "d"
    run(iam, "UpdateRole", RoleName="r", MaxSessionDuration=7200)
    assert run(iam, "GetRole", RoleName="r")["Role"]["MaxSessionDuration"] == 7200
    run(iam, "TagRole", RoleName="r", Tags=[{"Key": "k", "Value": "v"}])
    assert run(iam, "ListRoleTags", RoleName="r")["Tags"] == [{"Key": "k", "Value": "v"}]
    run(iam, "UntagRole", RoleName="r", TagKeys=["k"])
    assert run(iam, "ListRoleTags", RoleName="r")["Tags"] == []
    trust = TRUST.replace(":root", ":user/alice")
    run(iam, "UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=trust)
    assert run(iam, "GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"] == trust
    assert [r["RoleName"] for r in run(iam, "ListRoles")["Roles"]] == ["r"]
    run(iam, "DeleteRole", RoleName="r")
    assert refused(errors.NoSuchEntityException, iam, "GetRole", RoleName="r") == (
        "The role with name r cannot be found."
    )


def test_role_refusals(iam: IamService) -> None:
    refused(
        errors.MalformedPolicyDocumentException,
        iam,
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument="{not json",
    )
    refused(
        errors.ValidationException,
        iam,
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument=TRUST,
        MaxSessionDuration=60,
    )
    run(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert (
        refused(
            errors.EntityAlreadyExistsException,
            iam,
            "CreateRole",
            RoleName="r",
            AssumeRolePolicyDocument=TRUST,
        )
        == "Role with name r already exists."
    )
