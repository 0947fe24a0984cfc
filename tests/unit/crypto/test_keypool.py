"""The pool of pre-generated RSA keys: each key handed out once, filled in the background only
for specs that were asked for, and closed cleanly."""

from __future__ import annotations

import threading
import time

from strongroom.crypto import asymmetric
from strongroom.crypto.keypool import KeyPairPool


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the pool did not fill in time"
        time.sleep(0.01)


def test_keys_are_real_distinct_and_of_the_spec() -> None:
    pool = KeyPairPool(depth=2)
    try:
        taken = [pool.take("RSA_2048") for _ in range(5)]
        _wait_for(lambda: pool.stock("RSA_2048") == 2)
        taken += [pool.take("RSA_2048") for _ in range(3)]
    finally:
        pool.close()
    assert len(set(taken)) == len(taken)
    for der in taken:
        assert asymmetric.spec_of(asymmetric.load_private_key(der)) == "RSA_2048"


def test_only_asked_specs_are_filled_and_fast_specs_are_never_pooled() -> None:
    made: list[str] = []
    lock = threading.Lock()

    def generate(spec: str) -> bytes:
        with lock:
            made.append(spec)
        return f"{spec}-{len(made)}".encode()

    pool = KeyPairPool(depth=3, generate=generate)
    try:
        assert pool.take("ECC_NIST_P256") == b"ECC_NIST_P256-1"
        assert pool.stock("RSA_4096") == 0
        time.sleep(0.05)
        assert made == ["ECC_NIST_P256"]  # no thread, nothing generated in the background
        first = pool.take("RSA_3072")
        _wait_for(lambda: pool.stock("RSA_3072") == 3)
        assert pool.stock("RSA_2048") == pool.stock("RSA_4096") == 0
        second = pool.take("RSA_3072")
        assert first != second
        assert second in {f"RSA_3072-{n}".encode() for n in range(2, 6)}  # from the stock
    finally:
        pool.close()
    assert pool.stock("RSA_3072") == 0  # closing drops the stock


def test_depth_zero_generates_inline() -> None:
    pool = KeyPairPool(depth=0, generate=lambda spec: spec.encode())
    assert pool.take("RSA_2048") == b"RSA_2048"
    assert pool.stock("RSA_2048") == 0
    pool.close()


def test_concurrent_takers_never_share_a_key() -> None:
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def generate(spec: str) -> bytes:
        with lock:
            return f"{spec}-{next(counter)}".encode()

    pool = KeyPairPool(depth=4, generate=generate)
    results: list[bytes] = []

    def worker() -> None:
        for _ in range(50):
            key = pool.take("RSA_2048")
            with lock:
                results.append(key)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.close()
    assert len(results) == 200
    assert len(set(results)) == 200
