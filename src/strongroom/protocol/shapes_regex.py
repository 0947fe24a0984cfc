"""Java's ``\\p{...}`` Unicode categories for model patterns, which Python's ``re`` lacks.

IAM's and STS's tag patterns say ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+``. Python's ``re`` has no
``\\p``, so each category is spelt out as the code point ranges Python's ``unicodedata`` puts in
it, computed once per process, the first time a pattern needs one.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["expand_categories"]

_CATEGORY = re.compile(r"\\p\{([A-Z][a-z]?)\}")


@functools.cache
def _ranges(category: str) -> str:
    """``\\p{category}`` as the inside of a character class: ``a-zµÀ-Ö...``."""
    parts: list[str] = []
    start = -1
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(category)
        if inside and start < 0:
            start = cp
        elif not inside and start >= 0:
            low, high = re.escape(chr(start)), re.escape(chr(cp - 1))
            parts.append(low if start == cp - 1 else f"{low}-{high}")
            start = -1
    return "".join(parts)


def _in_class(pattern: str, at: int) -> bool:
    """Whether position ``at`` of ``pattern`` is inside a ``[...]`` character class."""
    depth, i = 0, 0
    while i < at:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        i += 1
    return depth > 0


def expand_categories(pattern: str) -> str:
    """Replace each ``\\p{X}`` with the ranges of category X (bracketed outside a class)."""
    pieces: list[str] = []
    last = 0
    for match in _CATEGORY.finditer(pattern):
        ranges = _ranges(match.group(1))
        pieces.append(pattern[last : match.start()])
        pieces.append(ranges if _in_class(pattern, match.start()) else f"[{ranges}]")
        last = match.end()
    pieces.append(pattern[last:])
    return "".join(pieces)
