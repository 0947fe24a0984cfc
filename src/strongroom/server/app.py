"""The ASGI application: raw ASGI on the API path, no framework.

``POST /`` with ``X-Amz-Target`` is the KMS JSON 1.1 API; without it and with a form body it is
the AWS Query protocol, IAM or STS by the service of the signature's credential scope (XML
replies). ``GET /_strongroom/health`` answers liveness. In dev mode,
``POST /_strongroom/reset`` and ``POST /_strongroom/clock`` are served to loopback clients only.
Every response carries ``x-amzn-RequestId``; no error ever carries a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NamedTuple

from strongroom.audit.dbtrail import DbTrail
from strongroom.audit.event import events_for
from strongroom.audit.sink import FileSink
from strongroom.audit.trail import Trail, TrailUnavailable
from strongroom.domain import record
from strongroom.domain.caller import Caller
from strongroom.domain.record import RequestRecord
from strongroom.errors import (
    KMSInternalException,
    RequestEntityTooLargeException,
    ServiceError,
    UnknownOperationException,
    UnsupportedOperationException,
)
from strongroom.iam import api as iam_api
from strongroom.iam import sts
from strongroom.kms.due_work import run_due_work
from strongroom.kms.explain import explain_operation
from strongroom.kms.operations import call
from strongroom.protocol import query, sigv4
from strongroom.protocol.json11 import CONTENT_TYPE, decode_body, encode_error, encode_result
from strongroom.protocol.shapes import ServiceModel
from strongroom.server import cloudtrail, devroutes
from strongroom.server.request_log import RequestLog
from strongroom.server.runtime import (
    Runtime,
    archive_trail,
    build_runtime,
    open_trail,
    settings_from_env,
)
from strongroom.server.trail_index import TrailIndexer
from strongroom.server.trail_writer import SOCKET_ENV, TrailClient
from strongroom.storage import StorageError
from strongroom.storage.trail_sql import TrailSql

__all__ = ["MAX_BODY_BYTES", "StrongroomApp", "create_app"]

log = logging.getLogger("strongroom.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
SWEEP_SECONDS = 5.0
WRITER_WAIT_S = 60.0  # at startup, how long a worker waits for the trail's writer to listen
_TARGET_PREFIX = "TrentService."
# Admin-only: why a request would be allowed or denied (an account root, for its own account).
_EXPLAIN_TARGET = "StrongroomAdmin.ExplainDecision"
_QUERY_SERVICES = ("iam", "sts")
_HEALTH = "GET /_strongroom/health"  # a probe, not an API call: not in the audit trail


class _RequestIds:
    """Random (version 4) UUIDs in their usual text form, as AWS's request ids: in a quarter of
    the time of ``str(uuid.uuid4())``, and one system call per 256 of them (``os.urandom`` fills
    a block whose 16-byte slots get their version and variant bits at once). A request id is a
    name, not a secret; a process forked from this one draws a block of its own."""

    __slots__ = ("_at", "_block")

    _BLOCK = 4096

    def __init__(self) -> None:
        self._block = bytearray()
        self._at = 0
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        self._block, self._at = bytearray(), 0

    def __call__(self) -> str:
        at = self._at
        if at >= len(self._block):
            block = self._block = bytearray(os.urandom(self._BLOCK))
            at = 0
            for slot in range(0, self._BLOCK, 16):
                block[slot + 6] = (block[slot + 6] & 0x0F) | 0x40  # version 4
                block[slot + 8] = (block[slot + 8] & 0x3F) | 0x80  # RFC 4122 variant
        self._at = at + 16
        h = self._block[at : at + 16].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_request_id = _RequestIds()


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


class _Reply(NamedTuple):
    """A response, made before it is sent: the audit trail has its event first."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]
    content_type: bytes = CONTENT_TYPE


def _failed(rec: RequestRecord, error: ServiceError) -> _Reply:
    """The reply for ``error``, noted in the record."""
    rec.status, rec.error_code, rec.error_message = error.status, error.code, error.message
    status, body = encode_error(error)
    return _Reply(status, body, [(b"x-amzn-errortype", error.code.encode())])


