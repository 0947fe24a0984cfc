"""Retention and export: segments older than a given age move from the trail to its archive.

The archive (``<trail>/archive`` by default) holds, for each archived segment:

- ``strongroom/segments/NNNNNNNNNN.jsonl.gz``: the segment's exact bytes, gzip-compressed, so the
  SHA-256 its signed digests name, its seqs and its hash chain are checked as before;
- ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_
  <YYYYMMDDTHHmmZ>_<unique>.json.gz``: its events in CloudTrail's own file layout,
  ``{"Records":[...]}``, one file per recipient account, region and UTC day of ``eventTime``, for
  the tools that read CloudTrail's S3 layout (SIEMs, Athena). The time in the name is the newest
  event's (CloudTrail's "delivery" time: a file holds records from before it); the 16-character
  unique part, which CloudTrail says has no meaning, is the segment's number, so a file's name
  tells where its events came from and writing it again writes the same file;

and each digest whose segments are all archived moves to ``strongroom/digests/`` (byte for byte;
the newest digest always stays in the trail, where the writer chains the next one on it).
CloudTrail's own digest files are not written: CloudTrail keeps a digest's signature in S3 object
metadata and its validation fetches AWS's public keys, so no tool could check them here; our
signed digests check the archive, with the public key alone (``strongroom audit verify``), and
the export files are checked against the segment bytes those digests sign.

:func:`archive_due` is safe while writers append: it works under the trail's ``archive.lock``
(one archiver at a time), never archives the newest segment (nor one whose successor has no
complete line yet: a writer reads the previous segment's end then), nor a segment that no signed
digest covers to its end (it writes a digest first when given ``digest``, else stops there), and
archives in order, so the trail keeps the newest segments and the archive the older ones. Each
file is written to a temporary name, fsynced, renamed and its directory fsynced; the segment's
exact copy last; only then, under the trail's ``lock``, is the live segment removed. A crash in
between leaves the segment on both sides, which readers and ``audit verify`` take as one and the
next run finishes; running it again archives nothing twice.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strongroom.audit.digest import DigestError, split_digest
from strongroom.audit.files import exclusive, fsync_path
from strongroom.audit.format import (
    DIGESTS,
    LOCK,
    SEGMENTS,
    Line,
    LineError,
    iter_lines,
    last_line,
    numbered,
    parse_line,
    segment_name,
    utc_time,
)
from strongroom.audit.stored import (
    ARCHIVE_POINTER,
    archive_dir_of,
    archived_name,
    stored_digests,
)
from strongroom.config import ARCHIVE_DIR

__all__ = [
    "ARCHIVE_LOCK",
    "EXPORTS",
    "ArchiveResult",
    "Archived",
    "Export",
    "archive_due",
    "export_number",
    "exports_of",
    "records",
]

log = logging.getLogger("strongroom.audit")

ARCHIVE_LOCK = "archive.lock"  # in the trail directory: one archiver at a time
EXPORTS = "AWSLogs"
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})", re.ASCII)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(?:-[a-z0-9]+){1,4}")
_EXPORT_NAME = re.compile(
    r"(?:\d{12}|unknown)_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_(\d{16})\.json\.gz", re.ASCII
)
_CHUNK = 1 << 20


# -- the CloudTrail-layout export ----------------------------------------------------------------
@dataclass(slots=True)
class Export:
    """One export file of a segment: its path in the archive and its records (seq, JSON)."""

    path: str
    seqs: list[int] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)

    def content(self) -> bytes:
        return records(self.events)


def records(events: Iterable[bytes]) -> bytes:
    """A CloudTrail log file's JSON: ``{"Records":[...]}`` holding the events' JSON as is."""
    return b'{"Records":[' + b",".join(events) + b"]}"


def _where(event: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(account, region, YYYYMMDD, YYYYMMDDTHHmm) of an event; ``unknown`` for an account or
    region that is not one (never a path of its own making)."""
    account = event.get("recipientAccountId")
    region = event.get("awsRegion")
    account = account if isinstance(account, str) and _ACCOUNT.fullmatch(account) else "unknown"
    region = region if isinstance(region, str) and _REGION.fullmatch(region) else "unknown"
    when = event.get("eventTime")
    found = _TIME.match(when) if isinstance(when, str) else None
    year, month, day, hour, minute = found.groups() if found else ("1970", "01", "01", "00", "00")
    return account, region, year + month + day, f"{year}{month}{day}T{hour}{minute}"


