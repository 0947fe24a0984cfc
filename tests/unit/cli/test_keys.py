"""``strongroom keys create``: a key with the console policy, made through CreateKey as the root,
with the policy checks an API caller gets (unknown principals refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from strongroom.cli.init import initialise
from strongroom.cli.main import cli
from strongroom.config import load_settings
from strongroom.domain.caller import Caller
from strongroom.iam.api import call as iam_call
from strongroom.kms.console_policy import console_key_policy
from strongroom.kms.operations import call as kms_call
from strongroom.server.runtime import build_runtime

ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/alice"
USER = f"arn:aws:iam::{ACCOUNT}:user/bob"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "kms"
    initialise(data_dir, ACCOUNT, "us-east-1")
    runtime = build_runtime(load_settings(data_dir))
    try:
        for name in ("alice", "bob"):
            iam_call(
                runtime.iam, Caller.root(ACCOUNT, "us-east-1"), "CreateUser", {"UserName": name}
            )
    finally:
        runtime.close()
    return data_dir


def _run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["keys", "create", "--data-dir", str(data_dir), *args], catch_exceptions=False
    )


def _stored_policy(data_dir: Path, key_id: str, region: str = "us-east-1") -> str:
    runtime = build_runtime(load_settings(data_dir))
    try:
        caller = Caller.root(ACCOUNT, region)
        result = kms_call(runtime.kms, caller, "GetKeyPolicy", {"KeyId": key_id})
    finally:
        runtime.close()
    return str(result["Policy"])


def test_creates_a_key_with_the_console_policy(data_dir: Path) -> None:
    result = _run(data_dir, "--admin", ADMIN, "--user", USER, "--description", "orders")
    assert result.exit_code == 0, result.output
    metadata = json.loads(result.output)
    assert metadata["AWSAccountId"] == ACCOUNT
    assert metadata["Description"] == "orders"
    assert metadata["KeyState"] == "Enabled"
    assert metadata["Arn"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    expected = console_key_policy(ACCOUNT, admins=[ADMIN], users=[USER])
    assert _stored_policy(data_dir, metadata["KeyId"]) == expected


def test_region_option_places_the_key(data_dir: Path) -> None:
    result = _run(data_dir, "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    metadata = json.loads(result.output)
    assert metadata["Arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    policy = json.loads(_stored_policy(data_dir, metadata["KeyId"], "eu-west-1"))
    assert [s["Sid"] for s in policy["Statement"]] == ["Enable IAM User Permissions"]


def test_unknown_principal_is_a_clean_error(data_dir: Path) -> None:
    result = _run(data_dir, "--user", f"arn:aws:iam::{ACCOUNT}:user/nobody")
    assert result.exit_code == 1
    assert "MalformedPolicyDocumentException" in result.output
    assert "Policy contains a statement with one or more invalid principals." in result.output


def test_unknown_account_is_refused(data_dir: Path) -> None:
    result = _run(data_dir, "--account-id", "999988887777")
    assert result.exit_code == 1
    assert "no account 999988887777" in result.output


def test_malformed_account_id_is_refused(data_dir: Path) -> None:
    result = _run(data_dir, "--account-id", "12")
    assert result.exit_code == 1
    assert "Error" in result.output


def test_description_over_the_model_limit_is_a_validation_error(data_dir: Path) -> None:
    result = _run(data_dir, "--description", "x" * 8193)
    assert result.exit_code == 1
    assert "ValidationException" in result.output


@pytest.mark.parametrize(
    ("spec", "usage", "use_actions"),
    [
        ("RSA_2048", "SIGN_VERIFY", ["kms:Sign", "kms:Verify"]),
        ("ECC_NIST_P384", "KEY_AGREEMENT", ["kms:DeriveSharedSecret"]),
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", ["kms:Encapsulate", "kms:Decapsulate"]),
        ("HMAC_256", "GENERATE_VERIFY_MAC", ["kms:GenerateMac", "kms:VerifyMac"]),
    ],
)
def test_asymmetric_and_hmac_keys_get_their_usage_s_console_policy(
    data_dir: Path, spec: str, usage: str, use_actions: list[str]
) -> None:
    result = _run(data_dir, "--key-spec", spec, "--key-usage", usage, "--user", USER)
    assert result.exit_code == 0, result.output
    metadata = json.loads(result.output)
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == (spec, usage)
    policy = json.loads(_stored_policy(data_dir, metadata["KeyId"]))
    (use,) = [s for s in policy["Statement"] if s["Sid"] == "Allow use of the key"]
    assert set(use_actions) <= set(use["Action"])
    assert "kms:Encrypt" not in use["Action"]


def test_imported_and_multi_region_keys(data_dir: Path) -> None:
    result = _run(data_dir, "--origin", "EXTERNAL", "--multi-region", "--admin", ADMIN)
    assert result.exit_code == 0, result.output
    metadata = json.loads(result.output)
    assert (metadata["Origin"], metadata["KeyState"]) == ("EXTERNAL", "PendingImport")
    assert metadata["KeyId"].startswith("mrk-")
    assert metadata["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    policy = json.loads(_stored_policy(data_dir, metadata["KeyId"]))
    (admin,) = [s for s in policy["Statement"] if s["Sid"] == "Allow access for Key Administrators"]
    assert {"kms:ImportKeyMaterial", "kms:ReplicateKey"} <= set(admin["Action"])


def test_a_spec_without_its_usage_is_aws_s_validation_error(data_dir: Path) -> None:
    result = _run(data_dir, "--key-spec", "ECC_NIST_P256")
    assert result.exit_code == 1
    assert "ValidationException: You must specify a KeyUsage value" in result.output
