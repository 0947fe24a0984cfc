"""Opaque pagination markers (``Limit`` / ``Marker`` / ``NextMarker`` / ``Truncated``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strongroom.errors import InvalidMarkerException

__all__ = ["decode_marker", "page"]

_PREFIX = "strongroom/v1:"
T = TypeVar("T")


def encode_marker(position: str, listing: str) -> str:
    """An opaque marker for ``position`` in ``listing`` (e.g. ``keys``, ``aliases``)."""
    text = f"{_PREFIX}{listing}:{position}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii")


def decode_marker(marker: str | None, listing: str) -> str | None:
    """The position a marker stands for; a marker we did not issue for this listing is
    InvalidMarkerException."""
    if marker is None:
        return None
    try:
        text = base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidMarkerException("Invalid marker") from None
    prefix = f"{_PREFIX}{listing}:"
    if not text.startswith(prefix) or len(text) == len(prefix):
        raise InvalidMarkerException("Invalid marker")
    return text[len(prefix) :]


def limit_of(params: dict[str, Any], default: int, maximum: int) -> int:
    return min(int(params.get("Limit", default)), maximum)


def page(
    fetch: Callable[[str | None, int], Sequence[T]],
    position_of: Callable[[T], str],
    params: dict[str, Any],
    *,
    listing: str,
    default: int,
    maximum: int,
) -> tuple[Sequence[T], dict[str, Any]]:
    """Fetch one page (one extra row tells whether more follow) and the paging output members."""
    limit = limit_of(params, default, maximum)
    rows = fetch(decode_marker(params.get("Marker"), listing), limit + 1)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, {
            "Truncated": True,
            "NextMarker": encode_marker(position_of(rows[-1]), listing),
        }
    return rows, {"Truncated": False}
