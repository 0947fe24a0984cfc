"""Storage: SQLite (embedded default) or PostgreSQL behind the one :class:`Storage` interface.

:func:`open_storage` opens a database that is already at this build's schema revision; it never
migrates (``strongroom init`` does, through :func:`migrate`).
"""

from __future__ import annotations

from typing import Protocol

from strongroom.storage.base import DuplicateError, Storage, StorageError
from strongroom.storage.identity import IdentityStorage
from strongroom.storage.migrate import current_revision, head_revision, migrate, revision_of
from strongroom.storage.sql import SqlStorage

__all__ = [
    "Database",
    "DuplicateError",
    "IdentityStorage",
    "SqlStorage",
    "Storage",
    "StorageError",
    "current_revision",
    "head_revision",
    "migrate",
    "open_storage",
]


class Database(Storage, IdentityStorage, Protocol):
    """Everything the server keeps: KMS state and identities, one backend."""


def open_storage(url: str) -> SqlStorage:
    """Open the database at ``url`` (``sqlite:///ABSOLUTE/PATH.db`` or ``postgresql+psycopg://``).

    Raises :class:`StorageError` when the schema is not at this build's head revision.
    """
    storage = SqlStorage(url)
    try:
        current, head = revision_of(storage.backend), head_revision()
    except StorageError:
        storage.close()
        raise
    if current != head:
        storage.close()
        raise StorageError(
            f"database schema is at {current or 'nothing (empty database)'}, this build needs "
            f"{head}; run `strongroom init` (or strongroom.storage.migrate) first"
        )
    return storage
