"""The test strategies of tests/botocore_shapes.py never draw what AWS's SDKs refuse: a tagged union
has exactly one member set, at any depth, in replies and in requests."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.parsers import QueryParser, ResponseParserError
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from tests.botocore_shapes import MAX_DEPTH, is_union, request_values, unions_in, values

from strongroom.protocol.query import QueryService

IAM = ServiceModel(Loader().load_service_model("iam", "service-2"), "iam")
UNIONS = sorted(name for name in IAM.shape_names if is_union(IAM.shape_for(name)))
DEPTHS = [0, 1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 2]


def bad_unions(shape: Shape, value: Any) -> list[str]:
    """The unions in ``value`` that do not have exactly one member set."""
    found = []
    if isinstance(shape, StructureShape):
        if is_union(shape) and len([v for v in value.values() if v is not None]) != 1:
            found.append(f"{shape.name}: {value!r}")
        for name, item in value.items():
            found.extend(bad_unions(shape.members[name], item))
    elif isinstance(shape, ListShape):
        for item in value:
            found.extend(bad_unions(shape.member, item))
    elif isinstance(shape, MapShape):
        for item in value.values():
            found.extend(bad_unions(shape.value, item))
    return found


def test_the_iam_model_has_unions() -> None:
    assert "WorkloadIdentityOutboundSignerConfiguration" in UNIONS
    signers = IAM.operation_model("ListWorkloadIdentityProviderOutboundSigners").output_shape
    assert "WorkloadIdentityOutboundSignerDetailConfiguration" in unions_in(signers)


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("union", UNIONS)
@pytest.mark.parametrize("strategy", [values, request_values], ids=["reply", "request"])
def test_no_union_is_ever_drawn_empty_or_with_two_members(
    strategy: Any, union: str, depth: int
) -> None:
    """Searched for: a draw with a union that has none or several members. Hypothesis finds none."""
    shape = IAM.shape_for(union)
    with pytest.raises(NoSuchExample):
        find(
            strategy(shape, depth),
            lambda value: bool(bad_unions(shape, value)),
            settings=settings(max_examples=300, database=None),
        )


def test_the_draw_that_once_failed_is_refused_by_botocore_and_never_drawn() -> None:
    """``{'OutboundSigners': [{'Configuration': {}}]}`` was drawn by the old generator: botocore
    refuses it as a reply, and no draw of the reply's shape has a union like it."""
    operation = "ListWorkloadIdentityProviderOutboundSigners"
    shape = IAM.operation_model(operation).output_shape
    old: dict[str, Any] = {"OutboundSigners": [{"Configuration": {}}]}
    assert bad_unions(shape, old)
    body = QueryService.load("iam").encode_result(operation, old, "rid")
    with pytest.raises(ResponseParserError, match="must have one and only one member set"):
        QueryParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    with pytest.raises(NoSuchExample):
        find(
            values(shape),
            lambda value: bool(bad_unions(shape, value)),
            settings=settings(max_examples=500, database=None),
        )


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(UNIONS), st.data())
def test_every_union_member_is_drawn(union: str, data: st.DataObject) -> None:
    """Each draw of a union sets one of the model's members, by its model name."""
    shape = IAM.shape_for(union)
    drawn = data.draw(values(shape))
    assert len(drawn) == 1
    assert set(drawn) <= set(shape.members)
