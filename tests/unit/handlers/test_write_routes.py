"""The seller's write routes (``CancelFunction``): preview, submit, replay, ship.

Ingestion, the order system's route, is ``test_order_system_routes.py``."""

from __future__ import annotations

import uuid

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import (
    CANCELLATION_FIELDS,
    CANCELLATION_ITEM_FIELDS,
    ISO_INSTANT,
    KETTLE,
    MUG,
    ORDER_FIELDS,
    PREVIEW_FIELDS,
    PREVIEW_ITEM_FIELDS,
    assert_problem,
    assert_refund,
    order_input,
)

TWO_MUGS = {
    "reason": "OUT_OF_STOCK",
    "scope": "ITEMS",
    "items": [{"line_id": "L1", "quantity": 2}],
    "package_id": None,
    "note": "Blue mugs sold out",
}
# API.md's Refund example: 2 of the 3 mugs.
TWO_MUGS_REFUND = {
    "currency": "USD",
    "subtotal": "20.00",
    "seller_discount": "2.00",
    "platform_discount": "1.00",
    "tax": "1.36",
    "shipping_fee": "0.00",
    "total": "18.36",
}


# --- preview ------------------------------------------------------------------------------


def test_preview_shows_the_refund_and_changes_nothing(api: Api) -> None:
    version = api.ingest(order_input("O1")).json()["version"]

    result = api.post("/orders/O1/cancellations/preview", json_body=TWO_MUGS)

    assert result.status == 200, result.text
    preview = result.json()
    assert set(preview) == PREVIEW_FIELDS
    assert preview["order_version"] == version
    assert preview["resulting_order_status"] == "AWAITING_SHIPMENT"
    assert_refund(preview["refund"], **TWO_MUGS_REFUND)
    (item,) = preview["items"]
    assert set(item) == PREVIEW_ITEM_FIELDS
    assert item["line_id"] == "L1"
    assert item["quantity"] == 2
    assert_refund(item["refund"], **TWO_MUGS_REFUND)
    after = api.get("/orders/O1")
    assert after.json()["version"] == version
    assert after.json()["lines"][0]["cancelled_quantity"] == 0
    assert api.get("/orders/O1/cancellations").json() == {"cancellations": []}


def test_preview_of_the_last_units_refunds_the_shipping_fee(api: Api) -> None:
    api.ingest(order_input("O1"))

    preview = api.post(
        "/orders/O1/cancellations/preview",
        json_body={"reason": "BUYER_REQUESTED", "scope": "ORDER"},
    ).json()

    assert preview["resulting_order_status"] == "CANCELLED"
    assert_refund(preview["refund"], shipping_fee="5.99", total="33.53")


# --- submit and replay -------------------------------------------------------------------


def test_submit_returns_the_cancellation_of_the_contract(api: Api) -> None:
    version = api.ingest(order_input("O1")).json()["version"]

    result = api.submit("O1", TWO_MUGS, if_match=f'"{version}"')

    assert result.status == 201, result.text
    assert result.content_type == "application/json"
    assert "idempotent-replayed" not in result.headers
    cancellation = result.json()
    assert set(cancellation) == CANCELLATION_FIELDS
    assert cancellation["cancellation_id"]
    assert cancellation["order_id"] == "O1"
    assert cancellation["scope"] == "ITEMS"
    assert cancellation["reason"] == "OUT_OF_STOCK"
    assert cancellation["package_id"] is None
    assert cancellation["note"] == "Blue mugs sold out"
    (item,) = cancellation["items"]
    assert set(item) == CANCELLATION_ITEM_FIELDS
    assert (item["line_id"], item["sku_id"], item["product_name"], item["quantity"]) == (
        "L1",
        "K1",
        "Mug",
        2,
    )
    assert_refund(item["refund"], **TWO_MUGS_REFUND)
    assert_refund(cancellation["refund"], **TWO_MUGS_REFUND)
    assert ISO_INSTANT.match(cancellation["created_at"])
    assert cancellation["created_by"] == "user-ana-ops"
    assert cancellation["order_version"] == version + 1
    assert result.headers["etag"] == f'"{version + 1}"'
    assert cancellation["resulting_order_status"] == "AWAITING_SHIPMENT"
    assert cancellation["notification"] == {"status": "PENDING", "sent_at": None}


