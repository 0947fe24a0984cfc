"""Verify a trail offline, with nothing but the audit signing key's public key.

What is checked (docs/audit.md has the whole story):

- every digest file: its signature (over CloudTrail's signing string), the key's fingerprint, and
  its link to the digest before it (file name, SHA-256 and signature); numbering without gaps;
- every segment line from the trail's first: its form, its seq (continuous from 1, across
  segments, in order, none twice) and its hash, which must chain from the line holding seq - 1;
- every segment a signed digest names: present, at least as long as the digest covered, the
  SHA-256 of the covered bytes, and the seq and hash of the line that ends there;
- that every event is covered by a signed digest (``allow_unsigned_tail`` lets the events written
  since the newest digest of a live trail pass);
- the archive (audit/archive.py) as part of the trail: archived segments and digests take their
  place in the numbering, the chain and the digests' links; a file on both sides must be the
  same; each archived segment's CloudTrail-layout export files must hold exactly its events.

``start``/``end`` select the digests (those whose period overlaps the window) whose coverage is
checked, as CloudTrail's ``validate-logs`` does; the hash chain is always walked from the first
line, since every hash depends on all the lines before it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from strongroom.audit.archive import EXPORTS, Export, export_number, exports_of
from strongroom.audit.digest import DigestError, signing_string, split_digest
from strongroom.audit.format import (
    DIGESTS,
    GENESIS,
    SEGMENTS,
    Line,
    LineError,
    digest_name,
    parse_line,
    segment_name,
    utc_time,
)
from strongroom.audit.stored import (
    StoredFile,
    archive_dir_of,
    archived_name,
    label,
    stored_digests,
    stored_segments,
)
from strongroom.crypto.trail_signature import fingerprint, public_der_from_pem, verify_signature

__all__ = ["FileSource", "Finding", "Report", "Stored", "TrailSource", "verify", "verify_source"]


class Stored(Protocol):
    """One segment or digest as the verifier reads it (a file of the trail or its archive, or a
    block of the database's rows)."""

    @property
    def number(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def live(self) -> bool: ...

    @property
    def archived(self) -> bool: ...

    def read(self) -> bytes: ...


class TrailSource(Protocol):
    """Where a trail is kept, as the verifier reads it: numbered digests and segments (a
    directory's files and its archive, or the database's rows in blocks of seqs)."""

    @property
    def unit(self) -> str:
        """What a segment's line numbers count: ``line`` (of a file), ``row`` (its key)."""
        ...

    @property
    def segments_place(self) -> str:
        """The segments as a whole, as findings name them."""
        ...

    @property
    def archive(self) -> Path | None:
        """The archive beside the trail (its files are checked too), if any."""
        ...

    def label(self, path: Path) -> str:
        """An archive path as findings name it."""
        ...

    def digests(self) -> Sequence[Stored]: ...

    def segments(self) -> Sequence[Stored]: ...

    def where(self, stored: Stored) -> str:
        """Where a finding says ``stored`` is."""
        ...

    def missing(self, kind: str, first: int, last: int, files: Sequence[Stored]) -> str:
        """Where a run of missing segments or digests (``kind``) was."""
        ...

    def lines(self, stored: Stored) -> Iterator[tuple[int, int, bytes]]:
        """``(line number, byte offset, line)`` of each line of a segment."""
        ...


class FileSource:
    """A trail directory (``segments/*.jsonl``, ``digests/*.json``) and its archive (default:
    where the trail says, see audit/stored.py)."""

    unit = "line"
    segments_place = SEGMENTS

    def __init__(self, directory: Path | str, archive: Path | str | None = None) -> None:
        self.directory = Path(directory)
        self.archive: Path | None = (
            Path(archive) if archive is not None else archive_dir_of(self.directory)
        )
        self._archive_used = (self.archive / "strongroom").is_dir()

    def label(self, path: Path) -> str:
        return label(self.directory, path)

    def digests(self) -> list[StoredFile]:
        return stored_digests(self.directory, self.archive)

    def segments(self) -> list[StoredFile]:
        return stored_segments(self.directory, self.archive)

    def where(self, stored: Stored) -> str:
        """The file a finding names: the live one if there is one, else the archive's."""
        assert isinstance(stored, StoredFile)
        return label(self.directory, stored.live_path if stored.live else stored.archive_path)

    def missing(self, kind: str, first: int, last: int, files: Sequence[Stored]) -> str:
        """The archive when they come before the trail's first live file and something was
        archived, else the trail."""
        first_live = min((f.number for f in files if f.live), default=None)
        archived = self._archive_used and (first_live is None or last < first_live)
        naming = segment_name if kind == SEGMENTS else digest_name
        assert self.archive is not None

        def place(number: int) -> str:
            if archived and self.archive is not None:
                return label(self.directory, self.archive / archived_name(kind, number))
            return f"{kind}/{naming(number)}"

        return place(first) + (f"..{place(last).rsplit('/', 1)[1]}" if last > first else "")

    def lines(self, stored: Stored) -> Iterator[tuple[int, int, bytes]]:
        assert isinstance(stored, StoredFile)
        for number, (offset, raw) in enumerate(stored.lines(), 1):
            yield number, offset, raw


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong: ``kind`` is changed, removed, reordered, added, truncated or unsigned."""

    kind: str
    # Relative to the trail directory ("segments/0000000001.jsonl", "archive/strongroom/...")
    # or, for an archive elsewhere, the whole path.
    file: str
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


_GZIP_ERRORS = (OSError, EOFError, zlib.error)


class _Verifier:
    def __init__(self, source: TrailSource, public_key: bytes, allow_unsigned_tail: bool) -> None:
        self.source = source
        self.exported: set[int] = set()  # segments whose export files were checked
        self.expected: set[str] = set()  # the export files those segments should have
        self.public_der = public_der_from_pem(public_key)
        self.fingerprint = fingerprint(self.public_der)
        self.allow_unsigned_tail = allow_unsigned_tail
        self.report = Report()
        self.covers: dict[str, list[_Cover]] = {}

    def add(
        self, kind: str, file: str, message: str, line: int | None = None, seq: int | None = None
    ) -> None:
        self.report.findings.append(Finding(kind, file, message, line, seq, self.source.unit))

    # -- where files are ------------------------------------------------------------------------
    def same_copies(self, stored: Stored, live_sha: str | None) -> None:
        """A file on both sides (an archive run was interrupted): the copies must agree."""
        if not (stored.live and stored.archived) or live_sha is None:
            return
        assert isinstance(stored, StoredFile)
        try:
            with stored.archive_path.open("rb") as raw:
                data = raw.read()
            if stored.archive_path.suffix == ".gz":
                data = gzip.decompress(data)
        except FileNotFoundError:
            return
        except _GZIP_ERRORS as exc:
            self.add("changed", self.source.label(stored.archive_path), f"unreadable: {exc}")
            return
        if hashlib.sha256(data).hexdigest() != live_sha:
            self.add(
                "changed",
                self.source.label(stored.archive_path),
                f"differs from the live {self.source.where(stored)}",
            )

    # -- digests -------------------------------------------------------------------------------
    def digests(self, start: datetime | None, end: datetime | None) -> None:
        files = self.source.digests()
        self.report.digests = len(files)
        for first, last in _gaps([stored.number for stored in files]):
            where = self.source.missing(DIGESTS, first, last, files)
            self.add("removed", where, "digest file(s) missing from the chain")
        previous: tuple[int, str, bytes, str | None] | None = None  # number, name, data, sig
        for stored in files:
            number, name, path = stored.number, stored.name, self.source.where(stored)
            try:
                data = stored.read()
            except FileNotFoundError:
                continue
            self.same_copies(stored, hashlib.sha256(data).hexdigest())
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
            previous = (number, path, data, signature_hex)

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
        _, where, data, signature = previous
        name = digest_name(number - 1)
        if named != name:
            self.add("changed", path, f"its previous digest is {named!r}, not {name}")
        elif fields.get("previousDigestSha256") != hashlib.sha256(data).hexdigest():
            self.add(
                "changed",
                where,
                f"its SHA-256 differs from the one {path} recorded: replaced or edited",
            )
        elif fields.get("previousDigestSignature") != signature:
            self.add("changed", where, f"its signature differs from the one {path} recorded")

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
        files = self.source.segments()
        self.report.segments = len(files)
        present = {stored.name for stored in files}
        numbers = [stored.number for stored in files]
        runs = list(_gaps(numbers))
        runs += [(n, n) for n in (int(name[:10]) for name in self.covers if name not in present)]
        seen: set[int] = set()
        for first, last in sorted(runs):
            for number in range(first, last + 1):
                if number in seen:
                    continue
                seen.add(number)
                name = segment_name(number)
                widest = max(self.covers.get(name, []), key=lambda c: c.size, default=None)
                said = ""
                if widest is not None and widest.last_seq is not None:
                    said = f" (its events end at seq {widest.last_seq}, per {widest.digest})"
                where = self.source.missing(SEGMENTS, number, number, files)
                self.add("removed", where, f"segment file missing{said}")
        carry = (0, GENESIS)
        for stored in files:
            carry = self._segment(stored, carry, last=stored is files[-1])
        self.report.last_seq = carry[0]

    def _segment(
        self, stored: Stored, carry: tuple[int, bytes], *, last: bool
    ) -> tuple[int, bytes]:
        path = self.source.where(stored)
        covers = sorted(self.covers.get(stored.name, []), key=lambda c: c.size)
        sha = hashlib.sha256()
        lines: list[tuple[int, Line | None]] = []  # (line number, parsed)
        checked: set[int] = set()
        size = 0
        whole = True
        try:
            for number, offset, raw in self.source.lines(stored):
                sha.update(raw)
                size = offset + len(raw)
                if not raw.endswith(b"\n"):
                    whole = False
                    self._cut_short(path, number, offset, covers, last=last)
                    size = offset
                    break
                try:
                    parsed: Line | None = parse_line(raw)
                except LineError as exc:
                    parsed = None
                    self.add("changed", path, f"not a trail line: {exc}", number)
                lines.append((number, parsed))
                for index, cover in enumerate(covers):
                    if index not in checked and cover.size == size:
                        checked.add(index)
                        self._check_cover(path, cover, sha.hexdigest(), parsed, number)
        except FileNotFoundError:
            self.add("removed", path, "segment file missing (removed while it was read)")
            return carry
        except _GZIP_ERRORS as exc:
            whole = False
            self.add(
                "changed",
                path,
                f"not the gzip file the archive wrote ({exc}), after line {len(lines)}",
            )
        self.same_copies(stored, sha.hexdigest() if whole else None)
        if stored.archived:
            self._exports(stored.number, [parsed for _, parsed in lines if parsed is not None])
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

    def _cut_short(
        self, path: str, number: int, offset: int, covers: list[_Cover], *, last: bool
    ) -> None:
        """A segment ends in the middle of line ``number`` (at byte ``offset``). A live trail's
        last line, past everything signed, may be being written now (or was, by a writer that
        died before acknowledging it: the next write cuts it off); anywhere else it was cut."""
        if last and self.allow_unsigned_tail and all(c.size <= offset for c in covers):
            return
        kind = "truncated" if last else "changed"
        self.add(kind, path, "the segment ends in the middle of a line", number)

    # -- the CloudTrail-layout export ---------------------------------------------------------
    def _exports(self, number: int, lines: list[Line]) -> None:
        """Segment ``number``'s export files must hold exactly its events, in its order."""
        self.exported.add(number)
        for export in exports_of(number, lines):
            self.expected.add(export.path)
            self._export(export)

    def _export(self, export: Export) -> None:
        archive = self.source.archive
        assert archive is not None  # only archived segments have exports
        where = self.source.label(archive / export.path)
        seqs = _runs(export.seqs[0], export.seqs[-1])
        try:
            data = gzip.decompress((archive / export.path).read_bytes())
        except FileNotFoundError:
            self.add("removed", where, f"export file missing (its events: {seqs})")
            return
        except _GZIP_ERRORS as exc:
            self.add("changed", where, f"not a gzip file ({exc}); its events: {seqs}")
            return
        if data == export.content():
            return
        try:
            found = orjson.loads(data)["Records"]
            assert isinstance(found, list)
        except (orjson.JSONDecodeError, KeyError, TypeError, AssertionError):
            self.add("changed", where, 'not a CloudTrail log file ({"Records": [...]})')
            return
        expected = [orjson.loads(event) for event in export.events]
        self._records(where, export.seqs, expected, found)

    def _records(self, where: str, seqs: list[int], expected: list[Any], found: list[Any]) -> None:
        """Say which records of an export file were removed, added or changed."""
        i = j = 0
        while i < len(expected) or j < len(found):
            if i < len(expected) and j < len(found) and expected[i] == found[j]:
                i, j = i + 1, j + 1
            elif j < len(found) and (i == len(expected) or expected[i] in found[j + 1 :]):
                self.add("added", where, f"Records[{j}] is not an event of the trail")
                j += 1
            elif j == len(found) or found[j] in expected[i + 1 :]:
                self.add("removed", where, f"the event of seq {seqs[i]} is missing", seq=seqs[i])
                i += 1
            else:
                self.add("changed", where, f"Records[{j}] differs from seq {seqs[i]}", seq=seqs[i])
                i, j = i + 1, j + 1

    def export_files(self) -> None:
        """Files in the export that no segment accounts for."""
        archive = self.source.archive
        if archive is None:
            return
        for folder, _, names in os.walk(archive / EXPORTS):
            for name in names:
                relative = str((Path(folder) / name).relative_to(archive))
                number = export_number(name)
                if number is None:
                    if not name.startswith("."):  # a writer's temporary file
                        where = self.source.label(archive / relative)
                        self.add("added", where, "not an export file of this trail")
                elif number in self.exported and relative not in self.expected:
                    where = self.source.label(archive / relative)
                    self.add("added", where, f"not an export of segment {segment_name(number)}")
                # Else its segment is live only (an archive run was interrupted before its copy
                # was written: the next run writes the export again) or missing (reported).

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
    archive: Path | str | None = None,
) -> Report:
    """Check the trail in ``directory`` and its archive (``archive``, default: where the trail
    says, see audit/stored.py) (see the module docstring); ``ValueError`` if ``public_key_pem``
    is not an Ed25519 or ECDSA public key."""
    return verify_source(
        FileSource(directory, archive),
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
    """:func:`verify` of a trail wherever it is kept (a directory and its archive, the
    database)."""
    verifier = _Verifier(source, public_key_pem, allow_unsigned_tail)
    verifier.digests(start, end)
    verifier.segments()
    verifier.export_files()
    if end is None:
        verifier.unsigned()
    return verifier.report
