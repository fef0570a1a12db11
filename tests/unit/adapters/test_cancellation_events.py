"""The Cancellation Created event on EventBridge: its detail, as API.md gives it and as
the template's registered schema describes it, and PutEvents in calls EventBridge takes."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from adapters.cancellation_events import (
    DETAIL_TYPE,
    PUT_EVENTS_MAX_BYTES,
    PUT_EVENTS_MAX_ENTRIES,
    SOURCE,
    EventBridgeBus,
    cancellation_created,
    entry_size,
    event_detail,
    put_events_entry,
)
from adapters.records import cancellation_to_dict
from adapters.schemas import CancellationOut
from domain.publication import CancellationCreated
from local_runtime.template import load_template_document
from tests.unit.domain.builders import apply, items_request, line, mug_order, order, order_request

SCHEMA = json.loads(
    load_template_document()["Resources"]["CancellationCreatedSchema"]["Properties"]["Content"]
)


def created(request: Any = None, cancellation_id: str = "C1") -> CancellationCreated:
    _, cancellation = apply(mug_order(), request or items_request(("L1", 2)), cancellation_id)
    return CancellationCreated(cancellation)


def envelope(event: CancellationCreated) -> dict[str, Any]:
    """The event as a consumer's rule sees it."""
    entry = put_events_entry(event, "bus")
    return {
        "version": "0",
        "id": "e1",
        "source": entry["Source"],
        "detail-type": entry["DetailType"],
        "time": entry["Time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "account": "123456789012",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def test_the_detail_is_the_seller_the_cancellation_without_notification_and_the_order() -> None:
    event = created()

    detail = event_detail(event)

    assert set(detail) == {"seller_id", "cancellation", "order"}
    assert detail["seller_id"] == "S1"
    assert set(detail["cancellation"]) == set(CancellationOut.model_fields) - {"notification"}
    assert detail["cancellation"]["cancellation_id"] == "C1"
    # API.md's Refund example: units 3 and 2 of the Mug.
    assert detail["cancellation"]["refund"]["total"] == "18.36"
    assert detail["order"] == {"order_id": "O1", "status": "AWAITING_SHIPMENT", "version": 2}


@pytest.mark.parametrize(
    "request_",
    [items_request(("L1", 2)), items_request(("L1", 3)), order_request()],
    ids=["some units", "every unit", "the order"],
)
def test_every_event_matches_the_schema_the_stack_registers(request_: Any) -> None:
    event = envelope(created(request_))

    jsonschema.Draft4Validator(SCHEMA).validate(event)
    assert (event["source"], event["detail-type"]) == (SOURCE, DETAIL_TYPE)


def test_the_registered_schema_refuses_what_the_contract_does_not_have() -> None:
    event = envelope(created())
    event["detail"]["cancellation"]["notification"] = {"status": "SENT", "sent_at": None}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(event)


def test_the_stream_image_of_a_stored_cancellation_gives_back_the_same_event() -> None:
    event = created()
    image = {
        "pk": "p",
        "sk": "s",
        "type": "CANCELLATION",
        **cancellation_to_dict(event.cancellation),
    }

    assert cancellation_created(image) == event


def test_an_image_that_is_no_cancellation_is_refused() -> None:
    with pytest.raises(KeyError):
        cancellation_created({"pk": "p", "sk": "s", "type": "ORDER"})


def test_the_entry_size_is_counted_as_eventbridge_counts_it() -> None:
    entry = {"Source": "ab", "DetailType": "c", "Detail": '{"é":1}', "EventBusName": "bus"}

    # UTF-8 bytes: "é" is two.
    assert entry_size(entry) == 2 + 1 + 8 + 3
    assert entry_size({**entry, "Time": object()}) == 2 + 1 + 8 + 3 + 14


class FakeEventBridge:
    def __init__(self, answers: list[Any] | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.answers = answers or []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def test_put_events_takes_ten_entries_a_call() -> None:
    client = FakeEventBridge()
    events = [created(cancellation_id=f"C{n}") for n in range(23)]

    refused = EventBridgeBus(client, "bus").put(events)

    assert refused == {}
    assert [len(call) for call in client.calls] == [PUT_EVENTS_MAX_ENTRIES, 10, 3]
    assert all(entry["EventBusName"] == "bus" for call in client.calls for entry in call)


def test_put_events_stays_under_the_size_of_a_call() -> None:
    # A hundred lines with long names: some 60 KiB an event, four to a call at most.
    lines = [line(f"L{n}", product_id="P1", product_name="Mug " + "x" * 400) for n in range(100)]
    _, cancellation = apply(order(*lines), order_request())
    client = FakeEventBridge()
    large = CancellationCreated(cancellation)
    assert entry_size(put_events_entry(large, "bus")) > PUT_EVENTS_MAX_BYTES // 5

    refused = EventBridgeBus(client, "bus").put([large] * 10)

    assert refused == {}
    assert sum(len(call) for call in client.calls) == 10
    assert len(client.calls) > 2
    assert all(sum(entry_size(e) for e in call) <= PUT_EVENTS_MAX_BYTES for call in client.calls)


def test_the_refused_entries_of_a_call_are_named_by_their_position_in_the_batch() -> None:
    partial = {
        "FailedEntryCount": 2,
        "Entries": [
            {"EventId": "e1"},
            {"ErrorCode": "InternalFailure", "ErrorMessage": "x"},
            {"EventId": "e3"},
        ]
        + [{"EventId": "e"}] * 6
        + [{"ErrorCode": "ThrottlingException", "ErrorMessage": "y"}],
    }
    client = FakeEventBridge([partial])
    events = [created(cancellation_id=f"C{n}") for n in range(12)]

    refused = EventBridgeBus(client, "bus").put(events)

    assert refused == {1: "InternalFailure", 9: "ThrottlingException"}


def test_a_call_that_fails_as_a_whole_refuses_each_of_its_entries() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "PutEvents")
    timed_out = ReadTimeoutError(endpoint_url="https://events")
    client = FakeEventBridge([throttled, None, timed_out])
    events = [created(cancellation_id=f"C{n}") for n in range(25)]

    refused = EventBridgeBus(client, "bus").put(events)

    assert refused == {
        **dict.fromkeys(range(10), "ThrottlingException"),
        **dict.fromkeys(range(20, 25), "ReadTimeoutError"),
    }
