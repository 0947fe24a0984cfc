"""AWS Query XML replies, written from the botocore model's output shapes.

Element names, list members (``<member>``), map entries, flattening and the result wrapper all
come from the model; values are written as AWS writes them: booleans lower-case, timestamps ISO
8601 in UTC (``2026-11-28T15:00:00Z``), blobs base64, text escaped. IAM sends every policy
document (shape ``policyDocumentType``) URL-encoded, and SDKs decode it; so do we.
"""

from __future__ import annotations

import base64
import datetime
import math
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

__all__ = ["POLICY_DOCUMENT_SHAPE", "escape", "iso8601", "write_shape"]

POLICY_DOCUMENT_SHAPE = "policyDocumentType"

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def escape(text: str) -> str:
    """XML character data; a carriage return is a reference so that parsers keep it."""
    return text.translate(_ESCAPES)


def iso8601(value: float | datetime.datetime) -> str:
    """Epoch seconds (or an aware datetime) as IAM and STS write times: ``2026-11-28T15:00:00Z``,
    whole seconds in UTC."""
    epoch = value.timestamp() if isinstance(value, datetime.datetime) else float(value)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(epoch)))


def _scalar(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso8601(value)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind in ("integer", "long"):
        return str(int(value))
    if kind in ("float", "double"):
        return repr(float(value))
    text = str(value)
    if shape.name == POLICY_DOCUMENT_SHAPE:
        text = urllib.parse.quote(text, safe="")
    return escape(text)


def _element(out: list[str], tag: str, shape: Shape, value: Any) -> None:
    out.append(f"<{tag}>")
    write_shape(out, shape, value)
    out.append(f"</{tag}>")


def _structure(out: list[str], shape: StructureShape, value: Mapping[str, Any]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        tag = member.serialization.get("name", name)
        if member.serialization.get("flattened") and isinstance(member, ListShape | MapShape):
            _flattened(out, tag, member, item)
        else:
            _element(out, tag, member, item)


def _flattened(out: list[str], tag: str, shape: ListShape | MapShape, value: Any) -> None:
    if isinstance(shape, ListShape):
        for item in value:
            _element(out, tag, shape.member, item)
        return
    for key, item in value.items():
        out.append(f"<{tag}>")
        _map_entry(out, shape, key, item)
        out.append(f"</{tag}>")


def _map_entry(out: list[str], shape: MapShape, key: Any, item: Any) -> None:
    _element(out, shape.key.serialization.get("name", "key"), shape.key, key)
    _element(out, shape.value.serialization.get("name", "value"), shape.value, item)


def write_shape(out: list[str], shape: Shape, value: Any) -> None:
    """Append the XML content of ``value`` (of ``shape``) to ``out`` (without its own tag)."""
    if isinstance(shape, StructureShape):
        _structure(out, shape, value)
    elif isinstance(shape, ListShape):
        tag = shape.member.serialization.get("name", "member")
        for item in value:
            _element(out, tag, shape.member, item)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            out.append("<entry>")
            _map_entry(out, shape, key, item)
            out.append("</entry>")
    else:
        out.append(_scalar(shape, value))
