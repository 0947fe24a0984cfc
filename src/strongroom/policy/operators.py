"""The condition operators of spec 8.3: how each family reads policy and request values.

A family turns a policy value (a JSON scalar) into a compiled value at parse time, raising
``ValueError`` when the value cannot mean anything (refused as malformed), and turns a request
value into a comparable one at evaluation (``None`` when it cannot be compared: that request
value then matches nothing). Each operator is a family, a comparison and whether it is negated;
the matching of lists and sets is in :mod:`strongroom.policy.conditions`.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["ARN", "DATE", "OPERATORS", "Family", "Operator", "Scalar", "as_text"]

Scalar = str | bool | int | float
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    parse: Callable[[Scalar], Any]  # policy value -> compiled; ValueError if meaningless
    coerce: Callable[[Scalar], Any]  # request value -> comparable, or None
    templated: bool = False  # values may hold policy variables (String and ARN families)


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    family: Family
    compare: Callable[[Any, Any], bool]  # (request value, policy value) -> match
    negated: bool = False
    like: bool = False  # the policy values are globs (StringLike, Arn*)


def as_text(value: Scalar) -> str:
    """A request or policy value as a string operator sees it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _lower_text(value: Scalar) -> str:
    return as_text(value).lower()


def _number(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


def _strict(coerce: Callable[[Scalar], T | None], what: str) -> Callable[[Scalar], T]:
    """A family's ``parse``: the policy value as ``coerce`` reads it, refused if it cannot be."""

    def parse(value: Scalar) -> T:
        result = coerce(value)
        if result is None:
            raise ValueError(f"not {what}: {value!r}")
        return result

    return parse


def _parse_number(value: Scalar) -> float:
    number = _number(value)
    if number is None or math.isnan(number):  # NaN never compares
        raise ValueError(f"not a number: {value!r}")
    return number


@lru_cache(maxsize=1024)
def _epoch_of_text(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _epoch(value: Scalar) -> float | None:
    """ISO 8601 (``2024-05-01``, ``2024-05-01T12:00:00Z``) or epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return _epoch_of_text(value)


def _boolean(value: Scalar) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _binary(value: Scalar) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _parse_network(value: Scalar) -> IpNetwork:
    if not isinstance(value, str):
        raise ValueError(f"not an IP address or CIDR block: {value!r}")
    return ipaddress.ip_network(value.strip(), strict=False)


@lru_cache(maxsize=4096)
def _address_of_text(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _address(value: Scalar) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return _address_of_text(value) if isinstance(value, str) else None


def _in_network(address: ipaddress.IPv4Address | ipaddress.IPv6Address, net: IpNetwork) -> bool:
    return address.version == net.version and address in net


def _arn(value: Scalar) -> str | None:
    return value if isinstance(value, str) else None


def _glob_match(value: str, pattern: Any) -> bool:
    return bool(pattern.fullmatch(value) is not None)


STRING = Family("String", as_text, as_text, templated=True)
STRING_FOLDED = Family("String", _lower_text, _lower_text, templated=True)
NUMERIC = Family("Numeric", _parse_number, _number)
DATE = Family("Date", _strict(_epoch, "a date"), _epoch)
BOOL = Family("Bool", _strict(_boolean, "a boolean"), _boolean)
BINARY = Family("Binary", _strict(_binary, "base64"), _binary)
IP = Family("Ip", _parse_network, _address)
ARN = Family("Arn", as_text, _arn, templated=True)

_ORDER: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("Equals", operator.eq),
    ("LessThan", operator.lt),
    ("LessThanEquals", operator.le),
    ("GreaterThan", operator.gt),
    ("GreaterThanEquals", operator.ge),
)


def _table() -> dict[str, Operator]:
    ops = [
        Operator("StringEquals", STRING, operator.eq),
        Operator("StringNotEquals", STRING, operator.eq, negated=True),
        Operator("StringEqualsIgnoreCase", STRING_FOLDED, operator.eq),
        Operator("StringNotEqualsIgnoreCase", STRING_FOLDED, operator.eq, negated=True),
        Operator("StringLike", STRING, _glob_match, like=True),
        Operator("StringNotLike", STRING, _glob_match, negated=True, like=True),
        Operator("Bool", BOOL, operator.eq),
        Operator("BinaryEquals", BINARY, operator.eq),
        Operator("IpAddress", IP, _in_network),
        Operator("NotIpAddress", IP, _in_network, negated=True),
        Operator("ArnEquals", ARN, _glob_match, like=True),
        Operator("ArnLike", ARN, _glob_match, like=True),
        Operator("ArnNotEquals", ARN, _glob_match, negated=True, like=True),
        Operator("ArnNotLike", ARN, _glob_match, negated=True, like=True),
    ]
    for family in (NUMERIC, DATE):
        ops.append(Operator(f"{family.name}NotEquals", family, operator.eq, negated=True))
        ops += [Operator(f"{family.name}{name}", family, cmp) for name, cmp in _ORDER]
    return {op.name: op for op in ops}


OPERATORS: dict[str, Operator] = _table()
"""Every operator but ``Null`` (which tests presence, not values) by its exact AWS name."""
