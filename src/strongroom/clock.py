"""An injectable clock: tests and dev mode can move the service's time forward.

Everything that compares against "now" (SigV4 skew, deletion windows, rotation, expiry) asks a
:class:`Clock`. The offset only ever grows, so time never runs backwards for the service.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time plus an offset that dev mode can advance."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = offset_seconds
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the service sees them."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the service clock forward; returns the new offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset

    def set_offset(self, offset: float) -> None:
        with self._lock:
            self._offset = offset
