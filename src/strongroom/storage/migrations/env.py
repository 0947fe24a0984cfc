"""Alembic environment for Strongroom's schema, driven from :mod:`strongroom.storage.migrate`.

The caller hands over a live connection (``config.attributes["connection"]``) built by our own
engine factory, so the connection settings (SQLite pragmas and ``BEGIN IMMEDIATE``, the
PostgreSQL search path and timeouts) are the ones the service uses. No ``alembic.ini`` and no
logging configuration: this runs inside the ``strongroom`` command.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from strongroom.storage.schema import metadata

# Any constant works: it only keeps two migrating processes on one PostgreSQL database in line.
_PG_MIGRATION_LOCK = 0x5354524F4E47


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run(context.config.attributes["connection"])