def exports_of(number: int, lines: Iterable[Line]) -> list[Export]:
    """The export files of segment ``number`` whose lines are ``lines``: one per recipient
    account, region and UTC day, records in seq order, named for the newest of them."""
    groups: dict[tuple[str, str, str], tuple[str, Export]] = {}
    for line in lines:
        try:
            account, region, day, stamp = _where(line.event())
        except LineError:  # not an object: verify reports the line; no export holds it
            continue
        newest, export = groups.get((account, region, day), (stamp, Export("")))
        groups[account, region, day] = max(newest, stamp), export
        export.seqs.append(line.seq)
        export.events.append(line.event_json())
    found = []
    for (account, region, day), (stamp, export) in sorted(groups.items()):
        export.path = (
            f"{EXPORTS}/{account}/CloudTrail/{region}/{day[:4]}/{day[4:6]}/{day[6:]}/"
            f"{account}_CloudTrail_{region}_{stamp}Z_{number:016d}.json.gz"
        )
        found.append(export)
    return found


def export_number(name: str) -> int | None:
    """The segment number an export file's name carries, or None if it is not one of ours."""
    found = _EXPORT_NAME.fullmatch(name)
    return int(found.group(1)) if found else None


# -- archiving -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Archived:
    """One segment moved to the archive."""

    segment: str  # e.g. "0000000001.jsonl"
    first_seq: int | None
    last_seq: int | None
    events: int
    files: tuple[str, ...]  # written, relative to the archive: the exports, then the copy


@dataclass(slots=True)
class ArchiveResult:
    archived: list[Archived] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)  # digest files moved to the archive
    stopped: str | None = None  # why a due segment was left in the trail, if one was


def archive_due(
    directory: Path | str,
    archive_dir: Path | str | None = None,
    *,
    older_than: float,
    now: float | None = None,
    digest: Callable[[], object] | None = None,
) -> ArchiveResult:
    """Move to the archive each segment of the trail in ``directory`` whose newest event is
    ``older_than`` seconds old or more at ``now`` (default: the time now), oldest first, and the
    digests that then name only archived segments. See the module docstring for what is safe.

    ``archive_dir``: default ``<trail>/archive`` (or where the trail's ``archive.path`` says);
    another directory is recorded in ``archive.path``. ``digest``: called (without any lock
    held) to write a signed digest when a due segment is not yet covered by one to its end, e.g.
    the process's ``Trail.digest_now``; without it such a segment waits for the next digest.
    Returns at once, archiving nothing, when another process is archiving the trail.
    """
    directory = Path(directory)
    archive = Path(archive_dir) if archive_dir is not None else archive_dir_of(directory)
    if older_than < 0:
        raise ValueError("older_than must be 0 or more seconds")
    cutoff = (time.time() if now is None else now) - older_than
    result = ArchiveResult()
    with exclusive(directory / ARCHIVE_LOCK, wait=False) as mine:
        if not mine:
            result.stopped = "another process is archiving this trail"
            return result
        _point_to(directory, archive)
        due, anchor = _due(directory, cutoff)
        covered = _covered(directory)
        if digest is not None and any(covered.get(name, -1) < size for _, name, size in due):
            digest()
            covered = _covered(directory)
        for number, name, size in due:
            if covered.get(name, -1) < size:
                result.stopped = f"segment {name} is not yet covered by a signed digest"
                break
            result.archived.append(_archive_segment(directory, archive, number, size, anchor))
        result.digests = _archive_digests(directory, archive)
    for done in result.archived:
        log.info(
            "audit trail %s: archived segment %s (seq %s..%s, %d event(s)) to %s",
            directory,
            done.segment,
            done.first_seq,
            done.last_seq,
            done.events,
            archive,
        )
    return result


def _point_to(directory: Path, archive: Path) -> None:
    """Record in the trail where its archive is, when not in the default place."""
    pointer = directory / ARCHIVE_POINTER
    if archive.resolve() == (directory / ARCHIVE_DIR).resolve():
        with contextlib.suppress(FileNotFoundError):
            pointer.unlink()
        return
    try:
        text = str(archive.resolve().relative_to(directory.resolve()))
    except ValueError:
        text = str(archive.resolve())
    with contextlib.suppress(FileNotFoundError):
        if pointer.read_text(encoding="utf-8").strip() == text:
            return
    _write_file(pointer, [text.encode() + b"\n"], compress=False)


def _has_a_line(path: Path) -> bool:
    with path.open("rb") as f:
        return f.readline().endswith(b"\n")


