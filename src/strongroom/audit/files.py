"""Small file-system steps the trail's writers share: an ``flock`` held for a block, and
making a file or a directory entry durable (fsync)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exclusive", "fsync_path"]


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory: the entries created or removed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """``flock`` on ``path`` (created 0600) for the block: True once held; False at once if
    another open file holds it and not ``wait``. Let go when the block ends."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # lets the lock go
