"""The one-write protocol: what is written in one turn of the loop leaves in one write."""

from __future__ import annotations

import asyncio

from strongroom.server.http import _GatheringTransport


class _Socket:
    """Stands in for uvloop's transport: records each write (an external component)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_a_response_written_in_two_calls_leaves_in_one() -> None:
    async def scenario() -> list[bytes]:
        sock = _Socket()
        gathering = _GatheringTransport(sock, asyncio.get_running_loop())
        gathering.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        gathering.write(b"{}")
        assert sock.writes == []  # nothing yet: the turn is not over
        await asyncio.sleep(0)
        gathering.write(b"next")  # the next response, in a later turn
        await asyncio.sleep(0)
        return sock.writes

    assert asyncio.run(scenario()) == [
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
        b"next",
    ]


def test_close_sends_what_is_pending_first_and_a_closed_peer_gets_nothing() -> None:
    async def scenario() -> tuple[list[bytes], bool, list[bytes]]:
        sock = _Socket()
        gathering = _GatheringTransport(sock, asyncio.get_running_loop())
        gathering.write(b"last")
        gathering.close()
        first = (list(sock.writes), sock.closed)
        gone = _Socket()
        late = _GatheringTransport(gone, asyncio.get_running_loop())
        late.write(b"lost")
        gone.closed = True  # the peer went away before the turn ended
        await asyncio.sleep(0)
        return first[0], first[1], gone.writes

    writes, closed, lost = asyncio.run(scenario())
    assert writes == [b"last"]
    assert closed
    assert lost == []


def test_everything_else_is_the_transports() -> None:
    async def scenario() -> str:
        gathering = _GatheringTransport(_Socket(), asyncio.get_running_loop())
        return str(gathering.get_extra_info("peername"))

    assert asyncio.run(scenario()) == "info:peername"
