"""KeyId resolution rules (kms-spec.md 3.3) against a real service."""

from __future__ import annotations

import pytest

from strongroom.domain.caller import Caller
from strongroom.errors import AccessDeniedException, NotFoundException
from strongroom.kms.operations import call
from strongroom.kms.resolve import authorized_key, is_key_id, resolve_key
from strongroom.kms.service import KmsService


def _key(svc: KmsService, caller: Caller) -> str:
    return str(call(svc, caller, "CreateKey", {})["KeyMetadata"]["KeyId"])


def test_every_form_resolves(svc: KmsService, caller: Caller) -> None:
    key_id = _key(svc, caller)
    call(svc, caller, "CreateAlias", {"AliasName": "alias/app", "TargetKeyId": key_id})
    forms = [
        key_id,
        caller.key_arn(key_id),
        "alias/app",
        caller.alias_arn("alias/app"),
    ]
    for form in forms:
        assert resolve_key(svc, caller, form, allow_alias=True).key_id == key_id


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fake-key-id", "Invalid keyId 'fake-key-id'"),
        (
            "1234ABCD-12ab-34cd-56ef-1234567890ab",
            "Invalid keyId '1234ABCD-12ab-34cd-56ef-1234567890ab'",
        ),
        (
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "Key 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' "
            "does not exist",
        ),
        (
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Invalid arn eu-west-1",
        ),
        ("alias/missing", "Alias arn:aws:kms:us-east-1:111122223333:alias/missing is not found."),
    ],
)
def test_not_found_messages(svc: KmsService, caller: Caller, value: str, message: str) -> None:
    with pytest.raises(NotFoundException) as caught:
        resolve_key(svc, caller, value, allow_alias=True)
    assert caught.value.message == message


def test_alias_refused_where_only_ids_are_accepted(svc: KmsService, caller: Caller) -> None:
    key_id = _key(svc, caller)
    call(svc, caller, "CreateAlias", {"AliasName": "alias/x", "TargetKeyId": key_id})
    with pytest.raises(NotFoundException, match="Invalid keyId 'alias/x'"):
        resolve_key(svc, caller, "alias/x", allow_alias=False)


def test_another_accounts_key_is_denied(svc: KmsService, caller: Caller) -> None:
    owner = Caller.root("444455556666", "us-east-1", "AKIAOTHER")
    key_id = _key(svc, owner)
    arn = owner.key_arn(key_id)
    assert resolve_key(svc, caller, arn, allow_alias=True).key_id == key_id
    with pytest.raises(AccessDeniedException) as caught:
        authorized_key(svc, caller, arn, action="Encrypt", allow_alias=True, params={})
    assert caught.value.message == (
        f"User: {caller.principal_arn} is not authorized to perform: kms:Encrypt on resource: "
        f"{arn} because no resource-based policy allows the kms:Encrypt action"
    )


def test_is_key_id() -> None:
    assert is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
    assert is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab")
    assert not is_key_id("mrk-1234")
    assert not is_key_id("alias/x")
