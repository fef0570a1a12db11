"""Stock-outs over HTTP on DynamoDB Local, planned and run by their functions from moto's
SQS through the local queue pollers: the allocation, races with manual cancellations and
package status reports, redelivered messages, and one email per cancelled order."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_runtime.functions.runtime import InterceptedCall
from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    ApiResponse,
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    line,
    new_idempotency_key,
    order_input,
    package,
)

pytestmark = pytest.mark.integration

SKU = "MUG-BLU"
PLANNER = "StockoutPlannerFunction"
WORKER = "StockoutWorkerFunction"
FIRST = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@contextlib.contextmanager
def consumer_down(stack: LocalStack, function_id: str) -> Iterator[None]:
    """The function's queue is not read while inside (its event source mapping disabled)."""
    poller = stack.queue_poller(function_id)
    poller.pause()
    try:
        yield
    finally:
        poller.resume()


def mug_line(line_id: str = "L1", package_id: str = "PK1", quantity: int = 2) -> dict[str, Any]:
    return line(
        line_id,
        package_id,
        product_id="P-MUG",
        sku_id=SKU,
        quantity=quantity,
        unit_price="10.00",
        seller_discount="0.00",
        platform_discount="0.00",
        tax="0.00",
    )


def towel_line(line_id: str = "L9", package_id: str = "PK1") -> dict[str, Any]:
    return line(line_id, package_id, product_id="P-TOWEL", sku_id="TWL", quantity=1)


