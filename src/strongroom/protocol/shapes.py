"""Request validation against the service model that the installed botocore ships.

The model is the schema: each operation's input shape is compiled once, at load, into a tree of
small validator nodes (``shapes_nodes``, ``shapes_containers``), so that :meth:`validate` on the
hot path only walks the request's own values. It checks JSON types the way AWS's deserialiser
does (``SerializationException``), then every ``required`` / ``min`` / ``max`` / ``pattern`` /
``enum`` trait, answering all violations at once in AWS's ``ValidationException`` wording, and
returns typed values: ``bytes`` for blobs, ``float`` epoch seconds for timestamps, ``int``,
``bool``, ``str``, and lists and dicts of them. Rules that are not in the model belong to the
operations.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.loaders import Loader

from strongroom.errors import SerializationException, UnknownOperationException, ValidationException
from strongroom.protocol.shapes_containers import ListNode, MapNode, Member, StructureNode
from strongroom.protocol.shapes_nodes import (
    LIST_START,
    BlobNode,
    BooleanNode,
    FloatNode,
    IntegerNode,
    Node,
    Scalar,
    StringNode,
    TimestampNode,
)
from strongroom.protocol.shapes_regex import expand_categories

__all__ = ["ServiceModel", "java_regex", "lower_camel"]


def lower_camel(name: str) -> str:
    """Coral's path name for a member: ``NumberOfBytes`` -> ``numberOfBytes``."""
    return name[:1].lower() + name[1:]


def java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a model (Java) pattern for ``fullmatch``, Java's ``matches()``.

    Java's ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only (hence ``re.ASCII``), and its
    ``\\z`` is Python's ``\\Z``. ``\\uHHHH`` escapes, ``^``/``$`` and character classes mean the
    same in both; Java's ``\\p{L}``-style categories are spelt out (``shapes_regex``). A pattern
    Python cannot compile fails the load, loudly.
    """
    return re.compile(expand_categories(pattern.replace(r"\z", r"\Z")), re.ASCII)


class _Compiler:
    """Turns shapes into nodes, one node per shape (nodes hold no path, so they are shared)."""

    def __init__(self, shapes: Mapping[str, Mapping[str, Any]]) -> None:
        self._shapes = shapes
        self._done: dict[str, Node] = {}
        self._busy: set[str] = set()

    def node(self, name: str) -> Node:
        found = self._done.get(name)
        if found is None:
            if name in self._busy:
                raise ValueError(f"recursive shape {name} is not supported")
            self._busy.add(name)
            found = self._done[name] = self._build(self._shapes[name])
            self._busy.discard(name)
        return found

    def scalar(self, name: str) -> Scalar:
        node = self.node(name)
        if not isinstance(node, Scalar):
            raise TypeError(f"map key shape {name} is not a scalar")
        return node

    def _build(self, shape: Mapping[str, Any]) -> Node:
        kind = shape["type"]
        sensitive = bool(shape.get("sensitive", False))
        lo, hi = shape.get("min"), shape.get("max")
        if kind == "string":
            pattern = shape.get("pattern")
            regex = java_regex(pattern) if pattern is not None else None
            enum = tuple(shape["enum"]) if shape.get("enum") else None
            return StringNode(sensitive, lo, hi, regex=regex, pattern=pattern, enum=enum)
        if kind in ("integer", "long"):
            return IntegerNode(sensitive, lo, hi, "an Integer" if kind == "integer" else "a Long")
        if kind in ("float", "double"):
            return FloatNode(sensitive, lo, hi)
        if kind == "boolean":
            return BooleanNode(sensitive)
        if kind == "blob":
            return BlobNode(sensitive, lo, hi)
        if kind == "timestamp":
            return TimestampNode(sensitive)
        if kind == "list":
            return ListNode(sensitive, lo, hi, self.node(shape["member"]["shape"]))
        if kind == "map":
            key = self.scalar(shape["key"]["shape"])
            return MapNode(sensitive, lo, hi, key, self.node(shape["value"]["shape"]))
        if kind == "structure":
            return self._structure(shape, sensitive)
        raise ValueError(f"unsupported shape type {kind!r}")

    def _structure(self, shape: Mapping[str, Any], sensitive: bool) -> StructureNode:
        required = set(shape.get("required", ()))
        members: list[Member] = []
        for name, ref in shape.get("members", {}).items():
            node = self.node(ref["shape"])
            members.append((name, lower_camel(name), node, name in required))
        hidden = sensitive or any(node.sensitive for _, _, node, _ in members)
        return StructureNode(hidden, tuple(members))


def _compile(
    model: Mapping[str, Any], targets: Mapping[str, str]
) -> tuple[dict[str, StructureNode], dict[str, StructureNode]]:
    """The operations' inputs, and the admin *targets*' (target -> input shape name)."""
    compiler = _Compiler(model["shapes"])
    inputs: dict[str, StructureNode] = {}
    for name, operation in model["operations"].items():
        ref = operation.get("input")
        inputs[name] = _input(compiler, name, ref["shape"] if ref else None)
    admin = {target: _input(compiler, target, shape) for target, shape in targets.items()}
    return inputs, admin


def _input(compiler: _Compiler, name: str, shape: str | None) -> StructureNode:
    node = compiler.node(shape) if shape else StructureNode(False, ())
    if not isinstance(node, StructureNode):
        raise TypeError(f"input of {name} is not a structure")
    return node


def _holds_secret(shapes: Mapping[str, Any], name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value of shape ``name`` is, or holds at any depth, a binary or sensitive value
    (a structure with one sensitive member, such as XKS's authentication credential, is hidden
    whole)."""
    shape = shapes[name]
    if shape["type"] == "blob" or shape.get("sensitive"):
        return True
    inner = [*shape.get("members", {}).values(), shape.get("member"), shape.get("value")]
    seen |= {name}
    return any(
        _holds_secret(shapes, ref["shape"], seen)
        for ref in inner
        if ref is not None and ref["shape"] not in seen
    )


