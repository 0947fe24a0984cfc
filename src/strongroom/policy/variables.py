"""Policy variables: ``${aws:username}`` and friends in Resource and condition values.

Variables exist only in ``"Version": "2012-10-17"`` documents; in older ones ``${...}`` is plain
text. A string is split once, at parse time, into :data:`Part` values: raw text (where ``*`` and
``?`` are wildcards for the operators that have them), escapes (``${*}``, ``${?}``, ``${$}``: the
character itself, never a wildcard) and variables (a context key, lower-cased, with an optional
``'default'``). At evaluation a variable takes the value of its key; a key that is absent or
multi-valued (and has no default) leaves the variable *unresolved*, and whatever compares against
it does not match, as in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from strongroom.policy.grammar import ConditionValue

__all__ = [
    "Escape",
    "KeySource",
    "Part",
    "Piece",
    "Variable",
    "has_variables",
    "render_pieces",
    "render_text",
    "scalar_text",
    "split_parts",
]

_ESCAPES = frozenset("*?$")


class KeySource(Protocol):
    """Where variables and conditions read the request's context keys (lower-cased names)."""

    def lookup(self, key: str) -> ConditionValue | None: ...


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # lower-cased context key name
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Escape:
    char: str


Part: TypeAlias = str | Variable | Escape
Piece: TypeAlias = tuple[str, bool]  # (text, wildcards are live in it)


def split_parts(text: str, *, variables: bool) -> tuple[Part, ...]:
    """``"home/${aws:username}/*"`` -> ``("home/", Variable("aws:username"), "/*")``."""
    if not variables or "${" not in text:
        return (text,)
    parts: list[Part] = []
    pos = 0
    while (start := text.find("${", pos)) >= 0:
        end = text.find("}", start + 2)
        if end < 0:
            break
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_parse_reference(text[start + 2 : end]))
        pos = end + 1
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _parse_reference(inner: str) -> Variable | Escape:
    if inner in _ESCAPES:
        return Escape(inner)
    name, comma, rest = inner.partition(",")
    key = name.strip().lower()
    if not comma:
        return Variable(key)
    rest = rest.strip()
    if len(rest) < 2 or rest[0] != "'" or rest[-1] != "'" or "'" in rest[1:-1].replace("''", ""):
        return Variable("")  # a malformed default: never resolves, so never matches
    return Variable(key, rest[1:-1].replace("''", "'"))


def has_variables(parts: tuple[Part, ...]) -> bool:
    return any(isinstance(part, Variable) for part in parts)


def scalar_text(value: ConditionValue | None) -> str | None:
    """A context value as the text a variable or a string operator sees; None if it has none."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None  # absent, or multi-valued: cannot stand in for a variable


def _resolve(variable: Variable, source: KeySource) -> str | None:
    value = scalar_text(source.lookup(variable.key)) if variable.key else None
    return variable.default if value is None else value


def render_text(parts: tuple[Part, ...], source: KeySource | None) -> str | None:
    """The parts as plain text (for Equals-style operators); None if a variable is unresolved."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Escape):
            out.append(part.char)
        else:
            value = _resolve(part, source) if source is not None else None
            if value is None:
                return None
            out.append(value)
    return "".join(out)


def render_pieces(parts: tuple[Part, ...], source: KeySource | None) -> list[Piece] | None:
    """The parts as glob pieces: raw text keeps its wildcards, escapes and values do not."""
    out: list[Piece] = []
    for part in parts:
        if isinstance(part, str):
            out.append((part, True))
        elif isinstance(part, Escape):
            out.append((part.char, False))
        else:
            value = _resolve(part, source) if source is not None else None
            if value is None:
                return None
            out.append((value, False))
    return out
