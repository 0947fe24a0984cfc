"""The work that falls due with time, run by every worker's sweeper (every few seconds) and by
the dev clock after it moves: key deletions, automatic rotations and expiring imported material.

Each step is safe to run in several workers and nodes at once: it acts only on rows that are
still due when it writes, so each due change happens exactly once.
"""

from __future__ import annotations

from strongroom.kms.imports import expire_due_material
from strongroom.kms.rotation import rotate_due_keys
from strongroom.kms.service import KmsService

__all__ = ["run_due_work"]


def run_due_work(svc: KmsService) -> dict[str, int]:
    """Delete the keys whose window has passed, rotate the keys that are due, and delete the
    imported material that has expired. Returns how many of each."""
    return {
        "keys_deleted": svc.deletions.sweep(),
        "keys_rotated": rotate_due_keys(svc),
        "materials_expired": expire_due_material(svc),
    }
