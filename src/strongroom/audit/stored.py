"""Where a trail's segments and digests are: in the trail directory (live), or moved to its
archive by retention (audit/archive.py). Readers see one trail, numbered from 1, whichever side
each file is on.

The archive keeps each segment's exact bytes, gzip-compressed (``strongroom/segments/
NNNNNNNNNN.jsonl.gz``), and each digest's exact bytes (``strongroom/digests/NNNNNNNNNN.json``),
so the SHA-256 a signed digest names can be computed again from the archive. A file may be on
both sides for a moment (the archive copy is written, and made durable, before the live file is
removed): readers take the live one; ``audit verify`` checks that the two are the same.

The archive is ``<trail>/archive`` unless the trail's ``archive.path`` names another directory
(written by the archiver when told to archive elsewhere), so that a reader given only the trail
directory finds it.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from strongroom.audit.format import DIGESTS, SEGMENTS, digest_name, numbered, segment_name
from strongroom.config import ARCHIVE_DIR

__all__ = [
    "ARCHIVED_DIGESTS",
    "ARCHIVED_SEGMENTS",
    "ARCHIVE_POINTER",
    "StoredFile",
    "archive_dir_of",
    "archived_name",
    "label",
    "open_segment",
    "stored_digests",
    "stored_segments",
]

ARCHIVE_POINTER = "archive.path"  # in the trail directory: where its archive is, when elsewhere
ARCHIVED_SEGMENTS = "strongroom/segments"  # in the archive: NNNNNNNNNN.jsonl.gz
ARCHIVED_DIGESTS = "strongroom/digests"  # in the archive: NNNNNNNNNN.json
_ARCHIVED_SEGMENT = re.compile(r"\d{10}\.jsonl\.gz")
_ARCHIVED_DIGEST = re.compile(r"\d{10}\.json")


def archive_dir_of(directory: Path | str) -> Path:
    """The archive of the trail in ``directory``: what its ``archive.path`` names (relative to
    the trail), else ``<trail>/archive``."""
    directory = Path(directory)
    try:
        named = (directory / ARCHIVE_POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        named = ""
    return directory / named if named else directory / ARCHIVE_DIR


def archived_name(kind: str, number: int) -> str:
    """A file's path in the archive: ``strongroom/segments/NNNNNNNNNN.jsonl.gz`` or
    ``strongroom/digests/NNNNNNNNNN.json``."""
    if kind == SEGMENTS:
        return f"{ARCHIVED_SEGMENTS}/{segment_name(number)}.gz"
    return f"{ARCHIVED_DIGESTS}/{digest_name(number)}"


def label(directory: Path, path: Path) -> str:
    """How findings name a file: relative to the trail when inside it, else its whole path."""
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One segment or digest of a trail: where it is (``live``, ``archived``: present when the
    trail was listed) and where it would be on each side."""

    number: int
    name: str  # the trail's name for it: 0000000001.jsonl or 0000000001.json
    live_path: Path
    archive_path: Path
    live: bool
    archived: bool

    def open(self) -> BinaryIO:
        """The file's bytes (an archived segment decompressed): the live file if it is still
        there, else the archive's copy (moved meanwhile); FileNotFoundError if neither."""
        try:
            return self.live_path.open("rb")
        except FileNotFoundError:
            if self.archive_path.suffix == ".gz":
                fd = self.archive_path.open("rb")
                return gzip.GzipFile(fileobj=fd, mode="rb")  # type: ignore[return-value]
            return self.archive_path.open("rb")

    def read(self) -> bytes:
        with self.open() as f:
            return f.read()

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(offset, line)`` of each line; a last fragment with no newline comes out as is."""
        with self.open() as f:
            offset = 0
            for line in f:
                yield offset, line
                offset += len(line)


def _stored(directory: Path, archive: Path | None, kind: str) -> list[StoredFile]:
    archive = archive if archive is not None else archive_dir_of(directory)
    archived_kind = ARCHIVED_SEGMENTS if kind == SEGMENTS else ARCHIVED_DIGESTS
    try:
        names = os.listdir(archive / archived_kind)
    except FileNotFoundError:
        names = []
    pattern = _ARCHIVED_SEGMENT if kind == SEGMENTS else _ARCHIVED_DIGEST
    in_archive = {int(name[:10]) for name in names if pattern.fullmatch(name)}
    in_trail = dict(numbered(directory, kind))
    naming = segment_name if kind == SEGMENTS else digest_name
    return [
        StoredFile(
            number,
            naming(number),
            directory / kind / naming(number),
            archive / archived_name(kind, number),
            number in in_trail,
            number in in_archive,
        )
        for number in sorted(in_archive | set(in_trail))
    ]


def stored_segments(directory: Path | str, archive: Path | str | None = None) -> list[StoredFile]:
    """Every segment of the trail, live or archived, by number."""
    return _stored(Path(directory), Path(archive) if archive is not None else None, SEGMENTS)


def stored_digests(directory: Path | str, archive: Path | str | None = None) -> list[StoredFile]:
    """Every digest of the trail, live or archived, by number."""
    return _stored(Path(directory), Path(archive) if archive is not None else None, DIGESTS)


def open_segment(directory: Path | str, number: int) -> BinaryIO:
    """Segment ``number``'s bytes, live or (decompressed) from the archive; FileNotFoundError
    when it is in neither."""
    directory = Path(directory)
    return StoredFile(
        number,
        segment_name(number),
        directory / SEGMENTS / segment_name(number),
        archive_dir_of(directory) / archived_name(SEGMENTS, number),
        live=True,
        archived=False,
    ).open()
