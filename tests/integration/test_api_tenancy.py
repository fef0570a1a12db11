"""A seller only ever sees its own orders: another seller's order is 404 on every route,
exactly as if it did not exist, and never shows in a listing."""

from __future__ import annotations

import pytest

from tests.integration.conftest import (
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    new_idempotency_key,
    order_input,
    order_request,
    package_request,
    two_package_order,
    without_notification,
)

pytestmark = pytest.mark.integration

STATUSES = ["AWAITING_SHIPMENT", "AWAITING_COLLECTION", "CANCELLED", "IN_TRANSIT"]


@pytest.fixture
def sellers_order(seller: SellerClient, unique_id: IdFactory) -> str:
    """An order of ``seller`` with one cancellation already made."""
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    seller.cancelled(order_id, items_request(("L1", 1)))
    return order_id


def test_another_sellers_order_is_404_on_every_route_and_stays_untouched(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str
) -> None:
    before = seller.order(sellers_order)
    cancellations_before = [
        without_notification(c) for c in seller.cancellation_list(sellers_order)
    ]

    responses = {
        "get": other_seller.get_order(sellers_order),
        "cancellations": other_seller.cancellations(sellers_order),
        "preview": other_seller.preview(sellers_order, items_request(("L1", 1))),
        "submit items": other_seller.cancel(sellers_order, items_request(("L1", 1))),
        "submit package": other_seller.cancel(sellers_order, package_request("PK2")),
        "submit order": other_seller.cancel(sellers_order, order_request(), if_match='"2"'),
        "ship": other_seller.ship(sellers_order, "PK1"),
    }

    for route, response in responses.items():
        document = assert_problem(response, 404, "ORDER_NOT_FOUND")
        assert str(before["version"]) not in response.headers.get("etag", ""), route
        assert "L1" not in document["detail"], route
    assert seller.order(sellers_order) == before
    assert [
        without_notification(c) for c in seller.cancellation_list(sellers_order)
    ] == cancellations_before


def test_another_sellers_order_answers_exactly_like_a_missing_one(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str, unique_id: IdFactory
) -> None:
    missing = unique_id("ORD")

    for call in (
        other_seller.get_order,
        lambda order_id: other_seller.preview(order_id, package_request("PK9")),
        lambda order_id: other_seller.ship(order_id, "PK9"),
    ):
        theirs, nobodys = call(sellers_order).json(), call(missing).json()
        assert theirs["detail"].replace(sellers_order, "X") == nobodys["detail"].replace(
            missing, "X"
        )
        assert {k: v for k, v in theirs.items() if k != "detail"} == {
            k: v for k, v in nobodys.items() if k != "detail"
        }


def test_listings_never_show_another_sellers_orders(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str, unique_id: IdFactory
) -> None:
    shipped, cancelled = unique_id("ORD"), unique_id("ORD")
    for order_id in (shipped, cancelled):
        seller.create_order(order_input(order_id, seller.seller_id))
    seller.ship(shipped, "PK1")
    seller.cancelled(cancelled, order_request())
    own = unique_id("ORD")
    other_seller.create_order(order_input(own, other_seller.seller_id))

    for status in STATUSES:
        for product_ids in (None, "P-MUG", ["P-MUG", "P-TOWEL"]):
            listed = other_seller.list_orders(status=status, product_id=product_ids).json()
            expected = [own] if status == "AWAITING_SHIPMENT" else []
            assert [o["order_id"] for o in listed["orders"]] == expected, (status, product_ids)
    assert [o["order_id"] for o in seller.list_orders().json()["orders"]] == [sellers_order]


def test_two_sellers_may_use_the_same_order_id_independently(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))

    created = other_seller.put_order(
        order_input(order_id, other_seller.seller_id, shipping_fee="0.00")
    )
    other_seller.cancelled(order_id, order_request())

    assert created.status == 201
    assert other_seller.order(order_id)["status"] == "CANCELLED"
    mine = seller.order(order_id)
    assert (mine["status"], mine["shipping_fee"], mine["refunded_total"]) == (
        "AWAITING_SHIPMENT",
        "5.99",
        "0.00",
    )
    assert seller.cancellation_list(order_id) == []


def test_two_sellers_may_use_the_same_idempotency_key_independently(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))
    other_seller.create_order(order_input(order_id, other_seller.seller_id))
    key, request = new_idempotency_key(), items_request(("L1", 1))

    mine = seller.cancel(order_id, request, key=key)
    theirs = other_seller.cancel(order_id, request, key=key)

    assert (mine.status, theirs.status) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["cancellation_id"] != theirs.json()["cancellation_id"]
    assert seller.order(order_id)["lines"][0]["cancelled_quantity"] == 1
    assert other_seller.order(order_id)["lines"][0]["cancelled_quantity"] == 1


def test_a_page_token_of_one_seller_is_refused_to_another(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    for second in range(2):
        seller.create_order(
            order_input(
                unique_id("ORD"), seller.seller_id, created_at=f"2026-11-20T10:00:0{second}Z"
            )
        )
    token = seller.list_orders(page_size=1).json()["next_page_token"]

    assert_problem(other_seller.list_orders(page_token=token), 400, "INVALID_PAGE_TOKEN")
    assert seller.list_orders(page_token=token, page_size=1).status == 200


def test_an_admin_cannot_ingest_an_order_into_another_sellers_account(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")

    response = other_seller.put_order(order_input(order_id, seller.seller_id))

    assert_problem(response, 403, "FORBIDDEN")
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")
    assert_problem(other_seller.get_order(order_id), 404, "ORDER_NOT_FOUND")
