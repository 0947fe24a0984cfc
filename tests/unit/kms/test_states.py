"""The key-state table against kms-spec.md section 5.2."""

from __future__ import annotations

import dataclasses

import pytest

from strongroom.domain.keys import KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, Origin
from strongroom.errors import ClientError, DisabledException, KMSInvalidStateException
from strongroom.kms.states import OpClass, require_state

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = KeyRecord(
    account="111122223333",
    region="us-east-1",
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
    arn=ARN,
    created_at=0.0,
    state=KeyState.ENABLED,
    description="",
    key_spec=KeySpec.SYMMETRIC_DEFAULT,
    key_usage=KeyUsage.ENCRYPT_DECRYPT,
    origin=Origin.AWS_KMS,
    key_manager=KeyManager.CUSTOMER,
    policy="{}",
    current_material_id=None,
)

OK = None
CASES: list[tuple[KeyState, OpClass, tuple[type[ClientError], str] | None]] = [
    (KeyState.ENABLED, OpClass.CRYPTO, OK),
    (KeyState.DISABLED, OpClass.CRYPTO, (DisabledException, f"{ARN} is disabled.")),
    (
        KeyState.PENDING_DELETION,
        OpClass.CRYPTO,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (
        KeyState.PENDING_IMPORT,
        OpClass.CRYPTO,
        (KMSInvalidStateException, f"{ARN} is pending import."),
    ),
    (KeyState.UPDATING, OpClass.CRYPTO, OK),
    (KeyState.DISABLED, OpClass.ANY, OK),
    (KeyState.PENDING_DELETION, OpClass.ANY, OK),
    (KeyState.DISABLED, OpClass.MUTATE, OK),
    (
        KeyState.PENDING_DELETION,
        OpClass.MUTATE,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.DISABLED, OpClass.ENABLE_DISABLE, OK),
    (
        KeyState.PENDING_DELETION,
        OpClass.ENABLE_DISABLE,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.CREATING, OpClass.ENABLE_DISABLE, (KMSInvalidStateException, f"{ARN} is creating.")),
    (KeyState.DISABLED, OpClass.SCHEDULE_DELETION, OK),
    (
        KeyState.PENDING_DELETION,
        OpClass.SCHEDULE_DELETION,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.PENDING_DELETION, OpClass.CANCEL_DELETION, OK),
    (
        KeyState.ENABLED,
        OpClass.CANCEL_DELETION,
        (
            KMSInvalidStateException,
            f"{ARN} is not pending deletion (or pending replica deletion).",
        ),
    ),
    (
        KeyState.DISABLED,
        OpClass.CANCEL_DELETION,
        (
            KMSInvalidStateException,
            f"{ARN} is not pending deletion (or pending replica deletion).",
        ),
    ),
]


@pytest.mark.parametrize(("state", "op", "expected"), CASES)
def test_state_table(
    state: KeyState, op: OpClass, expected: tuple[type[ClientError], str] | None
) -> None:
    key = dataclasses.replace(KEY, state=state)
    if expected is None:
        require_state(key, op)
        return
    error_class, message = expected
    with pytest.raises(error_class) as caught:
        require_state(key, op)
    assert caught.value.message == message