async def _send(send: Send, reply: _Reply, request_id: str) -> None:
    headers = [
        (b"content-type", reply.content_type),
        (b"content-length", str(len(reply.body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
        *reply.headers,
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def _is_query(headers: dict[str, str]) -> bool:
    """A Query request: no X-Amz-Target, a form body (charset parameters allowed)."""
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return "x-amz-target" not in headers and kind == query.FORM_CONTENT_TYPE


def _query_service(headers: dict[str, str]) -> query.QueryService:
    """IAM or STS by the credential scope; IAM (for its error namespace) when there is none."""
    try:
        name = sigv4.parse_authorization(headers).service
    except ServiceError:
        name = "iam"
    return query.QueryService.load(name if name in _QUERY_SERVICES else "iam")


def _client(scope: Scope) -> tuple[str, bool]:
    """The caller's address and whether it came over TLS (for aws:SourceIp, SecureTransport)."""
    client = scope.get("client")
    return (client[0] if client else "127.0.0.1"), scope.get("scheme") == "https"


class StrongroomApp:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._sweeper: asyncio.Task[None] | None = None
        self.request_log = RequestLog() if runtime.settings.request_log else None
        # Under ``strongroom serve`` the trail's writer and indexer are processes of their own
        # (server/workers.py): this worker commits through the writer's socket. Run in process
        # (an embedding, a test), the app writes the trail and indexes it in its sweep.
        # With ``audit_store = "database"`` every worker of every node appends to the one chain
        # in the database (PostgreSQL does the group commit) and indexes it in its sweep.
        settings = runtime.settings
        writer_socket = os.environ.get(SOCKET_ENV)
        self.trail: Trail | TrailClient | DbTrail | None = None
        self._sink: FileSink | None = None
        if settings.audit and settings.audit_store == "database":
            self.trail = _open_db_trail(runtime)
        elif settings.audit and writer_socket:
            self.trail = TrailClient(writer_socket, settings.trail_dir)
        elif settings.audit:
            self.trail, self._sink = open_trail(settings, runtime.kms.keystore)
        self._index_in_sweep = not isinstance(self.trail, TrailClient)
        self.indexer: TrailIndexer | None = None
        if self.trail is not None:
            # Rotations, deletions, expiries and replicas made by the service, each recorded by
            # the call whose write made it (KmsService.emit logs a failure; the change stands).
            runtime.kms.service_events = self.trail.commit_sync
            # The trail's index: caught up in every sweep, and before each read of it.
            self.indexer = _open_indexer(self.trail, runtime)
            runtime.kms.trail_index = self.indexer.catch_up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        source_ip, secure = _client(scope)
        rec = RequestRecord(_request_id(), time.time(), source_ip, tls=secure)
        token = record.opened(rec)
        try:
            reply = await self._serve(scope, receive, rec)
            if self.trail is not None and rec.action != _HEALTH:
                reply = await self._audited(rec, reply)
            await _send(send, reply, rec.request_id)
        finally:
            record.closed(token)
            rec.duration_ms = round((time.perf_counter() - began) * 1000, 3)
            if self.request_log is not None:
                self.request_log.write(rec)

    async def _audited(self, rec: RequestRecord, reply: _Reply) -> _Reply:
        """``reply`` once the call's events are on disk; if they cannot be written, a server
        error instead (nothing is acknowledged unaudited; the trail recovers by itself)."""
        assert self.trail is not None
        try:
            await self.trail.commit(events_for(rec))
        except TrailUnavailable as exc:
            log.error("the audit trail cannot be written (%s): %s refused", exc, rec.action)
        except Exception:
            log.exception("the audit event of %s could not be made or written", rec.action)
        else:
            return reply
        return _failed(rec, KMSInternalException("An internal error occurred."))

    async def _serve(self, scope: Scope, receive: Receive, rec: RequestRecord) -> _Reply:
        try:
            body = await _read_body(scope, receive)
        except _TooLarge:
            return _failed(rec, RequestEntityTooLargeException("Request body is too large."))
        path, method = scope["path"], scope["method"]
        headers = _headers(scope)
        rec.user_agent = headers.get("user-agent")
        if rec.tls:
            rec.host = headers.get("host")
            tls = scope.get("extensions", {}).get("tls", {})
            rec.tls_version, rec.tls_cipher = tls.get("tls_version"), tls.get("cipher_suite")
        if path == "/" and method == "POST" and _is_query(headers):
            return self._query(scope, headers, body, rec)
        try:
            if path == "/" and method == "POST":
                if headers.get("x-amz-target", "").startswith(cloudtrail.TARGET_PREFIX):
                    result = self._cloudtrail(scope, headers, body, rec)
                else:
                    result = self._kms(scope, headers, body, rec)
            elif path.startswith("/_strongroom/"):
                rec.service, rec.action = "admin", f"{method} {path}"
                result = devroutes.handle(self.runtime, scope, method, path, body)
            else:
                raise UnknownOperationException(f"No operation is served at {method} {path}.")
        except ServiceError as error:
            return _failed(rec, error)
        except Exception:
            log.exception("internal error while serving %s %s", method, path)
            return _failed(rec, KMSInternalException("An internal error occurred."))
        return _Reply(200, result, [])

    def _authenticate(
        self,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        rec: RequestRecord,
        service: str | None = None,
    ) -> Caller:
        runtime = self.runtime
        runtime.refresh()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            caller = runtime.auth.authenticate(
                "POST",
                raw_path.decode("latin-1"),
                scope["query_string"].decode("latin-1"),
                headers,
                body,
                service=service,
                source_ip=rec.source_ip,
                secure_transport=rec.tls,
            )
        except ServiceError:
            # Refused: the record still names the access key the request claims (not a
            # secret), so that a key that is unknown, expired or misused can be traced.
            with contextlib.suppress(ServiceError):
                rec.access_key_id = sigv4.parse_authorization(headers).access_key_id
            raise
        rec.principal, rec.region = caller.principal, caller.region
        rec.access_key_id, rec.session_credentials = caller.access_key_id, caller.session_token
        rec.session_created, rec.via_service = caller.session_created, caller.via_service
        return caller

    def _query(
        self, scope: Scope, headers: dict[str, str], body: bytes, rec: RequestRecord
    ) -> _Reply:
        """An IAM or STS request: XML replies and errors, with the request id in both."""
        request_id = rec.request_id
        service = _query_service(headers)
        rec.service = service.name
        try:
            caller = self._authenticate(scope, headers, body, rec, service.name)
            action, params = service.decode(body)
            rec.action = action
            rec.request, rec.hidden = params, service.validator.hidden_members(action)
            result = rec.response = self._query_call(service.name, caller, action, params)
            reply = service.encode_result(action, result, request_id)
            status = 200
        except ServiceError as error:
            status, rec.error_code, reply = service.encode_error(error, request_id)
            rec.error_message = error.message
        except Exception:
            log.exception("internal error while serving %s", service.name)
            internal = KMSInternalException("An internal error occurred.")
            status, rec.error_code, reply = service.encode_error(internal, request_id)
            rec.error_message = internal.message
        rec.status = status
        return _Reply(status, reply, [], query.CONTENT_TYPE)

    def _query_call(
        self, service: str, caller: Caller, action: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if service == "iam":
            result = iam_api.call(self.runtime.iam, caller, action, params)
        else:
            operation = sts.OPERATIONS.get(action)
            if operation is None:
                raise UnsupportedOperationException(f"{action} is not yet supported by Strongroom.")
            result = operation(self.runtime.iam, caller, params)
        return result

    def _kms(self, scope: Scope, headers: dict[str, str], body: bytes, rec: RequestRecord) -> bytes:
        runtime = self.runtime
        caller = self._authenticate(scope, headers, body, rec)
        target = headers.get("x-amz-target", "")
        if target == _EXPLAIN_TARGET:
            rec.service, rec.action = "admin", "ExplainDecision"
            params = runtime.model.validate_admin(target, decode_body(body))
            rec.request = params
            return encode_result(explain_operation(runtime.kms, caller, params))
        operation = target[len(_TARGET_PREFIX) :] if target.startswith(_TARGET_PREFIX) else ""
        if operation not in runtime.model.operation_names:
            raise UnknownOperationException(f"Unknown operation {target!r}.")
        rec.action = operation
        params = runtime.model.validate(operation, decode_body(body))
        rec.request, rec.hidden = params, runtime.model.hidden_members(operation)
        rec.response = result = call(runtime.kms, caller, operation, params)
        return encode_result(result)

    def _cloudtrail(
        self, scope: Scope, headers: dict[str, str], body: bytes, rec: RequestRecord
    ) -> bytes:
        """CloudTrail's JSON 1.1 API (signed for ``cloudtrail``): LookupEvents, from the trail."""
        rec.service = "cloudtrail"
        caller = self._authenticate(scope, headers, body, rec, "cloudtrail")
        operation = headers["x-amz-target"][len(cloudtrail.TARGET_PREFIX) :]
        model = ServiceModel.load("cloudtrail")
        if operation not in model.operation_names:
            raise UnknownOperationException(f"Unknown operation {headers['x-amz-target']!r}.")
        rec.action = operation
        if operation != "LookupEvents":
            raise UnsupportedOperationException(f"{operation} is not supported by Strongroom.")
        params = model.validate(operation, decode_body(body))
        rec.request, rec.hidden = params, model.hidden_members(operation)
        if self.indexer is None:
            raise UnsupportedOperationException("The audit trail is turned off on this server.")
        iam = self.runtime.iam
        rec.response = result = cloudtrail.lookup_events(
            iam, self.indexer, iam.storage, caller, params
        )
        return encode_result(result)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if isinstance(self.trail, TrailClient):  # started beside it: wait to listen
                    await self.trail.wait_until_reachable(WRITER_WAIT_S)
                for name in _QUERY_SERVICES:  # compile the models now, not on a first request
                    query.QueryService.load(name)
                ServiceModel.load("cloudtrail")
                self._sweeper = asyncio.create_task(self._sweep_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.request_log is not None:
                    self.request_log.flush()
                if self._sweeper is not None:
                    self._sweeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._sweeper
                if self.trail is not None:
                    self.trail.close()  # its closing digest
                if self._sink is not None:
                    self._sink.close()
                self.runtime.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _sweep_forever(self) -> None:
        """Do the work that falls due with time (deletions, rotations, expiring imported
        material), even if nobody asks for the keys; index the trail's new events (in a thread,
        so that requests are served meanwhile)."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                self.runtime.refresh()
                run_due_work(self.runtime.kms)
            except Exception:
                log.exception("the sweep of due work failed; will retry")
            if self.indexer is not None and self._index_in_sweep:
                try:
                    await asyncio.to_thread(self.indexer.sweep)
                except Exception:
                    log.exception("indexing the audit trail failed; will retry")
            if isinstance(self.trail, Trail):  # retention is for the trail's files
                try:
                    await asyncio.to_thread(archive_trail, self.runtime.settings)
                except Exception:
                    log.exception("archiving the audit trail failed; will retry")


def _open_db_trail(runtime: Runtime) -> DbTrail:
    """One chain for every node, in the database (docs/audit.md, "The trail in the database")."""
    settings = runtime.settings
    rows = TrailSql(settings.database_url)
    try:
        return DbTrail(
            rows,
            runtime.kms.keystore.audit_signer(),
            digest_seconds=settings.audit_digest_seconds,
            errors=(StorageError,),
        )
    except BaseException:
        rows.close()
        raise


def _open_indexer(trail: Trail | TrailClient | DbTrail, runtime: Runtime) -> TrailIndexer:
    if isinstance(trail, DbTrail):  # index.lock in the node's data directory
        return TrailIndexer(runtime.settings.data_dir, runtime.iam.storage, source=trail)
    return TrailIndexer(trail.directory, runtime.iam.storage)


def create_app() -> StrongroomApp:
    """uvicorn factory: builds the runtime from the settings ``strongroom serve`` passed down."""
    return StrongroomApp(build_runtime(settings_from_env()))
