"""Key deletion when its waiting period ends (kms-spec.md 12): at the first read of the key after
its deletion date, and in every worker's sweep. Each deletion is guarded in storage
(``delete_due_key``): it happens only if the key is still PendingDeletion and due, so a
CancelKeyDeletion that lands first is never undone and two workers never both delete. The call
whose delete happened, and only that one, records the DeleteKey service event.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from strongroom.clock import Clock
from strongroom.domain.keys import KeyRecord, KeyState
from strongroom.kms.repository import KeyRepository
from strongroom.kms.service_events import key_event

__all__ = ["DAY", "DEFAULT_WINDOW_DAYS", "Deletions"]

log = logging.getLogger(__name__)

DAY = 86_400
DEFAULT_WINDOW_DAYS = 30  # ScheduleKeyDeletion's PendingWindowInDays when omitted
_SWEEP_PASSES = 3  # a replica's deletion can make its primary due: at most two passes needed


class Deletions:
    def __init__(
        self,
        keys: KeyRepository,
        clock: Clock,
        emit: Callable[[Sequence[dict[str, Any]]], None] = lambda events: None,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._emit = emit  # records service events (KmsService.emit)

    def live(self, key: KeyRecord | None) -> KeyRecord | None:
        """``key`` as a request may see it: None once its deletion is due (deleting it now),
        re-read if a CancelKeyDeletion got there first."""
        if key is None or not self.due(key):
            return key
        if self.destroy(key):
            return None
        return self._keys.get_key(key.account, key.region, key.key_id)

    def due(self, key: KeyRecord) -> bool:
        return (
            key.state is KeyState.PENDING_DELETION
            and key.deletion_date is not None
            and key.deletion_date <= self._clock.now()
        )

    def destroy(self, key: KeyRecord) -> bool:
        """Delete ``key`` if it is still due (a CancelKeyDeletion may have landed since it was
        read, or another worker deleted it first). Returns whether this call deleted it."""
        now = self._clock.now()
        if not self._keys.delete_due_key(key.account, key.region, key.key_id, now):
            return False
        log.info("deleted key %s: its deletion window has passed", key.arn)
        # AWS's DeleteKey events since December 2022 show the key's ARN as responseElements.keyId.
        self._emit([key_event("DeleteKey", key, now, response={"keyId": key.arn})])
        if key.multi_region:
            self._start_primary_window(key)
        return True

    def _start_primary_window(self, deleted: KeyRecord) -> None:
        """After a multi-Region key's member is deleted: when all that remains is a primary
        waiting in PendingReplicaDeletion, its last replica is gone, so it enters
        PendingDeletion, its window starting when that replica was due (kms-spec.md 12). The
        date derives from stored values only, so workers that race here write the same record."""
        members = self._keys.read.key_members(deleted.account, deleted.key_id)
        if len(members) != 1 or members[0].state is not KeyState.PENDING_REPLICA_DELETION:
            return
        primary = members[0]
        began = deleted.deletion_date if deleted.deletion_date is not None else self._clock.now()
        days = primary.pending_window_days or DEFAULT_WINDOW_DAYS
        waiting = dataclasses.replace(
            primary, state=KeyState.PENDING_DELETION, deletion_date=began + days * DAY
        )
        if not self._keys.update_key_in_state(waiting, KeyState.PENDING_REPLICA_DELETION):
            return  # cancelled meanwhile, or another worker did this
        log.info("key %s: its last replica is deleted; its deletion window begins", primary.arn)

    def sweep(self) -> int:
        """Delete every key whose waiting period is over. Returns how many were deleted.

        Deleting a multi-Region key's last replica can start its primary's window, which may
        already be over too (the dev clock, or a server that was down): a second pass takes it.
        """
        deleted = 0
        for _ in range(_SWEEP_PASSES):
            due = self._keys.read.keys_due_for_deletion(self._clock.now())
            if not due:
                break
            deleted += sum(self.destroy(key) for key in due)
        return deleted
