"""``Cancellation Created`` on EventBridge: the ``EventBus`` of ``domain.publication``.

The event as API.md's "Events" section gives it: ``source`` ``order-cancellations``,
``detail-type`` ``Cancellation Created``, ``detail`` the seller, the API's ``Cancellation``
without its ``notification`` (which moves on after the event) and the order as the
cancellation left it; its time is the cancellation's. The JSON schema of the whole event
is registered in the stack's schema registry (``template.yaml``,
``CancellationCreatedSchema``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.records import cancellation_from_dict
from adapters.schemas import cancellation_json
from domain.publication import CancellationCreated

SOURCE = "order-cancellations"
DETAIL_TYPE = "Cancellation Created"
# PutEvents takes at most 10 entries and 256 KiB in one call, each entry's size counted
# as EventBridge documents it (entry_size below).
PUT_EVENTS_MAX_ENTRIES = 10
PUT_EVENTS_MAX_BYTES = 256 * 1024
# What EventBridge counts for an entry's Time.
_TIME_BYTES = 14


def event_detail(event: CancellationCreated) -> dict[str, Any]:
    cancellation = cancellation_json(event.cancellation)
    del cancellation["notification"]
    return {
        "seller_id": event.seller_id,
        "cancellation": cancellation,
        "order": {
            "order_id": event.order_id,
            "status": event.order_status.value,
            "version": event.order_version,
        },
    }


def cancellation_created(new_image: Mapping[str, Any]) -> CancellationCreated:
    """The event of a cancellation record as the table's stream carries it (its new
    image, deserialized); a ``KeyError`` or ``ValueError`` when it is not one."""
    return CancellationCreated(cancellation_from_dict(new_image))


def put_events_entry(event: CancellationCreated, bus_name: str) -> dict[str, Any]:
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(event_detail(event), separators=(",", ":"), ensure_ascii=False),
        "Time": event.cancellation.created_at,
        "EventBusName": bus_name,
    }


def entry_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the 256 KiB of a PutEvents call."""
    size = _TIME_BYTES if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail", "EventBusName"):
        size += len(str(entry.get(name, "")).encode())
    size += sum(len(resource.encode()) for resource in entry.get("Resources", ()))
    return size


def _chunks(entries: Sequence[Mapping[str, Any]]) -> Iterator[list[int]]:
    """The positions of the entries, in calls of at most 10 entries and 256 KiB."""
    chunk: list[int] = []
    size = 0
    for position, entry in enumerate(entries):
        this = entry_size(entry)
        if chunk and (len(chunk) == PUT_EVENTS_MAX_ENTRIES or size + this > PUT_EVENTS_MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(position)
        size += this
    if chunk:
        yield chunk


class EventBridgeBus:
    """PutEvents on the stack's bus. A call that fails as a whole (throttled, timed out,
    refused) counts as every entry of it refused; a call's own answer says which of its
    entries were refused. Either way ``domain.publication`` offers them again."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def put(self, events: Sequence[CancellationCreated]) -> dict[int, str]:
        entries = [put_events_entry(event, self._bus_name) for event in events]
        refused: dict[int, str] = {}
        for chunk in _chunks(entries):
            try:
                response = self._client.put_events(Entries=[entries[i] for i in chunk])
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code") or "ClientError")
                refused.update(dict.fromkeys(chunk, code))
                continue
            except BotoCoreError as error:
                # The call may have reached EventBridge: offering the events again may
                # publish them twice, which consumers drop by cancellation_id.
                refused.update(dict.fromkeys(chunk, type(error).__name__))
                continue
            for position, result in zip(chunk, response.get("Entries", ()), strict=False):
                if result.get("ErrorCode"):
                    refused[position] = str(result["ErrorCode"])
            if len(response.get("Entries", ())) < len(chunk):
                # An answer without a result for every entry: assume the rest refused.
                missing = chunk[len(response.get("Entries", ())) :]
                refused.update(dict.fromkeys(missing, "NoResult"))
        return refused
