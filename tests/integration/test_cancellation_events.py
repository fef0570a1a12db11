"""Cancellation Created events: cancellations over HTTP on DynamoDB Local, the table's
stream read by the stream poller, the publish function, and the stack's bus on moto,
read back through ``GET /_local/events``. PutEvents faults are put in the function's way
by the local runtime (``intercept``)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from local_runtime.functions.runtime import AwsAnswer, AwsCall, AwsError, InterceptedCall
from local_runtime.stack import EVENTS_PATH, LocalStack
from local_runtime.template import load_template_document
from tests.integration.conftest import (
    ApiClient,
    IdFactory,
    SellerClient,
    cancellation_key,
    items_request,
    order_input,
    order_request,
    package_request,
    stream_consumers_down,
    two_package_order,
    without_notification,
)

pytestmark = pytest.mark.integration

PUBLISH = "PublishFunction"
SCHEMA = json.loads(
    load_template_document()["Resources"]["CancellationCreatedSchema"]["Properties"]["Content"]
)


def events_of(api: ApiClient, cancellation_ids: set[str]) -> list[dict[str, Any]]:
    """What ``GET /_local/events`` lists for these cancellations, oldest first."""
    response = api.get(EVENTS_PATH)
    assert response.status == 200, response.body[:500]
    return [
        event
        for event in response.json()["events"]
        if event["detail"]["cancellation"]["cancellation_id"] in cancellation_ids
    ]


def wait_for_events(
    api: ApiClient, cancellation_ids: set[str], count: int | None = None, timeout: float = 20
) -> list[dict[str, Any]]:
    """The events of these cancellations once there are ``count`` (one each by default)."""
    wanted = len(cancellation_ids) if count is None else count
    deadline = time.monotonic() + timeout
    while True:
        found = events_of(api, cancellation_ids)
        if len(found) >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def settled(stack: LocalStack) -> None:
    """Every stream record delivered, and any handed back delivered again."""
    assert stack.stream_poller is not None
    for _ in range(3):
        stack.stream_poller.drain()


def stream_batch(stack: LocalStack, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda-shaped batch of the INSERT records of these items, their new images read
    from the table as the stream would carry them."""
    dynamodb = stack.client("dynamodb")
    records = []
    for index, key in enumerate(keys):
        item = dynamodb.get_item(TableName=stack.table_name, Key=key, ConsistentRead=True)["Item"]
        records.append(
            {
                "eventID": f"event-{index}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": stack.region,
                "dynamodb": {
                    "ApproximateCreationDateTime": int(time.time()),
                    "Keys": key,
                    "NewImage": item,
                    "SequenceNumber": str(5000 + index),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": stack.table_description["LatestStreamArn"],
            }
        )
    return {"Records": records}


def cancelled_orders(
    seller: SellerClient, unique_id: IdFactory, count: int
) -> list[dict[str, Any]]:
    cancellations = []
    for _ in range(count):
        order_id = unique_id("ORD")
        seller.create_order(order_input(order_id, seller.seller_id))
        cancellations.append(seller.cancelled(order_id, items_request(("L1", 1))))
    return cancellations


@contextlib.contextmanager
def put_events_calls(stack: LocalStack) -> Iterator[list[AwsCall]]:
    calls: list[AwsCall] = []
    lock = threading.Lock()

    def watch(call: AwsCall) -> None:
        if (call.function_id, call.service, call.operation) == (
            PUBLISH,
            "eventbridge",
            "PutEvents",
        ):
            with lock:
                calls.append(call)

    with stack.functions.watch(watch):
        yield calls


# --- one event per cancellation ----------------------------------------------------------


def test_each_cancellation_is_published_once_with_the_documented_detail(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: IdFactory
) -> None:
    items_order, split_order, whole_order = (unique_id("ORD") for _ in range(3))
    seller.create_order(order_input(items_order, seller.seller_id))
    seller.create_order(two_package_order(split_order, seller.seller_id))
    seller.create_order(order_input(whole_order, seller.seller_id))
    cancellations = [
        seller.cancelled(items_order, items_request(("L1", 2))),
        seller.cancelled(split_order, package_request("PK2")),
        seller.cancelled(split_order, items_request(("L1", 3))),
        seller.cancelled(whole_order, order_request()),
    ]
    ids = {c["cancellation_id"] for c in cancellations}

    events = wait_for_events(api, ids)
    settled(local_stack)

    assert len(events_of(api, ids)) == len(cancellations)
    by_id = {e["detail"]["cancellation"]["cancellation_id"]: e for e in events}
    for cancellation in cancellations:
        event = by_id[cancellation["cancellation_id"]]
        assert set(event) == {"source", "detail-type", "detail", "time"}
        assert (event["source"], event["detail-type"]) == (
            "order-cancellations",
            "Cancellation Created",
        )
        assert event["detail"] == {
            "seller_id": seller.seller_id,
            "cancellation": without_notification(cancellation),
            "order": {
                "order_id": cancellation["order_id"],
                "status": cancellation["resulting_order_status"],
                "version": cancellation["order_version"],
            },
        }
        assert event["time"][:19] == cancellation["created_at"][:19]
        jsonschema.Draft4Validator(SCHEMA).validate(event)
    # The split order's second cancellation left nothing: the order is cancelled.
    assert by_id[cancellations[2]["cancellation_id"]]["detail"]["order"]["status"] == "CANCELLED"


def test_a_package_status_report_publishes_nothing(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    (cancellation,) = [seller.cancelled(order_id, items_request(("L2", 1)))]
    seller.report_status(order_id, "PK1", "IN_TRANSIT")

    wait_for_events(api, {cancellation["cancellation_id"]})
    settled(local_stack)

    published = [
        e
        for e in api.get(EVENTS_PATH).json()["events"]
        if e["detail"].get("seller_id") == seller.seller_id
    ]
    assert [e["detail"]["cancellation"]["cancellation_id"] for e in published] == [
        cancellation["cancellation_id"]
    ]


# --- at least once, never lost --------------------------------------------------------------


def test_a_batch_redelivered_three_times_leaves_consumers_one_distinct_cancellation_each(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: IdFactory
) -> None:
    with stream_consumers_down(local_stack):
        cancellations = cancelled_orders(seller, unique_id, 3)
        batch = stream_batch(
            local_stack, [cancellation_key(seller.seller_id, c) for c in cancellations]
        )

        answers = [local_stack.functions.invoke(PUBLISH, batch) for _ in range(3)]

    assert answers == [{"batchItemFailures": []}] * 3
    ids = {c["cancellation_id"] for c in cancellations}
    # The stream delivers the records a fourth time once its consumers are back.
    events = wait_for_events(api, ids, count=4 * len(ids))
    settled(local_stack)
    events = events_of(api, ids)
    assert Counter(e["detail"]["cancellation"]["cancellation_id"] for e in events) == dict.fromkeys(
        ids, 4
    )
    # A consumer that drops repeats by cancellation_id keeps one of each, all alike.
    kept: dict[str, dict[str, Any]] = {}
    details: defaultdict[str, list[str]] = defaultdict(list)
    for event in events:
        cancellation_id = event["detail"]["cancellation"]["cancellation_id"]
        kept.setdefault(cancellation_id, event)
        details[cancellation_id].append(json.dumps(event["detail"], sort_keys=True))
    assert set(kept) == ids
    assert all(len(set(versions)) == 1 for versions in details.values())


def _taking_only_some_once(stack: LocalStack) -> Callable[[InterceptedCall], AwsAnswer | None]:
    """A first PutEvents that EventBridge takes only in part: the entries at even
    positions are put on the bus, the others refused. Later calls go ahead."""
    answered: list[bool] = []
    events = stack.client("events")

    def rule(call: InterceptedCall) -> AwsAnswer | None:
        if call.function_id != PUBLISH or answered:
            return None
        answered.append(True)
        entries = list(call.params["Entries"])
        taken = events.put_events(Entries=entries[::2])["Entries"]
        results: list[dict[str, Any]] = []
        for position in range(len(entries)):
            if position % 2 == 0:
                results.append(taken[position // 2])
            else:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
        return AwsAnswer({"FailedEntryCount": len(entries) // 2, "Entries": results})

    return rule


def test_put_events_refusing_part_of_a_batch_is_retried_until_every_event_is_published(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: IdFactory
) -> None:
    with stream_consumers_down(local_stack):
        cancellations = cancelled_orders(seller, unique_id, 5)
        batch = stream_batch(
            local_stack, [cancellation_key(seller.seller_id, c) for c in cancellations]
        )
        ids = {c["cancellation_id"] for c in cancellations}

        with (
            put_events_calls(local_stack) as calls,
            local_stack.functions.intercept(
                "eventbridge.PutEvents", before=_taking_only_some_once(local_stack)
            ),
        ):
            answer = local_stack.functions.invoke(PUBLISH, batch)

        published = Counter(
            e["detail"]["cancellation"]["cancellation_id"] for e in events_of(api, ids)
        )

    assert answer == {"batchItemFailures": []}
    offered = [
        [json.loads(e["Detail"])["cancellation"]["cancellation_id"] for e in c.params["Entries"]]
        for c in calls
    ]
    assert len(offered[0]) == len(ids)
    # Only the two refused were offered again, in one more call.
    assert offered[1:] == [offered[0][1::2]]
    assert published == dict.fromkeys(ids, 1)


def test_events_still_refused_when_the_retries_run_out_are_handed_back_to_the_stream(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: IdFactory
) -> None:
    refusals = {"left": 3}
    mine = f'"seller_id":"{seller.seller_id}"'

    def throttled(call: InterceptedCall) -> AwsError | None:
        ours = any(mine in entry["Detail"] for entry in call.params["Entries"])
        if call.function_id == PUBLISH and ours and refusals["left"] > 0:
            refusals["left"] -= 1
            return AwsError("ThrottlingException", "Rate exceeded")
        return None

    settled(local_stack)

    # Each invocation offers an event once, then hands it back.
    with (
        local_stack.functions.configured(PUBLISH, {"PUBLISH_RETRY_SECONDS": "0"}),
        put_events_calls(local_stack) as calls,
        local_stack.functions.intercept("eventbridge.PutEvents", before=throttled),
    ):
        (cancellation,) = cancelled_orders(seller, unique_id, 1)
        events = wait_for_events(api, {cancellation["cancellation_id"]})
        settled(local_stack)

    assert len(events) == 1
    assert len(events_of(api, {cancellation["cancellation_id"]})) == 1
    offers = [c for c in calls if any(mine in e["Detail"] for e in c.params["Entries"])]
    # Three invocations were refused (botocore's retries do not retry what the
    # interception answers) and handed the record back; the fourth published it.
    assert [c.error for c in offers] == ["ThrottlingException"] * 3 + [None]
