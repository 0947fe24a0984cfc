"""Benchmark of policy evaluation alone: a realistic key policy, on one core.

The key policy is AWS's default (the account root statement) plus three statements with
conditions on ``kms:EncryptionContext:*``, ``aws:SourceIp`` and ``kms:CallerAccount``. Each
evaluation builds a fresh :class:`RequestContext` (as the authorizer does per request), looks the
policy up in the parse cache by its text, and evaluates it with principals checked -- plus, for the
delegated case, the caller's identity policy. The issue asks for at least 50,000 evaluations/s.

    .venv/bin/python -m benchmarks.authz [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.policy import (
    ConditionValue,
    PolicyKind,
    RequestContext,
    decide_identity,
    evaluate_policy,
    parse_policy,
)

OWNER = "111122223333"
PARTNER = "444455556666"
KEY_ARN = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APP_ROLE = f"arn:aws:iam::{OWNER}:role/app"

KEY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow use of the key for one tenant",
                "Effect": "Allow",
                "Principal": {"AWS": APP_ROLE},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
            },
            {
                "Sid": "Allow decrypt from the office",
                "Effect": "Allow",
                "Principal": {"AWS": PARTNER},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                    "Bool": {"aws:SecureTransport": "true"},
                },
            },
            {
                "Sid": "Deny other accounts",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"kms:CallerAccount": [OWNER, PARTNER]}},
            },
        ],
    },
    indent=2,
)

IDENTITY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt"],
                "Resource": f"arn:aws:kms:*:{OWNER}:key/*",
            }
        ],
    }
)

ALICE = Principal(
    OWNER, f"arn:aws:iam::{OWNER}:user/alice", PrincipalType.USER, "AIDAALICE", "alice"
)
APP = Principal(
    OWNER,
    f"arn:aws:sts::{OWNER}:assumed-role/app/worker-1",
    PrincipalType.ASSUMED_ROLE,
    "AROAAPP:worker-1",
    "app",
    role_arn=APP_ROLE,
    session_name="worker-1",
)
PARTNER_USER = Principal(
    PARTNER, f"arn:aws:iam::{PARTNER}:user/bob", PrincipalType.USER, "AIDABOB", "bob"
)


def _keys(caller: Principal, ip: str) -> dict[str, ConditionValue]:
    return {
        "kms:calleraccount": caller.account,
        "kms:encryptioncontext:tenant": "acme",
        "kms:encryptioncontextkeys": ["tenant"],
        "kms:encryptionalgorithm": "SYMMETRIC_DEFAULT",
        "aws:sourceip": ip,
        "aws:securetransport": True,
        "aws:currenttime": "2025-11-28T15:00:00Z",
    }


def _scenario(caller: Principal, action: str, ip: str, identity: bool) -> Callable[[], bool]:
    keys = _keys(caller, ip)
    key_policy = KEY_POLICY
    identity_policies = [("user/alice inline policy 'kms'", IDENTITY_POLICY)]

    def run() -> bool:
        ctx = RequestContext(action, KEY_ARN, caller, keys)
        policy = parse_policy(key_policy, PolicyKind.RESOURCE)
        result = evaluate_policy(policy, "key policy", ctx, check_principal=True)
        if result.denies:
            return False
        if identity:
            parsed = [(n, parse_policy(t, PolicyKind.IDENTITY)) for n, t in identity_policies]
            return decide_identity(parsed, ctx).allowed
        return bool(result.allows)

    return run


SCENARIOS: dict[str, Callable[[], bool]] = {
    "role, tenant context (key policy allows directly)": _scenario(
        APP, "kms:Decrypt", "10.0.0.1", False
    ),
    "user, root delegation + identity policy": _scenario(ALICE, "kms:Encrypt", "10.0.0.1", True),
    "partner account, from the office IP": _scenario(
        PARTNER_USER, "kms:Decrypt", "203.0.113.9", False
    ),
    "partner account, other IP (implicit deny)": _scenario(
        PARTNER_USER, "kms:Decrypt", "198.51.100.1", False
    ),
}


def measure(run: Callable[[], bool], seconds: float) -> tuple[float, int]:
    """Evaluations per second over ``seconds`` (after a short warm-up), and the count."""
    for _ in range(2000):
        run()
    count = 0
    batch = 1000
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            run()
        count += batch
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per case")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, nproc {os.cpu_count()}")
    print("| scenario | result | evaluations/s | µs/evaluation |")
    print("|---|---|---:|---:|")
    worst = float("inf")
    for name, run in SCENARIOS.items():
        rate, _ = measure(run, args.seconds)
        worst = min(worst, rate)
        verdict = "allow" if run() else "deny"
        print(f"| {name} | {verdict} | {rate:,.0f} | {1e6 / rate:.1f} |")
    print(f"\nslowest case: {worst:,.0f} evaluations/s (target: 50,000)")
    return 0 if worst >= 50_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
