"""Validator nodes for structures, lists and maps, with Coral's member paths.

Paths are lowerCamelCase member names joined by dots; a list item is ``<list>.<n>.member`` with
``n`` counted from 1 (``tags.1.member.tagKey``). A list or map of scalars is checked as one value:
a bad item gives one "Member must satisfy constraint: [<all the item's constraints>]" for the
whole collection (for a map, "Map keys ..." and then "Map value ..."), as AWS words it. JSON
``null`` is an absent member, and a ``null`` list item or map value is dropped.
"""

from __future__ import annotations

from typing import Any

from strongroom.errors import SerializationException
from strongroom.protocol.shapes_nodes import Node, Scalar, container_mismatch

__all__ = ["ListNode", "MapNode", "Member", "StructureNode"]

Member = tuple[str, str, Node, bool]
"""A structure member: model name, lowerCamel path name, node, required."""


def _not_null(at: str) -> str:
    return f"Value null at '{at}' failed to satisfy constraint: Member must not be null"


class StructureNode(Node):
    __slots__ = ("members",)

    def __init__(self, sensitive: bool, members: tuple[Member, ...]) -> None:
        super().__init__(sensitive)
        self.members = members

    def conv(self, value: object, at: str, errs: list[str]) -> dict[str, Any]:
        if type(value) is not dict:
            raise container_mismatch(value, "Expected null")
        return self.convert_members(value, at, errs)

    def convert_members(self, value: dict[str, Any], at: str, errs: list[str]) -> dict[str, Any]:
        """Convert the modelled members of a JSON object, in model order; drop the rest."""
        out: dict[str, Any] = {}
        get = value.get
        for name, camel, node, required in self.members:
            item = get(name)
            path = f"{at}.{camel}" if at else camel
            if item is None:
                if required:
                    errs.append(_not_null(path))
                continue
            out[name] = node.conv(item, path, errs)
        return out

    def render(self, value: dict[str, Any]) -> str:
        parts = (f"{n}: {node.render(value[n])}" for n, _, node, _ in self.members if n in value)
        return "{" + ",".join(parts) + "}"


class _Sized(Node):
    """A list or map: a size range counted in entries."""

    __slots__ = ("hi", "lo", "too_long", "too_short")

    def __init__(self, sensitive: bool, lo: int | None, hi: int | None) -> None:
        super().__init__(sensitive)
        self.lo = 0 if lo is None else lo
        self.hi = -1 if hi is None else hi
        self.too_long = f"Member must have length less than or equal to {hi}"
        self.too_short = f"Member must have length greater than or equal to {lo}"

    def check_size(self, value: list[Any] | dict[str, Any], at: str, errs: list[str]) -> None:
        n = len(value)
        if 0 <= self.hi < n:
            errs.append(self.report(value, at, self.too_long))
        elif n < self.lo:
            errs.append(self.report(value, at, self.too_short))


class ListNode(_Sized):
    __slots__ = ("member",)

    def __init__(self, sensitive: bool, lo: int | None, hi: int | None, member: Node) -> None:
        super().__init__(sensitive or member.sensitive, lo, hi)
        self.member = member

    def conv(self, value: object, at: str, errs: list[str]) -> list[Any]:
        if type(value) is not list:
            raise container_mismatch(value, "Expected list or null")
        member = self.member
        if isinstance(member, Scalar):
            items = [member.parse(item) for item in value if item is not None]
            self.check_size(items, at, errs)
            if member.summary and any(member.failed(item) for item in items):
                rule = f"Member must satisfy constraint: {member.summary}"
                errs.append(self.report(items, at, rule))
            return items
        inner: list[str] = []
        out = [
            member.conv(item, f"{at}.{n}.member", inner)
            for n, item in enumerate(value, 1)
            if item is not None
        ]
        self.check_size(out, at, errs)
        errs.extend(inner)
        return out

    def render(self, value: list[Any]) -> str:
        return "[" + ", ".join(self.member.render(item) for item in value) + "]"


class MapNode(_Sized):
    __slots__ = ("key", "value")

    def __init__(
        self, sensitive: bool, lo: int | None, hi: int | None, key: Scalar, value: Node
    ) -> None:
        super().__init__(sensitive or key.sensitive or value.sensitive, lo, hi)
        self.key = key
        self.value = value

    def conv(self, value: object, at: str, errs: list[str]) -> dict[str, Any]:
        if type(value) is not dict:
            raise container_mismatch(value, "Expected map or null")
        val = self.value
        inner: list[str] = []
        if isinstance(val, Scalar):
            out = {_key(k): val.parse(v) for k, v in value.items() if v is not None}
        else:
            out = {
                _key(k): val.conv(v, f"{at}.{k}", inner) for k, v in value.items() if v is not None
            }
        self.check_size(out, at, errs)
        key = self.key
        if key.summary and any(key.failed(k) for k in out):
            errs.append(self.report(out, at, f"Map keys must satisfy constraint: {key.summary}"))
        if isinstance(val, Scalar) and val.summary and any(val.failed(v) for v in out.values()):
            errs.append(self.report(out, at, f"Map value must satisfy constraint: {val.summary}"))
        errs.extend(inner)
        return out

    def render(self, value: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{k}={self.value.render(v)}" for k, v in value.items()) + "}"


def _key(key: object) -> str:
    if type(key) is str:
        return key
    raise SerializationException(None)  # JSON object keys are always strings
