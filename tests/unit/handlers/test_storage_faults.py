"""Throttling and timeouts in DynamoDB: a 503 to retry, with Retry-After, and nothing
half-written."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import assert_problem, order_input

ONE_MUG = {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": [{"line_id": "L1", "quantity": 1}]}


@contextlib.contextmanager
def failing(api: Api, function: str, operation: str, failure: Any) -> Iterator[list[str]]:
    """Every ``operation`` call of the function's DynamoDB client fails with ``failure``:
    an error code (answered by "DynamoDB") or an exception (raised on the way)."""
    client = api.module(function).api.dynamodb
    calls: list[str] = []

    def fail(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        calls.append(operation)
        if isinstance(failure, Exception):
            raise failure
        parsed = {
            "Error": {"Code": failure, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.local", 400, {}, None), parsed

    event = f"before-call.dynamodb.{operation}"
    client.meta.events.register(event, fail, unique_id="storage-fault")
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, unique_id="storage-fault")


def test_a_throttled_submit_is_503_with_retry_after_and_changes_nothing(api: Api) -> None:
    api.ingest(order_input("O1"))

    with failing(api, "cancel", "TransactWriteItems", "ProvisionedThroughputExceededException"):
        result = api.submit("O1", ONE_MUG, key="k-throttled")

    document = assert_problem(result, 503, "SERVICE_UNAVAILABLE")
    assert result.headers["retry-after"] == "1"
    assert "retry" in document["detail"]
    order = api.get("/orders/O1").json()
    assert order["version"] == 1
    assert order["lines"][0]["cancelled_quantity"] == 0
    assert api.get("/orders/O1/cancellations").json() == {"cancellations": []}
    # The same key goes through once DynamoDB recovers: nothing was remembered of it.
    assert api.submit("O1", ONE_MUG, key="k-throttled").status == 201


def test_a_read_timeout_listing_orders_is_503(api: Api) -> None:
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.local")

    with failing(api, "list_orders", "Query", timeout) as calls:
        result = api.get("/orders")

    assert_problem(result, 503, "SERVICE_UNAVAILABLE")
    assert result.headers["retry-after"] == "1"
    assert calls


def test_a_throttled_order_read_is_503_not_404(api: Api) -> None:
    api.ingest(order_input("O1"))

    with failing(api, "list_orders", "GetItem", "ThrottlingException"):
        result = api.get("/orders/O1")

    assert_problem(result, 503, "SERVICE_UNAVAILABLE")
