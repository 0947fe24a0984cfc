"""The timed loop: raw keep-alive HTTP/1.1 connections replaying pre-built requests.

The machine is shared with the server under test, so the client does as little as it can:
one ``asyncio.Protocol`` per connection, one request in flight on each, a response parsed
only as far as its status line and ``Content-Length``, and latencies written into a
preallocated array. No coroutine runs per request.
"""

from __future__ import annotations

import asyncio
from array import array
from dataclasses import dataclass
from time import perf_counter_ns
from typing import cast

from benchmarks.signing import RequestPool

__all__ = ["PhaseResult", "run_operation"]

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"
_CONNECTION_CLOSE = b"\r\nconnection: close"
_DRAIN_TIMEOUT_S = 10.0
_RESIGN_CHECK_S = 15.0
_RAMP_STAGGER_S = 0.005
_MAX_RECONNECTS = 1000
_ERROR_BODY_CHARS = 500


@dataclass
class PhaseResult:
    """What one timed phase measured; ``latencies_ns[:completed]`` are the latencies."""

    completed: int
    errors: int
    duration_s: float
    latencies_ns: array[int]
    first_error: str | None
    reconnects: int


class _Phase:
    """Counters shared by the connections during one phase (warm-up or measured)."""

    def __init__(self, pool: RequestPool, latencies: array[int], max_requests: int) -> None:
        self.pool = pool
        self.latencies = latencies
        self.max_requests = max_requests
        self.sent = 0
        self.completed = 0
        self.errors = 0
        self.reconnects = 0
        self.in_flight = 0
        self.first_error: str | None = None
        self.stopping = False
        self.drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def next_request(self) -> bytes | None:
        if self.stopping or self.sent >= self.max_requests:
            return None
        requests = self.pool.requests
        request = requests[self.sent % len(requests)]
        self.sent += 1
        return request

    def record(self, status: int, body: bytes, latency_ns: int) -> None:
        self.latencies[self.completed] = latency_ns
        self.completed += 1
        if status != 200:
            self.error(f"HTTP {status}: {body[:_ERROR_BODY_CHARS].decode(errors='replace')}")

    def error(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message

    def went_idle(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and not self.drained.done():
            self.drained.set_result(None)


class _Client:
    """The connections to one server and the phase they currently serve."""

    def __init__(self, host: str, port: int, phase: _Phase) -> None:
        self.host = host
        self.port = port
        self.phase = phase
        self.connections: list[_Connection] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def ramp_up(self, count: int) -> None:
        """Open ``count`` connections one by one, each put to work at once.

        A multi-process server shares one listening socket; connections opened in a burst
        all land on whichever worker wakes first. Opened under load, they go to the
        worker that is free to accept, which is how real clients arrive.
        """
        for _ in range(count):
            connection = await self.connect()
            self.connections.append(connection)
            connection.start()
            await asyncio.sleep(_RAMP_STAGGER_S)

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: _Connection(self), self.host, self.port)
        return protocol

    def replace(self, dead: _Connection, *, after_error: bool) -> None:
        """Open a fresh connection in place of ``dead`` and keep the load going.

        The dead connection's in-flight slot is reserved for the fresh one first, so that
        the phase never looks drained while a connection is being replaced.
        """
        phase = self.phase
        if phase.stopping or phase.reconnects >= _MAX_RECONNECTS:
            return
        if after_error:
            phase.reconnects += 1
        phase.in_flight += 1
        task = asyncio.get_running_loop().create_task(self._replace(dead, phase))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replace(self, dead: _Connection, phase: _Phase) -> None:
        try:
            fresh = await self.connect()
        except OSError as exc:
            phase.error(f"reconnect failed: {exc!r}")
            phase.went_idle()
            return
        if dead in self.connections:
            self.connections[self.connections.index(dead)] = fresh
        else:
            self.connections.append(fresh)
        if phase is not self.phase or not fresh.start(reserved=True):
            phase.went_idle()

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.close()


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self._fault = "connection lost mid-request"
        self._handover = False
        self._buffer = b""
        self._need = -1
        self._head_end = 0
        self._status = 0
        self._sent_ns = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy:
            self.busy = False
            phase = self.client.phase
            if not self._handover:
                phase.error(f"{self._fault} ({exc!r})")
            self.client.replace(self, after_error=not self._handover)
            phase.went_idle()

    def start(self, *, reserved: bool = False) -> bool:
        """Send the first request of the current phase; say whether there was one.

        ``reserved``: the phase already counts this connection as in flight.
        """
        phase = self.client.phase
        if self.busy:
            return False
        request = phase.next_request()
        if request is None or self.transport is None:
            return False
        self.busy = True
        if not reserved:
            phase.in_flight += 1
        self._sent_ns = perf_counter_ns()
        self.transport.write(request)
        return True

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if (self._need < 0 and not self._parse_head(buffer)) or len(buffer) < self._need:
            self._buffer = buffer
            return
        now = perf_counter_ns()
        phase = self.client.phase
        body = buffer[self._head_end : self._need] if self._status != 200 else b""
        self._buffer = buffer[self._need :]
        self._need = -1
        phase.record(self._status, body, now - self._sent_ns)
        if self._handover and self.transport is not None:
            # The server closes after this response (moto does): continue on a new one.
            self.transport.close()
            return
        request = phase.next_request()
        if request is None or self.transport is None:
            self.busy = False
            phase.went_idle()
            return
        self._sent_ns = perf_counter_ns()
        self.transport.write(request)

    def _parse_head(self, buffer: bytes) -> bool:
        end = buffer.find(_HEADER_END)
        if end < 0:
            return False
        head = buffer[:end].lower()
        self._status = int(head[9:12])
        start = head.find(_CONTENT_LENGTH)
        if start < 0:
            # Without a length the body cannot be delimited: drop the connection.
            self._fault = f"HTTP {self._status} without Content-Length"
            if self.transport is not None:
                self.transport.close()
            return False
        self._handover = _CONNECTION_CLOSE in head
        line_end = head.find(b"\r\n", start + 2)
        value = head[start + len(_CONTENT_LENGTH) : line_end if line_end >= 0 else end]
        self._head_end = end + 4
        self._need = self._head_end + int(value)
        return True


async def _run_phase(client: _Client, phase: _Phase, duration_s: float) -> PhaseResult:
    loop = asyncio.get_running_loop()
    client.phase = phase
    started = perf_counter_ns()
    for connection in client.connections:
        connection.start()
    deadline = loop.time() + duration_s
    while not phase.drained.done() and (remaining := deadline - loop.time()) > 0:
        try:
            await asyncio.wait_for(asyncio.shield(phase.drained), min(remaining, _RESIGN_CHECK_S))
        except TimeoutError:
            phase.pool.refresh_if_old()
    phase.stopping = True
    if not phase.drained.done():
        try:
            await asyncio.wait_for(asyncio.shield(phase.drained), _DRAIN_TIMEOUT_S)
        except TimeoutError:
            phase.error(f"{phase.in_flight} requests unanswered after the run")
    return PhaseResult(
        completed=phase.completed,
        errors=phase.errors,
        duration_s=(perf_counter_ns() - started) / 1e9,
        latencies_ns=phase.latencies,
        first_error=phase.first_error,
        reconnects=phase.reconnects,
    )


async def run_operation(
    host: str,
    port: int,
    pool: RequestPool,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    max_requests: int,
) -> PhaseResult:
    """Ramp up and warm up, then measure ``pool``'s operation over ``concurrency`` connections."""
    latencies = array("q", bytes(8 * max_requests))
    client = _Client(host, port, _Phase(pool, latencies, max_requests))
    try:
        await client.ramp_up(concurrency)
        await _run_phase(client, client.phase, warmup_s)
        for index, connection in enumerate(client.connections):
            if connection.transport is None:
                client.connections[index] = await client.connect()
        measured = _Phase(pool, latencies, max_requests)
        return await _run_phase(client, measured, duration_s)
    finally:
        client.close()
