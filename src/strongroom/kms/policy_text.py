"""Key policy text: AWS's default policy and the checks that apply when a policy is stored.

Evaluation comes with the authorization engine; here a policy is only checked to be a JSON object
within AWS's size limit, and stored as given.
"""

from __future__ import annotations

import orjson

from strongroom.errors import LimitExceededException, MalformedPolicyDocumentException

__all__ = ["MAX_POLICY_BYTES", "check_policy", "default_key_policy"]

MAX_POLICY_BYTES = 32_768

_DEFAULT = """{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:%(partition)s:iam::%(account)s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"""


def default_key_policy(partition: str, account: str) -> str:
    """The exact text AWS stores for a key created through the API without a policy."""
    return _DEFAULT % {"partition": partition, "account": account}


def check_policy(policy: str) -> str:
    if len(policy.encode("utf-8")) > MAX_POLICY_BYTES:
        raise LimitExceededException(
            f"Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."
        )
    try:
        document = orjson.loads(policy)
    except orjson.JSONDecodeError:
        raise MalformedPolicyDocumentException("The policy is not valid JSON.") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise MalformedPolicyDocumentException("The policy must be a JSON object with a Statement.")
    return policy
