"""The ASGI application: raw ASGI on the API path, no framework.

``POST /`` is the KMS JSON 1.1 API. ``GET /_strongroom/health`` answers liveness. In dev mode,
``POST /_strongroom/reset`` and ``POST /_strongroom/clock`` are served to loopback clients only.
Every response carries ``x-amzn-RequestId``; no error ever carries a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from strongroom.errors import (
    KMSInternalException,
    RequestEntityTooLargeException,
    ServiceError,
    UnknownOperationException,
)
from strongroom.kms.operations import call
from strongroom.protocol.json11 import CONTENT_TYPE, decode_body, encode_error, encode_result
from strongroom.server import devroutes
from strongroom.server.runtime import Runtime, build_runtime, settings_from_env

__all__ = ["MAX_BODY_BYTES", "StrongroomApp", "create_app"]

log = logging.getLogger("strongroom.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
SWEEP_SECONDS = 5.0
_TARGET_PREFIX = "TrentService."


class _TooLarge(Exception):
    pass


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


async def _respond(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", CONTENT_TYPE),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, error: ServiceError) -> None:
    status, body = encode_error(error)
    await _respond(send, status, body, [(b"x-amzn-errortype", error.code.encode())])


class StrongroomApp:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._sweeper: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await _read_body(scope, receive)
        except _TooLarge:
            await _error(send, RequestEntityTooLargeException("Request body is too large."))
            return
        path, method = scope["path"], scope["method"]
        try:
            if path == "/" and method == "POST":
                result = self._kms(scope, body)
            elif path.startswith("/_strongroom/"):
                result = devroutes.handle(self.runtime, scope, method, path, body)
            else:
                raise UnknownOperationException(f"No operation is served at {method} {path}.")
        except ServiceError as error:
            await _error(send, error)
            return
        except Exception:
            log.exception("internal error while serving %s %s", method, path)
            await _error(send, KMSInternalException("An internal error occurred."))
            return
        await _respond(send, 200, result, [])

    def _kms(self, scope: Scope, body: bytes) -> bytes:
        runtime = self.runtime
        headers = _headers(scope)
        if runtime.kms.refresh():
            runtime.auth.clear()
            runtime.iam.clear_caches()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        caller = runtime.auth.authenticate(
            "POST",
            raw_path.decode("latin-1"),
            scope["query_string"].decode("latin-1"),
            headers,
            body,
        )
        target = headers.get("x-amz-target", "")
        operation = target[len(_TARGET_PREFIX) :] if target.startswith(_TARGET_PREFIX) else ""
        if operation not in runtime.model.operation_names:
            raise UnknownOperationException(f"Unknown operation {target!r}.")
        params = runtime.model.validate(operation, decode_body(body))
        return encode_result(call(runtime.kms, caller, operation, params))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._sweeper = asyncio.create_task(self._sweep_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._sweeper is not None:
                    self._sweeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._sweeper
                self.runtime.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _sweep_forever(self) -> None:
        """Destroy keys whose deletion window has passed, even if nobody asks for them."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                self.runtime.kms.refresh()
                self.runtime.kms.sweep_deletions()
            except Exception:
                log.exception("deletion sweep failed; will retry")


def create_app() -> StrongroomApp:
    """uvicorn factory: builds the runtime from the settings ``strongroom serve`` passed down."""
    return StrongroomApp(build_runtime(settings_from_env()))
