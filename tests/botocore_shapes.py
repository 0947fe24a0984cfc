"""Hypothesis strategies for values of botocore shapes, as AWS's own SDKs accept them.

A structure marked ``union`` in the model (a tagged union) has exactly one member set: botocore
refuses a reply or a request with none or with two ("must have one and only one member set"), so
the strategies draw exactly one, however deep the shape. Everything else is drawn as the model
allows: optional members present or not, lists and maps of a few entries, enums from their values.
Past :data:`MAX_DEPTH` levels a structure draws only its scalar members, so the recursion ends
(an empty structure is valid where it is not a union; a union always has its one member).
"""

from __future__ import annotations

import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import strategies as st

# XML 1.0 characters (no other control characters, no surrogates)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0xFFFD)
    | st.sampled_from("\t\n\r"),
    max_size=12,
)
EPOCHS = st.integers(0, 4_000_000_000)
MAX_DEPTH = 4


def is_union(shape: Shape) -> bool:
    """Whether ``shape`` is a tagged union (exactly one member must be set)."""
    return isinstance(shape, StructureShape) and bool(shape.is_tagged_union)


def _leaf(shape: Shape) -> bool:
    return not isinstance(shape, (StructureShape, ListShape, MapShape))


def _members(shape: StructureShape, depth: int) -> dict[str, Shape]:
    """The members drawn at ``depth``: all of them above the depth limit; past it only the scalar
    ones, so the recursion ends. A union past the limit whose members are all containers keeps
    them all (each then draws its own scalar members): it must still have one."""
    members = dict(shape.members)
    if depth < MAX_DEPTH:
        return members
    if depth > MAX_DEPTH + 8:
        raise AssertionError(f"{shape.name} nests unions without end")
    scalars = {name: member for name, member in members.items() if _leaf(member)}
    return scalars or (members if is_union(shape) else {})


def _structures(
    shape: StructureShape, depth: int, member: Any, *, non_empty: bool
) -> st.SearchStrategy[dict[str, Any]]:
    members = _members(shape, depth)
    if is_union(shape):
        if not members:
            raise AssertionError(f"union {shape.name} has no members")
        return st.one_of(
            *(st.fixed_dictionaries({name: member(m, depth + 1)}) for name, m in members.items())
        )
    if not members:
        return st.nothing() if non_empty else st.just({})
    drawn = st.fixed_dictionaries(
        {}, optional={name: member(m, depth + 1) for name, m in members.items()}
    )
    return drawn.filter(bool) if non_empty else drawn


def values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape`` as an operation returns them (timestamps as epoch seconds)."""
    if isinstance(shape, StructureShape):
        return _structures(shape, depth, values, non_empty=False)
    if isinstance(shape, ListShape):
        return st.lists(values(shape.member, depth + 1), max_size=3 if depth < MAX_DEPTH else 0)
    if isinstance(shape, MapShape):
        return st.dictionaries(TEXT.filter(bool), values(shape.value, depth + 1), max_size=2)
    kind = shape.type_name
    if kind == "string":
        enum = shape.enum
        return st.sampled_from(enum) if enum else TEXT
    if kind in ("integer", "long"):
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return EPOCHS
    if kind == "blob":
        return st.binary(max_size=8)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    raise AssertionError(f"unexpected shape type {kind}")


def request_values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Inputs that a Query body can carry unambiguously: no empty structures or maps (they are
    not sent at all), timestamps as aware datetimes, whole seconds."""
    if isinstance(shape, StructureShape):
        return _structures(shape, depth, request_values, non_empty=True)
    if isinstance(shape, ListShape):
        return st.lists(request_values(shape.member, depth + 1), max_size=3)
    if isinstance(shape, MapShape):
        keys = TEXT.filter(bool)
        return st.dictionaries(keys, request_values(shape.value, depth + 1), min_size=1, max_size=2)
    if shape.type_name == "timestamp":
        return EPOCHS.map(lambda n: datetime.datetime.fromtimestamp(n, datetime.UTC))
    return values(shape, depth)


def unions_in(shape: Shape | None) -> set[str]:
    """The names of the tagged unions reachable from ``shape`` (each shape visited once)."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [shape] if shape is not None else []
    while stack:
        current = stack.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if is_union(current):
            found.add(current.name)
        if isinstance(current, StructureShape):
            stack.extend(current.members.values())
        elif isinstance(current, ListShape):
            stack.append(current.member)
        elif isinstance(current, MapShape):
            stack.extend((current.key, current.value))
    return found
