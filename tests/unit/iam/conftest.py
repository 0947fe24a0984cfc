"""Fixtures for the authentication and STS tests (the helpers are in ``iam_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from iam_world import World, make_world  # type: ignore[import-not-found]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = make_world(tmp_path, None)
    yield found
    found.storage.close()


@pytest.fixture
def dev_world(tmp_path: Path) -> Iterator[World]:
    found = make_world(tmp_path / "dev", "000000000000")
    yield found
    found.storage.close()
