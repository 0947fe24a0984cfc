"""Validator nodes for the JSON values of botocore shapes, in AWS's (Coral's) words.

Each node is built once from the model (see ``shapes_compile``) and then converts one JSON value per
call: a wrong JSON type raises :class:`SerializationException` at once, as Coral's deserialiser
does; a broken constraint appends one Coral-worded violation to ``errs`` and carries on, so that
the caller can report them all. Scalars also answer ``parse`` / ``failed`` separately, because a
list or map reports its members' constraints as one "Member must satisfy constraint: [...]".
"""

from __future__ import annotations

import abc
import binascii
import math
import re
from typing import Any

from strongroom.errors import SerializationException

__all__ = [
    "BlobNode",
    "BooleanNode",
    "FloatNode",
    "IntegerNode",
    "Node",
    "Scalar",
    "StringNode",
    "TimestampNode",
    "container_mismatch",
]

LIST_START = "Start of list found where not expected"
MAP_START = "Start of structure or map found where not expected."
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def container_mismatch(value: object, scalar_message: str) -> SerializationException:
    """The error for *value* found where a structure, list or map was expected."""
    if isinstance(value, list):
        return SerializationException(LIST_START)
    if isinstance(value, dict):
        return SerializationException(MAP_START)
    if isinstance(value, str | int | float):
        return SerializationException(scalar_message)
    return SerializationException(None)


def scalar_mismatch(value: object, target: str) -> SerializationException:
    """The error for *value* found where a scalar of Java type *target* was expected."""
    if isinstance(value, str):
        kind = "STRING_VALUE"
    elif isinstance(value, bool):
        kind = "TRUE_VALUE" if value else "FALSE_VALUE"
    elif isinstance(value, int | float):
        kind = "NUMBER_VALUE"
    else:
        return container_mismatch(value, "")
    return SerializationException(f"{kind} can not be converted to {target}")


class Node(abc.ABC):
    """A compiled shape: converts one JSON value, collecting constraint violations."""

    __slots__ = ("sensitive",)

    def __init__(self, sensitive: bool) -> None:
        self.sensitive = sensitive

    @abc.abstractmethod
    def conv(self, value: object, at: str, errs: list[str]) -> Any:
        """Convert ``value`` (at member path ``at``), appending violations to ``errs``."""

    def render(self, value: Any) -> str:
        """The value as Java's ``toString`` prints it in a validation message."""
        return str(value)

    def report(self, value: Any, at: str, constraint: str) -> str:
        if self.sensitive:
            return f"Value at '{at}' failed to satisfy constraint: {constraint}"
        return f"Value '{self.render(value)}' at '{at}' failed to satisfy constraint: {constraint}"


class Scalar(Node):
    """A leaf shape. ``summary`` lists all its constraints, or is empty when it has none."""

    __slots__ = ("hi", "lo", "summary", "too_long", "too_short")

    def __init__(self, sensitive: bool, lo: float | None, hi: float | None, unit: str) -> None:
        super().__init__(sensitive)
        self.lo = -math.inf if lo is None else lo
        self.hi = math.inf if hi is None else hi
        self.too_long = f"Member must have {unit} less than or equal to {hi}"
        self.too_short = f"Member must have {unit} greater than or equal to {lo}"
        rules = [self.too_long] if hi is not None else []
        rules += [self.too_short] if lo is not None else []
        self.summary = f"[{', '.join(rules)}]" if rules else ""

    @abc.abstractmethod
    def parse(self, value: object) -> Any:
        """The Python value for a JSON value of the right type; SerializationException else."""

    def size(self, value: Any) -> float:
        return len(value)

    def failed(self, value: Any) -> list[str]:
        """The constraints *value* breaks, in Coral's order (size, then pattern, then enum)."""
        n = self.size(value)
        if n > self.hi:
            return [self.too_long]
        if n < self.lo:
            return [self.too_short]
        return []

    def conv(self, value: object, at: str, errs: list[str]) -> Any:
        parsed = self.parse(value)
        if self.summary:
            for rule in self.failed(parsed):
                errs.append(self.report(parsed, at, rule))
        return parsed


