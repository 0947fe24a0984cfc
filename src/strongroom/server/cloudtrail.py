"""CloudTrail's ``LookupEvents`` on Strongroom's port: the audit trail's events, found through
its index (``server/trail_index``) and read from just their lines.

Authorized by identity policies alone (``cloudtrail:LookupEvents`` on ``*``; an account root may),
as AWS does; each account sees only the events delivered to it (``recipientAccountId``). At most
one lookup attribute; newest first (the trail's order, highest seq first); ``MaxResults`` 1-50,
default 50; ``NextToken`` is opaque and holds the query it belongs to, so a token of another
query, or not one of ours, is AWS's ``InvalidNextTokenException``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from strongroom.domain.caller import Caller
from strongroom.domain.trail_index import EventQuery, IndexedEvent
from strongroom.errors import (
    InvalidLookupAttributesException,
    InvalidNextTokenException,
    InvalidTimeRangeException,
)
from strongroom.iam.api.authorize import authorize_identity
from strongroom.iam.service import IamService
from strongroom.server.trail_index import TrailIndexer
from strongroom.storage.base import TrailIndexReads

__all__ = ["TARGET_PREFIX", "lookup_events"]

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
DEFAULT_RESULTS = 50


def _fingerprint(account: str, p: dict[str, Any]) -> str:
    query = [account, p.get("LookupAttributes"), p.get("StartTime"), p.get("EndTime")]
    return hashlib.sha256(orjson.dumps(query)).hexdigest()[:16]


def _token(seq: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{seq}:{fingerprint}".encode()).decode()


def _before(token: str, fingerprint: str) -> int:
    try:
        seq, given = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        before = int(seq)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidNextTokenException("Invalid NextToken.") from None
    if given != fingerprint or before < 1:
        raise InvalidNextTokenException("Invalid NextToken.")
    return before


def _query(caller: Caller, p: dict[str, Any]) -> EventQuery:
    attributes = p.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
    start, end = p.get("StartTime"), p.get("EndTime")
    if start is not None and end is not None and start > end:
        raise InvalidTimeRangeException("Start time must be before end time.")
    attribute = None
    if attributes:
        attribute = (attributes[0]["AttributeKey"], attributes[0]["AttributeValue"])
    token = p.get("NextToken")
    before = None if token is None else _before(token, _fingerprint(caller.account, p))
    limit = p.get("MaxResults", DEFAULT_RESULTS)
    return EventQuery(caller.account, limit, attribute, start, end, before)


def _entry(row: IndexedEvent, event: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "EventId": row.event_id,
        "EventName": row.event_name,
        "ReadOnly": "true" if row.read_only else "false",
    }
    if row.access_key_id is not None:
        entry["AccessKeyId"] = row.access_key_id
    entry["EventTime"] = row.event_time
    entry["EventSource"] = row.event_source
    if row.username is not None:
        entry["Username"] = row.username
    entry["Resources"] = [
        {"ResourceType": kind, "ResourceName": arn} for kind, arn in row.resources
    ]
    entry["CloudTrailEvent"] = orjson.dumps(event).decode()
    return entry


def lookup_events(
    iam: IamService,
    indexer: TrailIndexer,
    index: TrailIndexReads,
    caller: Caller,
    p: dict[str, Any],
) -> dict[str, Any]:
    """``LookupEvents`` for ``caller``, with its validated input ``p``."""
    authorize_identity(iam, caller, "cloudtrail:LookupEvents", "*")
    query = _query(caller, p)
    result: dict[str, Any] = {"Events": []}
    if p.get("EventCategory") is not None:
        return result  # "insight": no Insights events are kept
    indexer.catch_up()  # every event committed before this call is found
    rows = index.lookup_trail_events(query)
    # Each event read from its line: in the trail, in its archive, or in the database.
    for row, event in zip(rows, indexer.events_at(rows), strict=True):
        if event is not None:
            result["Events"].append(_entry(row, event))
    if len(rows) == query.limit:
        result["NextToken"] = _token(rows[-1].seq, _fingerprint(caller.account, p))
    return result
