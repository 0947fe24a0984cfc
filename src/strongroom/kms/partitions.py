"""AWS's partitions (aws, aws-cn, aws-us-gov, ...) and the regions in each, as the installed
botocore's endpoint data describes them: ReplicateKey keeps a replica in its primary's partition,
CreateKey knows the China Regions by theirs."""

from __future__ import annotations

import functools
import re

import botocore.loaders

__all__ = ["CHINA", "partition_of"]

CHINA = "aws-cn"


@functools.cache
def _partitions() -> tuple[tuple[str, frozenset[str], re.Pattern[str]], ...]:
    """AWS's partitions as botocore's endpoint data describes them: name, named regions and the
    pattern of the region names that belong to it."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    return tuple(
        (str(p["partition"]), frozenset(p.get("regions", {})), re.compile(p["regionRegex"]))
        for p in data["partitions"]
    )


def partition_of(region: str) -> str:
    """The partition a region name belongs to (``aws`` for names no partition claims, as the
    SDKs resolve them)."""
    partitions = _partitions()
    for name, regions, _ in partitions:
        if region in regions:
            return name
    for name, _, pattern in partitions:
        if pattern.match(region):
            return name
    return "aws"
