"""Verify a trail offline, with nothing but the audit signing key's public key.

What is checked (docs/audit.md has the whole story):

- every digest file: its signature (over CloudTrail's signing string), the key's fingerprint, and
  its link to the digest before it (file name, SHA-256 and signature); numbering without gaps;
- every segment line from the trail's first: its form, its seq (continuous from 1, across
  segments, in order, none twice) and its hash, which must chain from the line holding seq - 1;
- every segment a signed digest names: present, at least as long as the digest covered, the
  SHA-256 of the covered bytes, and the seq and hash of the line that ends there;
- that every event is covered by a signed digest (``allow_unsigned_tail`` lets the events written
  since the newest digest of a live trail pass).

``start``/``end`` select the digests (those whose period overlaps the window) whose coverage is
checked, as CloudTrail's ``validate-logs`` does; the hash chain is always walked from the first
line, since every hash depends on all the lines before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from strongroom.audit.digest import DigestError, signing_string, split_digest
from strongroom.audit.format import (
    DIGESTS,
    GENESIS,
    SEGMENTS,
    Line,
    LineError,
    iter_lines,
    numbered,
    parse_line,
    utc_time,
)
from strongroom.crypto.trail_signature import fingerprint, public_der_from_pem, verify_signature

__all__ = ["FileSource", "Finding", "Report", "TrailSource", "verify", "verify_source"]


class TrailSource(Protocol):
    """Where a trail is kept, as the verifier reads it: numbered digests and segments, each
    segment a run of lines (a directory's files, or the database's rows in blocks of seqs)."""

    @property
    def unit(self) -> str:
        """What a segment's line numbers count: ``line`` (of a file), ``row`` (its key)."""
        ...

    @property
    def segments_place(self) -> str:
        """The segments as a whole, as findings name them."""
        ...

    def segment_place(self, name: str) -> str: ...

    def digest_place(self, name: str) -> str: ...

    def digest_files(self) -> list[tuple[int, str]]: ...

    def digest_bytes(self, name: str) -> bytes: ...

    def segment_files(self) -> list[tuple[int, str]]: ...

    def segment_lines(self, name: str) -> Iterator[tuple[int, int, bytes]]:
        """``(line number, byte offset, line)`` of each line of segment ``name``."""
        ...


