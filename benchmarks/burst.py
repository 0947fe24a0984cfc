"""What a burst of RSA GenerateDataKeyPair costs the other requests on a worker:
``python -m benchmarks.burst``.

Starts Strongroom with one worker, then for each RSA spec: one request (which starts the
worker's key pool), a pause for the pool to fill, then a burst of N GenerateDataKeyPair requests
while a second thread sends Encrypt requests back to back. Reports the burst's latencies and the
Encrypt latencies measured during it: without a pool, every Encrypt that arrives during an RSA
generation waits for it (the operation runs on the worker's event loop).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from benchmarks.targets import Target, strongroom_server

__all__ = ["main"]


def _client(target: Target) -> Any:
    return boto3.client(
        "kms",
        endpoint_url=target.endpoint,
        region_name="us-east-1",
        aws_access_key_id=target.key.access_key_id,
        aws_secret_access_key=target.key.secret_access_key,
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _burst(target: Target, spec: str, count: int, settle: float) -> dict[str, Any]:
    kms, encrypter = _client(target), _client(target)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec=spec)  # starts the pool for the spec
    time.sleep(settle)
    stop = threading.Event()
    encrypts: list[float] = []

    def encrypt_loop() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            encrypter.encrypt(KeyId=key_id, Plaintext=b"x" * 32)
            encrypts.append(time.perf_counter() - began)

    thread = threading.Thread(target=encrypt_loop)
    thread.start()
    pairs = []
    for _ in range(count):
        began = time.perf_counter()
        kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec=spec)
        pairs.append(time.perf_counter() - began)
    stop.set()
    thread.join()
    return {
        "spec": spec,
        "pairs_ms": [_ms(s) for s in pairs],
        "encrypts": len(encrypts),
        "encrypt_p50_ms": _ms(statistics.median(encrypts)),
        "encrypt_max_ms": _ms(max(encrypts)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.burst", description=__doc__)
    parser.add_argument("--count", type=int, default=4, help="pairs per burst (default 4)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds for the pool to fill")
    parser.add_argument("--specs", default="RSA_2048,RSA_3072,RSA_4096")
    parser.add_argument(
        "--key-pool-depth", type=int, default=4, help="the server's pool depth; 0: no pool"
    )
    args = parser.parse_args(argv)
    env = {"STRONGROOM_KEY_POOL_DEPTH": str(args.key_pool_depth)}
    print(f"key pool depth {args.key_pool_depth}", flush=True)
    with strongroom_server(workers=1, env=env) as target:
        for spec in args.specs.split(","):
            result = _burst(target, spec.strip(), args.count, args.settle)
            print(
                f"{result['spec']}: burst of {args.count} pairs took "
                f"{', '.join(result['pairs_ms'])} ms; {result['encrypts']} Encrypts meanwhile, "
                f"p50 {result['encrypt_p50_ms']} ms, max {result['encrypt_max_ms']} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
