"""Administrative routes under ``/_strongroom/``: health always; reset and time travel in dev mode,
for loopback clients only (unless ``--dev-allow-remote``)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import orjson

from strongroom.errors import (
    AccessDeniedException,
    SerializationException,
    UnknownOperationException,
)
from strongroom.kms.service import CLOCK_OFFSET_META
from strongroom.server.runtime import Runtime

__all__ = ["handle"]

_LOOPBACK = ("127.", "::1", "localhost")


def _is_loopback(scope: MutableMapping[str, Any]) -> bool:
    client = scope.get("client")
    return bool(client) and str(client[0]).startswith(_LOOPBACK)


def _dev_only(runtime: Runtime, scope: MutableMapping[str, Any]) -> None:
    if not runtime.settings.dev:
        raise UnknownOperationException("This route is only served in dev mode (--dev).")
    if not runtime.settings.dev_allow_remote and not _is_loopback(scope):
        raise AccessDeniedException("Dev routes answer loopback clients only.")


def _advance(runtime: Runtime, body: bytes) -> dict[str, Any]:
    try:
        request = orjson.loads(body or b"{}")
        seconds = request["advance_seconds"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise SerializationException('Expected a JSON body {"advance_seconds": N}.') from None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise SerializationException("advance_seconds must be a non-negative number.")
    kms = runtime.kms
    kms.refresh()
    offset = kms.clock.advance(float(seconds))
    kms.storage.set_meta(CLOCK_OFFSET_META, repr(offset))
    kms.changed()
    deleted = kms.sweep_deletions()
    return {"offset_seconds": offset, "now": kms.clock.now(), "keys_deleted": deleted}


def handle(
    runtime: Runtime, scope: MutableMapping[str, Any], method: str, path: str, body: bytes
) -> bytes:
    if path == "/_strongroom/health" and method == "GET":
        return orjson.dumps({"status": "ok", "dev": runtime.settings.dev})
    if path == "/_strongroom/reset" and method == "POST":
        _dev_only(runtime, scope)
        runtime.kms.storage.reset()
        runtime.kms.changed()
        return orjson.dumps({"reset": True})
    if path == "/_strongroom/clock" and method == "POST":
        _dev_only(runtime, scope)
        return orjson.dumps(_advance(runtime, body))
    raise UnknownOperationException(f"No operation is served at {method} {path}.")
