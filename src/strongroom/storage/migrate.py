"""Schema migrations, run from code: ``strongroom init`` and the tests call :func:`migrate`.

The Alembic environment ships inside the package (``storage/migrations``), so no ``alembic.ini``
is needed and the same code works from a source checkout, an editable install or a wheel.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from strongroom.storage.base import StorageError
from strongroom.storage.engine import Backend, make_backend

__all__ = ["current_revision", "head_revision", "migrate"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision this build's schema is at once fully migrated."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StorageError("no migrations are installed")
    return head


def migrate(url: str) -> None:
    """Bring the database at ``url`` up to :func:`head_revision`; a no-op when it is there."""
    backend = make_backend(url)
    try:
        config = _config()
        with backend.writer.begin() as connection:
            backend.before_write(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"migration failed ({type(exc).__name__})") from exc
    finally:
        backend.close()


def revision_of(backend: Backend) -> str | None:
    """The revision the database behind ``backend`` is at, ``None`` when it was never migrated."""
    try:
        with backend.reader.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the schema revision ({type(exc).__name__})") from exc


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, ``None`` when it was never migrated."""
    backend = make_backend(url)
    try:
        return revision_of(backend)
    finally:
        backend.close()