@dataclass(frozen=True, slots=True)
class FileSource:
    """A trail directory: ``segments/*.jsonl`` and ``digests/*.json``."""

    directory: Path
    unit: str = "line"
    segments_place: str = SEGMENTS

    def segment_place(self, name: str) -> str:
        return f"{SEGMENTS}/{name}"

    def digest_place(self, name: str) -> str:
        return f"{DIGESTS}/{name}"

    def digest_files(self) -> list[tuple[int, str]]:
        return numbered(self.directory, DIGESTS)

    def digest_bytes(self, name: str) -> bytes:
        return (self.directory / DIGESTS / name).read_bytes()

    def segment_files(self) -> list[tuple[int, str]]:
        return numbered(self.directory, SEGMENTS)

    def segment_lines(self, name: str) -> Iterator[tuple[int, int, bytes]]:
        for number, (offset, raw) in enumerate(iter_lines(self.directory / SEGMENTS / name), 1):
            yield number, offset, raw


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong: ``kind`` is changed, removed, reordered, added, truncated or unsigned."""

    kind: str
    file: str  # where: "segments/0000000001.jsonl" in a directory, "audit_events segment 1"
    message: str
    line: int | None = None
    seq: int | None = None
    unit: str = "line"  # what ``line`` counts: a file's lines, or a table's rows (their key)

    def __str__(self) -> str:
        where = self.file + (f" {self.unit} {self.line}" if self.line is not None else "")
        where += f" (seq {self.seq})" if self.seq is not None else ""
        return f"{self.kind}: {where}: {self.message}"


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    segments: int = 0
    events: int = 0
    digests: int = 0
    last_seq: int = 0
    covered_seq: int = 0  # the highest seq a signed digest covers

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "segments": self.segments,
            "events": self.events,
            "digests": self.digests,
            "lastSeq": self.last_seq,
            "coveredSeq": self.covered_seq,
            "findings": [asdict(finding) for finding in self.findings],
        }


@dataclass(frozen=True, slots=True)
class _Cover:
    """What one signed digest says of one segment."""

    digest: str
    size: int
    sha256: str
    last_seq: int | None
    last_hash: str | None


def _in_window(fields: dict[str, Any], start: datetime | None, end: datetime | None) -> bool:
    begins, ends = (
        utc_time(fields.get("digestStartTime")),
        utc_time(fields.get("digestEndTime")),
    )
    if start is not None and ends is not None and ends < start:
        return False
    return not (end is not None and begins is not None and begins > end)


def _gaps(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """Missing runs ``(first, last)`` in a sorted list of file numbers counted from 1."""
    expected = 1
    for number in numbers:
        if number > expected:
            yield expected, number - 1
        expected = number + 1


def _runs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}..{last}"


class _Verifier:
    def __init__(self, source: TrailSource, public_key: bytes, allow_unsigned_tail: bool) -> None:
        self.source = source
        self.public_der = public_der_from_pem(public_key)
        self.fingerprint = fingerprint(self.public_der)
        self.allow_unsigned_tail = allow_unsigned_tail
        self.report = Report()
        self.covers: dict[str, list[_Cover]] = {}

    def add(
        self, kind: str, file: str, message: str, line: int | None = None, seq: int | None = None
    ) -> None:
        self.report.findings.append(Finding(kind, file, message, line, seq, self.source.unit))

    # -- digests -------------------------------------------------------------------------------
    def digests(self, start: datetime | None, end: datetime | None) -> None:
        files = self.source.digest_files()
        self.report.digests = len(files)
        for first, last in _gaps([number for number, _ in files]):
            names = f"{first:010d}.json" + (f"..{last:010d}.json" if last > first else "")
            self.add("removed", self.source.digest_place(names), "digest(s) missing from the chain")
        previous: tuple[int, str, bytes, str | None] | None = None  # number, name, data, sig
        for number, name in files:
            path = self.source.digest_place(name)
            data = self.source.digest_bytes(name)
            signature_hex: str | None = None
            try:
                split = split_digest(data)
            except DigestError as exc:
                self.add("changed", path, f"not a digest file: {exc}")
            else:
                signature_hex = split.signature.hex()
                if self._digest_valid(path, name, split.fields, split.unsigned, split.signature):
                    self._link(path, number, split.fields, previous)
                    if _in_window(split.fields, start, end):
                        self._record_covers(name, split.fields)
            previous = (number, name, data, signature_hex)

    def _digest_valid(
        self, path: str, name: str, fields: dict[str, Any], unsigned: bytes, signature: bytes
    ) -> bool:
        if fields.get("publicKeyFingerprint") != self.fingerprint:
            self.add(
                "changed",
                path,
                f"signed for key {fields.get('publicKeyFingerprint')!r}, not the given public key "
                f"{self.fingerprint}: replaced",
            )
            return False
        data = signing_string(
            str(fields.get("digestEndTime")), name, unsigned, fields.get("previousDigestSignature")
        )
        if not verify_signature(
            self.public_der, str(fields.get("signatureAlgorithm")), data, signature
        ):
            self.add(
                "changed", path, "the signature does not verify: the digest was edited or replaced"
            )
            return False
        return True

    def _link(
        self,
        path: str,
        number: int,
        fields: dict[str, Any],
        previous: tuple[int, str, bytes, str | None] | None,
    ) -> None:
        named = fields.get("previousDigestFile")
        if previous is None or previous[0] != number - 1:
            if number == 1 and named is not None:
                self.add("changed", path, "the first digest names a previous digest")
            return  # a missing predecessor is reported as removed
        _, name, data, signature = previous
        if named != name:
            self.add("changed", path, f"its previous digest is {named!r}, not {name}")
        elif fields.get("previousDigestSha256") != hashlib.sha256(data).hexdigest():
            self.add(
                "changed",
                self.source.digest_place(name),
                f"its SHA-256 differs from the one {path} recorded: replaced or edited",
            )
        elif fields.get("previousDigestSignature") != signature:
            self.add(
                "changed",
                self.source.digest_place(name),
                f"its signature differs from the one {path} recorded",
            )

    def _record_covers(self, name: str, fields: dict[str, Any]) -> None:
        for entry in fields.get("segments") or []:
            cover = _Cover(
                name, entry["bytes"], entry["sha256"], entry.get("lastSeq"), entry.get("lastHash")
            )
            self.covers.setdefault(entry["name"], []).append(cover)
            if cover.last_seq is not None:
                self.report.covered_seq = max(self.report.covered_seq, cover.last_seq)

    # -- segments ------------------------------------------------------------------------------
    def segments(self) -> None:
        files = self.source.segment_files()
        self.report.segments = len(files)
        present = {name for _, name in files}
        numbers = [number for number, _ in files]
        missing = {n for first, last in _gaps(numbers) for n in range(first, last + 1)}
        missing |= {int(name[:10]) for name in self.covers if name not in present}
        for number in sorted(missing):
            name = f"{number:010d}.jsonl"
            widest = max(self.covers.get(name, []), key=lambda c: c.size, default=None)
            said = ""
            if widest is not None and widest.last_seq is not None:
                said = f" (its events end at seq {widest.last_seq}, per {widest.digest})"
            self.add("removed", self.source.segment_place(name), f"segment missing{said}")
        carry = (0, GENESIS)
        for _, name in files:
            carry = self._segment(name, carry, last=name == files[-1][1])
        self.report.last_seq = carry[0]

    def _segment(self, name: str, carry: tuple[int, bytes], *, last: bool) -> tuple[int, bytes]:
        path = self.source.segment_place(name)
        covers = sorted(self.covers.get(name, []), key=lambda c: c.size)
        sha = hashlib.sha256()
        lines: list[tuple[int, Line | None]] = []  # (line number, parsed)
        checked: set[int] = set()
        size = 0
        ends: dict[int, Line] = {}
        for number, offset, raw in self.source.segment_lines(name):
            sha.update(raw)
            size = offset + len(raw)
            if not raw.endswith(b"\n"):
                kind = "truncated" if last else "changed"
                self.add(kind, path, "the segment ends in the middle of a line", number)
                break
            try:
                parsed: Line | None = parse_line(raw)
            except LineError as exc:
                parsed = None
                self.add("changed", path, f"not a trail line: {exc}", number)
            lines.append((number, parsed))
            if parsed is not None:
                ends[size] = parsed
            for index, cover in enumerate(covers):
                if index not in checked and cover.size == size:
                    checked.add(index)
                    self._check_cover(path, cover, sha.hexdigest(), parsed, number)
        for index, cover in enumerate(covers):
            if index in checked:
                continue
            if cover.size > size:
                lost = f"; events up to seq {cover.last_seq} are gone" if cover.last_seq else ""
                self.add(
                    "truncated",
                    path,
                    f"{size} bytes left of the {cover.size} that {cover.digest} covered{lost}",
                )
            elif cover.size:
                self.add(
                    "changed",
                    path,
                    f"byte {cover.size} that {cover.digest} covered up to is not a line's end",
                )
        self.report.events += sum(1 for _, parsed in lines if parsed is not None)
        return self._chain(path, lines, carry)

    def _check_cover(
        self, path: str, cover: _Cover, sha: str, line: Line | None, number: int
    ) -> None:
        if sha != cover.sha256:
            self.add(
                "changed",
                path,
                f"the first {cover.size} bytes differ from what {cover.digest} signed",
            )
        elif line is not None and (
            line.seq != cover.last_seq or line.hash.hex() != cover.last_hash
        ):
            self.add(
                "changed",
                path,
                f"the line ending at byte {cover.size} is not the one {cover.digest} names",
                number,
            )

    def _chain(
        self, path: str, lines: list[tuple[int, Line | None]], carry: tuple[int, bytes]
    ) -> tuple[int, bytes]:
        hashes: dict[int, bytes] = {carry[0]: carry[1]}
        where: dict[int, int] = {}
        accounted: set[int] = set()
        previous_seq = carry[0]
        for number, parsed in lines:
            if parsed is None:
                accounted.add(previous_seq + 1)  # an unreadable line holds the next seq
                previous_seq += 1
                continue
            previous_seq = parsed.seq
            if parsed.seq in where:
                self.add(
                    "added",
                    path,
                    f"a second line with this seq (the first is {self.source.unit} "
                    f"{where[parsed.seq]})",
                    number,
                    parsed.seq,
                )
                continue
            where[parsed.seq] = number
            hashes[parsed.seq] = parsed.hash
        highest = carry[0]
        highest_line = 0
        for number, parsed in lines:
            if parsed is None or where.get(parsed.seq) != number:
                continue
            if parsed.seq <= carry[0]:
                self.add(
                    "added",
                    path,
                    f"seq {parsed.seq} was already used before this segment",
                    number,
                    parsed.seq,
                )
                continue
            if parsed.seq < highest:
                self.add(
                    "reordered",
                    path,
                    f"comes after seq {highest} ({self.source.unit} {highest_line})",
                    number,
                    parsed.seq,
                )
            elif parsed.seq > highest:
                highest, highest_line = parsed.seq, number
            before = hashes.get(parsed.seq - 1)
            if before is not None and not parsed.chains_from(before):
                self.add(
                    "changed",
                    path,
                    f"its hash does not match its content and seq {parsed.seq - 1}'s hash "
                    f"(this line, or seq {parsed.seq - 1}'s, was changed)",
                    number,
                    parsed.seq,
                )
        seen = set(where) | accounted
        top = max(seen, default=carry[0])
        missing = [seq for seq in range(carry[0] + 1, top) if seq not in seen]
        for first, last in _seq_runs(missing):
            after = where.get(last + 1)
            place = f"before {self.source.unit} {after}" if after else "here"
            self.add("removed", path, f"{_runs(first, last)} missing {place}", after, first)
        if top in hashes:
            return top, hashes[top]
        return top, carry[1]

    def unsigned(self) -> None:
        report = self.report
        if report.last_seq > report.covered_seq and not self.allow_unsigned_tail:
            self.add(
                "unsigned",
                self.source.segments_place,
                f"{_runs(report.covered_seq + 1, report.last_seq)} are covered by no signed "
                "digest: added after the newest digest, or written since it",
                seq=report.covered_seq + 1,
            )


def _seq_runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    run: list[int] = []
    for number in numbers:
        if run and number != run[-1] + 1:
            yield run[0], run[-1]
            run = []
        run.append(number)
    if run:
        yield run[0], run[-1]


def verify(
    directory: Path | str,
    public_key_pem: bytes,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    allow_unsigned_tail: bool = False,
) -> Report:
    """Check the trail in ``directory`` (see the module docstring); ``ValueError`` if
    ``public_key_pem`` is not an Ed25519 or ECDSA public key."""
    return verify_source(
        FileSource(Path(directory)),
        public_key_pem,
        start,
        end,
        allow_unsigned_tail=allow_unsigned_tail,
    )


def verify_source(
    source: TrailSource,
    public_key_pem: bytes,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    allow_unsigned_tail: bool = False,
) -> Report:
    """:func:`verify` of a trail wherever it is kept (a directory, the database)."""
    verifier = _Verifier(source, public_key_pem, allow_unsigned_tail)
    verifier.digests(start, end)
    verifier.segments()
    if end is None:
        verifier.unsigned()
    return verifier.report
