"""Request ids are random version-4 UUIDs in their usual text form, as AWS's are."""

from __future__ import annotations

import uuid

from strongroom.server.app import _request_id


def test_request_ids_are_random_v4_uuids() -> None:
    ids = [_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
