"""Request ids are random version-4 UUIDs in their usual text form, as AWS's are."""

from __future__ import annotations

import os
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


def test_a_forked_process_draws_ids_of_its_own() -> None:
    _request_id()  # the block is drawn: parent and child would share what is left of it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then out without pytest's teardown
        os.write(write, _request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    assert uuid.UUID(child).version == 4
    assert child != _request_id()
