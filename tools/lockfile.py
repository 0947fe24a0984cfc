"""The lock, read and compared: what ``make upgrade`` shows, and what the tests hold it to.

``requirements/*.txt`` are exports of ``uv.lock`` (``make exports``) in pip's hash-checking format.
botocore's service models are Strongroom's schema (validation, error texts, the key-spec table), so
the models the suite ran against are recorded in ``tests/botocore-models.json``: a new botocore
whose KMS, IAM or STS model differs fails the suite until the record is rewritten, which is what
``make upgrade`` does, printing what changed.

    python -m tools.lockfile diff OLD.txt NEW.txt
    python -m tools.lockfile models --write tests/botocore-models.json [--before OLD.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import Loader

# The services whose models Strongroom serves from (protocol/shapes.py and protocol/query.py).
SERVICES = ("kms", "iam", "sts")

_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$"
)


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> list[tuple[str, str, str | None]]:
    """``(name, version, marker)`` for each requirement of an exported lock file."""
    found = []
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            name, version, marker = match.groups()
            found.append((normalise(name), version, marker.strip() if marker else None))
    return found


def versions(text: str) -> dict[str, str]:
    """Each package's pinned version (a package pinned twice under exclusive markers keeps both)."""
    out: dict[str, str] = {}
    for name, version, _ in pins(text):
        out[name] = version if name not in out else f"{out[name]} | {version}"
    return out


def diff_versions(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """One line per package added, removed or moved between two locks, sorted by name."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            lines.append(f"+ {name} {new}")
        elif new is None:
            lines.append(f"- {name} {old}")
        else:
            lines.append(f"  {name} {old} -> {new}")
    return lines


def model_record(services: Iterable[str] = SERVICES) -> dict[str, Any]:
    """What identifies the installed botocore's models: its version, and per service the API
    version, the operation and shape names, and a digest of the whole model."""
    loader = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    )
    models: dict[str, Any] = {}
    for service in services:
        raw = loader.load_service_model(service, "service-2")
        canonical = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
        models[service] = {
            "apiVersion": raw["metadata"]["apiVersion"],
            "sha256": hashlib.sha256(canonical).hexdigest(),
            "operations": sorted(raw["operations"]),
            "shapes": len(raw["shapes"]),
        }
    return {"botocore": botocore.__version__, "models": models}


def diff_models(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed between two model records, in words a reviewer reads."""
    lines = []
    if before.get("botocore") != after.get("botocore"):
        lines.append(f"botocore {before.get('botocore')} -> {after.get('botocore')}")
    old_models, new_models = before.get("models", {}), after.get("models", {})
    for service in sorted(set(old_models) | set(new_models)):
        old, new = old_models.get(service, {}), new_models.get(service, {})
        if old.get("sha256") == new.get("sha256"):
            continue
        lines.append(
            f"{service}: the model changed ({old.get('shapes')} -> {new.get('shapes')} shapes)"
        )
        old_ops, new_ops = set(old.get("operations", [])), set(new.get("operations", []))
        lines.extend(f"  + operation {op}" for op in sorted(new_ops - old_ops))
        lines.extend(f"  - operation {op}" for op in sorted(old_ops - new_ops))
    return lines


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lockfile")
    sub = parser.add_subparsers(dest="command", required=True)
    diff = sub.add_parser("diff", help="the packages that moved between two exported locks")
    diff.add_argument("before", type=Path)
    diff.add_argument("after", type=Path)
    models = sub.add_parser("models", help="record the installed botocore's service models")
    models.add_argument("--write", type=Path, required=True)
    models.add_argument("--before", type=Path)
    args = parser.parse_args(argv)

    if args.command == "diff":
        changes = diff_versions(versions(args.before.read_text()), versions(args.after.read_text()))
        print("Packages changed by the upgrade:" if changes else "No package changed.")
        for line in changes:
            print(line)
        return 0
    record = model_record()
    before = json.loads(args.before.read_text()) if args.before and args.before.exists() else {}
    changes = diff_models(before, record)
    print("Service models changed:" if changes else "The KMS, IAM and STS models are unchanged.")
    for line in changes:
        print(line)
    args.write.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
