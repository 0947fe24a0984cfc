"""The request record: what it keeps, what it never keeps, and the current record per call."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain import record
from strongroom.domain.record import Decided, RequestRecord, public_parameters


def test_public_parameters_drop_hidden_members_and_grant_tokens() -> None:
    params = {
        "KeyId": "k",
        "Plaintext": b"x",
        "GrantTokens": ["t"],
        "EncryptionContext": {"a": "b"},
    }
    assert public_parameters(params, {"Plaintext"}) == {
        "KeyId": "k",
        "EncryptionContext": {"a": "b"},
    }


@given(st.dictionaries(st.text(max_size=8), st.binary(max_size=8), max_size=5))
def test_hidden_members_never_survive(params: dict[str, bytes]) -> None:
    kept = public_parameters(params, set(params))
    assert kept == {}


def test_the_current_record_is_the_opened_one_until_closed() -> None:
    assert record.current() is None
    first = RequestRecord("r1", 1.0, "127.0.0.1")
    token = record.opened(first)
    try:
        assert record.current() is first
    finally:
        record.closed(token)
    assert record.current() is None


def test_decisions_add_their_resource_once() -> None:
    rec = RequestRecord("r1", 1.0, "127.0.0.1")
    arn = "arn:aws:kms:us-east-1:111122223333:key/k"
    rec.decided(Decided("kms:ReEncryptFrom", arn, True, ("key policy/#1",)))
    rec.decided(Decided("kms:ReEncryptTo", arn, True, ("grant g",)))
    rec.decided(Decided("kms:CreateKey", "*", True, ()))
    assert rec.resources == [arn]
    assert [d.action for d in rec.decisions] == [
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:CreateKey",
    ]


def test_the_response_is_kept_by_reference_and_never_shown() -> None:
    result = {"Plaintext": b"secret-bytes", "KeyId": "k"}
    rec = RequestRecord("r", 1.0, "127.0.0.1", response=result, error_message="Denied.")
    assert rec.response is result  # a reference: nothing copied on the request path
    assert "secret-bytes" not in repr(rec)
    assert rec.error_message == "Denied."
