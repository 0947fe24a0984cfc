"""The service clock only moves forward."""

from __future__ import annotations

import time

import pytest

from strongroom.clock import Clock


def test_advance_moves_now_forward() -> None:
    clock = Clock()
    before = clock.now()
    assert clock.advance(86_400) == 86_400
    assert clock.now() - before >= 86_400
    assert abs(clock.now() - 86_400 - time.time()) < 5


def test_clock_never_goes_back() -> None:
    with pytest.raises(ValueError, match="forward"):
        Clock().advance(-1)
