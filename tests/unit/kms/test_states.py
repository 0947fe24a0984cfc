"""The key-state table against kms-spec.md section 5.2."""

from __future__ import annotations

import dataclasses

import pytest
from tests.unit.kms.helpers import a_key

from strongroom.domain.actions import Action
from strongroom.domain.keys import KeyState
from strongroom.errors import ClientError, DisabledException, KMSInvalidStateException
from strongroom.kms.states import require_state

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = a_key()

OK = None
CASES: list[tuple[KeyState, Action, tuple[type[ClientError], str] | None]] = [
    (KeyState.ENABLED, Action.ENCRYPT, OK),
    (KeyState.DISABLED, Action.ENCRYPT, (DisabledException, f"{ARN} is disabled.")),
    (
        KeyState.PENDING_DELETION,
        Action.ENCRYPT,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (
        KeyState.PENDING_IMPORT,
        Action.ENCRYPT,
        (KMSInvalidStateException, f"{ARN} is pending import."),
    ),
    (KeyState.UPDATING, Action.ENCRYPT, OK),
    (KeyState.DISABLED, Action.DESCRIBE_KEY, OK),
    (KeyState.PENDING_DELETION, Action.DESCRIBE_KEY, OK),
    (KeyState.DISABLED, Action.TAG_RESOURCE, OK),
    (
        KeyState.PENDING_DELETION,
        Action.TAG_RESOURCE,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.DISABLED, Action.ENABLE_KEY, OK),
    (
        KeyState.PENDING_DELETION,
        Action.ENABLE_KEY,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.CREATING, Action.ENABLE_KEY, (KMSInvalidStateException, f"{ARN} is creating.")),
    (KeyState.DISABLED, Action.SCHEDULE_KEY_DELETION, OK),
    (
        KeyState.PENDING_DELETION,
        Action.SCHEDULE_KEY_DELETION,
        (KMSInvalidStateException, f"{ARN} is pending deletion."),
    ),
    (KeyState.PENDING_DELETION, Action.CANCEL_KEY_DELETION, OK),
    (
        KeyState.ENABLED,
        Action.CANCEL_KEY_DELETION,
        (
            KMSInvalidStateException,
            f"{ARN} is not pending deletion (or pending replica deletion).",
        ),
    ),
    (
        KeyState.DISABLED,
        Action.CANCEL_KEY_DELETION,
        (
            KMSInvalidStateException,
            f"{ARN} is not pending deletion (or pending replica deletion).",
        ),
    ),
]


@pytest.mark.parametrize(("state", "op", "expected"), CASES)
def test_state_table(
    state: KeyState, op: Action, expected: tuple[type[ClientError], str] | None
) -> None:
    key = dataclasses.replace(KEY, state=state)
    if expected is None:
        require_state(key, op)
        return
    error_class, message = expected
    with pytest.raises(error_class) as caught:
        require_state(key, op)
    assert caught.value.message == message
