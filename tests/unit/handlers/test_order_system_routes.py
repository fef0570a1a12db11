"""The order system's routes (``OrderSystemFunction``): ingestion."""

from __future__ import annotations

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import ORDER_FIELDS, assert_problem, order_input

# --- PUT /orders/{order_id} ------------------------------------------------------------


def test_ingestion_is_the_order_system_functions_alone(api: Api) -> None:
    function_id, _ = api.event("PUT", "/orders/O1", claims=api.admin_claims())

    assert function_id == "OrderSystemFunction"
    assert not hasattr(api.module("CancelFunction"), "put_order")


def test_ingesting_creates_then_accepts_the_same_order_and_refuses_another(api: Api) -> None:
    order = order_input("O1")
    admin = api.admin_claims()

    created = api.put("/orders/O1", json_body=order, claims=admin)
    again = api.put("/orders/O1", json_body=order, claims=admin)
    different = api.put("/orders/O1", json_body={**order, "shipping_fee": "0.00"}, claims=admin)

    assert created.status == 201
    assert set(created.json()) == ORDER_FIELDS
    assert created.headers["etag"] == f'"{created.json()["version"]}"'
    assert again.status == 200
    assert again.json() == created.json()
    assert_problem(different, 409, "ORDER_EXISTS")


def test_the_same_amounts_written_differently_are_the_same_order(api: Api) -> None:
    api.ingest(order_input("O1"))
    rewritten = order_input("O1")
    rewritten["lines"][0]["unit_price"] = "10.0"

    again = api.put("/orders/O1", json_body=rewritten, claims=api.admin_claims())

    assert again.status == 200, again.text


def test_an_order_is_ingested_only_for_the_tokens_seller(api: Api) -> None:
    other = order_input("O1", seller_id="seller-other")

    document = assert_problem(
        api.put("/orders/O1", json_body=other, claims=api.admin_claims()), 403, "FORBIDDEN"
    )
    assert [e["field"] for e in document["errors"]] == ["seller_id"]
    assert_problem(api.get("/orders/O1", claims=api.claims("seller-other")), 404, "ORDER_NOT_FOUND")


def test_an_amount_with_too_many_decimals_is_400(api: Api) -> None:
    order = order_input("O1")
    order["lines"][0]["tax"] = "2.041"

    assert_problem(
        api.put("/orders/O1", json_body=order, claims=api.admin_claims()), 400, "VALIDATION_ERROR"
    )
