"""SigV4 authentication and region scoping over HTTP (kms-spec.md 1.8, 3.3, 19.2, 19.8).

The production-mode server verifies every signature; the dev server verifies known keys only.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from tests.integration.expect import error_of
from tests.integration.server import Reply, Server, raw_post, read_credentials, sign_headers

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
AMZ_DATE = r"\d{8}T\d{6}Z"


def error(reply: Reply) -> tuple[int, str, str | None]:
    assert reply.headers["x-amzn-requestid"]
    assert b"Traceback" not in reply.body
    assert reply.headers["x-amzn-errortype"] == reply.json()["__type"]
    return reply.error


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def test_valid_signature_passes(prod_kms: Any) -> None:
    assert prod_kms.list_keys()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_wrong_secret(prod: Server) -> None:
    client = prod.client(secret_key="not-the-secret")
    assert error_of(client.list_keys) == (400, "InvalidSignatureException", MISMATCH)


def test_unknown_access_key(prod: Server) -> None:
    client = prod.client(access_key="AKIAUNKNOWNUNKNOWN00")
    assert error_of(client.list_keys) == (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_body_changed_after_signing(prod: Server) -> None:
    """The payload hash is part of the signature: a body swapped in transit is refused."""
    headers = sign_headers(
        prod,
        b"{}",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"},
    )
    reply = raw_post(prod, None, b'{"Limit": 1}', headers=headers, sign=False)
    assert error(reply) == (400, "InvalidSignatureException", MISMATCH)


def test_signed_header_changed_after_signing(prod: Server) -> None:
    headers = sign_headers(
        prod,
        b"{}",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"},
    )
    headers["X-Amz-Target"] = "TrentService.ListAliases"
    reply = raw_post(prod, None, b"{}", headers=headers, sign=False)
    assert error(reply) == (400, "InvalidSignatureException", MISMATCH)


def test_signature_six_minutes_old(prod: Server) -> None:
    signed_at = now() - datetime.timedelta(minutes=6)
    status, code, message = error(raw_post(prod, "TrentService.ListKeys", signed_at=signed_at))
    assert (status, code) == (400, "InvalidSignatureException")
    stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
    assert message is not None
    assert re.fullmatch(
        rf"Signature expired: {stamp} is now earlier than {AMZ_DATE} \({AMZ_DATE} - 5 min\.\)",
        message,
    )


def test_signature_six_minutes_ahead(prod: Server) -> None:
    signed_at = now() + datetime.timedelta(minutes=6)
    status, code, message = error(raw_post(prod, "TrentService.ListKeys", signed_at=signed_at))
    assert (status, code) == (400, "InvalidSignatureException")
    stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
    assert message is not None
    assert re.fullmatch(
        rf"Signature not yet current: {stamp} is still later than {AMZ_DATE} "
        rf"\({AMZ_DATE} \+ 5 min\.\)",
        message,
    )


@pytest.mark.parametrize("minutes", [-4, 4])
def test_signature_within_the_skew_window(prod: Server, minutes: int) -> None:
    signed_at = now() + datetime.timedelta(minutes=minutes)
    assert raw_post(prod, "TrentService.ListKeys", signed_at=signed_at).status == 200


def test_missing_authorization_status(prod: Server) -> None:
    reply = raw_post(prod, "TrentService.ListKeys", sign=False)
    assert reply.status == 400


def test_missing_authorization(prod: Server) -> None:
    _, code, message = error(raw_post(prod, "TrentService.ListKeys", sign=False))
    assert (code, message) == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )


def test_garbled_authorization(prod: Server) -> None:
    reply = raw_post(
        prod, "TrentService.ListKeys", headers={"Authorization": "garbage"}, sign=False
    )
    status, code, message = error(reply)
    assert (status, code) == (400, "IncompleteSignatureException")
    assert message is not None
    assert message.startswith("Authorization header requires 'Credential' parameter.")


def test_authorization_without_signature(prod: Server) -> None:
    header = (
        f"AWS4-HMAC-SHA256 Credential={prod.access_key}/20250101/us-east-1/kms/aws4_request, "
        "SignedHeaders=host;x-amz-date"
    )
    reply = raw_post(
        prod,
        "TrentService.ListKeys",
        headers={"Authorization": header, "X-Amz-Date": "20250101T000000Z"},
        sign=False,
    )
    status, code, message = error(reply)
    assert (status, code) == (400, "IncompleteSignatureException")
    assert message is not None
    assert "Authorization header requires 'Signature' parameter." in message


def test_wrong_service_in_scope(prod: Server) -> None:
    reply = raw_post(prod, "TrentService.ListKeys", service="s3")
    assert error(reply) == (
        400,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'kms'. ",
    )


def test_wrong_service_in_scope_with_a_wrong_secret_too(prod: Server) -> None:
    """The scope is judged before the signature (as AWS does)."""
    reply = raw_post(prod, "TrentService.ListKeys", service="iam", secret_key="wrong")
    assert error(reply)[1] == "InvalidSignatureException"


# -- regions -------------------------------------------------------------------------------------


def test_any_region_in_the_scope_works(prod: Server) -> None:
    for region in ("eu-west-1", "ap-southeast-2", "sa-east-1"):
        assert prod.client(region=region).list_keys()["Truncated"] in (True, False)


def test_keys_are_region_scoped(prod: Server) -> None:
    east, west = prod.client(region="us-east-1"), prod.client(region="eu-west-1")
    key = east.create_key()["KeyMetadata"]
    account = key["AWSAccountId"]
    assert key["Arn"] == f"arn:aws:kms:us-east-1:{account}:key/{key['KeyId']}"

    assert error_of(west.describe_key, KeyId=key["KeyId"]) == (
        400,
        "NotFoundException",
        f"Key 'arn:aws:kms:eu-west-1:{account}:key/{key['KeyId']}' does not exist",
    )
    assert error_of(west.describe_key, KeyId=key["Arn"]) == (
        400,
        "NotFoundException",
        "Invalid arn us-east-1",
    )
    assert error_of(west.encrypt, KeyId=key["Arn"], Plaintext=b"x")[1] == "NotFoundException"
    west_ids = {k["KeyId"] for k in west.get_paginator("list_keys").paginate().build_full_result()
                ["Keys"]}  # fmt: skip
    assert key["KeyId"] not in west_ids
    assert east.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_aliases_are_region_scoped(prod: Server) -> None:
    east, west = prod.client(region="us-east-1"), prod.client(region="eu-west-1")
    east_key = east.create_key()["KeyMetadata"]
    west_key = west.create_key()["KeyMetadata"]
    east.create_alias(AliasName="alias/auth-regional", TargetKeyId=east_key["KeyId"])
    west.create_alias(AliasName="alias/auth-regional", TargetKeyId=west_key["KeyId"])
    assert east.describe_key(KeyId="alias/auth-regional")["KeyMetadata"]["Arn"] == east_key["Arn"]
    assert west.describe_key(KeyId="alias/auth-regional")["KeyMetadata"]["Arn"] == west_key["Arn"]
    assert west_key["Arn"].startswith("arn:aws:kms:eu-west-1:")


# -- dev mode ----------------------------------------------------------------------------------


def test_dev_accepts_an_unknown_key_as_the_dev_root(dev: Server) -> None:
    client = dev.client(access_key="AKIAANYTHINGATALL000", secret_key="whatever")
    key = client.create_key()["KeyMetadata"]
    assert key["AWSAccountId"] == "000000000000"
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:000000000000:key/")


def test_dev_still_verifies_a_known_key(dev: Server) -> None:
    access_key, secret = read_credentials(dev.data_dir)
    good = dev.client(access_key=access_key, secret_key=secret)
    assert good.create_key()["KeyMetadata"]["AWSAccountId"] == "000000000000"
    bad = dev.client(access_key=access_key, secret_key=secret + "x")
    assert error_of(bad.list_keys) == (400, "InvalidSignatureException", MISMATCH)


def test_dev_still_checks_the_clock_for_unknown_keys(dev: Server) -> None:
    signed_at = now() - datetime.timedelta(minutes=6)
    reply = raw_post(dev, "TrentService.ListKeys", signed_at=signed_at)
    assert error(reply)[:2] == (400, "InvalidSignatureException")


def test_dev_requires_a_signature_header(dev: Server) -> None:
    reply = raw_post(dev, "TrentService.ListKeys", sign=False)
    assert error(reply)[1:] == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )


def test_dev_refuses_an_empty_access_key_id(dev: Server) -> None:
    """Any unknown key is the dev root, but a key id there must be."""
    day = now().strftime("%Y%m%d")
    header = (
        f"AWS4-HMAC-SHA256 Credential=/{day}/us-east-1/kms/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    reply = raw_post(
        dev,
        "TrentService.ListKeys",
        headers={"Authorization": header, "X-Amz-Date": now().strftime("%Y%m%dT%H%M%SZ")},
        sign=False,
    )
    assert error(reply) == (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
