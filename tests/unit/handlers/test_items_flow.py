"""A seller's item-level cancellation from start to end, as the console drives it."""

from __future__ import annotations

import uuid

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import KETTLE, MUG, assert_refund, order_input

OUT_OF_STOCK_MUGS = {
    "reason": "OUT_OF_STOCK",
    "scope": "ITEMS",
    "items": [{"line_id": "L1", "quantity": 2}],
    "package_id": None,
    "note": "Blue mugs sold out",
}


def test_ingest_preview_submit_replay_then_the_order_shows_it(api: Api) -> None:
    # The order system sends the order: 3 mugs in PK1, a kettle in PK2.
    ingested = api.ingest(order_input("O1", lines=[MUG, KETTLE])).json()
    assert ingested["paid_total"] == "103.79"  # 27.54 + 70.26 + 5.99 shipping
    # The kettle's package leaves Awaiting Shipment: only the mugs can go item by item.
    shipped = api.post("/orders/O1/packages/PK2/ship")
    assert shipped.status == 200
    etag = shipped.headers["etag"]

    # The seller previews cancelling 2 of the 3 mugs...
    preview = api.post("/orders/O1/cancellations/preview", json_body=OUT_OF_STOCK_MUGS).json()
    assert f'"{preview["order_version"]}"' == etag
    assert preview["resulting_order_status"] == "AWAITING_SHIPMENT"
    assert_refund(preview["refund"], subtotal="20.00", total="18.36", shipping_fee="0.00")

    # ...submits it against the version it previewed...
    key = str(uuid.uuid4())
    submitted = api.submit("O1", OUT_OF_STOCK_MUGS, key=key, if_match=etag)
    assert submitted.status == 201, submitted.text
    cancellation = submitted.json()
    assert cancellation["refund"] == preview["refund"]
    assert [(i["line_id"], i["quantity"]) for i in cancellation["items"]] == [("L1", 2)]
    assert cancellation["order_version"] == preview["order_version"] + 1

    # ...and its retry after a lost response gets the same answer, changing nothing.
    replayed = api.submit("O1", OUT_OF_STOCK_MUGS, key=key, if_match=etag)
    assert replayed.status == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == cancellation

    # The order shows what is left.
    got = api.get("/orders/O1")
    order = got.json()
    assert got.headers["etag"] == f'"{cancellation["order_version"]}"'
    assert order["version"] == cancellation["order_version"]
    assert order["status"] == "AWAITING_SHIPMENT"
    lines = {line["line_id"]: line for line in order["lines"]}
    assert lines["L1"]["cancelled_quantity"] == 2
    assert lines["L1"]["cancellable_quantity"] == 1
    assert lines["L1"]["item_cancellable"] is True
    assert lines["L2"]["cancelled_quantity"] == 0
    assert lines["L2"]["item_cancellable"] is False
    assert order["refunded_total"] == "18.36"
    assert order["paid_total"] == "103.79"
    listed = api.get("/orders/O1/cancellations").json()["cancellations"]
    assert listed == [cancellation]


def test_cancelling_everything_step_by_step_refunds_exactly_what_was_paid(api: Api) -> None:
    paid = api.ingest(order_input("O1", lines=[MUG, KETTLE])).json()["paid_total"]
    api.post("/orders/O1/packages/PK2/ship")

    first = api.submit("O1", OUT_OF_STOCK_MUGS).json()
    last_mug = api.submit(
        "O1", {**OUT_OF_STOCK_MUGS, "items": [{"line_id": "L1", "quantity": 1}]}
    ).json()
    after_mugs = api.get("/orders/O1").json()
    rest = api.submit("O1", {"reason": "BUYER_REQUESTED", "scope": "ORDER"}).json()

    # 1 of the 1 mug left: all that is left of each component, 10.00 - 1.00 - 0.50 + 0.68.
    assert_refund(last_mug["refund"], total="9.18", shipping_fee="0.00")
    assert after_mugs["status"] == "AWAITING_COLLECTION"
    assert {p["package_id"]: p["status"] for p in after_mugs["packages"]} == {
        "PK1": "CANCELLED",
        "PK2": "AWAITING_COLLECTION",
    }
    # The cancellation that leaves nothing uncancelled refunds the shipping fee.
    assert_refund(rest["refund"], total="76.25", shipping_fee="5.99")
    assert rest["resulting_order_status"] == "CANCELLED"
    order = api.get("/orders/O1").json()
    assert order["status"] == "CANCELLED"
    assert order["refunded_total"] == paid == "103.79"
    assert order["actions"] == {"cancel_order": False, "cancel_items": False}
    assert all(line["cancellable_quantity"] == 0 for line in order["lines"])
    assert {line["ineligible_reason"] for line in order["lines"]} == {"FULLY_CANCELLED"}
    totals = [
        c["refund"]["total"] for c in api.get("/orders/O1/cancellations").json()["cancellations"]
    ]
    assert totals == [first["refund"]["total"], "9.18", "76.25"]
    assert api.get("/orders?status=CANCELLED").json()["orders"][0]["order_id"] == "O1"
    assert api.get("/orders").json()["orders"] == []
