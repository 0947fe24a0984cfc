"""Group commit: concurrent ``commit()`` calls in one event loop share one flush.

While one flush runs in a worker thread (``asyncio.to_thread``), the calls that arrive meanwhile
gather into the next batch; each call returns when the flush holding its events is done, or
raises what it raised (a cancelled flush as :class:`TrailUnavailable`). The file trail and the
database trail are both a :class:`Committer`: they say how a batch is written (``_append``).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

__all__ = ["Committer", "GroupCommit", "TrailUnavailable"]


class TrailUnavailable(Exception):
    """The trail could not be written: nothing of the batch is acknowledged (fail closed)."""


class GroupCommit:
    def __init__(self, flush: Callable[[list[bytes]], None]) -> None:
        self._flush = flush
        self._pending: list[tuple[list[bytes], asyncio.Future[None]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def commit(self, encoded: list[bytes]) -> None:
        """Return once ``encoded`` (serialised events) are flushed, in this order."""
        if not encoded:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((encoded, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                lines = [event for encoded, _ in batch for event in encoded]
                try:
                    await asyncio.to_thread(self._flush, lines)
                except BaseException as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(
                                TrailUnavailable(str(exc))
                                if isinstance(exc, TrailUnavailable | asyncio.CancelledError)
                                else exc
                            )
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._drainer = None


class Committer(abc.ABC):
    """A trail's ``commit`` (group commit, for one event loop) and ``commit_sync`` (for callers
    without one), over its ``_append`` of a batch of serialised events."""

    def __init__(self) -> None:
        self._group = GroupCommit(self._append)

    async def commit(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Return once ``events`` are durable (in this order, consecutive seqs); raise
        :class:`TrailUnavailable` if they could not be written."""
        await self._group.commit([orjson.dumps(event) for event in events])

    def commit_sync(self, events: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`commit` for callers without an event loop (blocks until durable)."""
        encoded = [orjson.dumps(event) for event in events]
        if encoded:
            self._append(encoded)

    @abc.abstractmethod
    def _append(self, encoded: list[bytes]) -> None:
        """Write the batch durably, or raise :class:`TrailUnavailable`."""
