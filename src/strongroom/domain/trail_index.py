"""The index of the audit trail: one :class:`IndexedEvent` per committed event, where the trail
holds it, and how far the index has read (:class:`IndexPosition`).

The trail (``audit/``) is the record; the index (``storage/``, built by ``server/trail_index``)
only finds events in it: a lookup reads the indexed rows, then just those lines of the trail.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOOKUP_KEYS", "EventQuery", "IndexPosition", "IndexedEvent"]

# CloudTrail's LookupAttributeKey values (botocore's model), each an IndexedEvent column.
LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)


@dataclass(frozen=True, slots=True)
class IndexedEvent:
    seq: int
    event_time: float  # eventTime, epoch seconds
    account: str  # recipientAccountId ("" when the event has none)
    event_name: str
    event_source: str
    read_only: bool
    username: str | None  # CloudTrail's Username: IAM user, "root", role session name
    principal_arn: str | None  # userIdentity.arn
    access_key_id: str | None
    event_id: str
    request_id: str | None
    error_code: str | None
    segment: int  # the segment's number
    offset: int  # the line's first byte in it
    length: int  # the line's bytes, newline included
    resources: tuple[tuple[str, str], ...] = ()  # (type, ARN), in the event's order


@dataclass(frozen=True, slots=True)
class IndexPosition:
    """The index holds every event up to ``seq``; the next line starts at ``offset`` of segment
    ``segment``. ``tracking_since`` is the trail's first event's time (None while it is empty)."""

    seq: int = 0
    segment: int = 0
    offset: int = 0
    tracking_since: float | None = None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """One page of a lookup: an account's events, newest (highest seq) first, below
    ``before_seq`` when paging; at most one attribute (``LOOKUP_KEYS``) and a time range."""

    account: str
    limit: int
    attribute: tuple[str, str] | None = None
    start: float | None = None
    end: float | None = None
    before_seq: int | None = None
