"""``POST /orders/{order_id}/packages/{package_id}/status`` over HTTP on DynamoDB Local:
the order system moves packages on, and a report racing a cancellation of the same
package never lets both apply."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from local_runtime.functions.runtime import InterceptedCall
from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    ApiResponse,
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    new_idempotency_key,
    order_input,
    package_request,
    two_package_order,
)

pytestmark = pytest.mark.integration

RACE_ROUNDS = 6
# Every unit of PK1's one line: a cancellation that wins cancels the package.
CANCEL_ALL_OF_PK1 = items_request(("L1", 3))
# A client that gets 503 (the order kept changing) tries again with the same key.
RETRIES_AFTER_503 = 10


def test_a_report_moves_a_split_order_to_partially_shipping_and_the_listings_follow(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))

    moved = seller.report_status(order_id, "PK1", "IN_TRANSIT")

    assert moved.status == 200, moved.body
    assert moved.json()["status"] == "PARTIALLY_SHIPPING"
    assert moved.headers["etag"] == '"2"'
    assert seller.order(order_id) == moved.json()
    to_ship = [o["order_id"] for o in seller.list_orders().json()["orders"]]
    partially = seller.list_orders(status="PARTIALLY_SHIPPING").json()["orders"]
    assert order_id not in to_ship
    assert [o["order_id"] for o in partially] == [order_id]
    # Items of the package in transit are grayed out; the other package may still go.
    lines = {line["line_id"]: line for line in moved.json()["lines"]}
    assert lines["L1"]["ineligible_reason"] == "ORDER_NOT_AWAITING_SHIPMENT"
    assert_problem(seller.cancel(order_id, items_request(("L2", 1))), 409, "ORDER_NOT_CANCELLABLE")

    # Every package shipped, not all delivered: in transit.
    delivered = seller.report_status(order_id, "PK2", "DELIVERED")
    assert delivered.json()["status"] == "IN_TRANSIT"
    assert seller.report_status(order_id, "PK1", "DELIVERED").json()["status"] == "DELIVERED"
    assert seller.order(order_id)["version"] == 4


def test_a_late_report_changes_nothing_and_a_cancelled_package_is_409(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    seller.cancelled(order_id, package_request("PK2"))
    in_transit = seller.report_status(order_id, "PK1", "IN_TRANSIT").json()

    late = seller.report_status(order_id, "PK1", "AWAITING_COLLECTION", "2026-11-20T18:00:00Z")

    assert late.status == 200
    assert late.json() == in_transit
    assert in_transit["status"] == "IN_TRANSIT"
    assert_problem(seller.report_status(order_id, "PK2", "IN_TRANSIT"), 409, "PACKAGE_CANCELLED")
    assert seller.order(order_id)["version"] == in_transit["version"]


def test_only_the_order_system_reports_and_only_for_its_sellers_orders(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))

    as_seller_user = seller.report_status(order_id, "PK1", "IN_TRANSIT", token=seller.token)
    as_other_seller = other_seller.report_status(order_id, "PK1", "IN_TRANSIT")

    assert_problem(as_seller_user, 403, "FORBIDDEN")
    assert_problem(as_other_seller, 404, "ORDER_NOT_FOUND")
    assert seller.order(order_id)["version"] == 1


def _both_at_once(
    first: Callable[[], ApiResponse], second: Callable[[], ApiResponse]
) -> tuple[ApiResponse, ApiResponse]:
    start = threading.Barrier(2, timeout=20)

    def run(work: Callable[[], ApiResponse]) -> ApiResponse:
        start.wait()
        return work()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(run, first), pool.submit(run, second)
        return a.result(), b.result()


def _cancel(seller: SellerClient, order_id: str, request: object) -> ApiResponse:
    key = new_idempotency_key()
    for _ in range(RETRIES_AFTER_503):
        response = seller.cancel(order_id, request, key=key)
        if response.status != 503:
            return response
    return response


@pytest.mark.parametrize(
    ("reported", "refused_cancellation"),
    [
        # PK2 still awaits shipment, so the order does: the line's package is what refuses.
        ("AWAITING_COLLECTION", "ITEM_NOT_CANCELLABLE"),
        # The order is Partially shipping: no item of it may be cancelled any more.
        ("IN_TRANSIT", "ORDER_NOT_CANCELLABLE"),
    ],
)
def test_a_report_racing_an_item_cancellation_of_the_whole_package_never_lets_both_apply(
    seller: SellerClient, unique_id: IdFactory, reported: str, refused_cancellation: str
) -> None:
    for _round in range(RACE_ROUNDS):
        order_id = unique_id("ORD")
        seller.create_order(two_package_order(order_id, seller.seller_id))

        report, cancellation = _both_at_once(
            lambda order_id=order_id: seller.report_status(order_id, "PK1", reported),
            lambda order_id=order_id: _cancel(seller, order_id, CANCEL_ALL_OF_PK1),
        )

        order = seller.order(order_id)
        pk1 = order["packages"][0]["status"]
        cancellations = seller.cancellation_list(order_id)
        if cancellation.status == 201:
            assert_problem(report, 409, "PACKAGE_CANCELLED")
            assert pk1 == "CANCELLED"
            assert order["lines"][0]["cancelled_quantity"] == 3
            assert [c["cancellation_id"] for c in cancellations] == [
                cancellation.json()["cancellation_id"]
            ]
        else:
            assert report.status == 200, report.body
            assert_problem(cancellation, 409, refused_cancellation)
            assert pk1 == reported
            assert order["lines"][0]["cancelled_quantity"] == 0
            assert cancellations == []
        assert order["version"] == 2


# The same race with its order fixed: the loser's conditional write is held until the
# winner's request has been answered, so that the loser must decide again.


def _first_of(function_id: str, land: Callable[[], ApiResponse]) -> Callable[..., None]:
    landed: list[ApiResponse] = []

    def rule(call: InterceptedCall) -> None:
        if call.function_id == function_id and not landed:
            landed.append(land())

    rule.landed = landed  # type: ignore[attr-defined]
    return rule


def test_a_report_that_loses_to_a_cancellation_of_its_package_is_decided_again_and_refused(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    cancel_first = _first_of(
        "OrderSystemFunction", lambda: _cancel(seller, order_id, CANCEL_ALL_OF_PK1)
    )

    # IN_TRANSIT changes the order's status, so the report writes in a transaction.
    with local_stack.functions.intercept("dynamodb.TransactWriteItems", before=cancel_first):
        report = seller.report_status(order_id, "PK1", "IN_TRANSIT")

    (cancellation,) = cancel_first.landed  # type: ignore[attr-defined]
    assert cancellation.status == 201, cancellation.body
    assert_problem(report, 409, "PACKAGE_CANCELLED")
    order = seller.order(order_id)
    assert [p["status"] for p in order["packages"]] == ["CANCELLED", "AWAITING_SHIPMENT"]
    assert order["version"] == 2


def test_a_cancellation_that_loses_to_a_report_is_decided_again_and_refused(
    local_stack: LocalStack, seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    report_first = _first_of(
        "CancelFunction", lambda: seller.report_status(order_id, "PK1", "AWAITING_COLLECTION")
    )

    with local_stack.functions.intercept("dynamodb.TransactWriteItems", before=report_first):
        cancellation = _cancel(seller, order_id, CANCEL_ALL_OF_PK1)

    (report,) = report_first.landed  # type: ignore[attr-defined]
    assert report.status == 200, report.body
    assert_problem(cancellation, 409, "ITEM_NOT_CANCELLABLE")
    order = seller.order(order_id)
    assert [p["status"] for p in order["packages"]] == ["AWAITING_COLLECTION", "AWAITING_SHIPMENT"]
    assert order["lines"][0]["cancelled_quantity"] == 0
    assert seller.cancellation_list(order_id) == []
