"""The IAM API over HTTP with boto3 (AWS Query protocol, XML replies): every operation served,
IAM's errors with their statuses, and the authorization of IAM calls by identity policies."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.expect import error_of
from tests.integration.server import Server, sign_headers

ACCOUNT = "000000000000"  # the dev account: any unknown access key is its root


def document(action: str, resource: str = "*", effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture(scope="module")
def iam(own_dev: Server) -> Any:
    return own_dev.client("iam")


def query(server: Server, body: bytes, service: str = "iam") -> tuple[int, dict[str, str], str]:
    headers = sign_headers(
        server,
        body,
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        service=service,
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, response.read().decode()
    finally:
        connection.close()


# -- users, access keys -------------------------------------------------------------------------


def test_users(iam: Any) -> None:
    user = iam.create_user(UserName="u-alice", Path="/eng/", Tags=[{"Key": "team", "Value": "a"}])
    assert user["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/u-alice"
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["User"]["UserId"])
    assert iam.get_user(UserName="u-alice")["User"]["Tags"] == [{"Key": "team", "Value": "a"}]
    assert "u-alice" in [u["UserName"] for u in iam.list_users(PathPrefix="/eng/")["Users"]]
    iam.tag_user(UserName="u-alice", Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_user(UserName="u-alice", TagKeys=["team"])
    assert iam.list_user_tags(UserName="u-alice")["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert error_of(iam.create_user, UserName="u-alice") == (
        409,
        "EntityAlreadyExists",
        "User with name u-alice already exists.",
    )
    iam.delete_user(UserName="u-alice")
    assert error_of(iam.get_user, UserName="u-alice") == (
        404,
        "NoSuchEntity",
        "The user with name u-alice cannot be found.",
    )


def test_get_user_of_the_root(iam: Any) -> None:
    assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_model_validation_is_a_validation_error(own_dev: Server) -> None:
    unchecked = own_dev.client("iam", validate=False)
    assert error_of(unchecked.create_user, UserName="a b") == (
        400,
        "ValidationError",
        "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    )


def test_access_keys_authenticate_until_deactivated(own_dev: Server, iam: Any) -> None:
    iam.create_user(UserName="u-keys")
    key = iam.create_access_key(UserName="u-keys")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40
    iam.create_access_key(UserName="u-keys")
    assert error_of(iam.create_access_key, UserName="u-keys") == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    creds = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    sts = own_dev.client("sts", **creds)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/u-keys"
    wrong = own_dev.client("sts", access_key=key["AccessKeyId"], secret_key="x" * 40)
    assert error_of(wrong.get_caller_identity)[:2] == (403, "SignatureDoesNotMatch")
    iam.update_access_key(UserName="u-keys", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName="u-keys")["AccessKeyMetadata"]
    }
    assert statuses[key["AccessKeyId"]] == "Inactive"
    assert len(statuses) == 2
    assert error_of(sts.get_caller_identity)[:2] == (403, "InvalidClientTokenId")
    for key_id in statuses:
        iam.delete_access_key(UserName="u-keys", AccessKeyId=key_id)
    assert iam.list_access_keys(UserName="u-keys")["AccessKeyMetadata"] == []
    iam.delete_user(UserName="u-keys")


def test_delete_user_conflicts(iam: Any) -> None:
    iam.create_user(UserName="u-busy")
    key = iam.create_access_key(UserName="u-busy")["AccessKey"]["AccessKeyId"]
    assert error_of(iam.delete_user, UserName="u-busy") == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
    )
    iam.delete_access_key(UserName="u-busy", AccessKeyId=key)
    iam.put_user_policy(UserName="u-busy", PolicyName="p", PolicyDocument=document("kms:*"))
    assert error_of(iam.delete_user, UserName="u-busy")[2] == (
        "Cannot delete entity, must delete policies first."
    )
    iam.delete_user_policy(UserName="u-busy", PolicyName="p")
    iam.delete_user(UserName="u-busy")


# -- groups, roles ------------------------------------------------------------------------------


def test_groups(iam: Any) -> None:
    iam.create_group(GroupName="g-devs")
    iam.create_user(UserName="u-member")
    iam.add_user_to_group(GroupName="g-devs", UserName="u-member")
    got = iam.get_group(GroupName="g-devs")
    assert got["Group"]["GroupId"].startswith("AGPA")
    assert [u["UserName"] for u in got["Users"]] == ["u-member"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="u-member")["Groups"]] == [
        "g-devs"
    ]
    assert "g-devs" in [g["GroupName"] for g in iam.list_groups()["Groups"]]
    assert error_of(iam.delete_group, GroupName="g-devs") == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    iam.remove_user_from_group(GroupName="g-devs", UserName="u-member")
    iam.delete_group(GroupName="g-devs")
    iam.delete_user(UserName="u-member")
    assert error_of(iam.get_group, GroupName="g-devs")[:2] == (404, "NoSuchEntity")


def test_roles(iam: Any) -> None:
    role = iam.create_role(
        RoleName="r-app", AssumeRolePolicyDocument=TRUST, Description="app", Tags=[]
    )["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["MaxSessionDuration"] == 3600
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)  # sent URL-encoded, as AWS
    iam.update_role(RoleName="r-app", MaxSessionDuration=7200, Description="new")
    got = iam.get_role(RoleName="r-app")["Role"]
    assert (got["MaxSessionDuration"], got["Description"]) == (7200, "new")
    narrower = TRUST.replace(f'"{ACCOUNT}"', f'"arn:aws:iam::{ACCOUNT}:root"')
    iam.update_assume_role_policy(RoleName="r-app", PolicyDocument=narrower)
    assert iam.get_role(RoleName="r-app")["Role"]["AssumeRolePolicyDocument"] == json.loads(
        narrower
    )
    iam.tag_role(RoleName="r-app", Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_role_tags(RoleName="r-app")["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.untag_role(RoleName="r-app", TagKeys=["k"])
    assert iam.list_role_tags(RoleName="r-app")["Tags"] == []
    assert "r-app" in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.delete_role(RoleName="r-app")
    assert error_of(iam.get_role, RoleName="r-app")[:2] == (404, "NoSuchEntity")


def test_role_refusals(own_dev: Server, iam: Any) -> None:
    status, code, _ = error_of(
        iam.create_role, RoleName="r-bad", AssumeRolePolicyDocument='{"Statement": "x"}'
    )
    assert (status, code) == (400, "MalformedPolicyDocument")
    unchecked = own_dev.client("iam", validate=False)
    status, code, message = error_of(
        unchecked.create_role,
        RoleName="r-bad",
        AssumeRolePolicyDocument=TRUST,
        MaxSessionDuration=60,
    )
    assert (status, code) == (400, "ValidationError")
    assert "at 'maxSessionDuration'" in message


# -- policies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_inline_policies(iam: Any, kind: str) -> None:
    noun, name = kind.capitalize(), f"{kind[0]}-inline"
    owner = {f"{noun}Name": name}
    if kind == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    else:
        getattr(iam, f"create_{kind}")(**owner)
    text = document("kms:Decrypt")
    getattr(iam, f"put_{kind}_policy")(**owner, PolicyName="p", PolicyDocument=text)
    got = getattr(iam, f"get_{kind}_policy")(**owner, PolicyName="p")
    assert got["PolicyDocument"] == json.loads(text)
    assert getattr(iam, f"list_{kind}_policies")(**owner)["PolicyNames"] == ["p"]
    status, code, _ = error_of(
        getattr(iam, f"put_{kind}_policy"), **owner, PolicyName="bad", PolicyDocument="{}"
    )
    assert (status, code) == (400, "MalformedPolicyDocument")
    getattr(iam, f"delete_{kind}_policy")(**owner, PolicyName="p")
    assert error_of(getattr(iam, f"get_{kind}_policy"), **owner, PolicyName="p") == (
        404,
        "NoSuchEntity",
        f"The {kind} policy with name p cannot be found.",
    )
    getattr(iam, f"delete_{kind}")(**owner)


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_managed_policies(iam: Any, kind: str) -> None:
    noun, name = kind.capitalize(), f"{kind[0]}-managed"
    owner = {f"{noun}Name": name}
    if kind == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    else:
        getattr(iam, f"create_{kind}")(**owner)
    text = document("kms:Encrypt")
    policy = iam.create_policy(PolicyName=f"mp-{kind}", Path="/x/", PolicyDocument=text)["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/x/mp-{kind}"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(text)
    assert version["IsDefaultVersion"] is True
    getattr(iam, f"attach_{kind}_policy")(**owner, PolicyArn=arn)
    attached = getattr(iam, f"list_attached_{kind}_policies")(**owner)["AttachedPolicies"]
    assert attached == [{"PolicyName": f"mp-{kind}", "PolicyArn": arn}]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    getattr(iam, f"detach_{kind}_policy")(**owner, PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    assert error_of(iam.get_policy, PolicyArn=arn) == (
        404,
        "NoSuchEntity",
        f"Policy {arn} does not exist or is not attachable.",
    )
    getattr(iam, f"delete_{kind}")(**owner)


# -- authorization ------------------------------------------------------------------------------


@pytest.fixture
def carol(own_dev: Server, iam: Any) -> Iterator[tuple[Any, str]]:
    """A fresh user with one access key: (its IAM client, its name)."""
    name = "u-carol"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = own_dev.client("iam", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    yield client, name
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
    for group in iam.list_groups_for_user(UserName=name)["Groups"]:
        iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)
    iam.delete_user(UserName=name)


def test_a_user_without_a_policy_is_denied(carol: tuple[Any, str]) -> None:
    client, name = carol
    assert error_of(client.create_user, UserName="u-x") == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/u-x because no "
        "identity-based policy allows the iam:CreateUser action",
    )


def test_an_inline_policy_allows(iam: Any, carol: tuple[Any, str]) -> None:
    client, name = carol
    iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=document("iam:List*"))
    assert name in [u["UserName"] for u in client.list_users()["Users"]]
    assert error_of(client.create_group, GroupName="g-x")[:2] == (403, "AccessDenied")


def test_a_group_policy_allows_its_members(iam: Any, carol: tuple[Any, str]) -> None:
    client, name = carol
    iam.create_group(GroupName="g-readers")
    iam.put_group_policy(
        GroupName="g-readers", PolicyName="get", PolicyDocument=document("iam:Get*")
    )
    assert error_of(client.get_group, GroupName="g-readers")[:2] == (403, "AccessDenied")
    iam.add_user_to_group(GroupName="g-readers", UserName=name)
    assert client.get_group(GroupName="g-readers")["Group"]["GroupName"] == "g-readers"
    iam.remove_user_from_group(GroupName="g-readers", UserName=name)
    iam.delete_group_policy(GroupName="g-readers", PolicyName="get")
    iam.delete_group(GroupName="g-readers")


def test_an_explicit_deny_beats_an_allow(iam: Any, carol: tuple[Any, str]) -> None:
    client, name = carol
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=document("iam:*"))
    deny = iam.create_policy(
        PolicyName="no-users", PolicyDocument=document("iam:*User", effect="Deny")
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=deny)
    assert client.list_roles()["IsTruncated"] is False
    assert error_of(client.get_user) == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: iam:GetUser "
        f"on resource: arn:aws:iam::{ACCOUNT}:user/{name} with an explicit deny in an "
        "identity-based policy",
    )
    iam.detach_user_policy(UserName=name, PolicyArn=deny)
    iam.delete_policy(PolicyArn=deny)


# -- the wire -----------------------------------------------------------------------------------


def test_request_id_is_in_the_header_and_the_body(own_dev: Server) -> None:
    status, headers, body = query(own_dev, b"Action=ListRoles&Version=2010-05-08")
    assert status == 200
    assert headers["content-type"] == "text/xml"
    assert f"<RequestId>{headers['x-amzn-requestid']}</RequestId>" in body
    assert body.startswith('<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"Action=Frobnicate&Version=2010-05-08", 400, "InvalidAction"),
        (b"Version=2010-05-08", 400, "MissingAction"),
        (b"Action=ListUsers&Version=1999-01-01", 400, "InvalidAction"),
        (b"Action=CreateLoginProfile&Version=2010-05-08&UserName=x", 501, "NotImplemented"),
    ],
)
def test_protocol_errors_are_xml(own_dev: Server, body: bytes, status: int, code: str) -> None:
    got, _, text = query(own_dev, body)
    assert got == status
    assert text.startswith('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')
    assert f"<Code>{code}</Code>" in text


def test_a_signature_for_another_service_is_refused(own_dev: Server) -> None:
    status, _, text = query(own_dev, b"Action=ListUsers&Version=2010-05-08", service="s3")
    assert status == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in text


def test_sts_is_served_on_the_same_port(own_dev: Server) -> None:
    body = urllib.parse.urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    status, _, text = query(own_dev, body.encode(), service="sts")
    assert status == 200
    assert 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in text
    assert f"<Account>{ACCOUNT}</Account>" in text


def test_production_mode_checks_iam_signatures(prod: Server) -> None:
    assert prod.client("iam").get_user()["User"]["Arn"].endswith(":root")
    bad = prod.client("iam", secret_key="x" * 40)
    assert error_of(bad.list_users)[:2] == (403, "SignatureDoesNotMatch")
    unknown = prod.client("iam", access_key="AKIAUNKNOWNUNKNOWN00")
    assert error_of(unknown.list_users) == (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
