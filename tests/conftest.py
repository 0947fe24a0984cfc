"""Hypothesis profiles for the whole suite.

- ``dev`` (the default): exploring new examples on every run and keeping the ones that failed in
  ``.hypothesis/`` to replay them first next time.
- ``ci`` (``.ci/run`` sets ``HYPOTHESIS_PROFILE=ci``): derandomised, so every CI run draws the same
  examples and a red run can be reproduced exactly; no example database (CI starts from a fresh
  clone).

Neither has a deadline: a loaded 2-core machine must not turn slowness into a failure (speed is
measured in benchmarks/, not here).

Pick one for a local run with ``HYPOTHESIS_PROFILE=ci make test`` (or pytest's
``--hypothesis-profile``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
