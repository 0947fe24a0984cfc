"""Property tests of the Query protocol against botocore's own code: any output of any IAM or STS
operation that Strongroom serves, written by us, reads back through botocore's ``QueryParser``
unchanged; any input, serialised by botocore's ``QuerySerializer``, decodes to the same nested
values. Values are drawn from the model's shapes (tests/botocore_shapes.py), tagged unions with
exactly one member, as AWS's SDKs require."""

from __future__ import annotations

import base64
import datetime
import urllib.parse
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.botocore_shapes import request_values, unions_in, values

from strongroom.iam import sts
from strongroom.iam.api import OPERATIONS as IAM_OPERATIONS
from strongroom.protocol.query import QueryService
from strongroom.protocol.xml import POLICY_DOCUMENT_SHAPE

SERVICES = {name: QueryService.load(name) for name in ("iam", "sts")}
SERVED = {"iam": sorted(IAM_OPERATIONS), "sts": sorted(sts.OPERATIONS)}
OPERATIONS = [(name, op) for name, ops in SERVED.items() for op in ops]
# Operations of the installed models whose replies carry a tagged union: Strongroom serves none of
# them yet, but the Query writer is generic, and this is the case that once drew an empty union.
UNION_REPLIES = sorted(
    (name, op)
    for name, service in SERVICES.items()
    for op in service.model.operation_names
    if unions_in(service.operation(op).output_shape)
)


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


def round_trip(op: tuple[str, str], data: st.DataObject) -> None:
    service = SERVICES[op[0]]
    shape = service.operation(op[1]).output_shape
    result = data.draw(values(shape)) if shape is not None else {}
    body = service.encode_result(op[1], result, "rid")
    parsed = QueryParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
    assert (as_sent(shape, parsed) if shape is not None else parsed) == result


def test_every_served_operation_is_in_the_model() -> None:
    for name, op in OPERATIONS:
        assert op in SERVICES[name].model.operation_names, (name, op)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OPERATIONS), st.data())
def test_replies_round_trip_through_botocore(op: tuple[str, str], data: st.DataObject) -> None:
    round_trip(op, data)


def test_the_model_has_replies_with_unions() -> None:
    """The pinned IAM model has them (tests/botocore-models.json); the next test needs one."""
    assert ("iam", "ListWorkloadIdentityProviderOutboundSigners") in UNION_REPLIES


@pytest.mark.parametrize("op", UNION_REPLIES, ids="/".join)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_replies_with_unions_round_trip_through_botocore(
    op: tuple[str, str], data: st.DataObject
) -> None:
    round_trip(op, data)


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
