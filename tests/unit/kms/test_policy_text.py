"""The default key policy text and the checks applied when a policy is stored."""

from __future__ import annotations

import json

import pytest

from strongroom.errors import LimitExceededException, MalformedPolicyDocumentException
from strongroom.kms.policy_text import MAX_POLICY_BYTES, check_policy, default_key_policy

AWS_DEFAULT = """{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"""


def test_default_policy_is_aws_text_exactly() -> None:
    assert default_key_policy("aws", "111122223333") == AWS_DEFAULT
    assert json.loads(default_key_policy("aws-cn", "000000000000"))["Statement"][0][
        "Principal"
    ] == {"AWS": "arn:aws-cn:iam::000000000000:root"}


def test_policy_is_kept_as_given() -> None:
    text = '{"Version":"2012-10-17",  "Statement":[]}'
    assert check_policy(text) == text


@pytest.mark.parametrize("text", ["not json", "[]", '{"Version": "2012-10-17"}', "{"])
def test_malformed_policies(text: str) -> None:
    with pytest.raises(MalformedPolicyDocumentException):
        check_policy(text)


def test_size_limit_counts_bytes() -> None:
    padding = "x" * (MAX_POLICY_BYTES - 40)
    fits = json.dumps({"Statement": [], "Id": padding})
    assert len(fits.encode()) <= MAX_POLICY_BYTES
    check_policy(fits)
    too_big = json.dumps({"Statement": [], "Id": "é" * (MAX_POLICY_BYTES // 2)}, ensure_ascii=False)
    with pytest.raises(LimitExceededException):
        check_policy(too_big)
