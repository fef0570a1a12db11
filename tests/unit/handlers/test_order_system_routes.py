"""The order system's routes (``OrderSystemFunction``): ingestion, package status reports."""

from __future__ import annotations

import pytest

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import KETTLE, MUG, ORDER_FIELDS, assert_problem, order_input

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


# --- POST /orders/{order_id}/packages/{package_id}/status ---------------------------------


def report(api: Api, status: str, package_id: str = "PK1", **body: object):
    return api.post(
        f"/orders/O1/packages/{package_id}/status",
        json_body={"status": status, "occurred_at": "2026-11-21T08:00:00Z", **body},
        claims=api.admin_claims(),
    )


def test_a_status_report_moves_a_split_order_to_partially_shipping(api: Api) -> None:
    api.ingest(order_input("O1", lines=[MUG, KETTLE]))

    moved = report(api, "IN_TRANSIT")

    assert moved.status == 200, moved.text
    order = moved.json()
    assert set(order) == ORDER_FIELDS
    assert order["status"] == "PARTIALLY_SHIPPING"
    assert [p["status"] for p in order["packages"]] == ["IN_TRANSIT", "AWAITING_SHIPMENT"]
    assert moved.headers["etag"] == f'"{order["version"]}"' == '"2"'


def test_a_late_or_repeated_status_report_answers_the_order_unchanged(api: Api) -> None:
    api.ingest(order_input("O1"))
    delivered = report(api, "DELIVERED").json()

    for late in ("DELIVERED", "IN_TRANSIT", "AWAITING_COLLECTION", "AWAITING_SHIPMENT"):
        again = report(api, late)
        assert again.status == 200, again.text
        assert again.json() == delivered


def test_a_status_report_for_a_cancelled_package_is_409_package_cancelled(api: Api) -> None:
    api.ingest(order_input("O1", lines=[MUG, KETTLE]))
    cancelled = api.post(
        "/orders/O1/cancellations",
        json_body={"reason": "BUYER_REQUESTED", "scope": "PACKAGE", "package_id": "PK2"},
        headers=[("Idempotency-Key", "k1")],
    )
    assert cancelled.status == 201, cancelled.text

    assert_problem(report(api, "IN_TRANSIT", "PK2"), 409, "PACKAGE_CANCELLED")
    assert report(api, "IN_TRANSIT", "PK1").json()["status"] == "IN_TRANSIT"


def test_a_status_report_is_for_an_existing_order_and_package_of_the_tokens_seller(
    api: Api,
) -> None:
    api.ingest(order_input("O1"))

    assert_problem(report(api, "IN_TRANSIT", "PK9"), 422, "UNKNOWN_PACKAGE")
    other_seller = api.post(
        "/orders/O1/packages/PK1/status",
        json_body={"status": "IN_TRANSIT", "occurred_at": "2026-11-21T08:00:00Z"},
        claims=api.admin_claims("seller-other"),
    )
    assert_problem(other_seller, 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "CANCELLED", "occurred_at": "2026-11-21T08:00:00Z"}, "status"),
        ({"status": "LOST", "occurred_at": "2026-11-21T08:00:00Z"}, "status"),
        ({"status": "IN_TRANSIT", "occurred_at": "2026-11-21T08:00:00"}, "occurred_at"),
        ({"status": "IN_TRANSIT"}, "occurred_at"),
        ({"status": "IN_TRANSIT", "occurred_at": "2026-11-21T08:00:00Z", "x": 1}, "x"),
    ],
)
def test_a_bad_status_report_is_400_and_changes_nothing(
    api: Api, body: dict[str, object], field: str
) -> None:
    api.ingest(order_input("O1"))

    refused = api.post("/orders/O1/packages/PK1/status", json_body=body, claims=api.admin_claims())

    document = assert_problem(refused, 400, "VALIDATION_ERROR")
    assert field in {e["field"] for e in document["errors"]}
    assert api.get("/orders/O1").json()["version"] == 1
