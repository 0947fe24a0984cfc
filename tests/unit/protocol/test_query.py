"""The AWS Query protocol: form bodies decoded by the IAM/STS models, XML replies and errors that
botocore's own parser reads back, and the Query names of shared errors."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from botocore.parsers import QueryParser

from strongroom import errors
from strongroom.protocol.query import QueryService, query_error
from strongroom.protocol.shapes import java_regex
from strongroom.protocol.xml import escape, iso8601

IAM = QueryService.load("iam")
STS = QueryService.load("sts")


def form(**fields: str) -> bytes:
    return urllib.parse.urlencode({"Version": "2010-05-08", **fields}).encode()


def parse(service: QueryService, action: str, body: bytes) -> dict[str, Any]:
    reply = {"body": body, "headers": {}, "status_code": 200}
    shape = service.operation(action).output_shape
    parsed: dict[str, Any] = QueryParser().parse(reply, shape)
    return parsed


def parse_error(body: bytes, status: int) -> dict[str, Any]:
    parsed: dict[str, Any] = QueryParser().parse(
        {"body": body, "headers": {}, "status_code": status}, None
    )
    return parsed


# -- requests -----------------------------------------------------------------------------------


def test_lists_of_structures_and_integers_decode_by_shape() -> None:
    action, params = IAM.decode(
        form(
            Action="CreateRole",
            RoleName="r",
            AssumeRolePolicyDocument="{}",
            MaxSessionDuration="7200",
            **{"Tags.member.2.Key": "b", "Tags.member.2.Value": "2"},
            **{"Tags.member.1.Key": "a", "Tags.member.1.Value": "1"},
        )
    )
    assert action == "CreateRole"
    assert params == {
        "RoleName": "r",
        "AssumeRolePolicyDocument": "{}",
        "MaxSessionDuration": 7200,
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }


def test_scalar_lists_booleans_and_empty_lists() -> None:
    _, params = IAM.decode(form(Action="UntagUser", UserName="u", **{"TagKeys.member.1": "k"}))
    assert params["TagKeys"] == ["k"]
    _, params = IAM.decode(form(Action="ListPolicies", OnlyAttached="true", MaxItems="5"))
    assert params == {"OnlyAttached": True, "MaxItems": 5}
    _, params = IAM.read(form(Action="UntagUser", UserName="u", TagKeys=""))
    assert params["TagKeys"] == []


def test_unknown_parameters_are_ignored() -> None:
    _, params = IAM.decode(form(Action="GetUser", Bogus="1"))
    assert params == {}


def test_missing_action() -> None:
    with pytest.raises(errors.MissingActionException):
        IAM.decode(b"Version=2010-05-08")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (form(Action="Nope"), "Could not find operation Nope for version 2010-05-08"),
        (
            b"Action=GetUser&Version=2011-06-15",
            "Could not find operation GetUser for version 2011-06-15",
        ),
        (b"Action=GetUser", "Could not find operation GetUser for version NO_VERSION_SPECIFIED"),
    ],
)
def test_unknown_action_or_version_is_invalid_action(body: bytes, message: str) -> None:
    with pytest.raises(errors.UnknownOperationException) as caught:
        IAM.decode(body)
    assert caught.value.message == message
    assert query_error(caught.value) == ("InvalidAction", 400)


def test_model_validation_is_a_validation_error() -> None:
    with pytest.raises(errors.ValidationException) as caught:
        IAM.decode(form(Action="CreateUser", UserName="a b"))
    assert caught.value.message == (
        "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )
    assert query_error(caught.value) == ("ValidationError", 400)


def test_missing_required_member() -> None:
    with pytest.raises(errors.ValidationException) as caught:
        IAM.decode(form(Action="CreateUser"))
    assert "at 'userName' failed to satisfy constraint: Member must not be null" in str(
        caught.value.message
    )


def test_sts_requests_use_the_sts_version() -> None:
    body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::111122223333:role/r"
    _, params = STS.decode(body + b"&RoleSessionName=sess&DurationSeconds=900")
    assert params["DurationSeconds"] == 900


def test_tag_patterns_with_unicode_categories_compile() -> None:
    tag = java_regex(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+")
    assert tag.fullmatch("Équipe 42 名前")
    assert not tag.fullmatch("a!b")
    assert not tag.fullmatch("tab\there")


# -- replies ------------------------------------------------------------------------------------


def test_result_is_wrapped_and_botocore_reads_it() -> None:
    user = {
        "Path": "/team/",
        "UserName": "a&b<c>",
        "UserId": "AIDAABCDEFGHIJKLMNOPQ",
        "Arn": "arn:aws:iam::111122223333:user/team/a&b<c>",
        "CreateDate": 1795878000.0,
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    body = IAM.encode_result("CreateUser", {"User": user}, "req-1")
    assert body.startswith(
        b'<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult>'
    )
    assert b"<CreateDate>2026-11-28T15:00:00Z</CreateDate>" in body
    assert b"<Tags><member><Key>k</Key><Value>v</Value></member></Tags>" in body
    parsed = parse(IAM, "CreateUser", body)
    assert parsed["User"]["UserName"] == "a&b<c>"
    assert parsed["User"]["CreateDate"].timestamp() == 1795878000.0
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"


def test_operation_without_output_has_only_metadata() -> None:
    body = IAM.encode_result("DeleteUser", {}, "rid")
    assert body == (
        b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteUserResponse>"
    )


def test_policy_documents_are_url_encoded_as_iam_sends_them() -> None:
    document = '{"Version": "2012-10-17", "Statement": []}'
    result = {"UserName": "u", "PolicyName": "p", "PolicyDocument": document}
    body = IAM.encode_result("GetUserPolicy", result, "rid")
    assert urllib.parse.quote(document, safe="").encode() in body
    parsed = parse(IAM, "GetUserPolicy", body)
    assert urllib.parse.unquote(parsed["PolicyDocument"]) == document


def test_booleans_are_lower_case() -> None:
    body = IAM.encode_result("ListUsers", {"Users": [], "IsTruncated": False}, "rid")
    assert b"<IsTruncated>false</IsTruncated>" in body
    assert b"<Users></Users>" in body


def test_sts_namespace() -> None:
    result = {"UserId": "111122223333", "Account": "111122223333", "Arn": "arn"}
    body = STS.encode_result("GetCallerIdentity", result, "rid")
    assert body.startswith(
        b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )


def test_timestamps_and_escapes() -> None:
    assert iso8601(0) == "1970-01-01T00:00:00Z"
    assert iso8601(1.75) == "1970-01-01T00:00:01Z"
    assert escape("a&b<c>\r") == "a&amp;b&lt;c&gt;&#13;"


# -- errors -------------------------------------------------------------------------------------


def test_error_response_is_what_botocore_expects() -> None:
    error = errors.NoSuchEntityException("The user with name bob cannot be found.")
    status, code, body = IAM.encode_error(error, "rid")
    assert (status, code) == (404, "NoSuchEntity")
    assert b"<Type>Sender</Type>" in body
    parsed = parse_error(body, status)
    assert parsed["Error"]["Code"] == "NoSuchEntity"
    assert parsed["Error"]["Message"] == "The user with name bob cannot be found."
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_server_faults_are_receiver_errors() -> None:
    status, code, body = IAM.encode_error(errors.KMSInternalException("boom"), "rid")
    assert (status, code) == (500, "InternalFailure")
    assert b"<Type>Receiver</Type>" in body


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.AccessDeniedException("x"), ("AccessDenied", 403)),
        (errors.UnrecognizedClientException("x"), ("InvalidClientTokenId", 403)),
        (errors.InvalidSignatureException("x"), ("SignatureDoesNotMatch", 403)),
        (errors.IncompleteSignatureException("x"), ("IncompleteSignature", 400)),
        (errors.MissingAuthenticationTokenException("x"), ("MissingAuthenticationToken", 403)),
        (errors.ExpiredTokenException("x"), ("ExpiredToken", 403)),
        (errors.LimitExceededException("x"), ("LimitExceeded", 409)),
        (errors.MalformedPolicyDocumentException("x"), ("MalformedPolicyDocument", 400)),
        (errors.EntityAlreadyExistsException("x"), ("EntityAlreadyExists", 409)),
        (errors.DeleteConflictException("x"), ("DeleteConflict", 409)),
        (errors.InvalidInputException("x"), ("InvalidInput", 400)),
    ],
)
def test_query_names_of_errors(error: errors.ServiceError, expected: tuple[str, int]) -> None:
    assert query_error(error) == expected


def test_iam_errors_match_the_model() -> None:
    """Every IAM error class we send has the code and status the IAM model gives its shape."""
    shapes = IAM.model.shape_names
    for cls in (
        errors.NoSuchEntityException,
        errors.EntityAlreadyExistsException,
        errors.DeleteConflictException,
        errors.InvalidInputException,
        errors.LimitExceededException,
        errors.MalformedPolicyDocumentException,
    ):
        name = cls.__name__
        assert name in shapes
        modelled = IAM.model.shape_for(name).metadata["error"]
        assert query_error(cls("x")) == (modelled["code"], modelled["httpStatusCode"])
