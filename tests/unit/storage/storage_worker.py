"""Record factories for the storage tests, and a worker the tests run as a separate process.

``python storage_worker.py URL write-key KEY_ID``  insert a key, print "done", wait to be killed
``python storage_worker.py URL set-meta NAME VALUE``  write one meta value and exit
``python storage_worker.py URL many PREFIX COUNT``  insert COUNT keys, one transaction each
"""

from __future__ import annotations

import sys
import time

from strongroom.domain.keys import (
    KeyManager,
    KeyRecord,
    KeySpec,
    KeyState,
    KeyUsage,
    MaterialRecord,
    Origin,
    key_arn,
)
from strongroom.storage import open_storage

ACCOUNT = "111122223333"
REGION = "us-east-1"


def make_key(
    key_id: str,
    account: str = ACCOUNT,
    region: str = REGION,
    material_id: str | None = None,
    **changes: object,
) -> KeyRecord:
    values: dict[str, object] = {
        "account": account,
        "region": region,
        "key_id": key_id,
        "arn": key_arn("aws", region, account, key_id),
        "created_at": 1_700_000_000.25,
        "state": KeyState.ENABLED,
        "description": f"key {key_id}",
        "key_spec": KeySpec.SYMMETRIC_DEFAULT,
        "key_usage": KeyUsage.ENCRYPT_DECRYPT,
        "origin": Origin.AWS_KMS,
        "key_manager": KeyManager.CUSTOMER,
        "policy": '{"Version": "2012-10-17", "Statement": []}',
        "current_material_id": material_id,
    }
    values.update(changes)
    return KeyRecord(**values)  # type: ignore[arg-type]


def make_material(key_id: str, n: int = 1, created_at: float = 1_700_000_000.0) -> MaterialRecord:
    return MaterialRecord(
        key_id=key_id,
        material_id=f"{n:064x}",
        wrapped=bytes([n % 256]) * 60 + b"\x00\xff",
        created_at=created_at,
    )


def main(argv: list[str]) -> int:
    url, command, *args = argv
    storage = open_storage(url)
    if command == "write-key":
        material = make_material(args[0])
        storage.insert_key(make_key(args[0], material_id=material.material_id), material, {})
        print("done", flush=True)
        time.sleep(600)
    elif command == "set-meta":
        storage.set_meta(args[0], args[1])
    elif command == "many":
        for i in range(int(args[1])):
            storage.insert_key(make_key(f"{args[0]}-{i:04d}"), None, {"n": str(i)})
    else:
        return 2
    storage.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
