"""Wildcard matching for Action, Resource, ``StringLike`` and ``ArnLike``, compiled once.

``*`` matches any run of characters (also across ``:`` and ``/``) and ``?`` exactly one; the whole
value must match. ARN operators match each of the six colon-separated parts on its own, so a
wildcard there never crosses a ``:`` before the resource part. Everything is compiled at parse
time: ``"*"`` and literals take fast paths (a flag, a frozenset), the other patterns of an element
are joined into one regular expression. Patterns holding policy variables are rendered and
compiled per request, through a bounded cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from strongroom.policy.variables import KeySource, Part, Piece, has_variables, render_pieces

__all__ = [
    "ActionMatcher",
    "PatternSet",
    "ResourceMatcher",
    "compile_glob",
    "glob_regex",
    "is_literal",
]

_ARN_PARTS = 6


def is_literal(text: str) -> bool:
    return "*" not in text and "?" not in text


def glob_regex(pieces: Iterable[Piece], *, arn: bool = False) -> str:
    """The regular expression (for ``fullmatch``) of a glob made of pieces."""
    pieces = list(pieces)
    if arn and sum(text.count(":") for text, _ in pieces) < _ARN_PARTS - 1:
        arn = False  # not an ARN: match it as a plain glob
    out: list[str] = []
    colons = 0
    for text, live in pieces:
        for char in text:
            in_prefix = arn and colons < _ARN_PARTS - 1
            if live and char == "*":
                out.append("[^:]*" if in_prefix else ".*")
            elif live and char == "?":
                out.append("[^:]" if in_prefix else ".")
            else:
                colons += char == ":"
                out.append(re.escape(char))
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_glob(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL)


class PatternSet:
    """Any of several static globs: ``"*"`` -> a flag, literals -> a set, the rest -> one regex."""

    __slots__ = ("everything", "literals", "regex")

    def __init__(self, patterns: Iterable[str], *, fold_case: bool = False, arn: bool = False):
        self.everything = False
        literals: set[str] = set()
        regexes: list[str] = []
        for written in patterns:
            pattern = written.lower() if fold_case else written
            if pattern == "*" and not arn:
                self.everything = True
            elif is_literal(pattern):
                literals.add(pattern)
            else:
                regexes.append(glob_regex([(pattern, True)], arn=arn))
        self.literals = frozenset(literals)
        alternatives = "|".join(f"(?:{regex})" for regex in regexes)
        self.regex = compile_glob(alternatives) if regexes else None

    def matches(self, value: str) -> bool:
        if self.everything or value in self.literals:
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None


class ActionMatcher:
    """Action / NotAction: case-insensitive; call with the action already lower-cased."""

    __slots__ = ("negated", "patterns", "written")

    def __init__(self, actions: tuple[str, ...], *, negated: bool):
        self.written = actions
        self.negated = negated
        self.patterns = PatternSet(actions, fold_case=True)

    def applies(self, action: str) -> bool:
        return self.patterns.matches(action) is not self.negated


class ResourceMatcher:
    """Resource / NotResource: case-sensitive globs, some of which may hold policy variables.

    A pattern whose variable is unresolved matches nothing; under NotResource it makes the
    statement not apply (the comparison with it is false either way).
    """

    __slots__ = ("everything", "negated", "static", "templates", "written")

    def __init__(self, written: tuple[str, ...], parts: list[tuple[Part, ...]], *, negated: bool):
        self.written = written
        self.negated = negated
        self.static = PatternSet(p[0] for p in parts if len(p) == 1 and isinstance(p[0], str))
        self.templates = tuple(p for p in parts if not (len(p) == 1 and isinstance(p[0], str)))
        self.everything = self.static.everything and not negated  # "*": no need to look

    @property
    def has_variables(self) -> bool:
        return any(has_variables(parts) for parts in self.templates)

    def applies(self, resource: str, source: KeySource) -> bool:
        matched = self.static.matches(resource)
        unresolved = False
        for parts in self.templates if not matched else ():
            pieces = render_pieces(parts, source)
            if pieces is None:
                unresolved = True
            elif compile_glob(glob_regex(pieces)).fullmatch(resource) is not None:
                matched = True
                break
        if self.negated:
            return not matched and not unresolved
        return matched
