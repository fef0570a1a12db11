"""Cancelling over HTTP: preview, submit (idempotency, If-Match), the cancellations of an
order, shipping, every 409 and 422 of the contract, and the refund math end to end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import (
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    line,
    new_idempotency_key,
    order_input,
    order_request,
    package,
    package_request,
    two_package_order,
    without_notification,
)
from tests.unit.handlers.contract import CANCELLATION_FIELDS

pytestmark = pytest.mark.integration

NO_REFUND = {
    "currency": "USD",
    "subtotal": "0.00",
    "seller_discount": "0.00",
    "platform_discount": "0.00",
    "tax": "0.00",
    "shipping_fee": "0.00",
    "total": "0.00",
}
# API.md's Mug: one unit of 3 x 10.00 with discounts 3.00 and 1.50 and tax 2.04.
ONE_MUG = {
    "currency": "USD",
    "subtotal": "10.00",
    "seller_discount": "1.00",
    "platform_discount": "0.50",
    "tax": "0.68",
    "shipping_fee": "0.00",
    "total": "9.18",
}


@pytest.fixture
def two_packages(seller: SellerClient, unique_id: IdFactory) -> str:
    """PK1 holds L1 (3 mugs), PK2 holds L2 (2 towels)."""
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    return order_id


# --- preview -----------------------------------------------------------------------------


def test_a_preview_shows_the_refund_and_changes_nothing(
    seller: SellerClient, mug_order: str
) -> None:
    before = seller.order(mug_order)

    response = seller.preview(mug_order, items_request(("L1", 1)))

    assert response.status == 200
    assert response.json() == {
        "order_version": before["version"],
        "refund": ONE_MUG,
        "items": [{"line_id": "L1", "quantity": 1, "refund": ONE_MUG}],
        "resulting_order_status": "AWAITING_SHIPMENT",
    }
    assert seller.order(mug_order) == before
    assert seller.cancellation_list(mug_order) == []


def test_a_preview_of_the_whole_order_includes_shipping_and_the_resulting_status(
    seller: SellerClient, two_packages: str
) -> None:
    before = seller.order(two_packages)

    preview = seller.preview(two_packages, order_request()).json()

    assert preview["resulting_order_status"] == "CANCELLED"
    assert preview["refund"]["shipping_fee"] == "5.99"
    assert preview["refund"]["total"] == before["paid_total"]
    assert [(item["line_id"], item["quantity"]) for item in preview["items"]] == [
        ("L1", 3),
        ("L2", 2),
    ]
    assert seller.order(two_packages) == before


def test_preview_and_submit_compute_the_same_refund(seller: SellerClient, mug_order: str) -> None:
    seller.cancelled(mug_order, items_request(("L1", 1)))
    request = items_request(("L1", 2))

    preview = seller.preview(mug_order, request).json()
    submitted = seller.cancelled(mug_order, request)

    assert submitted["refund"] == preview["refund"]
    assert submitted["resulting_order_status"] == preview["resulting_order_status"]
    assert [(i["line_id"], i["quantity"], i["refund"]) for i in submitted["items"]] == [
        (i["line_id"], i["quantity"], i["refund"]) for i in preview["items"]
    ]
    assert submitted["order_version"] == preview["order_version"] + 1


# --- submit ------------------------------------------------------------------------------


def test_a_submit_is_201_with_the_cancellation(seller: SellerClient, mug_order: str) -> None:
    before = seller.order(mug_order)

    response = seller.cancel(mug_order, items_request(("L1", 1), note="Ran out of blue"))

    assert response.status == 201
    assert "idempotent-replayed" not in response.headers
    cancellation = response.json()
    assert set(cancellation) == CANCELLATION_FIELDS
    assert cancellation["cancellation_id"]
    assert cancellation["order_id"] == mug_order
    assert (cancellation["scope"], cancellation["reason"]) == ("ITEMS", "OUT_OF_STOCK")
    assert (cancellation["package_id"], cancellation["note"]) == (None, "Ran out of blue")
    assert cancellation["items"] == [
        {
            "line_id": "L1",
            "sku_id": "SKU-L1",
            "product_name": "Mug",
            "quantity": 1,
            "refund": ONE_MUG,
        }
    ]
    assert cancellation["refund"] == ONE_MUG
    assert cancellation["created_by"] == f"user-{seller.seller_id}"
    assert cancellation["created_at"].endswith("Z")
    assert cancellation["order_version"] == before["version"] + 1
    assert cancellation["resulting_order_status"] == "AWAITING_SHIPMENT"
    assert cancellation["notification"] == {"status": "PENDING", "sent_at": None}

    after = seller.order(mug_order)
    assert after["version"] == before["version"] + 1
    assert after["lines"][0]["cancelled_quantity"] == 1
    assert after["lines"][0]["cancellable_quantity"] == 2
    assert after["refunded_total"] == "9.18"
    assert without_notification(seller.cancellation_list(mug_order)[0]) == (
        without_notification(cancellation)
    )


def test_the_same_key_and_body_again_replays_the_cancellation_and_changes_nothing(
    seller: SellerClient, mug_order: str
) -> None:
    key, request = new_idempotency_key(), items_request(("L1", 1))
    first = seller.cancel(mug_order, request, key=key)
    after_first = seller.order(mug_order)

    again = seller.cancel(mug_order, request, key=key)

    assert (first.status, again.status) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert without_notification(again.json()) == without_notification(first.json())
    assert seller.order(mug_order) == after_first
    assert len(seller.cancellation_list(mug_order)) == 1


def test_a_replay_returns_the_original_cancellation_after_the_order_changed(
    seller: SellerClient, two_packages: str
) -> None:
    key, request = new_idempotency_key(), items_request(("L1", 1))
    first = seller.cancelled(two_packages, request, key=key)
    seller.cancelled(two_packages, items_request(("L1", 1)))
    assert seller.ship(two_packages, "PK2").status == 200
    changed = seller.order(two_packages)

    again = seller.cancel(two_packages, request, key=key)

    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert without_notification(again.json()) == without_notification(first)
    assert seller.order(two_packages) == changed
    assert len(seller.cancellation_list(two_packages)) == 2


def test_a_replay_after_the_order_is_fully_cancelled_is_the_original_201(
    seller: SellerClient, mug_order: str
) -> None:
    key, request = new_idempotency_key(), items_request(("L1", 1))
    first = seller.cancelled(mug_order, request, key=key)
    seller.cancelled(mug_order, order_request())
    assert seller.order(mug_order)["status"] == "CANCELLED"

    again = seller.cancel(mug_order, request, key=key, if_match='"1"')

    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert without_notification(again.json()) == without_notification(first)


def test_the_same_key_with_another_body_is_409_and_changes_nothing(
    seller: SellerClient, mug_order: str
) -> None:
    key = new_idempotency_key()
    seller.cancelled(mug_order, items_request(("L1", 1)), key=key)
    before = seller.order(mug_order)

    for other in [
        items_request(("L1", 2)),
        items_request(("L1", 1), note="a note"),
        order_request(),
    ]:
        assert_problem(seller.cancel(mug_order, other, key=key), 409, "IDEMPOTENCY_KEY_REUSED")
    assert seller.order(mug_order) == before
    assert len(seller.cancellation_list(mug_order)) == 1


def test_the_same_key_and_body_on_another_order_is_409(
    seller: SellerClient, mug_order: str, unique_id: IdFactory
) -> None:
    other_order = unique_id("ORD")
    seller.create_order(order_input(other_order, seller.seller_id))
    key, request = new_idempotency_key(), items_request(("L1", 1))
    seller.cancelled(mug_order, request, key=key)

    assert_problem(seller.cancel(other_order, request, key=key), 409, "IDEMPOTENCY_KEY_REUSED")
    assert seller.order(other_order)["refunded_total"] == "0.00"


def test_a_submit_without_an_idempotency_key_is_400(seller: SellerClient, mug_order: str) -> None:
    response = seller.api.post(
        f"/orders/{mug_order}/cancellations",
        token=seller.token,
        json_body=items_request(("L1", 1)),
    )

    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert seller.cancellation_list(mug_order) == []


def test_an_if_match_with_the_current_version_lets_the_submit_through(
    seller: SellerClient, mug_order: str
) -> None:
    etag = seller.get_order(mug_order).headers["etag"]
    first = seller.cancel(mug_order, items_request(("L1", 1)), if_match=etag)
    preview_version = seller.preview(mug_order, items_request(("L1", 1))).json()["order_version"]

    second = seller.cancel(mug_order, items_request(("L1", 1)), if_match=str(preview_version))

    assert (first.status, second.status) == (201, 201)
    assert second.json()["order_version"] == preview_version + 1


def test_an_if_match_with_another_version_is_412_and_changes_nothing(
    seller: SellerClient, mug_order: str
) -> None:
    stale = seller.get_order(mug_order).headers["etag"]
    seller.cancelled(mug_order, items_request(("L1", 1)))
    before = seller.order(mug_order)

    for if_match in [stale, '"99"', "0"]:
        response = seller.cancel(mug_order, items_request(("L1", 1)), if_match=if_match)
        assert_problem(response, 412, "ORDER_VERSION_MISMATCH")
    assert seller.order(mug_order) == before


@pytest.mark.parametrize("if_match", ["three", '"-1"', '"3.0"', 'W/"x"', "v3"])
def test_an_if_match_that_is_no_version_is_400(
    seller: SellerClient, mug_order: str, if_match: str
) -> None:
    response = seller.cancel(mug_order, items_request(("L1", 1)), if_match=if_match)

    assert_problem(response, 400, "VALIDATION_ERROR")
    assert seller.cancellation_list(mug_order) == []


# --- GET /orders/{order_id}/cancellations ------------------------------------------------


def test_the_cancellations_of_an_order_are_listed_oldest_first(
    seller: SellerClient, two_packages: str
) -> None:
    assert seller.cancellation_list(two_packages) == []
    made = [
        seller.cancelled(two_packages, items_request(("L1", 1))),
        seller.cancelled(two_packages, items_request(("L2", 1), ("L1", 1))),
        seller.cancelled(two_packages, package_request("PK2", reason="PRICING_ERROR")),
        seller.cancelled(two_packages, order_request(reason="UNABLE_TO_DELIVER")),
    ]

    listed = seller.cancellation_list(two_packages)

    assert [without_notification(c) for c in listed] == [without_notification(c) for c in made]
    versions = [c["order_version"] for c in listed]
    assert versions == sorted(versions)
    assert [c["resulting_order_status"] for c in listed] == [
        "AWAITING_SHIPMENT",
        "AWAITING_SHIPMENT",
        "AWAITING_SHIPMENT",
        "CANCELLED",
    ]


def test_the_cancellations_of_an_unknown_order_are_404(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    assert_problem(seller.cancellations(unique_id("ORD")), 404, "ORDER_NOT_FOUND")


# --- ship --------------------------------------------------------------------------------


def test_shipping_a_package_is_200_with_the_order_awaiting_collection(
    seller: SellerClient, two_packages: str
) -> None:
    before = seller.order(two_packages)

    response = seller.ship(two_packages, "PK1")

    assert response.status == 200
    shipped = response.json()
    assert shipped == seller.order(two_packages)
    assert response.headers["etag"] == f'"{before["version"] + 1}"'
    assert [p["status"] for p in shipped["packages"]] == [
        "AWAITING_COLLECTION",
        "AWAITING_SHIPMENT",
    ]
    assert shipped["status"] == "AWAITING_SHIPMENT"
    assert seller.ship(two_packages, "PK2").json()["status"] == "AWAITING_COLLECTION"


@pytest.mark.parametrize("start", ["AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"])
def test_shipping_a_package_not_awaiting_shipment_is_409(
    seller: SellerClient, unique_id: IdFactory, start: str
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id, packages=[package("PK1", start)]))
    before = seller.order(order_id)

    assert_problem(seller.ship(order_id, "PK1"), 409, "PACKAGE_NOT_SHIPPABLE")
    assert seller.order(order_id) == before


def test_shipping_a_package_twice_or_a_cancelled_one_is_409(
    seller: SellerClient, two_packages: str
) -> None:
    assert seller.ship(two_packages, "PK1").status == 200
    seller.cancelled(two_packages, package_request("PK2"))

    assert_problem(seller.ship(two_packages, "PK1"), 409, "PACKAGE_NOT_SHIPPABLE")
    assert_problem(seller.ship(two_packages, "PK2"), 409, "PACKAGE_NOT_SHIPPABLE")


def test_shipping_an_unknown_package_is_422_and_an_unknown_order_404(
    seller: SellerClient, mug_order: str, unique_id: IdFactory
) -> None:
    assert_problem(seller.ship(mug_order, "PK9"), 422, "UNKNOWN_PACKAGE")
    assert_problem(seller.ship(unique_id("ORD"), "PK1"), 404, "ORDER_NOT_FOUND")


# --- every 409 and 422 of a cancellation -------------------------------------------------


def _assert_rejected_without_change(
    seller: SellerClient, order_id: str, request: dict[str, Any], status: int, code: str
) -> dict[str, Any]:
    before = seller.order(order_id)
    document = assert_problem(seller.preview(order_id, request), status, code)
    assert_problem(seller.cancel(order_id, request), status, code)
    assert seller.order(order_id) == before
    return document


def test_an_items_cancellation_with_a_reason_not_allowed_for_items_is_422(
    seller: SellerClient, mug_order: str
) -> None:
    for reason in ("PRICING_ERROR", "UNABLE_TO_DELIVER", "BUYER_REQUESTED"):
        document = _assert_rejected_without_change(
            seller,
            mug_order,
            items_request(("L1", 1), reason=reason),
            422,
            "REASON_NOT_ALLOWED_FOR_ITEMS",
        )
        assert [error["field"] for error in document["errors"]] == ["reason"]


def test_an_unknown_line_is_422(seller: SellerClient, mug_order: str) -> None:
    document = _assert_rejected_without_change(
        seller, mug_order, items_request(("L1", 1), ("L9", 1)), 422, "UNKNOWN_LINE"
    )
    assert [error["field"] for error in document["errors"]] == ["items[1].line_id"]


def test_an_unknown_package_is_422(seller: SellerClient, mug_order: str) -> None:
    _assert_rejected_without_change(
        seller, mug_order, package_request("PK9"), 422, "UNKNOWN_PACKAGE"
    )


def test_asking_more_units_than_are_left_is_409(seller: SellerClient, mug_order: str) -> None:
    seller.cancelled(mug_order, items_request(("L1", 1)))

    document = _assert_rejected_without_change(
        seller, mug_order, items_request(("L1", 3)), 409, "QUANTITY_EXCEEDS_CANCELLABLE"
    )

    assert document["detail"] == "line L1: 3 requested, 2 cancellable"
    assert [error["field"] for error in document["errors"]] == ["items[0].quantity"]


def test_an_item_with_nothing_left_is_409_item_not_cancellable(
    seller: SellerClient, two_packages: str
) -> None:
    seller.cancelled(two_packages, items_request(("L2", 2)))

    document = _assert_rejected_without_change(
        seller, two_packages, items_request(("L1", 1), ("L2", 1)), 409, "ITEM_NOT_CANCELLABLE"
    )

    assert [error["field"] for error in document["errors"]] == ["items[1].line_id"]


def test_an_item_in_a_package_awaiting_collection_is_409_item_not_cancellable(
    seller: SellerClient, two_packages: str
) -> None:
    assert seller.ship(two_packages, "PK1").status == 200

    _assert_rejected_without_change(
        seller, two_packages, items_request(("L1", 1)), 409, "ITEM_NOT_CANCELLABLE"
    )
    assert seller.cancelled(two_packages, items_request(("L2", 1)))["items"][0]["line_id"] == "L2"


def test_items_of_an_order_awaiting_collection_are_409_order_not_cancellable(
    seller: SellerClient, mug_order: str
) -> None:
    assert seller.ship(mug_order, "PK1").status == 200

    _assert_rejected_without_change(
        seller, mug_order, items_request(("L1", 1)), 409, "ORDER_NOT_CANCELLABLE"
    )
    assert seller.cancelled(mug_order, order_request())["resulting_order_status"] == "CANCELLED"


@pytest.mark.parametrize(
    "statuses", [["IN_TRANSIT"], ["DELIVERED"], ["IN_TRANSIT", "AWAITING_SHIPMENT"]]
)
def test_any_cancellation_of_a_shipped_order_is_409_order_not_cancellable(
    seller: SellerClient, unique_id: IdFactory, statuses: list[str]
) -> None:
    order_id = unique_id("ORD")
    packages = [package(f"PK{index}", status) for index, status in enumerate(statuses, start=1)]
    lines = [line(f"L{index}", f"PK{index}") for index in range(1, len(statuses) + 1)]
    seller.create_order(order_input(order_id, seller.seller_id, packages=packages, lines=lines))

    for request in [
        order_request(),
        package_request(f"PK{len(statuses)}"),
        items_request(("L1", 1)),
    ]:
        _assert_rejected_without_change(seller, order_id, request, 409, "ORDER_NOT_CANCELLABLE")


def test_cancelling_a_cancelled_order_is_409_order_not_cancellable(
    seller: SellerClient, mug_order: str
) -> None:
    seller.cancelled(mug_order, order_request())

    for request in [order_request(), package_request("PK1"), items_request(("L1", 1))]:
        _assert_rejected_without_change(seller, mug_order, request, 409, "ORDER_NOT_CANCELLABLE")


def test_cancelling_a_cancelled_package_is_409_package_not_cancellable(
    seller: SellerClient, two_packages: str
) -> None:
    seller.cancelled(two_packages, package_request("PK2"))

    _assert_rejected_without_change(
        seller, two_packages, package_request("PK2"), 409, "PACKAGE_NOT_CANCELLABLE"
    )


def test_a_package_awaiting_collection_can_be_cancelled_whole(
    seller: SellerClient, two_packages: str
) -> None:
    assert seller.ship(two_packages, "PK1").status == 200

    cancellation = seller.cancelled(two_packages, package_request("PK1"))

    assert [(i["line_id"], i["quantity"]) for i in cancellation["items"]] == [("L1", 3)]
    assert seller.order(two_packages)["packages"][0]["status"] == "CANCELLED"


# --- refund math end to end --------------------------------------------------------------


def test_cancelling_the_mugs_one_by_one_refunds_exactly_what_was_paid(
    seller: SellerClient, mug_order: str
) -> None:
    refunds = [seller.cancelled(mug_order, items_request(("L1", 1)))["refund"] for _ in range(3)]

    assert refunds[0] == ONE_MUG
    assert refunds[1] == ONE_MUG
    assert refunds[2] == {**ONE_MUG, "shipping_fee": "5.99", "total": "15.17"}
    order = seller.order(mug_order)
    assert order["paid_total"] == order["refunded_total"] == "33.53"
    assert order["status"] == "CANCELLED"
    assert order["packages"][0]["status"] == "CANCELLED"
    assert order["actions"] == {"cancel_order": False, "cancel_items": False}
    assert [c["resulting_order_status"] for c in seller.cancellation_list(mug_order)] == [
        "AWAITING_SHIPMENT",
        "AWAITING_SHIPMENT",
        "CANCELLED",
    ]


def test_shipping_is_refunded_only_by_the_cancellation_that_leaves_nothing(
    seller: SellerClient, two_packages: str
) -> None:
    by_package = seller.cancelled(two_packages, package_request("PK2"))
    by_items = seller.cancelled(two_packages, items_request(("L1", 2)))
    rest = seller.cancelled(two_packages, order_request())

    assert by_package["refund"] == {
        **NO_REFUND,
        "subtotal": "19.00",
        "tax": "1.57",
        "total": "20.57",
    }
    assert by_items["refund"]["shipping_fee"] == "0.00"
    assert by_items["refund"]["total"] == "18.36"
    assert rest["refund"]["shipping_fee"] == "5.99"
    assert rest["refund"]["total"] == "15.17"
    order = seller.order(two_packages)
    assert order["paid_total"] == order["refunded_total"] == "54.10"


def test_a_jpy_order_is_refunded_in_whole_yen(seller: SellerClient, unique_id: IdFactory) -> None:
    order_id = unique_id("ORD")
    seller.create_order(
        order_input(
            order_id,
            seller.seller_id,
            currency="JPY",
            shipping_fee="500",
            lines=[
                line(
                    "L1",
                    "PK1",
                    quantity=3,
                    unit_price="1000",
                    seller_discount="100",
                    platform_discount="50",
                    tax="85",
                )
            ],
        )
    )
    assert seller.order(order_id)["paid_total"] == "3435"

    first = seller.cancelled(order_id, items_request(("L1", 1)))["refund"]
    rest = seller.cancelled(order_id, items_request(("L1", 2)))["refund"]

    assert first == {
        "currency": "JPY",
        "subtotal": "1000",
        "seller_discount": "33",
        "platform_discount": "17",
        "tax": "28",
        "shipping_fee": "0",
        "total": "978",
    }
    assert rest == {
        "currency": "JPY",
        "subtotal": "2000",
        "seller_discount": "67",
        "platform_discount": "33",
        "tax": "57",
        "shipping_fee": "500",
        "total": "2457",
    }
    order = seller.order(order_id)
    assert order["paid_total"] == order["refunded_total"] == "3435"
    assert order["lines"][0]["unit_price"] == "1000"


# --- the contract's own examples, and the limits of an order --------------------------------


def test_the_contracts_example_request_is_accepted(seller: SellerClient, mug_order: str) -> None:
    example = {
        "reason": "OUT_OF_STOCK",
        "scope": "ITEMS",
        "items": [{"line_id": "L1", "quantity": 2}],
        "package_id": None,
        "note": "optional, at most 500 characters",
    }

    cancellation = seller.cancelled(mug_order, example)

    assert cancellation["note"] == example["note"]
    assert cancellation["items"][0]["quantity"] == 2


def test_a_replay_may_spell_the_same_request_differently(
    seller: SellerClient, mug_order: str
) -> None:
    key = new_idempotency_key()
    first = seller.cancelled(mug_order, {"reason": "BUYER_REQUESTED", "scope": "ORDER"}, key=key)

    again = seller.cancel(
        mug_order,
        {"scope": "ORDER", "note": None, "package_id": None, "reason": "BUYER_REQUESTED"},
        key=key,
    )

    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert without_notification(again.json()) == without_notification(first)


def test_an_order_of_100_lines_and_90_products_can_be_listed_shipped_and_cancelled_whole(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    packages = [package(f"PK{index}") for index in range(1, 51)]
    lines = [
        line(
            f"L{index}",
            f"PK{index % 50 + 1}",
            product_id=f"P-{index % 90}",
            quantity=1,
            unit_price="1.00",
            seller_discount="0.10",
            platform_discount="0.05",
            tax="0.07",
        )
        for index in range(100)
    ]
    seller.create_order(order_input(order_id, seller.seller_id, packages=packages, lines=lines))

    listed = seller.list_orders(product_id="P-89").json()
    shipped = seller.ship(order_id, "PK1")
    cancellation = seller.cancelled(order_id, order_request())

    assert [o["order_id"] for o in listed["orders"]] == [order_id]
    assert shipped.status == 200
    assert len(cancellation["items"]) == 100
    order = seller.order(order_id)
    assert order["status"] == "CANCELLED"
    assert order["refunded_total"] == order["paid_total"] == "97.99"
    cancelled_listing = seller.list_orders(status="CANCELLED", product_id="P-89").json()
    assert [o["order_id"] for o in cancelled_listing["orders"]] == [order_id]
    assert seller.list_orders(product_id="P-89").json()["orders"] == []