def _due(directory: Path, cutoff: float) -> tuple[list[tuple[int, str, int]], Path | None]:
    """The segments due, in order, as ``(number, name, size)``, and the newest segment with a
    complete line (``anchor``): only segments before it are ever archived."""
    segments = numbered(directory, SEGMENTS)
    anchor_at = next(
        (
            index
            for index in range(len(segments) - 1, -1, -1)
            if _has_a_line(directory / SEGMENTS / segments[index][1])
        ),
        0,
    )
    due = []
    for number, name in segments[:anchor_at]:
        path = directory / SEGMENTS / name
        size = path.stat().st_size
        if _ended(path, size) > cutoff:
            break
        due.append((number, name, size))
    anchor = directory / SEGMENTS / segments[anchor_at][1] if due else None
    return due, anchor


def _ended(path: Path, size: int) -> float:
    """When a segment's newest event happened (its last line's ``eventTime``; the file's
    modification time when that cannot be read)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        line = last_line(fd, size)
        mtime = os.fstat(fd).st_mtime
    finally:
        os.close(fd)
    try:
        when = utc_time(parse_line(line).event().get("eventTime")) if line else None
    except LineError:
        when = None
    return when.timestamp() if when is not None else mtime


def _covered(directory: Path) -> dict[str, int]:
    """How many bytes of each segment the trail's signed digests cover (the widest)."""
    covered: dict[str, int] = {}
    for _, digest_file in numbered(directory, DIGESTS):
        try:
            fields = split_digest((directory / DIGESTS / digest_file).read_bytes()).fields
        except (DigestError, FileNotFoundError):
            continue
        for entry in fields.get("segments") or []:
            name, size = entry.get("name"), entry.get("bytes")
            if isinstance(name, str) and isinstance(size, int):
                covered[name] = max(size, covered.get(name, -1))
    return covered


def _archive_segment(
    directory: Path, archive: Path, number: int, size: int, anchor: Path | None
) -> Archived:
    live = directory / SEGMENTS / segment_name(number)
    parsed = []
    for _, raw in iter_lines(live, size):
        with contextlib.suppress(LineError):  # a damaged line: kept in the copy, verify says so
            parsed.append(parse_line(raw))
    files = []
    for export in exports_of(number, parsed):
        _write_file(archive / export.path, [export.content()], compress=True)
        files.append(export.path)
    copy = archived_name(SEGMENTS, number)
    _write_file(archive / copy, _chunks(live, size), compress=True)
    files.append(copy)
    with exclusive(directory / LOCK):
        # The successor's lines made durable first: a writer that finds the newest segment
        # empty reads the end of the one before it, which is about to go.
        if anchor is not None:
            fsync_path(anchor)
        if live.stat().st_size != size:
            raise RuntimeError(f"audit segment {live.name} changed while it was archived")
        live.unlink()
        fsync_path(live.parent)
    return Archived(
        live.name,
        parsed[0].seq if parsed else None,
        parsed[-1].seq if parsed else None,
        len(parsed),
        tuple(files),
    )


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        left = size
        while left > 0 and (chunk := f.read(min(_CHUNK, left))):
            left -= len(chunk)
            yield chunk


def _archive_digests(directory: Path, archive: Path) -> list[str]:
    """Move, oldest first, each digest but the newest whose segments are all archived."""
    digests = [stored for stored in stored_digests(directory, archive) if stored.live]
    live_segments = {name for _, name in numbered(directory, SEGMENTS)}
    moved = []
    for stored in digests[:-1]:
        data = stored.live_path.read_bytes()
        try:
            names = [entry["name"] for entry in split_digest(data).fields.get("segments") or []]
        except (DigestError, KeyError, TypeError):
            break
        if any(
            name in live_segments
            or not (archive / archived_name(SEGMENTS, int(name[:10]))).exists()
            for name in names
        ):
            break
        _write_file(stored.archive_path, [data], compress=False)
        with exclusive(directory / LOCK):
            stored.live_path.unlink()
            fsync_path(stored.live_path.parent)
        moved.append(stored.name)
    return moved


# -- durable files -------------------------------------------------------------------------------
def _makedirs(path: Path) -> None:
    """``mkdir -p`` (0700), each directory it creates made durable in its parent."""
    if path.is_dir():
        return
    _makedirs(path.parent)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
        fsync_path(path.parent)


def _write_file(path: Path, chunks: Iterable[bytes], *, compress: bool) -> None:
    """Write ``path`` (0600) from ``chunks`` (gzip-compressed when ``compress``, with no name
    nor time in the header: the same content makes the same file): a temporary file, fsynced,
    renamed over ``path``, its directory fsynced."""
    _makedirs(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                for chunk in chunks:
                    packed.write(chunk)
        else:
            for chunk in chunks:
                raw.write(chunk)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temporary, path)
    fsync_path(path.parent)