def placed(
    seller: SellerClient,
    unique_id: IdFactory,
    minutes: int,
    lines: list[dict[str, Any]] | None = None,
    packages: list[dict[str, Any]] | None = None,
) -> str:
    order_id = unique_id("ORD")
    chosen = lines or [mug_line(), towel_line()]
    seller.create_order(
        order_input(
            order_id,
            seller.seller_id,
            created_at=(FIRST + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            packages=packages
            or [package(p) for p in dict.fromkeys(x["package_id"] for x in chosen)],
            lines=chosen,
        )
    )
    return order_id


def preview(seller: SellerClient, units_on_hand: int = 0, sku_id: str = SKU) -> ApiResponse:
    return seller.api.post(
        "/stockouts/preview",
        token=seller.token,
        json_body={"sku_id": sku_id, "units_on_hand": units_on_hand},
    )


def start(
    seller: SellerClient, units_on_hand: int = 0, key: str | None = None, note: str | None = None
) -> ApiResponse:
    return seller.api.post(
        "/stockouts",
        token=seller.token,
        json_body={"sku_id": SKU, "units_on_hand": units_on_hand, "note": note},
        headers=[("Idempotency-Key", key or new_idempotency_key())],
    )


def stockout(seller: SellerClient, stockout_id: str) -> dict[str, Any]:
    response = seller.api.get(f"/stockouts/{stockout_id}", token=seller.token)
    assert response.status == 200, response.body[:500]
    found: dict[str, Any] = response.json()
    return found


def completed(seller: SellerClient, stockout_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = stockout(seller, stockout_id)
        if found["status"] == "COMPLETED" or time.monotonic() > deadline:
            assert found["status"] == "COMPLETED", found
            return found
        time.sleep(0.2)


def stockout_orders(seller: SellerClient, stockout_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        path = f"/stockouts/{stockout_id}/orders?page_size=2"
        response = seller.api.get(
            path + (f"&page_token={token}" if token else ""), token=seller.token
        )
        assert response.status == 200, response.body[:500]
        page = response.json()
        found += page["orders"]
        token = page["next_page_token"]
        if not token:
            return found


def mugs_left(seller: SellerClient, order_id: str) -> int:
    order = seller.order(order_id)
    return sum(
        line["quantity"] - line["cancelled_quantity"]
        for line in order["lines"]
        if line["sku_id"] == SKU
    )


def test_the_oldest_orders_keep_the_units_on_hand_and_the_rest_is_cancelled(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    orders = [placed(seller, unique_id, minutes) for minutes in (30, 10, 20, 40)]
    # Oldest first: orders[1] (10), orders[2] (20), orders[0] (30), orders[3] (40).

    previewed = preview(seller, units_on_hand=3)
    assert previewed.status == 200, previewed.body
    plan = previewed.json()
    assert (plan["orders_matched"], plan["units_demanded"], plan["units_kept"]) == (4, 8, 3)
    assert (plan["units_to_cancel"], plan["orders_to_cancel"]) == (5, 3)
    assert [o["order_id"] for o in plan["orders"]] == [orders[2], orders[0], orders[3]]
    assert plan["orders"][0]["lines"] == [
        {"line_id": "L1", "remaining_quantity": 2, "keep_quantity": 1, "cancel_quantity": 1}
    ]
    assert plan["refunds"][0]["subtotal"] == "50.00" and not plan["truncated"]

    started = start(seller, units_on_hand=3, note="blue mugs sold out")
    assert started.status == 202, started.body
    assert started.json()["status"] in ("PLANNING", "RUNNING", "COMPLETED")
    done = completed(seller, started.json()["stockout_id"])

    assert (done["orders_planned"], done["orders_cancelled"], done["orders_skipped"]) == (3, 3, 0)
    assert done["units_cancelled"] == 5 and done["finished_at"]
    assert done["refunded"] == plan["refunds"]
    assert [mugs_left(seller, o) for o in orders] == [0, 2, 1, 0]
    outcomes = stockout_orders(seller, done["stockout_id"])
    assert [(o["order_id"], o["outcome"], o["cancelled_quantity"]) for o in outcomes] == [
        (orders[2], "CANCELLED", 1),
        (orders[0], "CANCELLED", 2),
        (orders[3], "CANCELLED", 2),
    ]
    for outcome in outcomes:
        (cancellation,) = seller.cancellation_list(outcome["order_id"])
        assert cancellation["cancellation_id"] == outcome["cancellation_id"]
        assert (cancellation["scope"], cancellation["reason"]) == ("ITEMS", "OUT_OF_STOCK")
        assert cancellation["note"] == "blue mugs sold out"


def test_lines_in_two_packages_and_a_package_awaiting_collection(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    split = placed(seller, unique_id, 0, lines=[mug_line("L1", "PK1", 1), mug_line("L2", "PK2", 3)])
    collecting = placed(
        seller,
        unique_id,
        1,
        lines=[mug_line("L1", "PK1", 2), mug_line("L2", "PK2", 2)],
        packages=[package("PK1"), package("PK2")],
    )
    assert seller.ship(collecting, "PK2").status == 200

    plan = preview(seller, units_on_hand=2).json()

    assert [(o["order_id"], o["lines"]) for o in plan["orders"]] == [
        (
            split,
            [
                {
                    "line_id": "L1",
                    "remaining_quantity": 1,
                    "keep_quantity": 1,
                    "cancel_quantity": 0,
                },
                {
                    "line_id": "L2",
                    "remaining_quantity": 3,
                    "keep_quantity": 1,
                    "cancel_quantity": 2,
                },
            ],
        ),
        (
            collecting,
            [{"line_id": "L1", "remaining_quantity": 2, "keep_quantity": 0, "cancel_quantity": 2}],
        ),
    ]


def test_starting_twice_with_one_key_replays_and_one_running_per_sku(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    for minutes in range(3):
        placed(seller, unique_id, minutes)
    key = new_idempotency_key()
    first = start(seller, key=key)
    again = start(seller, key=key)
    other_body = start(seller, units_on_hand=1, key=key)

    assert first.status == again.status == 202
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["stockout_id"] == first.json()["stockout_id"]
    assert_problem(other_body, 409, "IDEMPOTENCY_KEY_REUSED")
    completed(seller, first.json()["stockout_id"])
    assert_problem(start(seller), 409, "NOTHING_TO_CANCEL")


def test_a_running_stockout_of_the_sku_refuses_another(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    for minutes in range(2):
        placed(seller, unique_id, minutes)
    # The planner is down: the stock-out stays PLANNING until it is back.
    with consumer_down(local_stack, PLANNER):
        first = start(seller)
        assert first.status == 202
        assert_problem(start(seller), 409, "STOCKOUT_IN_PROGRESS")
        assert stockout(seller, first.json()["stockout_id"])["status"] == "PLANNING"
    done = completed(seller, first.json()["stockout_id"])
    assert done["orders_cancelled"] == 2


def test_another_sellers_stockout_is_not_found(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    placed(seller, unique_id, 0)
    started = start(seller).json()

    for path in (
        f"/stockouts/{started['stockout_id']}",
        f"/stockouts/{started['stockout_id']}/orders",
    ):
        assert_problem(
            other_seller.api.get(path, token=other_seller.token), 404, "STOCKOUT_NOT_FOUND"
        )
    assert preview(other_seller).json()["orders_matched"] == 0
    completed(seller, started["stockout_id"])


def test_bad_requests_are_400(seller: SellerClient) -> None:
    for body in (
        {"sku_id": SKU, "units_on_hand": -1},
        {"sku_id": SKU, "units_on_hand": 1.5},
        {"units_on_hand": 1},
        {"sku_id": SKU, "units_on_hand": 1, "extra": True},
        {"sku_id": SKU, "note": "n" * 501},
    ):
        assert_problem(
            seller.api.post("/stockouts/preview", token=seller.token, json_body=body),
            400,
            "VALIDATION_ERROR",
        )
    missing_key = seller.api.post("/stockouts", token=seller.token, json_body={"sku_id": SKU})
    assert_problem(missing_key, 400, "IDEMPOTENCY_KEY_REQUIRED")


def test_orders_changed_since_the_plan_are_decided_again_never_a_kept_unit_cancelled(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    kept, by_hand, shipped, untouched = (placed(seller, unique_id, m) for m in range(4))
    # The workers are down while the plan is made and the orders change.
    with consumer_down(local_stack, WORKER):
        started = start(seller, units_on_hand=3).json()
        _wait_for(lambda: stockout(seller, started["stockout_id"])["orders_planned"] == 3)
        seller.cancelled(by_hand, items_request(("L1", 1)))
        assert seller.report_status(shipped, "PK1", "IN_TRANSIT").status == 200

    done = completed(seller, started["stockout_id"])

    # The plan: `kept` keeps 2, `by_hand` keeps 1 and cancels 1, the others cancel 2.
    outcomes = {o["order_id"]: o for o in stockout_orders(seller, started["stockout_id"])}
    assert set(outcomes) == {by_hand, shipped, untouched}
    assert outcomes[by_hand]["outcome"] == "SKIPPED"  # its one cancellable unit is kept
    assert outcomes[shipped]["outcome"] == "SKIPPED"
    assert "no longer awaiting shipment" in outcomes[shipped]["detail"]
    assert outcomes[untouched]["cancelled_quantity"] == 2
    assert [mugs_left(seller, o) for o in (kept, by_hand, shipped, untouched)] == [2, 1, 2, 0]
    assert (done["orders_cancelled"], done["orders_skipped"]) == (1, 2)
    assert done["orders_cancelled"] + done["orders_skipped"] == done["orders_planned"]


def test_segments_delivered_again_cancel_each_order_once_and_email_each_buyer_once(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    orders = [placed(seller, unique_id, m) for m in range(3)]
    started = start(seller).json()
    done = completed(seller, started["stockout_id"])
    segment = {
        "Records": [
            {
                "messageId": f"again-{n}",
                "receiptHandle": "r",
                "body": json.dumps(
                    {
                        "seller_id": seller.seller_id,
                        "stockout_id": done["stockout_id"],
                        "segment": 0,
                    }
                ),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
                "awsRegion": "us-east-1",
            }
            for n in range(3)
        ]
    }

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: local_stack.functions.invoke(WORKER, segment), range(3)))

    assert answers == [{"batchItemFailures": []}] * 3
    assert stockout(seller, done["stockout_id"]) == done
    for order_id in orders:
        assert len(seller.cancellation_list(order_id)) == 1
    emails = _wait_for(
        lambda: [m for m in local_stack.outbox() if any(o in m.subject for o in orders)],
        until=lambda found: len(found) >= 3,
    )
    assert sorted(m.subject for m in emails) == sorted(
        f"Your order {o}: 2 items cancelled" for o in orders
    )


def _wait_for(
    probe: Callable[[], Any], until: Callable[[Any], bool] = bool, timeout: float = 30
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_stockout_raced_by_manual_cancellations_and_status_reports_never_over_cancels(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    orders = [
        placed(seller, unique_id, m, lines=[mug_line(quantity=3), towel_line()]) for m in range(8)
    ]
    plan = {o["order_id"]: o["lines"][0] for o in preview(seller, units_on_hand=4).json()["orders"]}

    def race(index: int) -> ApiResponse:
        if index == 0:
            return start(seller, units_on_hand=4)
        order_id = orders[index % len(orders)]
        if index % 2:
            return seller.cancel(order_id, items_request(("L1", 1)))
        return seller.report_status(order_id, "PK1", "AWAITING_COLLECTION")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(race, range(12)))
    started, others = answers[0], answers[1:]
    assert started.status == 202, started.body
    done = completed(seller, started.json()["stockout_id"])
    assert all(a.status in (200, 201, 409, 503) for a in others), [a.status for a in others]

    outcomes = {o["order_id"]: o for o in stockout_orders(seller, done["stockout_id"])}
    assert done["orders_cancelled"] + done["orders_skipped"] == done["orders_planned"]
    assert done["units_cancelled"] == sum(o["cancelled_quantity"] for o in outcomes.values())
    for order_id in orders:
        order = seller.order(order_id)
        (mugs,) = [x for x in order["lines"] if x["line_id"] == "L1"]
        assert 0 <= mugs["cancelled_quantity"] <= mugs["quantity"]
        by_stockout = outcomes.get(order_id, {}).get("cancelled_quantity", 0)
        planned = plan.get(order_id)
        if planned is None:
            assert by_stockout == 0, order_id  # an order that keeps all is never touched
            continue
        # Never more than planned, and never into the units planned to be kept: replayed
        # oldest first, the order's cancellations leave the kept units after the stock-out's.
        assert by_stockout <= planned["cancel_quantity"], order_id
        remaining = mugs["quantity"]
        found = 0
        for cancellation in seller.cancellation_list(order_id):
            units = sum(i["quantity"] for i in cancellation["items"] if i["line_id"] == "L1")
            if cancellation["cancellation_id"] == outcomes.get(order_id, {}).get("cancellation_id"):
                found += 1
                assert units == by_stockout
                assert remaining - units >= planned["keep_quantity"], order_id
            remaining -= units
        assert found == (1 if by_stockout else 0), order_id


def test_a_worker_that_dies_mid_segment_is_retried_and_cancels_each_order_once(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    orders = [placed(seller, unique_id, m) for m in range(4)]
    crashes: list[str] = []

    def die_after_the_second(call: InterceptedCall) -> BaseException | None:
        if call.function_id != WORKER or crashes:
            return None
        done_so_far = [c for c in orders if seller.cancellation_list(c)]
        if len(done_so_far) < 2:
            return None
        crashes.append("crashed")
        # The instance's process ends here, as a Lambda instance that dies mid-batch.
        return SystemExit(1)

    with local_stack.functions.intercept("dynamodb.GetItem", after=die_after_the_second):
        started = start(seller).json()
        done = completed(seller, started["stockout_id"], timeout=90)

    assert crashes == ["crashed"]
    assert (done["orders_cancelled"], done["units_cancelled"]) == (4, 8)
    for order_id in orders:
        assert len(seller.cancellation_list(order_id)) == 1
