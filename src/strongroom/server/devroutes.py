"""Administrative routes under ``/_strongroom/``: health always; reset and time travel in dev mode,
for loopback clients only (unless ``--dev-allow-remote``)."""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping
from typing import Any

import orjson

from strongroom.errors import (
    AccessDeniedException,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from strongroom.kms.due_work import run_due_work
from strongroom.server.runtime import Runtime

__all__ = ["MAX_CLOCK_OFFSET_SECONDS", "handle"]

# A century: far enough for any deletion window or expiry, near enough that every date the
# service writes stays a date that SDKs can parse.
MAX_CLOCK_OFFSET_SECONDS = 100 * 365 * 86_400


def _is_loopback(scope: MutableMapping[str, Any]) -> bool:
    """True for a client on a loopback address (IPv4, IPv6 or IPv4-mapped IPv6); never a name."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


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
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise SerializationException("advance_seconds must be a non-negative number.")
    kms = runtime.kms
    kms.refresh()
    if not 0 <= seconds <= MAX_CLOCK_OFFSET_SECONDS - kms.clock.offset:
        raise ValidationException(
            "advance_seconds must be a non-negative number that keeps the clock within "
            f"{MAX_CLOCK_OFFSET_SECONDS} seconds ({MAX_CLOCK_OFFSET_SECONDS // 31_536_000} years) "
            "of real time."
        )
    offset = kms.clock.advance(float(seconds))
    kms.set_clock_offset(offset)
    return {"offset_seconds": offset, "now": kms.clock.now(), **run_due_work(kms)}


def handle(
    runtime: Runtime, scope: MutableMapping[str, Any], method: str, path: str, body: bytes
) -> bytes:
    if path == "/_strongroom/health" and method == "GET":
        return orjson.dumps({"status": "ok", "dev": runtime.settings.dev})
    if path == "/_strongroom/reset" and method == "POST":
        _dev_only(runtime, scope)
        runtime.kms.reset()
        return orjson.dumps({"reset": True})
    if path == "/_strongroom/clock" and method == "POST":
        _dev_only(runtime, scope)
        return orjson.dumps(_advance(runtime, body))
    raise UnknownOperationException(f"No operation is served at {method} {path}.")
