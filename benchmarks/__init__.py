"""Load generation for Strongroom, kept off the test path.

Run ``python -m benchmarks.loadgen --help``; the figures we publish live in ``RESULTS.md``.
"""

from __future__ import annotations

__all__: list[str] = []
