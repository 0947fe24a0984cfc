"""Dev routes answer loopback clients only: the address check, without a network."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.server.devroutes import _is_loopback


@pytest.mark.parametrize(
    "client",
    [
        ("127.0.0.1", 50000),
        ["127.0.0.1", 50000],
        ("127.1.2.3", 1),
        ("::1", 50000),
        ("::ffff:127.0.0.1", 50000),
        ("0:0:0:0:0:0:0:1", 1),
    ],
)
def test_loopback_clients(client: Any) -> None:
    assert _is_loopback({"client": client})


@pytest.mark.parametrize(
    "client",
    [
        ("10.0.0.1", 50000),
        ("192.168.1.20", 1),
        ("::1:2", 1),  # starts with "::1" but is not the loopback address
        ("::10.0.0.1", 1),
        ("::ffff:10.0.0.1", 1),
        ("2001:db8::1", 1),
        ("127.0.0.1.example.com", 1),
        ("localhost", 1),  # ASGI servers give addresses, never names: a name is refused
        ("", 1),
        None,
        (),
    ],
)
def test_other_clients(client: Any) -> None:
    assert not _is_loopback({"client": client})


def test_no_client_at_all() -> None:
    """A Unix socket or a transport that does not say who is calling is refused."""
    assert not _is_loopback({})