def _hidden_members(model: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    shapes = model["shapes"]
    hidden: dict[str, frozenset[str]] = {}
    for name, operation in model["operations"].items():
        ref = operation.get("input")
        members = shapes[ref["shape"]].get("members", {}) if ref else {}
        secret = frozenset(
            member for member, target in members.items() if _holds_secret(shapes, target["shape"])
        )
        if secret:
            hidden[name] = secret
    return hidden


def _summary(errs: list[str]) -> str:
    count = len(errs)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errs)


# Members Strongroom accepts beyond botocore's model, in one place. ScheduleKeyDeletion is the one
# destructive KMS call without DryRun; a caller who sends DryRun there (with client-side
# validation off) means "check, don't delete", and ignoring it, as an unknown member, would delete.
EXTENSIONS: dict[str, dict[str, dict[str, dict[str, str]]]] = {
    "kms": {"ScheduleKeyDeletionRequest": {"DryRun": {"shape": "NullableBooleanType"}}},
}

# Strongroom's admin targets on a service's endpoint (server/app.py): target -> input shape. They
# are checked as operations' inputs are (:meth:`ServiceModel.validate_admin`), but they are not
# operations of the service (``TrentService.<anything>`` never reaches them). Their shapes, in the
# model's syntax, use the model's own shapes where one fits.
ADMIN_TARGETS: dict[str, dict[str, str]] = {
    "kms": {"StrongroomAdmin.ExplainDecision": "StrongroomExplainDecisionRequest"},
}
ADMIN_SHAPES: dict[str, dict[str, dict[str, Any]]] = {
    "kms": {
        "StrongroomExplainDecisionRequest": {
            "type": "structure",
            "required": ["PrincipalArn", "Action"],
            "members": {
                "PrincipalArn": {"shape": "ArnType"},
                "Action": {"shape": "StrongroomAdminStringType"},
                "KeyId": {"shape": "KeyIdType"},
                "EncryptionContext": {"shape": "EncryptionContextType"},
                "EncryptionAlgorithm": {"shape": "EncryptionAlgorithmSpec"},
                "SigningAlgorithm": {"shape": "SigningAlgorithmSpec"},
                "MessageType": {"shape": "MessageType"},
                "MacAlgorithm": {"shape": "MacAlgorithmSpec"},
                "KeyAgreementAlgorithm": {"shape": "KeyAgreementAlgorithmSpec"},
                "KeyPairSpec": {"shape": "DataKeyPairSpec"},
                "SourceIp": {"shape": "StrongroomAdminStringType"},
            },
        },
        "StrongroomAdminStringType": {"type": "string", "min": 1, "max": 2048},
    },
}


