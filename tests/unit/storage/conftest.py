"""Storage fixtures: every test runs on SQLite, and on PostgreSQL when a server is configured.

PostgreSQL tests each get a fresh schema (a random name on the search path, dropped afterwards),
so they never see another test's rows and can run beside other test runs on the same database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from strongroom.storage import SqlStorage, migrate, open_storage

POSTGRES_ENV = "STRONGROOM_TEST_POSTGRES_URL"


def _postgres_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} not set")
    schema = f"strongroom_test_{secrets.token_hex(8)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``tmp_path`` or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'strongroom.db'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema (skipped when no server is configured)."""
    yield from _postgres_url()


@pytest.fixture
def storage(db_url: str) -> Iterator[SqlStorage]:
    """A migrated, opened storage on ``db_url``."""
    migrate(db_url)
    opened = open_storage(db_url)
    yield opened
    opened.close()
