"""The pure grant rules (constraints, grantees, delegation) and grant tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain.keys import GrantRecord
from strongroom.domain.principal import Principal
from strongroom.errors import InvalidGrantTokenException
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.grant_match import GrantIndex, allowing, constraints_hold, within
from strongroom.kms.grant_tokens import decode_token, issue_token

ROOT = Principal.root("111122223333")
GID = "ab" * 32


def record(
    ops: tuple[str, ...] = ("Encrypt",),
    equals: dict[str, str] | None = None,
    subset: dict[str, str] | None = None,
    grantee: str = ROOT.arn,
) -> GrantRecord:
    return GrantRecord(
        account="111122223333",
        region="us-east-1",
        key_id="k",
        grant_id=GID,
        name=None,
        grantee_principal=grantee,
        retiring_principal=None,
        operations=ops,
        context_equals=equals,
        context_subset=subset,
        issuing_account=ROOT.arn,
        created_at=0.0,
    )


contexts = st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2", "X"]), max_size=3)


@given(constraint=contexts, request=contexts, shout=st.booleans())
def test_subset_holds_exactly_when_every_pair_is_in_the_request(
    constraint: dict[str, str], request: dict[str, str], shout: bool
) -> None:
    if shout:  # context keys match case-insensitively in a constraint
        request = {k.upper(): v for k, v in request.items()}
    folded = {k.lower(): v for k, v in request.items()}
    expected = all(folded.get(k.lower()) == v for k, v in constraint.items())
    assert constraints_hold(record(subset=constraint), request) is expected
    equals = {k.lower(): v for k, v in constraint.items()} == folded
    assert constraints_hold(record(equals=constraint), request) is equals


def test_constraints_do_not_apply_to_operations_without_a_context() -> None:
    grant = record(("DescribeKey", "Encrypt"), equals={"a": "1"})
    assert allowing([grant], ROOT, "DescribeKey", None) == grant
    assert allowing([grant], ROOT, "Encrypt", None) is None
    assert allowing([grant], ROOT, "Encrypt", {"A": "1"}) == grant
    assert allowing([grant], ROOT, "Decrypt", {"a": "1"}) is None


def test_index_finds_grants_by_grantee() -> None:
    mine, theirs = record(), record(grantee="arn:aws:iam::444455556666:root")
    index = GrantIndex([mine, theirs])
    assert index.count == 2
    assert index.for_principal(ROOT) == [mine]


def test_children_are_no_broader_than_their_parent() -> None:
    parent = record(("Encrypt", "CreateGrant"), subset={"t": "b"})
    assert within(["Encrypt"], None, {"T": "b", "x": "y"}, parent)
    assert within(["Encrypt"], {"t": "b"}, None, parent)
    assert not within(["Encrypt"], None, None, parent)
    assert not within(["Decrypt"], None, {"t": "b"}, parent)
    strict = record(("Encrypt",), equals={"t": "b"})
    assert within(["Encrypt"], {"t": "b"}, None, strict)
    assert not within(["Encrypt"], None, {"t": "b"}, strict)
    assert within(["Encrypt"], None, None, record(("Encrypt",)))


@pytest.fixture
def keystore(tmp_path: Path) -> SoftwareKeyStore:
    return SoftwareKeyStore(RootKey.generate(tmp_path / "root.key"))


def test_tokens_round_trip_and_are_fresh(keystore: SoftwareKeyStore) -> None:
    one, two = issue_token(keystore, "us-east-1", GID), issue_token(keystore, "us-east-1", GID)
    assert one != two
    assert (
        decode_token(keystore, "us-east-1", one) == decode_token(keystore, "us-east-1", two) == GID
    )


def test_tokens_cannot_be_forged_or_moved(keystore: SoftwareKeyStore, tmp_path: Path) -> None:
    token = issue_token(keystore, "us-east-1", GID)
    other = SoftwareKeyStore(RootKey.generate(tmp_path / "other.key"))
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (flipped, token[:-3], "", "!!!!", "AA"):
        with pytest.raises(InvalidGrantTokenException):
            decode_token(keystore, "us-east-1", bad)
    with pytest.raises(InvalidGrantTokenException):
        decode_token(keystore, "eu-west-1", token)
    with pytest.raises(InvalidGrantTokenException):
        decode_token(other, "us-east-1", token)
