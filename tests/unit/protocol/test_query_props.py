"""Property tests of the Query protocol against botocore's own code: any output of any IAM or STS
operation, written by us, reads back through botocore's ``QueryParser`` unchanged; any input,
serialised by botocore's ``QuerySerializer``, decodes to the same nested values."""

from __future__ import annotations

import base64
import datetime
import urllib.parse
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.protocol.query import QueryService
from strongroom.protocol.xml import POLICY_DOCUMENT_SHAPE

SERVICES = {name: QueryService.load(name) for name in ("iam", "sts")}
OPERATIONS = sorted(
    (name, op) for name, service in SERVICES.items() for op in service.model.operation_names
)
# XML 1.0 characters (no other control characters, no surrogates)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0xFFFD)
    | st.sampled_from("\t\n\r"),
    max_size=12,
)
EPOCHS = st.integers(0, 4_000_000_000)
MAX_DEPTH = 4


def values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape`` as an operation returns them (timestamps as epoch seconds)."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if depth >= MAX_DEPTH or not shape.members:
            return st.just({})
        members = {name: values(member, depth + 1) for name, member in shape.members.items()}
        return st.fixed_dictionaries({}, optional=members)
    if isinstance(shape, ListShape):
        return st.lists(values(shape.member, depth + 1), max_size=3 if depth < MAX_DEPTH else 0)
    if isinstance(shape, MapShape):
        return st.dictionaries(TEXT.filter(bool), values(shape.value, depth + 1), max_size=2)
    if kind == "string":
        enum = shape.enum
        return st.sampled_from(enum) if enum else TEXT
    if kind in ("integer", "long"):
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return EPOCHS
    if kind == "blob":
        return st.binary(max_size=8)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    raise AssertionError(f"unexpected shape type {kind}")


def as_sent(shape: Shape, value: Any) -> Any:
    """What botocore's parser gives back for ``value``: timestamps as epochs, documents decoded."""
    if isinstance(shape, StructureShape):
        return {name: as_sent(shape.members[name], item) for name, item in value.items()}
    if isinstance(shape, ListShape):
        return [as_sent(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {key: as_sent(shape.value, item) for key, item in value.items()}
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if shape.name == POLICY_DOCUMENT_SHAPE:
        return urllib.parse.unquote(value)
    return value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OPERATIONS), st.data())
def test_replies_round_trip_through_botocore(op: tuple[str, str], data: st.DataObject) -> None:
    service = SERVICES[op[0]]
    shape = service.operation(op[1]).output_shape
    result = data.draw(values(shape)) if shape is not None else {}
    body = service.encode_result(op[1], result, "rid")
    parsed = QueryParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
    assert (as_sent(shape, parsed) if shape is not None else parsed) == result


def request_values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Inputs that a Query body can carry unambiguously: no empty structures or maps (they are
    not sent at all), timestamps as aware datetimes, whole seconds."""
    if isinstance(shape, StructureShape):
        if depth >= MAX_DEPTH or not shape.members:
            return st.nothing()
        members = {n: request_values(m, depth + 1) for n, m in shape.members.items()}
        return st.fixed_dictionaries({}, optional=members).filter(bool)
    if isinstance(shape, ListShape):
        return st.lists(request_values(shape.member, depth + 1), max_size=3)
    if isinstance(shape, MapShape):
        keys = TEXT.filter(bool)
        return st.dictionaries(keys, request_values(shape.value, depth + 1), min_size=1, max_size=2)
    if shape.type_name == "timestamp":
        return EPOCHS.map(lambda n: datetime.datetime.fromtimestamp(n, datetime.UTC))
    return values(shape, depth)


def decoded(shape: Shape, value: Any) -> Any:
    """What the Query decoder should produce for ``value``: epoch floats, blobs as base64."""
    if isinstance(shape, StructureShape):
        return {name: decoded(shape.members[name], item) for name, item in value.items()}
    if isinstance(shape, ListShape):
        return [decoded(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {key: decoded(shape.value, item) for key, item in value.items()}
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OPERATIONS), st.data())
def test_requests_serialised_by_botocore_decode_to_the_same_values(
    op: tuple[str, str], data: st.DataObject
) -> None:
    service = SERVICES[op[0]]
    model = service.operation(op[1])
    shape = model.input_shape
    params = data.draw(request_values(shape)) if shape is not None else {}
    request = QuerySerializer().serialize_to_request(params, model)
    body = urllib.parse.urlencode(request["body"]).encode()
    action, got = service.read(body)
    assert action == op[1]
    assert got == (decoded(shape, params) if shape is not None else {})
