"""The trail's bytes: segment and digest names, one chained line, and reading lines back.

A line is ``<body minus its closing brace>,"hash":"<64 hex>"}\\n`` where the body is
``{"seq":<n>,"event":<event>}`` exactly as orjson writes it, and the hash is
``SHA-256(previous line's hash, 32 raw bytes || body)``; the trail's first line chains from 32
zero bytes. Readers cut the body out of the line itself (never serialise it again), so the bytes
hashed are the bytes on disk. docs/audit.md is the full description.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "DIGESTS",
    "GENESIS",
    "HASH_SUFFIX_SIZE",
    "LOCK",
    "SEGMENTS",
    "Line",
    "LineError",
    "chain_line",
    "digest_name",
    "iter_lines",
    "last_line",
    "numbered",
    "parse_line",
    "segment_name",
    "utc_time",
]

SEGMENTS = "segments"
DIGESTS = "digests"
LOCK = "lock"
GENESIS = bytes(32)
_HASH_PREFIX = b',"hash":"'
_HASH_END = b'"}\n'
HASH_SUFFIX_SIZE = len(_HASH_PREFIX) + 64 + len(_HASH_END)
_SEGMENT_RE = re.compile(r"(\d{10})\.jsonl")
_DIGEST_RE = re.compile(r"(\d{10})\.json")
_HEX = frozenset(b"0123456789abcdef")


def segment_name(number: int) -> str:
    return f"{number:010d}.jsonl"


def digest_name(number: int) -> str:
    return f"{number:010d}.json"


def numbered(directory: Path, kind: str) -> list[tuple[int, str]]:
    """The segment (``kind=SEGMENTS``) or digest files of a trail, ``(number, name)`` in order;
    anything else in the folder (a writer's temporary file) is not part of the trail."""
    pattern = _SEGMENT_RE if kind == SEGMENTS else _DIGEST_RE
    try:
        names = os.listdir(directory / kind)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), name) for name in names if (m := pattern.fullmatch(name))]
    return sorted(found)


def chain_line(seq: int, event_json: bytes, previous: bytes) -> tuple[bytes, bytes]:
    """One line for an event already serialised by orjson, and its hash (32 raw bytes).

    ``b'{"seq":n,"event":' + event_json + b'}'`` is byte for byte what
    ``orjson.dumps({"seq": n, "event": event})`` writes: one serialisation per event.
    """
    body = b'{"seq":%d,"event":%b}' % (seq, event_json)
    digest = hashlib.sha256(previous + body).digest()
    return body[:-1] + _HASH_PREFIX + digest.hex().encode() + _HASH_END, digest


class LineError(ValueError):
    """Bytes that are not a trail line (the message says what is wrong, never the content)."""


@dataclass(frozen=True, slots=True)
class Line:
    seq: int
    body: bytes  # the bytes the hash covers
    hash: bytes  # the stored hash, 32 raw bytes
    # The body as parse_line decoded it (so that event() does not decode it again).
    decoded: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def chains_from(self, previous: bytes) -> bool:
        return hashlib.sha256(previous + self.body).digest() == self.hash

    def event_json(self) -> bytes:
        """The event's JSON exactly as committed (cut from the body, not serialised again)."""
        return self.body[len(b'{"seq":%d,"event":' % self.seq) : -1]

    def event(self) -> dict[str, Any]:
        event = (self.decoded or orjson.loads(self.body))["event"]
        if not isinstance(event, dict):
            raise LineError("the event is not a JSON object")
        return event


def utc_time(value: object) -> datetime | None:
    """An ISO 8601 time as events and digests write it (``2026-12-08T01:06:58Z``), UTC when it
    names no zone; None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_line(line: bytes) -> Line:
    """A line (with its newline) taken apart; :class:`LineError` if it is not a trail line."""
    if len(line) <= HASH_SUFFIX_SIZE or not line.endswith(_HASH_END):
        raise LineError("the line does not end with its hash")
    suffix = line[-HASH_SUFFIX_SIZE:]
    hex_hash = suffix[len(_HASH_PREFIX) : -len(_HASH_END)]
    if not suffix.startswith(_HASH_PREFIX) or not _HEX.issuperset(hex_hash):
        raise LineError("the line does not end with its hash")
    body = line[:-HASH_SUFFIX_SIZE] + b"}"
    if not body.startswith(b'{"seq":'):
        raise LineError('the line does not start with {"seq":')
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise LineError("the line's body is not JSON") from None
    seq = parsed.get("seq") if isinstance(parsed, dict) else None
    if type(seq) is not int or seq < 1 or list(parsed) != ["seq", "event"]:
        raise LineError("the line's body is not {seq, event}")
    return Line(seq, body, bytes.fromhex(hex_hash.decode()), parsed)


def iter_lines(path: Path, limit: int | None = None) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` of each line in a segment (up to byte ``limit``); a last fragment with
    no newline comes out as it is."""
    with path.open("rb") as f:
        offset = 0
        for line in f:
            if limit is not None and offset >= limit:
                return
            yield offset, line
            offset += len(line)


def last_line(fd: int, size: int) -> bytes | None:
    """The last complete line of the first ``size`` bytes of an open segment (``size`` ends on
    a newline), or ``None`` for an empty one; read backwards, in growing chunks."""
    if size == 0:
        return None
    chunk = 65536
    while True:
        start = max(0, size - chunk)
        data = os.pread(fd, size - start, start)
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0:
            return data[cut + 1 :]
        if start == 0:
            return data
        chunk *= 4
