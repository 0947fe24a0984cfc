"""The model KMS of ``../shared/bench/kms_model.py`` with one key its workers share.

The model makes its key's material at import, in each worker: with two workers a ciphertext
made by one does not open in the other, so a Decrypt load fails half the time. Here every
worker holds the same material (a fixed benchmark value, not a secret); the work per request is
the model's, unchanged. ``benchmarks/ceiling.py`` serves this with ``--app-dir ../shared/bench``.
"""

from __future__ import annotations

import hashlib

import kms_model  # type: ignore[import-not-found]

kms_model.add_key(
    kms_model.F.KEY_UUID,
    material=hashlib.sha256(b"strongroom benchmark: the model's one key").digest(),
    alias="alias/bench",
)
asgi_app = kms_model.asgi_app
