"""Errors: the problem+json shape, identity first, then 413, then 400, never a 5xx."""

from __future__ import annotations

import json

import pytest

from tests.unit.handlers.conftest import Api
from tests.unit.handlers.contract import MAX_BODY_BYTES, assert_problem, order_input

ITEMS_REQUEST = {
    "reason": "OUT_OF_STOCK",
    "scope": "ITEMS",
    "items": [{"line_id": "L1", "quantity": 1}],
}
IDEMPOTENCY = [("idempotency-key", "key-1")]

# One route of each function, and each function's routes with a body.
ROUTES = [
    ("GET", "/orders"),
    ("GET", "/orders/O1"),
    ("GET", "/cancel-reasons"),
    ("GET", "/orders/O1/cancellations"),
    ("POST", "/orders/O1/cancellations/preview"),
    ("POST", "/orders/O1/cancellations"),
    ("POST", "/orders/O1/packages/PK1/ship"),
    ("PUT", "/orders/O1"),
]
BODY_ROUTES = [
    ("POST", "/orders/O1/cancellations/preview"),
    ("POST", "/orders/O1/cancellations"),
    ("PUT", "/orders/O1"),
]


def _padded_body(size: int) -> bytes:
    """A valid cancellation request of exactly ``size`` bytes (its note makes it long)."""
    empty = json.dumps({**ITEMS_REQUEST, "note": ""}).encode()
    body = json.dumps({**ITEMS_REQUEST, "note": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_event_without_claims_is_401(api: Api, method: str, path: str) -> None:
    result = api.call(method, path, claims=None, json_body=ITEMS_REQUEST, headers=IDEMPOTENCY)

    assert_problem(result, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_claims_without_the_seller_claim_are_403(api: Api, method: str, path: str) -> None:
    claims = {"sub": "user-1", "scope": "orders.read orders.write orders.admin"}

    result = api.call(method, path, claims=claims, json_body=ITEMS_REQUEST, headers=IDEMPOTENCY)

    assert_problem(result, 403, "FORBIDDEN")


def test_a_seller_claim_that_no_seller_could_have_is_403(api: Api) -> None:
    for seller in ("", " ", "a/b", "x" * 200):
        claims = {**api.claims(), "seller_id": seller}
        assert_problem(api.get("/orders", claims=claims), 403, "FORBIDDEN")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_over_64_kib_is_413_even_when_it_is_not_json(
    api: Api, method: str, path: str
) -> None:
    body = b"{" + b"x" * MAX_BODY_BYTES

    result = api.call(method, path, body=body, headers=[("content-type", "application/json")])

    assert_problem(result, 413, "PAYLOAD_TOO_LARGE")


def test_a_body_of_64_kib_exactly_is_read_and_then_judged(api: Api) -> None:
    api.ingest(order_input("O1"))

    at_limit = api.post(
        "/orders/O1/cancellations/preview",
        body=_padded_body(MAX_BODY_BYTES),
        headers=[("content-type", "application/json")],
    )
    over = api.post(
        "/orders/O1/cancellations/preview",
        body=_padded_body(MAX_BODY_BYTES + 1),
        headers=[("content-type", "application/json")],
    )

    document = assert_problem(at_limit, 400, "VALIDATION_ERROR")
    assert [e["field"] for e in document["errors"]] == ["note"]
    assert_problem(over, 413, "PAYLOAD_TOO_LARGE")


def test_identity_comes_before_the_size_check(api: Api) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)

    assert_problem(
        api.post("/orders/O1/cancellations/preview", body=body, claims=None), 401, "UNAUTHORIZED"
    )
    assert_problem(
        api.post("/orders/O1/cancellations/preview", body=body, claims={"sub": "u"}),
        403,
        "FORBIDDEN",
    )


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"", b"[1, 2", b"\xff\xfe", b'{"reason": "OUT_OF_STOCK",}'],
)
def test_a_body_that_is_not_json_is_400(api: Api, body: bytes) -> None:
    result = api.post(
        "/orders/O1/cancellations",
        body=body,
        headers=[("content-type", "application/json"), *IDEMPOTENCY],
    )

    document = assert_problem(result, 400, "VALIDATION_ERROR")
    assert document["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"reason": "BORED"}, "reason"),
        ({"scope": None}, "scope"),
        ({"items": [{"line_id": "L1", "quantity": "2"}]}, "items[0].quantity"),
        ({"items": [{"line_id": "L1", "quantity": 1.0}]}, "items[0].quantity"),
        ({"items": [{"line_id": "L1"}]}, "items[0].quantity"),
        ({"note": 5}, "note"),
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_400_naming_the_field(
    api: Api, change: dict[str, object], field: str
) -> None:
    api.ingest(order_input("O1"))

    result = api.submit("O1", {**ITEMS_REQUEST, **change})

    document = assert_problem(result, 400, "VALIDATION_ERROR")
    assert field in [e["field"] for e in document["errors"]], document


def test_validation_comes_before_idempotency_and_not_found(api: Api) -> None:
    # No such order and no key: the body is judged first.
    result = api.post("/orders/O-MISSING/cancellations", json_body={"scope": "ITEMS"})

    document = assert_problem(result, 400, "VALIDATION_ERROR")
    assert "reason" in [e["field"] for e in document["errors"]]


def test_a_body_that_is_not_json_by_content_type_is_400(api: Api) -> None:
    result = api.post(
        "/orders/O1/cancellations/preview",
        body=b"reason=OUT_OF_STOCK",
        headers=[("content-type", "application/x-www-form-urlencoded")],
    )

    assert_problem(result, 400, "VALIDATION_ERROR")


def test_an_unknown_order_id_shape_is_404_not_500(api: Api) -> None:
    for order_id in ("%20", "-x", "x" * 300, "%E2%9C%93"):
        assert_problem(api.get(f"/orders/{order_id}"), 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_json_array_holding_a_valid_body_is_400(api: Api, method: str, path: str) -> None:
    api.ingest(order_input("O1"))
    valid = order_input("O1") if method == "PUT" else {"reason": "PRICING_ERROR", "scope": "ORDER"}
    claims = api.admin_claims() if method == "PUT" else api.claims()

    result = api.call(
        method, path, json_body=[valid, "and more"], headers=IDEMPOTENCY, claims=claims
    )

    assert_problem(result, 400, "VALIDATION_ERROR")
    assert api.get("/orders/O1").json()["status"] == "AWAITING_SHIPMENT"
