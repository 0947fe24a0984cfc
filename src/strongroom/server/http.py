"""uvicorn's httptools protocol, writing each response with one system call.

uvicorn writes a response in two calls to the transport: the status line and headers when the
application sends ``http.response.start``, then the body. On loopback and on a busy server each
write is a system call that costs about as much as a small request's own work. Here the
protocol's transport gathers what is written during one turn of the event loop and hands it to
the socket in one write at the end of that turn (or at once before a close), so a response
whose body follows its start (every Strongroom response) leaves in one piece. Bytes and their
order are unchanged; nothing waits longer than the turn of the loop it was written in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneWriteHttpToolsProtocol"]


class _GatheringTransport:
    """A transport that sends what is written within one loop turn in one ``write``."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if self._transport.is_closing():  # the peer went away: nobody to send it to
            return
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """Also tells the application, on TLS, what the connection agreed on: the scope's
    ``extensions["tls"]`` holds ``tls_version`` and ``cipher_suite`` (for CloudTrail's
    ``tlsDetails``)."""

    _tls: dict[str, str] | None = None

    def connection_made(self, transport: Any) -> None:  # uvloop's TCPTransport, or asyncio's
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            cipher = ssl_object.cipher()
            self._tls = {"tls_version": ssl_object.version() or "", "cipher_suite": cipher[0]}
        gathering: Any = _GatheringTransport(transport, self.loop)
        super().connection_made(gathering)

    def on_headers_complete(self) -> None:
        if self._tls is not None:
            scope: Any = self.scope
            scope.setdefault("extensions", {})["tls"] = self._tls
        super().on_headers_complete()