class StringNode(Scalar):
    __slots__ = ("enum", "enum_rule", "pattern_rule", "regex")

    def __init__(
        self,
        sensitive: bool,
        lo: int | None,
        hi: int | None,
        *,
        regex: re.Pattern[str] | None,
        pattern: str | None,
        enum: tuple[str, ...] | None,
    ) -> None:
        super().__init__(sensitive, lo, hi, "length")
        self.regex = regex
        self.pattern_rule = f"Member must satisfy regular expression pattern: {pattern}"
        self.enum = frozenset(enum) if enum else None
        self.enum_rule = f"Member must satisfy enum value set: [{', '.join(enum or ())}]"
        extra = [self.pattern_rule] if regex is not None else []
        extra += [self.enum_rule] if enum else []
        if extra:
            rules = [self.summary[1:-1]] if self.summary else []
            self.summary = f"[{', '.join(rules + extra)}]"

    def parse(self, value: object) -> str:
        if type(value) is str:
            return value
        raise scalar_mismatch(value, "a String")

    def conv(self, value: object, at: str, errs: list[str]) -> str:
        if type(value) is not str:
            raise scalar_mismatch(value, "a String")
        n = len(value)
        if (
            n > self.hi
            or n < self.lo
            or (self.regex is not None and self.regex.fullmatch(value) is None)
            or (self.enum is not None and value not in self.enum)
        ):
            errs.extend(self.report(value, at, rule) for rule in self.failed(value))
        return value

    def failed(self, value: str) -> list[str]:
        bad = super().failed(value)
        if self.regex is not None and self.regex.fullmatch(value) is None:
            bad.append(self.pattern_rule)
        if self.enum is not None and value not in self.enum:
            bad.append(self.enum_rule)
        return bad


class IntegerNode(Scalar):
    """``integer`` and ``long``. A JSON decimal is truncated, as Coral's number reader does."""

    __slots__ = ("target",)

    def __init__(self, sensitive: bool, lo: int | None, hi: int | None, target: str) -> None:
        super().__init__(sensitive, lo, hi, "value")
        self.target = target

    def parse(self, value: object) -> int:
        if type(value) is int:
            return value
        if type(value) is float and math.isfinite(value):
            return int(value)
        raise scalar_mismatch(value, self.target)

    def conv(self, value: object, at: str, errs: list[str]) -> int:
        number = value if type(value) is int else self.parse(value)
        if number > self.hi or number < self.lo:
            errs.extend(self.report(number, at, rule) for rule in self.failed(number))
        return number

    def size(self, value: int) -> float:
        return value


class FloatNode(Scalar):
    """``float`` and ``double`` (none in KMS today; here so that a new model still loads)."""

    __slots__ = ()

    def __init__(self, sensitive: bool, lo: float | None, hi: float | None) -> None:
        as_float = (None if lo is None else float(lo), None if hi is None else float(hi))
        super().__init__(sensitive, *as_float, "value")  # Java prints a double limit as 1.0

    def parse(self, value: object) -> float:
        if type(value) is float or type(value) is int:
            return float(value)
        raise scalar_mismatch(value, "a Double")

    def size(self, value: float) -> float:
        return value


class BooleanNode(Scalar):
    __slots__ = ()

    def __init__(self, sensitive: bool) -> None:
        super().__init__(sensitive, None, None, "value")

    def parse(self, value: object) -> bool:
        if type(value) is bool:
            return value
        raise scalar_mismatch(value, "a Boolean")

    def render(self, value: bool) -> str:
        return "true" if value else "false"


class TimestampNode(Scalar):
    """Epoch seconds as a JSON number; botocore never sends anything else for awsJson."""

    __slots__ = ()

    def __init__(self, sensitive: bool) -> None:
        super().__init__(sensitive, None, None, "value")

    def parse(self, value: object) -> float:
        if (type(value) is float or type(value) is int) and math.isfinite(value):
            return float(value)
        raise scalar_mismatch(value, "a Date")


class BlobNode(Scalar):
    """Standard padded base64, decoded strictly; lengths count the decoded bytes."""

    __slots__ = ()

    def __init__(self, sensitive: bool, lo: int | None, hi: int | None) -> None:
        super().__init__(sensitive, lo, hi, "length")

    def parse(self, value: object) -> bytes:
        if type(value) is not str:
            if isinstance(value, list | dict):
                raise container_mismatch(value, "")
            raise SerializationException("only base-64-encoded strings are convertible to bytes")
        if len(value) % 4:
            raise SerializationException(
                f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
            )
        try:
            data = binascii.a2b_base64(value, strict_mode=True)
        except ValueError:  # binascii.Error, or a non-ASCII str
            raise SerializationException("Invalid Base64 character") from None
        if value.endswith("=") and _B64.index(value.rstrip("=")[-1]) & (
            0b1111 if value.endswith("==") else 0b11
        ):
            raise SerializationException("Invalid last non-pad Base64 character dectected")
        return data

    def conv(self, value: object, at: str, errs: list[str]) -> bytes:
        data = self.parse(value)
        n = len(data)
        if n > self.hi or n < self.lo:
            errs.extend(self.report(data, at, rule) for rule in self.failed(data))
        return data

    def render(self, value: bytes) -> str:
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
