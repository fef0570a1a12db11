"""The seller's To Ship tab over HTTP: GET /orders (filters, pages, page tokens),
GET /orders/{order_id} (ETag, masking, what can still be cancelled), GET /cancel-reasons
and order ingestion with PUT /orders/{order_id}."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import (
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    line,
    order_input,
    package,
    package_request,
    two_package_order,
)

pytestmark = pytest.mark.integration


def _created_at(second: int) -> str:
    return f"2026-11-20T10:{second // 60:02d}:{second % 60:02d}Z"


def _ids(response_document: dict[str, Any]) -> list[str]:
    return [order["order_id"] for order in response_document["orders"]]


def _flatten(pages: list[list[str]]) -> list[str]:
    return [order_id for page in pages for order_id in page]


def _walk_pages(seller: SellerClient, **query: Any) -> list[list[str]]:
    """Every page of a listing, following next_page_token until it is null."""
    pages: list[list[str]] = []
    token = None
    for _ in range(100):
        response = seller.list_orders(**query, page_token=token)
        assert response.status == 200, response.body[:300]
        document = response.json()
        pages.append(_ids(document))
        token = document["next_page_token"]
        if token is None:
            return pages
        assert isinstance(token, str) and token
    raise AssertionError("the listing never ended")


def _create_orders(
    seller: SellerClient, unique_id: IdFactory, count: int, **order_kwargs: Any
) -> list[str]:
    """``count`` orders, each a second newer than the one before; their ids oldest first."""
    ids = []
    for second in range(count):
        order_id = unique_id("ORD")
        seller.create_order(
            order_input(order_id, seller.seller_id, created_at=_created_at(second), **order_kwargs)
        )
        ids.append(order_id)
    return ids


# --- GET /orders: status ---------------------------------------------------------------


def test_the_listing_shows_awaiting_shipment_orders_by_default(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    waiting, collected, in_transit, cancelled = (unique_id("ORD") for _ in range(4))
    for order_id in (waiting, collected, cancelled):
        seller.create_order(order_input(order_id, seller.seller_id))
    seller.create_order(
        order_input(in_transit, seller.seller_id, packages=[package("PK1", "IN_TRANSIT")])
    )
    assert seller.ship(collected, "PK1").status == 200
    seller.cancelled(cancelled, {"reason": "BUYER_REQUESTED", "scope": "ORDER"})

    default = seller.list_orders()

    assert default.status == 200
    assert _ids(default.json()) == [waiting]
    assert default.json()["next_page_token"] is None
    assert default.json()["orders"][0] == seller.order(waiting)
    for status, expected in [
        ("AWAITING_SHIPMENT", waiting),
        ("AWAITING_COLLECTION", collected),
        ("IN_TRANSIT", in_transit),
        ("CANCELLED", cancelled),
    ]:
        for product_id in (None, "P-MUG"):
            listed = seller.list_orders(status=status, product_id=product_id).json()
            assert _ids(listed) == [expected], (status, product_id)
            assert listed["orders"][0]["status"] == status
    assert _ids(seller.list_orders(status="DELIVERED").json()) == []


def test_an_unknown_status_is_400(seller: SellerClient) -> None:
    assert_problem(seller.list_orders(status="SHIPPED"), 400, "VALIDATION_ERROR")
    assert_problem(seller.list_orders(status="awaiting_shipment"), 400, "VALIDATION_ERROR")


def test_the_listing_is_newest_first(seller: SellerClient, unique_id: IdFactory) -> None:
    oldest_first = _create_orders(seller, unique_id, 4)

    assert _ids(seller.list_orders().json()) == oldest_first[::-1]


def test_an_order_that_leaves_a_status_leaves_its_listing(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))

    seller.cancelled(order_id, package_request("PK1"))
    still_waiting = seller.list_orders(product_id="P-TOWEL").json()
    seller.cancelled(order_id, package_request("PK2"))

    assert _ids(still_waiting) == [order_id]
    assert _ids(seller.list_orders().json()) == []
    assert _ids(seller.list_orders(product_id="P-TOWEL").json()) == []
    assert _ids(seller.list_orders(status="CANCELLED", product_id="P-TOWEL").json()) == [order_id]


# --- GET /orders: product filter ----------------------------------------------------------


def _order_with_products(
    seller: SellerClient, order_id: str, second: int, *product_ids: str
) -> None:
    seller.create_order(
        order_input(
            order_id,
            seller.seller_id,
            created_at=_created_at(second),
            lines=[
                line(f"L{index}", "PK1", product_id=product_id)
                for index, product_id in enumerate(product_ids, start=1)
            ],
        )
    )


def test_the_product_filter_keeps_orders_having_any_of_the_products(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    mug, towel, both, kettle = (unique_id("ORD") for _ in range(4))
    _order_with_products(seller, mug, 1, "P-MUG")
    _order_with_products(seller, towel, 2, "P-TOWEL")
    _order_with_products(seller, both, 3, "P-MUG", "P-TOWEL")
    _order_with_products(seller, kettle, 4, "P-KETTLE")

    assert _ids(seller.list_orders(product_id="P-MUG").json()) == [both, mug]
    assert _ids(seller.list_orders(product_id="P-TOWEL").json()) == [both, towel]
    assert _ids(seller.list_orders(product_id=["P-MUG", "P-TOWEL"]).json()) == [both, towel, mug]
    assert _ids(seller.list_orders(product_id=["P-TOWEL", "P-MUG", "P-TOWEL"]).json()) == [
        both,
        towel,
        mug,
    ]
    assert _ids(seller.list_orders(product_id="P-NOTHING").json()) == []
    filtered_kettle = seller.list_orders(product_id="P-KETTLE").json()
    assert filtered_kettle["orders"] == [seller.order(kettle)]


def test_twenty_product_ids_are_accepted_and_twenty_one_are_400(seller: SellerClient) -> None:
    twenty = [f"P-{index}" for index in range(20)]

    accepted = seller.list_orders(product_id=twenty)
    rejected = seller.list_orders(product_id=[*twenty, "P-20"])

    assert accepted.status == 200
    assert accepted.json() == {"orders": [], "next_page_token": None}
    document = assert_problem(rejected, 400, "VALIDATION_ERROR")
    assert [error["field"] for error in document["errors"]] == ["product_id"]


# --- GET /orders: page size and pages -----------------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "ten", "2.5", ""])
def test_a_page_size_outside_1_to_100_is_400(seller: SellerClient, page_size: str) -> None:
    assert_problem(seller.list_orders(page_size=page_size), 400, "VALIDATION_ERROR")


def test_page_sizes_1_and_100_are_accepted(seller: SellerClient, unique_id: IdFactory) -> None:
    newest_first = _create_orders(seller, unique_id, 2)[::-1]

    one = seller.list_orders(page_size=1)
    hundred = seller.list_orders(page_size=100)

    assert _ids(one.json()) == newest_first[:1]
    assert one.json()["next_page_token"] is not None
    assert _ids(hundred.json()) == newest_first
    assert hundred.json()["next_page_token"] is None


def test_the_default_page_size_is_20(seller: SellerClient, unique_id: IdFactory) -> None:
    newest_first = _create_orders(seller, unique_id, 21)[::-1]

    first = seller.list_orders().json()
    second = seller.list_orders(page_token=first["next_page_token"]).json()

    assert _ids(first) == newest_first[:20]
    assert _ids(second) == newest_first[20:]
    assert second["next_page_token"] is None


def test_walking_every_page_gives_each_order_once_newest_first(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    newest_first = _create_orders(seller, unique_id, 7)[::-1]

    pages = _walk_pages(seller, page_size=3)

    assert [page for page in pages if page] == [
        newest_first[0:3],
        newest_first[3:6],
        newest_first[6:7],
    ]
    assert _flatten(pages) == newest_first


def test_walking_a_page_boundary_at_the_last_order_ends_without_skips(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    newest_first = _create_orders(seller, unique_id, 4)[::-1]

    pages = _walk_pages(seller, page_size=2)

    assert _flatten(pages) == newest_first
    assert all(len(page) <= 2 for page in pages)


def test_orders_created_at_the_same_instant_are_each_listed_once(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_ids = [unique_id("ORD") for _ in range(5)]
    for order_id in order_ids:
        seller.create_order(order_input(order_id, seller.seller_id, created_at=_created_at(0)))

    walked = _flatten(_walk_pages(seller, page_size=2))
    walked_filtered = _flatten(_walk_pages(seller, page_size=2, product_id="P-MUG"))

    assert sorted(walked) == sorted(order_ids)
    assert walked_filtered == walked


def test_walking_a_filtered_listing_gives_each_matching_order_once_newest_first(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    products_by_second = [
        ("P-TOWEL",),
        ("P-MUG",),
        ("P-KETTLE", "P-TOWEL"),
        ("P-MUG",),
        ("P-KETTLE",),
        ("P-TOWEL", "P-MUG"),
        ("P-MUG",),
        ("P-KETTLE",),
        ("P-TOWEL",),
    ]
    order_ids = []
    for second, products in enumerate(products_by_second):
        order_ids.append(unique_id("ORD"))
        _order_with_products(seller, order_ids[-1], second, *products)
    expected = [
        order_id
        for order_id, products in reversed(list(zip(order_ids, products_by_second, strict=True)))
        if {"P-TOWEL", "P-KETTLE"} & set(products)
    ]

    for page_size in (1, 2, 4):
        pages = _walk_pages(seller, page_size=page_size, product_id=["P-TOWEL", "P-KETTLE"])
        assert _flatten(pages) == expected, page_size
        assert all(len(page) <= page_size for page in pages)
    assert _flatten(_walk_pages(seller, page_size=2, product_id="P-MUG")) == [
        order_id
        for order_id, products in reversed(list(zip(order_ids, products_by_second, strict=True)))
        if "P-MUG" in products
    ]


# --- GET /orders: page tokens ------------------------------------------------------------


def _first_page_token(seller: SellerClient, **query: Any) -> str:
    token = seller.list_orders(page_size=1, **query).json()["next_page_token"]
    assert isinstance(token, str)
    return token


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b", "....", "eyJ2IjoxfQ.AAAA", "%00", "x" * 2000, "🙂.🙂"],
)
def test_a_garbage_page_token_is_400(seller: SellerClient, garbage: str) -> None:
    assert_problem(seller.list_orders(page_token=garbage), 400, "INVALID_PAGE_TOKEN")


def test_a_tampered_page_token_is_400(seller: SellerClient, unique_id: IdFactory) -> None:
    _create_orders(seller, unique_id, 2)
    token = _first_page_token(seller)
    payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")

    assert_problem(
        seller.list_orders(page_token=f"{flipped}.{signature}"), 400, "INVALID_PAGE_TOKEN"
    )


def test_a_page_token_of_another_seller_is_400(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    _create_orders(other_seller, unique_id, 2)
    _create_orders(seller, unique_id, 2)
    others_token = _first_page_token(other_seller)

    assert_problem(seller.list_orders(page_token=others_token), 400, "INVALID_PAGE_TOKEN")


def test_a_page_token_used_with_other_filters_is_400(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    _create_orders(seller, unique_id, 3)
    unfiltered = _first_page_token(seller)
    mugs = _first_page_token(seller, product_id="P-MUG")

    queries: list[dict[str, Any]] = [
        {"page_token": unfiltered, "status": "AWAITING_COLLECTION"},
        {"page_token": unfiltered, "product_id": "P-MUG"},
        {"page_token": mugs},
        {"page_token": mugs, "product_id": ["P-MUG", "P-TOWEL"]},
        {"page_token": mugs, "product_id": "P-TOWEL"},
        {"page_token": mugs, "product_id": "P-MUG", "status": "CANCELLED"},
    ]
    for query in queries:
        assert_problem(seller.list_orders(**query), 400, "INVALID_PAGE_TOKEN")


def test_a_page_token_stays_valid_for_the_same_filters_in_another_order(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    newest_first = _create_orders(seller, unique_id, 3)[::-1]
    token = _first_page_token(seller, product_id=["P-MUG", "P-TOWEL"])

    response = seller.list_orders(page_size=1, product_id=["P-TOWEL", "P-MUG"], page_token=token)

    assert response.status == 200
    assert _ids(response.json()) == newest_first[1:2]


# --- GET /orders/{order_id} -------------------------------------------------------------


def test_an_order_comes_with_its_version_as_etag_and_the_buyers_email_masked(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id, email="ana.ruiz@example.com"))

    response = seller.get_order(order_id)

    assert response.status == 200
    assert response.content_type == "application/json"
    order = response.json()
    assert response.headers["etag"] == f'"{order["version"]}"'
    assert order["buyer"] == {"name": "Ana Ruiz", "email": "a***@example.com"}
    assert b"ana.ruiz@" not in response.body
    assert b"ana.ruiz@" not in seller.list_orders().body
    assert order["order_id"] == order_id
    assert order["status"] == "AWAITING_SHIPMENT"
    assert order["currency"] == "USD"
    assert order["created_at"] == "2026-11-20T10:00:00Z"
    assert order["shipping_fee"] == "5.99"
    assert order["paid_total"] == "33.53"
    assert order["refunded_total"] == "0.00"
    assert order["packages"] == [
        {
            "package_id": "PK1",
            "status": "AWAITING_SHIPMENT",
            "cancellable": True,
            "ineligible_reason": None,
        }
    ]
    assert order["lines"] == [
        {
            "line_id": "L1",
            "product_id": "P-MUG",
            "sku_id": "SKU-L1",
            "product_name": "Mug",
            "sku_name": "Blue",
            "package_id": "PK1",
            "quantity": 3,
            "cancelled_quantity": 0,
            "cancellable_quantity": 3,
            "item_cancellable": True,
            "ineligible_reason": None,
            "unit_price": "10.00",
            "seller_discount": "3.00",
            "platform_discount": "1.50",
            "tax": "2.04",
        }
    ]
    assert order["actions"] == {"cancel_order": True, "cancel_items": True}


def test_the_etag_follows_the_version_as_the_order_changes(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    first = seller.get_order(order_id)

    shipped = seller.ship(order_id, "PK2")
    cancelled = seller.cancelled(order_id, items_request(("L1", 1)))
    last = seller.get_order(order_id)

    versions = [first.json()["version"], shipped.json()["version"], last.json()["version"]]
    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]
    assert cancelled["order_version"] == versions[2]
    assert [first.headers["etag"], shipped.headers["etag"], last.headers["etag"]] == [
        f'"{version}"' for version in versions
    ]


def test_lines_in_a_package_awaiting_collection_are_grayed_out(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))

    assert seller.ship(order_id, "PK1").status == 200
    order = seller.order(order_id)

    assert order["status"] == "AWAITING_SHIPMENT"
    lines = {line["line_id"]: line for line in order["lines"]}
    assert {
        key: lines["L1"][key]
        for key in ("cancellable_quantity", "item_cancellable", "ineligible_reason")
    } == {
        "cancellable_quantity": 0,
        "item_cancellable": False,
        "ineligible_reason": "PACKAGE_NOT_AWAITING_SHIPMENT",
    }
    assert {
        key: lines["L2"][key]
        for key in ("cancellable_quantity", "item_cancellable", "ineligible_reason")
    } == {"cancellable_quantity": 2, "item_cancellable": True, "ineligible_reason": None}
    assert order["packages"] == [
        {
            "package_id": "PK1",
            "status": "AWAITING_COLLECTION",
            "cancellable": True,
            "ineligible_reason": None,
        },
        {
            "package_id": "PK2",
            "status": "AWAITING_SHIPMENT",
            "cancellable": True,
            "ineligible_reason": None,
        },
    ]
    assert order["actions"] == {"cancel_order": True, "cancel_items": True}


def test_an_order_awaiting_collection_can_be_cancelled_whole_but_not_by_item(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))

    seller.ship(order_id, "PK1")
    seller.ship(order_id, "PK2")
    order = seller.order(order_id)

    assert order["status"] == "AWAITING_COLLECTION"
    assert {line["ineligible_reason"] for line in order["lines"]} == {"ORDER_NOT_AWAITING_SHIPMENT"}
    assert {line["cancellable_quantity"] for line in order["lines"]} == {0}
    assert all(package["cancellable"] for package in order["packages"])
    assert order["actions"] == {"cancel_order": True, "cancel_items": False}


def test_cancelled_lines_and_packages_say_fully_cancelled(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))

    seller.cancelled(order_id, items_request(("L2", 2)))
    seller.cancelled(order_id, items_request(("L1", 1)))
    order = seller.order(order_id)

    lines = {line["line_id"]: line for line in order["lines"]}
    assert (lines["L2"]["cancelled_quantity"], lines["L2"]["ineligible_reason"]) == (
        2,
        "FULLY_CANCELLED",
    )
    assert (lines["L1"]["cancelled_quantity"], lines["L1"]["cancellable_quantity"]) == (1, 2)
    assert order["packages"][1] == {
        "package_id": "PK2",
        "status": "CANCELLED",
        "cancellable": False,
        "ineligible_reason": "FULLY_CANCELLED",
    }
    assert order["actions"] == {"cancel_order": True, "cancel_items": True}


def test_a_shipped_order_offers_no_cancellation(seller: SellerClient, unique_id: IdFactory) -> None:
    order_id = unique_id("ORD")
    seller.create_order(
        order_input(order_id, seller.seller_id, packages=[package("PK1", "IN_TRANSIT")])
    )

    order = seller.order(order_id)

    assert order["status"] == "IN_TRANSIT"
    assert order["packages"][0]["cancellable"] is False
    assert order["packages"][0]["ineligible_reason"] == "PACKAGE_NOT_CANCELLABLE"
    assert order["lines"][0]["ineligible_reason"] == "ORDER_NOT_AWAITING_SHIPMENT"
    assert order["actions"] == {"cancel_order": False, "cancel_items": False}


def test_an_unknown_order_is_404(seller: SellerClient, unique_id: IdFactory) -> None:
    assert_problem(seller.get_order(unique_id("ORD")), 404, "ORDER_NOT_FOUND")


# --- GET /cancel-reasons ---------------------------------------------------------------


def test_the_cancel_reasons_are_the_four_of_the_contract(seller: SellerClient) -> None:
    response = seller.api.get("/cancel-reasons", token=seller.token)

    assert response.status == 200
    assert response.json() == {
        "reasons": [
            {"code": "OUT_OF_STOCK", "label": "Out of stock", "item_level_allowed": True},
            {"code": "PRICING_ERROR", "label": "Pricing error", "item_level_allowed": False},
            {
                "code": "UNABLE_TO_DELIVER",
                "label": "Unable to deliver",
                "item_level_allowed": False,
            },
            {"code": "BUYER_REQUESTED", "label": "Buyer requested", "item_level_allowed": False},
        ]
    }


# --- PUT /orders/{order_id} ----------------------------------------------------------------


def test_ingesting_an_order_is_201_with_the_order(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")

    response = seller.put_order(order_input(order_id, seller.seller_id))

    assert response.status == 201
    assert response.json() == seller.order(order_id)
    assert response.headers["etag"] == f'"{response.json()["version"]}"'


def test_ingesting_the_identical_order_again_is_200_and_changes_nothing(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    body = two_package_order(order_id, seller.seller_id)
    seller.create_order(body)
    seller.cancelled(order_id, items_request(("L1", 1)))
    before = seller.order(order_id)

    again = seller.put_order(body)

    assert again.status == 200
    assert again.json() == before
    assert seller.order(order_id) == before


def test_the_same_amounts_written_with_fewer_decimals_are_the_same_order(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))

    again = seller.put_order(
        order_input(
            order_id,
            seller.seller_id,
            shipping_fee="5.99",
            lines=[
                line("L1", "PK1", unit_price="10", seller_discount="3.0", platform_discount="1.5")
            ],
        )
    )

    assert again.status == 200


def test_ingesting_a_different_order_under_a_taken_id_is_409(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))
    before = seller.order(order_id)

    for changed in [
        order_input(order_id, seller.seller_id, lines=[line("L1", "PK1", quantity=4)]),
        order_input(order_id, seller.seller_id, shipping_fee="0.00"),
        order_input(order_id, seller.seller_id, created_at="2026-11-20T10:00:01Z"),
    ]:
        assert_problem(seller.put_order(changed), 409, "ORDER_EXISTS")
    assert seller.order(order_id) == before


def test_ingesting_an_order_for_another_seller_is_403_and_stores_nothing(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")

    response = seller.put_order(order_input(order_id, other_seller.seller_id))

    document = assert_problem(response, 403, "FORBIDDEN")
    assert [error["field"] for error in document["errors"]] == ["seller_id"]
    assert_problem(other_seller.get_order(order_id), 404, "ORDER_NOT_FOUND")
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")


def test_ingesting_needs_the_admin_scope(seller: SellerClient, unique_id: IdFactory) -> None:
    order_id = unique_id("ORD")

    response = seller.api.put(
        f"/orders/{order_id}",
        token=seller.token,
        json_body=order_input(order_id, seller.seller_id),
    )

    assert_problem(response, 403, "FORBIDDEN")
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")


def test_an_order_id_in_the_body_other_than_the_paths_is_400(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    path_id, body_id = unique_id("ORD"), unique_id("ORD")

    response = seller.put_order(order_input(body_id, seller.seller_id), order_id=path_id)

    assert_problem(response, 400, "VALIDATION_ERROR")
    assert_problem(seller.get_order(path_id), 404, "ORDER_NOT_FOUND")
    assert_problem(seller.get_order(body_id), 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"shipping_fee": "5.999"}, "shipping_fee"),
        ({"shipping_fee": 5.99}, "shipping_fee"),
        ({"shipping_fee": "-1.00"}, "shipping_fee"),
        ({"shipping_fee": "1e2"}, "shipping_fee"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"created_at": "2026-11-20T10:00:00"}, "created_at"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"lines": [line("L1", "PK1", unit_price="10.001")]}, "lines[0].unit_price"),
        ({"lines": [line("L1", "PK1", tax=2.04)]}, "lines[0].tax"),  # type: ignore[arg-type]
        ({"lines": [line("L1", "PK1", quantity=0)]}, "lines[0].quantity"),
        ({"lines": [line("L1", "PK1", seller_discount="31.00")]}, "lines[0].seller_discount"),
        ({"lines": [line("L1", "PK9")]}, "lines[0].package_id"),
        ({"lines": []}, "lines"),
        ({"packages": [package("PK1"), package("PK2")]}, "packages[1]"),
        ({"packages": [package("PK1", "CANCELLED")]}, "packages[0].status"),
        ({"packages": [package("PK1", "LOST")]}, "packages[0].status"),
        ({"buyer": {"name": "Ana", "email": "not-an-email"}}, "buyer.email"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_order_is_400_naming_the_field(
    seller: SellerClient, unique_id: IdFactory, change: dict[str, Any], field: str
) -> None:
    order_id = unique_id("ORD")
    body = {**order_input(order_id, seller.seller_id), **change}

    response = seller.put_order(body)

    document = assert_problem(response, 400, "VALIDATION_ERROR")
    assert field in [error["field"] for error in document["errors"]], document
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")


def test_a_jpy_amount_with_decimals_is_400(seller: SellerClient, unique_id: IdFactory) -> None:
    order_id = unique_id("ORD")
    body = order_input(
        order_id,
        seller.seller_id,
        currency="JPY",
        shipping_fee="500",
        lines=[line(unit_price="1000.50", seller_discount="0", platform_discount="0", tax="0")],
    )

    document = assert_problem(seller.put_order(body), 400, "VALIDATION_ERROR")
    assert [error["field"] for error in document["errors"]] == ["lines[0].unit_price"]
