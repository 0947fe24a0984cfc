"""canonical_context: unambiguous, order-independent, exactly the documented bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto.encryption_context import EMPTY_CONTEXT, canonical_context

contexts = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5)


def test_empty_and_absent_context_encode_as_zero_count() -> None:
    assert canonical_context(None) == canonical_context({}) == EMPTY_CONTEXT == b"\0\0\0\0"


def test_documented_bytes_for_a_single_pair() -> None:
    assert canonical_context({"a": "bc"}).hex() == "000000010000000161000000026263"
    assert canonical_context({"ab": "c"}).hex() == "000000010000000261620000000163"


def test_pairs_sorted_by_utf8_bytes_of_the_key() -> None:
    encoded = canonical_context({"b": "1", "é": "2", "a": "3"})
    assert encoded.index(b"a") < encoded.index(b"b") < encoded.index("é".encode())


def test_empty_strings_are_length_prefixed() -> None:
    assert canonical_context({"": ""}) == b"\0\0\0\1" + b"\0\0\0\0" + b"\0\0\0\0"


@given(contexts)
def test_insertion_order_does_not_matter(ctx: dict[str, str]) -> None:
    reordered = dict(reversed(list(ctx.items())))
    assert canonical_context(reordered) == canonical_context(ctx)


@given(contexts, contexts)
def test_different_contexts_encode_differently(a: dict[str, str], b: dict[str, str]) -> None:
    assert (canonical_context(a) == canonical_context(b)) == (a == b)
