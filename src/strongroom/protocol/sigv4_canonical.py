"""The canonical-request pieces of SigV4 that depend on the request, not on the signer.

Split from :mod:`strongroom.protocol.sigv4` so each stays small. The rules are AWS's for every
service except S3 (and the ones botocore applies when it signs): dot segments and empty segments
are dropped from the path, which is then URI-encoded a second time; query pairs are decoded,
re-encoded with RFC 3986's unreserved set and sorted; header values are trimmed with inner runs of
whitespace folded to one space.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote

from strongroom.errors import IncompleteSignatureException

__all__ = ["build_canonical_headers", "canonical_query", "canonical_uri"]

_QUERY_SAFE = "-_.~"


def canonical_uri(path: str) -> str:
    """Non-S3 rule (as botocore): drop dot segments and empty segments, then encode once more."""
    if path in ("", "/"):
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    leading = "/" if path.startswith("/") else ""
    return quote(leading + "/".join(segments) + trailing, safe="/~")


def canonical_query(query: str) -> str:
    """Sorted ``key=value`` pairs, each side URI-encoded with RFC 3986's unreserved set."""
    if not query:
        return ""
    pairs = []
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            pairs.append((quote(unquote(name), _QUERY_SAFE), quote(unquote(value), _QUERY_SAFE)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def build_canonical_headers(signed: tuple[str, ...], headers: Mapping[str, str]) -> str:
    """One ``name:value`` line per signed header (value trimmed), in SignedHeaders' order."""
    lines = []
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise IncompleteSignatureException(
                f"'{name}' is named as a SignedHeader, but it does not exist in the HTTP request."
            )
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)
