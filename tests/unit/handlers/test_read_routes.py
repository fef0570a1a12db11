"""The GET routes (``ListOrdersFunction``) against API.md, field by field."""

from __future__ import annotations

from urllib.parse import quote

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import (
    ISO_INSTANT,
    KETTLE,
    LINE_FIELDS,
    MUG,
    ORDER_FIELDS,
    REASON_FIELDS,
    assert_problem,
    order_input,
)


def test_get_order_returns_every_field_of_the_contract(api: Api) -> None:
    api.ingest(order_input("O1"))

    result = api.get("/orders/O1")

    assert result.status == 200
    assert result.content_type == "application/json"
    order = result.json()
    assert set(order) == ORDER_FIELDS
    assert order["order_id"] == "O1"
    assert order["status"] == "AWAITING_SHIPMENT"
    assert order["currency"] == "USD"
    assert order["created_at"] == "2026-11-20T10:00:00Z"
    assert ISO_INSTANT.match(order["updated_at"])
    assert isinstance(order["version"], int)
    assert result.headers["etag"] == f'"{order["version"]}"'
    assert order["buyer"] == {"name": "Ana Ruiz", "email": "a***@example.com"}
    assert order["shipping_fee"] == "5.99"
    assert order["packages"] == [
        {
            "package_id": "PK1",
            "status": "AWAITING_SHIPMENT",
            "cancellable": True,
            "ineligible_reason": None,
        }
    ]
    (line,) = order["lines"]
    assert set(line) == LINE_FIELDS
    assert line == {
        "line_id": "L1",
        "product_id": "P1",
        "sku_id": "K1",
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
    # 30.00 - 3.00 - 1.50 + 2.04 + 5.99 shipping
    assert order["paid_total"] == "33.53"
    assert order["refunded_total"] == "0.00"
    assert order["actions"] == {"cancel_order": True, "cancel_items": True}


def test_a_shipped_package_greys_out_its_lines(api: Api) -> None:
    api.ingest(order_input("O1", lines=[MUG, KETTLE]))
    shipped = api.post("/orders/O1/packages/PK2/ship")
    assert shipped.status == 200

    order = api.get("/orders/O1").json()

    assert order["status"] == "AWAITING_SHIPMENT"
    packages = {p["package_id"]: p for p in order["packages"]}
    assert packages["PK2"]["status"] == "AWAITING_COLLECTION"
    assert packages["PK2"]["cancellable"] is True
    lines = {line["line_id"]: line for line in order["lines"]}
    assert lines["L2"]["item_cancellable"] is False
    assert lines["L2"]["ineligible_reason"] == "PACKAGE_NOT_AWAITING_SHIPMENT"
    assert lines["L1"]["item_cancellable"] is True
    assert lines["L1"]["ineligible_reason"] is None


def test_another_sellers_order_is_not_found(api: Api) -> None:
    api.ingest(order_input("O1", seller_id="seller-other"))

    assert_problem(api.get("/orders/O1"), 404, "ORDER_NOT_FOUND")
    assert_problem(api.get("/orders/O1/cancellations"), 404, "ORDER_NOT_FOUND")
    assert api.get("/orders").json() == {"orders": [], "next_page_token": None}


def test_cancel_reasons_are_the_contracts_four(api: Api) -> None:
    result = api.get("/cancel-reasons")

    assert result.status == 200
    reasons = result.json()["reasons"]
    assert all(set(reason) == REASON_FIELDS for reason in reasons)
    assert [(r["code"], r["item_level_allowed"]) for r in reasons] == [
        ("OUT_OF_STOCK", True),
        ("PRICING_ERROR", False),
        ("UNABLE_TO_DELIVER", False),
        ("BUYER_REQUESTED", False),
    ]
    assert reasons[0]["label"] == "Out of stock"
    assert all(isinstance(r["label"], str) and r["label"] for r in reasons)


def test_orders_are_listed_newest_first_a_page_at_a_time(api: Api) -> None:
    for day, order_id in ((20, "O-OLD"), (22, "O-NEW"), (21, "O-MID")):
        api.ingest(order_input(order_id, created_at=f"2026-11-{day}T10:00:00Z"))

    first = api.get("/orders?page_size=2")

    assert first.status == 200
    body = first.json()
    assert set(body) == {"orders", "next_page_token"}
    assert [o["order_id"] for o in body["orders"]] == ["O-NEW", "O-MID"]
    assert all(set(o) == ORDER_FIELDS for o in body["orders"])
    token = body["next_page_token"]
    assert isinstance(token, str) and token

    second = api.get(f"/orders?page_size=2&page_token={quote(token)}").json()

    assert [o["order_id"] for o in second["orders"]] == ["O-OLD"]
    assert second["next_page_token"] is None


def test_a_page_token_is_only_valid_for_its_filters_and_seller(api: Api) -> None:
    for order_id in ("O1", "O2"):
        api.ingest(order_input(order_id))
    token = quote(api.get("/orders?page_size=1").json()["next_page_token"])

    for target, claims in (
        (f"/orders?page_size=1&status=CANCELLED&page_token={token}", None),
        (f"/orders?page_size=1&product_id=P1&page_token={token}", None),
        (f"/orders?page_size=1&page_token={token}", api.claims("seller-other")),
        ("/orders?page_token=not-a-token", None),
    ):
        kwargs = {"claims": claims} if claims else {}
        assert_problem(api.get(target, **kwargs), 400, "INVALID_PAGE_TOKEN")


def test_the_list_filters_by_status_and_product(api: Api) -> None:
    api.ingest(order_input("O-MUG", lines=[MUG]))
    api.ingest(order_input("O-KETTLE", lines=[{**KETTLE, "package_id": "PK1"}]))
    api.ingest(order_input("O-BOTH", lines=[MUG, KETTLE]))

    def listed(query: str) -> set[str]:
        result = api.get(f"/orders?{query}")
        assert result.status == 200, result.text
        return {o["order_id"] for o in result.json()["orders"]}

    assert listed("product_id=P1") == {"O-MUG", "O-BOTH"}
    assert listed("product_id=P1&product_id=P2") == {"O-MUG", "O-KETTLE", "O-BOTH"}
    assert listed("status=AWAITING_SHIPMENT") == {"O-MUG", "O-KETTLE", "O-BOTH"}
    assert listed("status=CANCELLED") == set()


def test_bad_list_parameters_are_400(api: Api) -> None:
    too_many = "&".join(f"product_id=P{i}" for i in range(21))
    for query in ("page_size=0", "page_size=101", "status=SHIPPED", too_many):
        document = assert_problem(api.get(f"/orders?{query}"), 400, "VALIDATION_ERROR")
        assert document["errors"], query


def test_cancellations_of_an_order_without_any_is_an_empty_list(api: Api) -> None:
    api.ingest(order_input("O1"))

    result = api.get("/orders/O1/cancellations")

    assert result.status == 200
    assert result.json() == {"cancellations": []}