def test_the_same_key_and_body_replays_the_original_whatever_the_order_now(api: Api) -> None:
    version = api.ingest(order_input("O1", lines=[MUG, KETTLE])).json()["version"]
    key = str(uuid.uuid4())
    original = api.submit("O1", TWO_MUGS, key=key, if_match=f'"{version}"')
    assert api.post("/orders/O1/packages/PK2/ship").status == 200

    replay = api.submit("O1", TWO_MUGS, key=key, if_match=f'"{version}"')

    assert replay.status == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == original.json()
    assert api.get("/orders/O1").json()["lines"][0]["cancelled_quantity"] == 2
    assert len(api.get("/orders/O1/cancellations").json()["cancellations"]) == 1


def test_the_same_key_with_another_body_is_409(api: Api) -> None:
    api.ingest(order_input("O1"))
    key = str(uuid.uuid4())
    assert api.submit("O1", TWO_MUGS, key=key).status == 201

    one_mug = {**TWO_MUGS, "items": [{"line_id": "L1", "quantity": 1}]}

    assert_problem(api.submit("O1", one_mug, key=key), 409, "IDEMPOTENCY_KEY_REUSED")


def test_an_outdated_if_match_is_412(api: Api) -> None:
    version = api.ingest(order_input("O1")).json()["version"]
    assert api.submit("O1", TWO_MUGS, if_match=f'"{version}"').status == 201

    one_mug = {**TWO_MUGS, "items": [{"line_id": "L1", "quantity": 1}]}

    assert_problem(
        api.submit("O1", one_mug, if_match=f'"{version}"'), 412, "ORDER_VERSION_MISMATCH"
    )


def test_submit_needs_an_idempotency_key(api: Api) -> None:
    api.ingest(order_input("O1"))

    result = api.post("/orders/O1/cancellations", json_body=TWO_MUGS)

    document = assert_problem(result, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert [e["field"] for e in document["errors"]] == ["Idempotency-Key"]


def test_the_domain_rules_answer_422_and_409(api: Api) -> None:
    api.ingest(order_input("O1"))

    def submit(**changes: object) -> object:
        return api.submit("O1", {**TWO_MUGS, **changes})

    assert_problem(submit(reason="BUYER_REQUESTED"), 422, "REASON_NOT_ALLOWED_FOR_ITEMS")
    assert_problem(submit(items=[{"line_id": "L9", "quantity": 1}]), 422, "UNKNOWN_LINE")
    document = assert_problem(
        submit(items=[{"line_id": "L1", "quantity": 4}]), 409, "QUANTITY_EXCEEDS_CANCELLABLE"
    )
    assert document["errors"][0]["field"] == "items[0].quantity"
    assert_problem(
        api.submit("O1", {"reason": "PRICING_ERROR", "scope": "PACKAGE", "package_id": "PK9"}),
        422,
        "UNKNOWN_PACKAGE",
    )
    assert_problem(api.submit("O-MISSING", TWO_MUGS), 404, "ORDER_NOT_FOUND")
    assert api.get("/orders/O1").json()["refunded_total"] == "0.00"


# --- ship ------------------------------------------------------------------------------------


def test_ship_moves_a_package_to_awaiting_collection_once(api: Api) -> None:
    version = api.ingest(order_input("O1")).json()["version"]

    shipped = api.post("/orders/O1/packages/PK1/ship")

    assert shipped.status == 200
    order = shipped.json()
    assert set(order) == ORDER_FIELDS
    assert order["status"] == "AWAITING_COLLECTION"
    assert order["packages"][0]["status"] == "AWAITING_COLLECTION"
    assert order["version"] == version + 1
    assert shipped.headers["etag"] == f'"{version + 1}"'
    assert order["actions"] == {"cancel_order": True, "cancel_items": False}
    assert_problem(api.post("/orders/O1/packages/PK1/ship"), 409, "PACKAGE_NOT_SHIPPABLE")
