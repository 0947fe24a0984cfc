"""Pre-generated key pairs for the specs whose generation is slow.

Generating an RSA key is a search for two large primes: 50 ms to over a second on one core, with
a long tail. Done inside a request it stalls the worker's event loop, and every other request on
that worker waits. OpenSSL releases the GIL while it searches, so a daemon thread can generate
beside the event loop: the pool keeps a few keys of each slow spec that has been asked for, and
a request takes one (each key is handed out once, never reused) or, when the pool is empty,
generates its own.

The thread starts with the first request for a slow spec and fills only the specs that have
been asked for, so an idle server spends nothing. Keys live in this process's memory only, like
the unwrapped material the service caches; nothing is written anywhere.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from strongroom.crypto.asymmetric import new_private_key

__all__ = ["SLOW_SPECS", "KeyPairPool"]

SLOW_SPECS = frozenset({"RSA_2048", "RSA_3072", "RSA_4096"})


class KeyPairPool:
    """Fresh private keys (DER PKCS#8) by spec, slow specs served from a small stock."""

    def __init__(self, depth: int = 4, generate: Callable[[str], bytes] = new_private_key) -> None:
        self._depth = depth
        self._generate = generate
        self._lock = threading.Lock()
        self._ready: dict[str, deque[bytes]] = {spec: deque() for spec in SLOW_SPECS}
        self._wanted: set[str] = set()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"KeyPairPool(depth={self._depth})"

    def take(self, spec: str) -> bytes:
        """A private key of ``spec`` that nobody else has been given."""
        if spec not in SLOW_SPECS or self._depth == 0:
            return self._generate(spec)
        with self._lock:
            stock = self._ready[spec]
            key = stock.popleft() if stock else None
            self._wanted.add(spec)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._fill, name="strongroom-keypool", daemon=True
                )
                self._thread.start()
        self._wake.set()
        return key if key is not None else self._generate(spec)

    def stock(self, spec: str) -> int:
        """How many keys of ``spec`` are ready."""
        with self._lock:
            return len(self._ready.get(spec, ()))

    def close(self) -> None:
        """Stop the filling thread and drop every key in stock."""
        with self._lock:
            self._closed = True
            for stock in self._ready.values():
                stock.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)

    def _short(self) -> str | None:
        with self._lock:
            if self._closed:
                return None
            for spec in sorted(self._wanted):
                if len(self._ready[spec]) < self._depth:
                    return spec
            return None

    def _fill(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while (spec := self._short()) is not None:
                key = self._generate(spec)
                with self._lock:
                    if self._closed:
                        return
                    self._ready[spec].append(key)
            if self._closed:
                return
