"""The AWS Query protocol (IAM, STS): form-encoded requests in, XML replies out.

A request is ``POST /`` with ``Content-Type: application/x-www-form-urlencoded`` and a body like
``Action=CreateUser&Version=2010-05-08&UserName=alice&Tags.member.1.Key=k``. The flat names are
decoded into the nested values the operation's input shape describes (lists ``X.member.N``, maps
``X.entry.N.key``/``.value``, structures ``X.Member``, scalars converted by shape type), then
validated with :class:`~strongroom.protocol.shapes.ServiceModel`: the model is the schema.

Replies are written from the output shapes (:mod:`strongroom.protocol.xml`). Errors share the
exception tree with KMS; the table below is the one place that renames the shared classes to their
Query codes and statuses (``ValidationException`` -> ``ValidationError``, ``AccessDeniedException``
-> ``AccessDenied`` 403 ...), so KMS's JSON errors are unchanged.
"""

from __future__ import annotations

import datetime
import re
import threading
import urllib.parse
from typing import Any, ClassVar

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.model import ServiceModel as BotocoreModel

from strongroom import errors
from strongroom.protocol.shapes import ServiceModel
from strongroom.protocol.xml import escape, write_shape

__all__ = ["CONTENT_TYPE", "FORM_CONTENT_TYPE", "QueryService", "query_error"]

CONTENT_TYPE = b"text/xml"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

_QUERY_ERRORS: dict[type[errors.ServiceError], tuple[str, int]] = {
    errors.ValidationException: ("ValidationError", 400),
    errors.SerializationException: ("ValidationError", 400),
    errors.UnknownOperationException: ("InvalidAction", 400),
    errors.MissingAuthenticationTokenException: ("MissingAuthenticationToken", 403),
    errors.IncompleteSignatureException: ("IncompleteSignature", 400),
    errors.InvalidSignatureException: ("SignatureDoesNotMatch", 403),
    errors.UnrecognizedClientException: ("InvalidClientTokenId", 403),
    errors.ExpiredTokenException: ("ExpiredToken", 403),
    errors.AccessDeniedException: ("AccessDenied", 403),
    errors.ThrottlingException: ("Throttling", 400),
    errors.RequestEntityTooLargeException: ("RequestEntityTooLarge", 413),
    errors.LimitExceededException: ("LimitExceeded", 409),
    errors.MalformedPolicyDocumentException: ("MalformedPolicyDocument", 400),
    errors.UnsupportedOperationException: ("NotImplemented", 501),
    errors.KMSInternalException: ("InternalFailure", 500),
}

_INTEGER = re.compile(r"[+-]?\d{1,19}")


def query_error(error: errors.ServiceError) -> tuple[str, int]:
    """The Query code and HTTP status of ``error`` (its own, unless the table renames it)."""
    return _QUERY_ERRORS.get(type(error), (error.code, error.status))


_Tree = dict[str, Any]  # flat parameter names split on ".": nested dicts; "" holds a node's value


def _tree(body: bytes) -> _Tree:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.SerializationException("The request body is not valid UTF-8.") from None
    root: _Tree = {}
    for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        node = root
        for part in name.split("."):
            node = node.setdefault(part, {})
        node[""] = value
    return root


def _indexed(node: _Tree) -> list[_Tree]:
    """The children ``1``, ``2`` ... of a list or map node, in index order."""
    items = [(int(k), v) for k, v in node.items() if k.isdigit()]
    return [v for _, v in sorted(items, key=lambda kv: kv[0])]


def _scalar(shape: Shape, text: str) -> object:
    kind = shape.type_name
    if kind in ("integer", "long") and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "timestamp":
        return _timestamp(text)
    return text  # strings; blobs stay base64 for the validator; bad numbers fail validation


def _timestamp(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def _convert(shape: Shape, node: _Tree) -> object:
    if isinstance(shape, StructureShape):
        out: dict[str, object] = {}
        for name, member in shape.members.items():
            child = node.get(member.serialization.get("name", name))
            if child is not None:
                value = _convert(member, child)
                if value is not None:
                    out[name] = value
        return out
    if isinstance(shape, ListShape):
        if not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
        return [_convert(shape.member, item) for item in _indexed(node)]
    if isinstance(shape, MapShape):
        if not shape.serialization.get("flattened"):
            node = node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries = ((e.get(key_name, {}).get(""), e.get(value_name)) for e in _indexed(node))
        return {k: _convert(shape.value, v) for k, v in entries if k is not None and v is not None}
    text = node.get("")
    return None if text is None else _scalar(shape, text)


def _load_raw(name: str) -> dict[str, Any]:
    loader = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    )
    raw: dict[str, Any] = loader.load_service_model(name, "service-2")
    return raw


class QueryService:
    """One Query service (``iam``, ``sts``): its model, validation and XML namespace."""

    _cache: ClassVar[dict[str, QueryService]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name
        self.model = BotocoreModel(_load_raw(name), name)
        self.validator = ServiceModel.load(name)
        self.version: str = self.model.api_version
        self.namespace: str = self.model.metadata["xmlNamespace"]

    @classmethod
    def load(cls, name: str) -> QueryService:
        with cls._lock:
            found = cls._cache.get(name)
            if found is None:
                found = cls._cache[name] = cls(name)
            return found

    def operation(self, name: str) -> OperationModel:
        return self.model.operation_model(name)

    def decode(self, body: bytes) -> tuple[str, dict[str, Any]]:
        """The action and its validated parameters. Unknown actions or versions are refused."""
        action, params = self.read(body)
        return action, self.validator.validate(action, params)

    def read(self, body: bytes) -> tuple[str, dict[str, Any]]:
        """The action and its parameters as the input shape nests them, not yet validated."""
        tree = _tree(body)
        action = tree.pop("Action", {}).get("", "")
        if not action:
            raise errors.MissingActionException("Missing Action")
        version = tree.pop("Version", {}).get("") or "NO_VERSION_SPECIFIED"
        if action not in self.validator.operation_names or version != self.version:
            raise errors.UnknownOperationException(
                f"Could not find operation {action} for version {version}"
            )
        shape = self.operation(action).input_shape
        params = _convert(shape, tree) if shape is not None else {}
        assert isinstance(params, dict)
        return action, params

    def encode_result(self, action: str, result: dict[str, Any], request_id: str) -> bytes:
        operation = self.operation(action)
        out = [f'<{action}Response xmlns="{self.namespace}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{action}Result")
            out.append(f"<{wrapper}>")
            write_shape(out, shape, result)
            out.append(f"</{wrapper}>")
        out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
        out.append(f"</{action}Response>")
        return "".join(out).encode("utf-8")

    def encode_error(self, error: errors.ServiceError, request_id: str) -> tuple[int, str, bytes]:
        """Status, Query code and body of an ``ErrorResponse``."""
        code, status = query_error(error)
        kind = "Receiver" if status >= 500 else "Sender"
        message = "" if error.message is None else f"<Message>{escape(error.message)}</Message>"
        body = (
            f'<ErrorResponse xmlns="{self.namespace}"><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code>{message}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, code, body.encode("utf-8")
