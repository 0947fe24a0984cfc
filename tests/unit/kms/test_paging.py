"""Pagination markers: opaque, round-trip, and anything we did not issue is refused."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.errors import InvalidMarkerException
from strongroom.kms.paging import decode_marker, encode_marker, page


@given(st.text(min_size=1))
def test_marker_round_trip(position: str) -> None:
    assert decode_marker(encode_marker(position, "keys"), "keys") == position


@given(st.text())
def test_garbage_markers_are_invalid_or_ours(marker: str) -> None:
    with contextlib.suppress(InvalidMarkerException):
        decode_marker(marker, "keys")


@pytest.mark.parametrize("marker", ["garbage!", "Zm9v", "", "c3Ryb25ncm9vbS92MTo="])
def test_foreign_markers_are_refused(marker: str) -> None:
    with pytest.raises(InvalidMarkerException):
        decode_marker(marker, "keys")


def _pages(items: list[str], limit: int) -> list[list[str]]:
    def fetch(after: str | None, count: int) -> list[str]:
        return [i for i in items if after is None or i > after][:count]

    params: dict[str, Any] = {"Limit": limit}
    pages: list[list[str]] = []
    while True:
        rows, paging = page(fetch, lambda i: i, params, listing="t", default=50, maximum=100)
        pages.append(list(rows))
        if not paging["Truncated"]:
            assert "NextMarker" not in paging
            return pages
        params = {"Limit": limit, "Marker": paging["NextMarker"]}


@given(st.lists(st.text(min_size=1), unique=True), st.integers(1, 7))
def test_paging_visits_every_item_once(items: list[str], limit: int) -> None:
    items.sort()
    pages = _pages(items, limit)
    assert [i for p in pages for i in p] == items
    assert all(len(p) <= limit for p in pages)


def test_limit_is_capped_at_the_maximum() -> None:
    items = [f"{i:04d}" for i in range(300)]
    rows, paging = page(
        lambda after, n: items[:n],
        lambda i: i,
        {"Limit": 1000},
        listing="t",
        default=50,
        maximum=100,
    )
    assert len(rows) == 100
    assert paging["Truncated"] is True


def test_a_marker_from_another_listing_is_refused() -> None:
    with pytest.raises(InvalidMarkerException):
        decode_marker(encode_marker("alias/x", "aliases"), "keys")
