"""GET /products on DynamoDB Local: the catalogue the seller's ingested orders name, by name,
a page per Query, and never another seller's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import (
    DynamoDBCallRecorder,
    IdFactory,
    SellerClient,
    assert_problem,
    line,
    order_input,
)

pytestmark = pytest.mark.integration


def _line(line_id: str, product_id: str, name: str, sku_id: str, sku_name: str) -> dict[str, Any]:
    return {
        **line(line_id, product_id=product_id, product_name=name, sku_name=sku_name),
        "sku_id": sku_id,
    }


def _products(seller: SellerClient, **query: Any) -> dict[str, Any]:
    path = "/products" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    response = seller.api.get(path, token=seller.token)
    assert response.status == 200, response.body[:500]
    found: dict[str, Any] = response.json()
    return found


def _order(seller: SellerClient, order_id: str, created_at: str, *lines: dict[str, Any]) -> None:
    seller.create_order(
        order_input(order_id, seller.seller_id, created_at=created_at, lines=list(lines))
    )


def test_ingested_orders_fill_the_catalogue_sorted_by_name_whatever_its_case(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    _order(
        seller,
        unique_id("ORD"),
        "2026-11-20T10:00:00Z",
        _line("L1", "P-MUG", "mug", "K-BLUE", "Blue"),
        _line("L2", "P-PLATE", "Plate", "K-WHITE", "White"),
    )
    _order(
        seller,
        unique_id("ORD"),
        "2026-11-21T10:00:00Z",
        _line("L1", "P-MUG", "mug", "K-RED", "Red"),
        _line("L2", "P-APRON", "Apron", "K-GREEN", "Green"),
    )

    page = _products(seller)

    assert page == {
        "products": [
            {
                "product_id": "P-APRON",
                "product_name": "Apron",
                "skus": [{"sku_id": "K-GREEN", "sku_name": "Green"}],
            },
            {
                "product_id": "P-MUG",
                "product_name": "mug",
                "skus": [
                    {"sku_id": "K-BLUE", "sku_name": "Blue"},
                    {"sku_id": "K-RED", "sku_name": "Red"},
                ],
            },
            {
                "product_id": "P-PLATE",
                "product_name": "Plate",
                "skus": [{"sku_id": "K-WHITE", "sku_name": "White"}],
            },
        ],
        "next_page_token": None,
    }


def test_the_newest_order_names_a_product_whatever_the_order_they_arrive_in(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    _order(
        seller,
        unique_id("ORD"),
        "2026-11-25T10:00:00Z",
        _line("L1", "P-MUG", "Mug, stoneware", "K-BLUE", "Ocean blue"),
    )
    # Older, ingested later: it adds its unknown SKU but renames nothing.
    _order(
        seller,
        unique_id("ORD"),
        "2026-11-01T10:00:00Z",
        _line("L1", "P-MUG", "Mug", "K-BLUE", "Blue"),
        _line("L2", "P-MUG", "Mug", "K-SAND", "Sand"),
    )

    (product,) = _products(seller)["products"]

    assert product["product_name"] == "Mug, stoneware"
    assert product["skus"] == [
        {"sku_id": "K-BLUE", "sku_name": "Ocean blue"},
        {"sku_id": "K-SAND", "sku_name": "Sand"},
    ]


def test_a_page_is_one_query_and_its_token_continues_only_that_listing(
    seller: SellerClient,
    other_seller: SellerClient,
    unique_id: IdFactory,
    dynamodb_calls: DynamoDBCallRecorder,
) -> None:
    for n in range(5):
        _order(
            seller,
            unique_id("ORD"),
            "2026-11-20T10:00:00Z",
            _line("L1", f"P-{n}", f"Product {n}", f"K-{n}", "One size"),
        )
    dynamodb_calls.clear()

    first = _products(seller, page_size=2)
    second = _products(seller, page_size=2, page_token=first["next_page_token"])
    third = _products(seller, page_size=2, page_token=second["next_page_token"])

    assert dynamodb_calls.operations("ListOrdersFunction") == ["Query"] * 3
    names = [p["product_name"] for page in (first, second, third) for p in page["products"]]
    assert names == [f"Product {n}" for n in range(5)]
    assert third["next_page_token"] is None
    token = first["next_page_token"]
    assert_problem(
        other_seller.api.get(f"/products?page_token={token}", token=other_seller.token),
        400,
        "INVALID_PAGE_TOKEN",
    )
    assert_problem(seller.list_orders(page_token=token), 400, "INVALID_PAGE_TOKEN")


def test_another_sellers_catalogue_is_never_shown(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    _order(
        seller, unique_id("ORD"), "2026-11-20T10:00:00Z", _line("L1", "P-MINE", "Mine", "K", "K")
    )

    assert _products(other_seller) == {"products": [], "next_page_token": None}


def test_reading_the_catalogue_needs_orders_read(seller: SellerClient, mint_token: Any) -> None:
    writer_only = mint_token(seller.seller_id, ["orders.admin"])

    assert_problem(seller.api.get("/products", token=writer_only), 403, "FORBIDDEN")