def _extended(service: str, model: Mapping[str, Any]) -> Mapping[str, Any]:
    extra = EXTENSIONS.get(service, {})
    admin = ADMIN_SHAPES.get(service, {})
    if not extra and not admin:
        return model
    shapes = dict(model["shapes"])
    for shape_name, members in extra.items():
        shape = dict(shapes[shape_name])
        shape["members"] = {**shape.get("members", {}), **members}
        shapes[shape_name] = shape
    clash = shapes.keys() & admin.keys()
    if clash:
        raise ValueError(f"admin shapes {sorted(clash)} are already in the {service} model")
    return {**model, "shapes": {**shapes, **admin}}


class ServiceModel:
    """The compiled input shapes of one service's botocore model (plus :data:`EXTENSIONS`), and
    of Strongroom's admin targets on its endpoint (:data:`ADMIN_TARGETS`)."""

    _cache: ClassVar[dict[str, ServiceModel]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model: Mapping[str, Any], admin: Mapping[str, str] | None = None) -> None:
        """Compile a raw ``service-2`` model (and the *admin* targets' input shapes in it); use
        :meth:`load` for an installed one."""
        self._inputs, self._admin = _compile(model, admin or {})
        self._names = frozenset(self._inputs)
        self._hidden = _hidden_members(model)

    @classmethod
    def load(cls, service: str = "kms") -> ServiceModel:
        """The installed botocore's model of *service* (never ~/.aws/models), compiled once."""
        found = cls._cache.get(service)
        if found is None:
            with cls._lock:
                found = cls._cache.get(service)
                if found is None:
                    loader = Loader(
                        extra_search_paths=[Loader.BUILTIN_DATA_PATH],
                        include_default_search_paths=False,
                    )
                    raw = loader.load_service_model(service, "service-2")
                    found = cls(_extended(service, raw), ADMIN_TARGETS.get(service))
                    cls._cache[service] = found
        return found

    @property
    def operation_names(self) -> frozenset[str]:
        return self._names

    def hidden_members(self, operation: str) -> frozenset[str]:
        """The input members of ``operation`` that a record or a log must not hold: those the
        model marks sensitive, and binary ones (plaintext, ciphertext, messages, signatures)."""
        return self._hidden.get(operation, frozenset())

    def validate(self, operation: str, params: object) -> dict[str, Any]:
        """Check a decoded request body against *operation*'s input; return typed values.

        Raises :class:`SerializationException` for a value of the wrong JSON type,
        :class:`ValidationException` listing every broken constraint, and
        :class:`UnknownOperationException` for an operation the model does not have.
        """
        node = self._inputs.get(operation)
        if node is None:
            raise UnknownOperationException(None)
        return _checked(node, params)

    def validate_admin(self, target: str, params: object) -> dict[str, Any]:
        """:meth:`validate` for an admin target (``StrongroomAdmin.ExplainDecision``)."""
        node = self._admin.get(target)
        if node is None:
            raise UnknownOperationException(None)
        return _checked(node, params)


def _checked(node: StructureNode, params: object) -> dict[str, Any]:
    if type(params) is not dict:
        raise SerializationException(LIST_START if isinstance(params, list) else None)
    errs: list[str] = []
    result = node.convert_members(params, "", errs)
    if errs:
        raise ValidationException(_summary(errs))
    return result
