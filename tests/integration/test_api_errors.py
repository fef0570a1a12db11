"""What the API answers to requests it must refuse: 401 and 403 on every route, 413 over
64 KiB, malformed input of every kind (always the documented 4xx, never a 5xx), and the
precedence rule when several errors apply at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from local_runtime.gateway.tokens import mint_token as mint_local_token
from local_runtime.stack import LocalStack
from local_runtime.template import SamTemplate
from tests.integration.conftest import (
    ApiClient,
    ApiResponse,
    IdFactory,
    SellerClient,
    TokenFactory,
    assert_problem,
    items_request,
    new_idempotency_key,
    order_input,
    order_request,
    package_request,
    without_notification,
)

pytestmark = pytest.mark.integration

MAX_BODY = 64 * 1024
# Every route of the template, with a package of the test order where the path has one.
# Every route of the template, with a package and a stock-out id in the path; the order
# id is the test's.
ROUTES = [
    (
        route.method,
        route.path.replace("{package_id}", "PK1").replace("{stockout_id}", "SO-1"),
        route.authorization_scopes[0],
    )
    for route in SamTemplate.load().routes
]
ALL_SCOPES = {"orders.read", "orders.write", "orders.admin"}


def _post_raw(
    seller: SellerClient,
    path: str,
    body: bytes,
    *,
    content_type: str | None = "application/json",
    key: str | bytes | None = None,
    token: str | None = None,
) -> ApiResponse:
    headers: list[tuple[str, str | bytes]] = [("Authorization", f"Bearer {token or seller.token}")]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    headers.append(("Idempotency-Key", key if key is not None else new_idempotency_key()))
    return seller.api.raw("POST", path, body, headers)


def _json_of_size(size: int, template: dict[str, Any], field: str = "note") -> bytes:
    """``template`` with ``field`` padded so that the JSON text is ``size`` bytes."""
    empty = len(json.dumps({**template, field: ""}).encode())
    body = json.dumps({**template, field: "x" * (size - empty)}).encode()
    assert len(body) == size
    return body


def _assert_refused(response: ApiResponse, status: int, code: str) -> None:
    assert response.status < 500, response.body[:300]
    assert_problem(response, status, code)


# --- 401 and 403 ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_without_a_token_is_401(
    api: ApiClient, unique_id: IdFactory, method: str, path: str, scope: str
) -> None:
    response = api.request(
        method,
        path.format(order_id=unique_id("ORD")),
        json_body=None if method == "GET" else order_request(),
    )

    assert_problem(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_refuses_a_token_without_its_scope_with_403(
    seller: SellerClient,
    mint_token: TokenFactory,
    mug_order: str,
    method: str,
    path: str,
    scope: str,
) -> None:
    token = mint_token(seller.seller_id, sorted(ALL_SCOPES - {scope}))
    body = order_input(mug_order, seller.seller_id) if method == "PUT" else order_request()

    response = seller.api.request(
        method,
        path.format(order_id=mug_order),
        token=token,
        json_body=None if method == "GET" else body,
        headers=[("Idempotency-Key", new_idempotency_key())],
    )

    assert_problem(response, 403, "FORBIDDEN")
    assert seller.order(mug_order)["refunded_total"] == "0.00"


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_refuses_a_forged_or_expired_token_with_401(
    seller: SellerClient, mug_order: str, method: str, path: str, scope: str
) -> None:
    forged = mint_local_token(seller.seller_id, sorted(ALL_SCOPES), secret="not-the-secret")
    expired = mint_local_token(
        seller.seller_id, sorted(ALL_SCOPES), issued_at=datetime(2020, 1, 1, tzinfo=UTC)
    )

    for token in (forged, expired):
        response = seller.api.request(
            method,
            path.format(order_id=mug_order),
            token=token,
            json_body=None if method == "GET" else order_request(),
            headers=[("Idempotency-Key", new_idempotency_key())],
        )
        assert_problem(response, 401, "UNAUTHORIZED")
    assert seller.order(mug_order)["refunded_total"] == "0.00"


def test_a_token_without_a_seller_claim_is_403(
    local_stack: LocalStack, seller: SellerClient, mug_order: str
) -> None:
    token = mint_local_token(
        seller.seller_id,
        sorted(ALL_SCOPES),
        secret=local_stack.jwt_secret,
        seller_claim="tenant",
    )

    assert_problem(seller.api.get("/orders", token=token), 403, "FORBIDDEN")
    assert_problem(
        seller.api.post(
            f"/orders/{mug_order}/cancellations",
            token=token,
            json_body=order_request(),
            headers=[("Idempotency-Key", new_idempotency_key())],
        ),
        403,
        "FORBIDDEN",
    )
    assert seller.order(mug_order)["status"] == "AWAITING_SHIPMENT"


# --- 413 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["preview", "submit", "put"])
def test_a_body_over_64_kib_is_413(seller: SellerClient, mug_order: str, route: str) -> None:
    if route == "put":
        body = _json_of_size(
            MAX_BODY + 1, order_input(mug_order, seller.seller_id), field="padding"
        )
        response = seller.api.raw(
            "PUT",
            f"/orders/{mug_order}",
            body,
            [
                ("Authorization", f"Bearer {seller.admin_token}"),
                ("Content-Type", "application/json"),
            ],
        )
    else:
        path = f"/orders/{mug_order}/cancellations" + ("/preview" if route == "preview" else "")
        response = _post_raw(seller, path, _json_of_size(MAX_BODY + 1, items_request(("L1", 1))))

    _assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert seller.order(mug_order)["refunded_total"] == "0.00"


def test_a_body_of_exactly_64_kib_is_read_and_judged(seller: SellerClient, mug_order: str) -> None:
    response = _post_raw(
        seller,
        f"/orders/{mug_order}/cancellations",
        _json_of_size(MAX_BODY, items_request(("L1", 1))),
    )

    document = assert_problem(response, 400, "VALIDATION_ERROR")
    assert [error["field"] for error in document["errors"]] == ["note"]


# --- malformed input: never a 5xx -------------------------------------------------------------

VALID_ITEMS = '"reason":"OUT_OF_STOCK","scope":"ITEMS","items":[{"line_id":"L1","quantity":1}]'

MALFORMED_BODIES = {
    "truncated JSON": b'{"reason": "OUT_OF_STOCK",',
    "trailing garbage": b"{" + VALID_ITEMS.encode() + b"} x",
    "an empty JSON array": b"[]",
    "an array holding a valid request": b"[{" + VALID_ITEMS.encode() + b"}]",
    "an array holding a valid request and more": b"[{" + VALID_ITEMS.encode() + b"}, 5]",
    "a JSON number": b"1",
    "JSON null": b"null",
    "a JSON string": b'"ORDER"',
    "JSON true": b"true",
    "an empty object": b"{}",
    "single quotes": b"{'reason': 'OUT_OF_STOCK', 'scope': 'ORDER'}",
    "invalid UTF-8": b'{"reason":"OUT_OF_STOCK","scope":"ORDER","note":"\xff\xfe"}',
    "a byte order mark": b'\xef\xbb\xbf{"reason":"OUT_OF_STOCK","scope":"ORDER"}',
    "a lone surrogate in the note": (
        b'{"reason":"OUT_OF_STOCK","scope":"ORDER","note":"before \\ud800 after"}'
    ),
    "a 5000-digit quantity": (
        b'{"reason":"OUT_OF_STOCK","scope":"ITEMS","items":[{"line_id":"L1","quantity":'
        + b"9" * 5000
        + b"}]}"
    ),
    "NaN as quantity": (
        b'{"reason":"OUT_OF_STOCK","scope":"ITEMS","items":[{"line_id":"L1","quantity":NaN}]}'
    ),
    "an array nested 30000 deep": b"[" * 30000 + b"]" * 30000,
    "an object nested 10000 deep": b'{"a":' * 10000 + b"1" + b"}" * 10000,
    "a note nested 900 deep": (
        b"{" + VALID_ITEMS.encode() + b',"note":' + b"[" * 900 + b"]" * 900 + b"}"
    ),
}


@pytest.mark.parametrize("route", ["preview", "submit"])
@pytest.mark.parametrize("name", sorted(MALFORMED_BODIES))
def test_a_malformed_cancellation_body_is_400(
    seller: SellerClient, mug_order: str, route: str, name: str
) -> None:
    path = f"/orders/{mug_order}/cancellations" + ("/preview" if route == "preview" else "")

    response = _post_raw(seller, path, MALFORMED_BODIES[name])

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert seller.cancellation_list(mug_order) == []


def _order_bytes(order_id: str, seller_id: str) -> bytes:
    return json.dumps(order_input(order_id, seller_id), separators=(",", ":")).encode()


def _replace_once(text: bytes, old: bytes, new: bytes) -> bytes:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# Each spoils an otherwise valid OrderInput, given as its compact JSON text.
ORDER_MALFORMATIONS = {
    "truncated JSON": lambda text: text[:-10],
    "trailing garbage": lambda text: text + b" x",
    "an array holding the order": lambda text: b"[" + text + b"]",
    "JSON null": lambda _text: b"null",
    "a JSON string": lambda text: json.dumps(text.decode()).encode(),
    "single quotes": lambda text: text.replace(b'"', b"'"),
    "invalid UTF-8": lambda text: _replace_once(text, b'"Mug"', b'"M\xffg"'),
    "a byte order mark": lambda text: b"\xef\xbb\xbf" + text,
    "a lone surrogate in a name": lambda text: _replace_once(text, b'"Mug"', b'"M\\udc00g"'),
    "a 5000-digit quantity": lambda text: _replace_once(
        text, b'"quantity":3', b'"quantity":' + b"9" * 5000
    ),
    "NaN as quantity": lambda text: _replace_once(text, b'"quantity":3', b'"quantity":NaN'),
    "a name nested 900 deep": lambda text: _replace_once(text, b'"Mug"', b"[" * 900 + b"]" * 900),
    "an array nested 30000 deep": lambda _text: b"[" * 30000 + b"]" * 30000,
}


@pytest.mark.parametrize("name", sorted(ORDER_MALFORMATIONS))
def test_a_malformed_order_body_is_400(
    seller: SellerClient, unique_id: IdFactory, name: str
) -> None:
    order_id = unique_id("ORD")
    body = ORDER_MALFORMATIONS[name](_order_bytes(order_id, seller.seller_id))

    response = seller.api.raw(
        "PUT",
        f"/orders/{order_id}",
        body,
        [("Authorization", f"Bearer {seller.admin_token}"), ("Content-Type", "application/json")],
    )

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")


def test_the_unspoilt_order_body_of_the_malformation_tests_is_accepted(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")

    response = seller.api.raw(
        "PUT",
        f"/orders/{order_id}",
        _order_bytes(order_id, seller.seller_id),
        [("Authorization", f"Bearer {seller.admin_token}"), ("Content-Type", "application/json")],
    )

    assert response.status == 201


WRONG_CANCELLATION_REQUESTS = {
    "quantity as a string": items_request(("L1", "2")),  # type: ignore[arg-type]
    "quantity as a fraction": items_request(("L1", 2.5)),  # type: ignore[arg-type]
    "quantity as a boolean": items_request(("L1", True)),
    "quantity null": items_request(("L1", None)),  # type: ignore[arg-type]
    "quantity zero": items_request(("L1", 0)),
    "quantity negative": items_request(("L1", -1)),
    "quantity a list": items_request(("L1", [1])),  # type: ignore[arg-type]
    "line id a number": items_request((1, 1)),  # type: ignore[arg-type]
    "items an object": {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": {"L1": 1}},
    "items a string": {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": "L1"},
    "an item a number": {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": [1]},
    "no items": items_request(),
    "101 items": items_request(*[(f"L{index}", 1) for index in range(101)]),
    "a line twice": items_request(("L1", 1), ("L1", 1)),
    "items with scope ORDER": {**items_request(("L1", 1)), "scope": "ORDER"},
    "a package with scope ITEMS": {**items_request(("L1", 1)), "package_id": "PK1"},
    "a package with scope ORDER": {**order_request(), "package_id": "PK1"},
    "scope PACKAGE without a package": {"reason": "BUYER_REQUESTED", "scope": "PACKAGE"},
    "scope PACKAGE with a null package": {**package_request("PK1"), "package_id": None},
    "an unknown reason": order_request(reason="CHANGED_MIND"),
    "a reason in lower case": order_request(reason="out_of_stock"),
    "a reason that is a number": order_request(reason=1),  # type: ignore[arg-type]
    "no reason": {"scope": "ORDER"},
    "an unknown scope": {"reason": "BUYER_REQUESTED", "scope": "EVERYTHING"},
    "no scope": {"reason": "BUYER_REQUESTED"},
    "a note of 501 characters": {**order_request(), "note": "n" * 501},
    "a note that is a number": {**order_request(), "note": 5},
    "an unknown field": {**order_request(), "refund": "100.00"},
    "an unknown field in an item": {
        "reason": "OUT_OF_STOCK",
        "scope": "ITEMS",
        "items": [{"line_id": "L1", "quantity": 1, "sku_id": "SKU-L1"}],
    },
}


@pytest.mark.parametrize("route", ["preview", "submit"])
@pytest.mark.parametrize("name", sorted(WRONG_CANCELLATION_REQUESTS))
def test_a_cancellation_request_of_the_wrong_shape_is_400(
    seller: SellerClient, mug_order: str, route: str, name: str
) -> None:
    request = WRONG_CANCELLATION_REQUESTS[name]
    if route == "preview":
        response = seller.preview(mug_order, request)
    else:
        response = seller.cancel(mug_order, request)

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert seller.cancellation_list(mug_order) == []


def test_a_quantity_beyond_64_bits_is_more_than_is_left(
    seller: SellerClient, mug_order: str
) -> None:
    response = seller.cancel(mug_order, items_request(("L1", 2**70)))

    _assert_refused(response, 409, "QUANTITY_EXCEEDS_CANCELLABLE")
    assert seller.cancellation_list(mug_order) == []


def test_a_note_of_500_characters_with_control_characters_is_kept(
    seller: SellerClient, mug_order: str
) -> None:
    note = ("é\u0000\t🙂" * 125)[:500]

    cancellation = seller.cancelled(mug_order, {**order_request(), "note": note})

    assert cancellation["note"] == note
    assert seller.cancellation_list(mug_order)[0]["note"] == note


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_declared_json_is_400(
    seller: SellerClient, mug_order: str, content_type: str
) -> None:
    response = _post_raw(
        seller,
        f"/orders/{mug_order}/cancellations",
        json.dumps(order_request()).encode(),
        content_type=content_type,
    )

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert seller.cancellation_list(mug_order) == []


def test_a_json_body_with_a_charset_is_accepted(seller: SellerClient, mug_order: str) -> None:
    response = _post_raw(
        seller,
        f"/orders/{mug_order}/cancellations",
        json.dumps(items_request(("L1", 1))).encode(),
        content_type="application/json; charset=utf-8",
    )

    assert response.status == 201


@pytest.mark.parametrize("route", ["preview", "submit", "put"])
def test_an_empty_body_is_400(seller: SellerClient, mug_order: str, route: str) -> None:
    if route == "put":
        response = seller.api.raw(
            "PUT",
            f"/orders/{mug_order}",
            b"",
            [("Authorization", f"Bearer {seller.admin_token}")],
        )
    else:
        path = f"/orders/{mug_order}/cancellations" + ("/preview" if route == "preview" else "")
        response = _post_raw(seller, path, b"")

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert seller.order(mug_order)["refunded_total"] == "0.00"


@pytest.mark.parametrize(
    "order_id",
    ["X" * 129, "X" * 2000, "..", "a%2Fb", "%00", "%C3%A9t%C3%A9", "-starts-with-dash", "a%20b"],
)
def test_an_order_id_no_order_can_have_is_404_on_every_route(
    seller: SellerClient, order_id: str
) -> None:
    requests = [
        seller.get_order(order_id),
        seller.cancellations(order_id),
        seller.preview(order_id, order_request()),
        seller.cancel(order_id, order_request()),
        seller.ship(order_id, "PK1"),
    ]

    for response in requests:
        _assert_refused(response, 404, "ORDER_NOT_FOUND")


def test_ingesting_an_order_id_no_order_can_have_is_400(seller: SellerClient) -> None:
    order_id = "X" * 129

    response = seller.put_order(order_input(order_id, seller.seller_id))

    _assert_refused(response, 400, "VALIDATION_ERROR")


def test_an_empty_idempotency_key_is_400_key_required(seller: SellerClient, mug_order: str) -> None:
    response = _post_raw(
        seller,
        f"/orders/{mug_order}/cancellations",
        json.dumps(order_request()).encode(),
        key="",
    )

    _assert_refused(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert seller.cancellation_list(mug_order) == []


@pytest.mark.parametrize(
    "key",
    ["k" * 129, "clé".encode("latin-1"), "clé-🙂".encode(), b"tab\tinside", b"del\x7f"],
    ids=["129 characters", "latin-1", "utf-8", "a tab", "a DEL"],
)
def test_an_idempotency_key_that_is_not_1_to_128_printable_ascii_is_400(
    seller: SellerClient, mug_order: str, key: str | bytes
) -> None:
    response = _post_raw(
        seller,
        f"/orders/{mug_order}/cancellations",
        json.dumps(order_request()).encode(),
        key=key,
    )

    _assert_refused(response, 400, "VALIDATION_ERROR")
    assert seller.cancellation_list(mug_order) == []


def test_an_idempotency_key_of_128_printable_characters_is_accepted(
    seller: SellerClient, mug_order: str
) -> None:
    key = ("~ !key" * 30)[:128]

    first = seller.cancel(mug_order, items_request(("L1", 1)), key=key)
    again = seller.cancel(mug_order, items_request(("L1", 1)), key=key)

    assert (first.status, again.status) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"


# --- precedence: 401/403, 413, 400, replay or key reuse, 404, 412, 422, 409 -------------


def test_401_comes_before_413(seller: SellerClient, mug_order: str) -> None:
    body = _json_of_size(MAX_BODY + 1, items_request(("L1", 1)))

    response = seller.api.raw(
        "POST",
        f"/orders/{mug_order}/cancellations",
        body,
        [("Content-Type", "application/json")],
    )

    _assert_refused(response, 401, "UNAUTHORIZED")


def test_403_comes_before_413_and_400(
    seller: SellerClient, mint_token: TokenFactory, mug_order: str
) -> None:
    reader = mint_token(seller.seller_id, ["orders.read"])
    path = f"/orders/{mug_order}/cancellations"

    too_large = _post_raw(seller, path, b"{" * (MAX_BODY + 1), token=reader)
    not_json = _post_raw(seller, path, b"{", token=reader)

    _assert_refused(too_large, 403, "FORBIDDEN")
    _assert_refused(not_json, 403, "FORBIDDEN")


def test_413_comes_before_invalid_json_a_missing_key_and_an_unknown_order(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    response = seller.api.raw(
        "POST",
        f"/orders/{unique_id('ORD')}/cancellations",
        b"{" * (MAX_BODY + 1),
        [("Authorization", f"Bearer {seller.token}"), ("Content-Type", "application/json")],
    )

    _assert_refused(response, 413, "PAYLOAD_TOO_LARGE")


def test_400_comes_before_404(seller: SellerClient, unique_id: IdFactory) -> None:
    unknown = unique_id("ORD")

    bad_json = _post_raw(seller, f"/orders/{unknown}/cancellations", b"{")
    bad_shape = seller.cancel(unknown, items_request(("L1", "1")))  # type: ignore[arg-type]
    no_key = seller.api.post(
        f"/orders/{unknown}/cancellations", token=seller.token, json_body=order_request()
    )
    bad_if_match = seller.cancel(unknown, order_request(), if_match="three")
    bad_preview = seller.preview(unknown, {"reason": "OUT_OF_STOCK"})

    _assert_refused(bad_json, 400, "VALIDATION_ERROR")
    _assert_refused(bad_shape, 400, "VALIDATION_ERROR")
    _assert_refused(no_key, 400, "IDEMPOTENCY_KEY_REQUIRED")
    _assert_refused(bad_if_match, 400, "VALIDATION_ERROR")
    _assert_refused(bad_preview, 400, "VALIDATION_ERROR")


def test_a_reused_key_comes_before_404(
    seller: SellerClient, mug_order: str, unique_id: IdFactory
) -> None:
    key = new_idempotency_key()
    seller.cancelled(mug_order, items_request(("L1", 1)), key=key)

    response = seller.cancel(unique_id("ORD"), items_request(("L1", 1)), key=key)

    _assert_refused(response, 409, "IDEMPOTENCY_KEY_REUSED")


def test_404_comes_before_412_and_422(seller: SellerClient, unique_id: IdFactory) -> None:
    unknown = unique_id("ORD")

    submit = seller.cancel(unknown, items_request(("L9", 1), reason="PRICING_ERROR"), if_match="7")
    preview = seller.preview(unknown, items_request(("L9", 1)))
    ship = seller.ship(unknown, "PK9")

    for response in (submit, preview, ship):
        _assert_refused(response, 404, "ORDER_NOT_FOUND")


def test_412_comes_before_422_and_409(seller: SellerClient, mug_order: str) -> None:
    stale = seller.get_order(mug_order).headers["etag"]
    seller.cancelled(mug_order, items_request(("L1", 2)))

    unknown_line = seller.cancel(mug_order, items_request(("L9", 1)), if_match=stale)
    too_many = seller.cancel(mug_order, items_request(("L1", 3)), if_match=stale)
    wrong_reason = seller.cancel(
        mug_order, items_request(("L1", 1), reason="BUYER_REQUESTED"), if_match=stale
    )

    for response in (unknown_line, too_many, wrong_reason):
        _assert_refused(response, 412, "ORDER_VERSION_MISMATCH")
    assert len(seller.cancellation_list(mug_order)) == 1


def test_422_comes_before_409(seller: SellerClient, mug_order: str) -> None:
    seller.cancelled(mug_order, order_request())

    unknown_line = seller.cancel(mug_order, items_request(("L1", 1), ("L9", 1)))
    wrong_reason = seller.cancel(mug_order, items_request(("L1", 5), reason="PRICING_ERROR"))
    unknown_package = seller.cancel(mug_order, package_request("PK9"))

    _assert_refused(unknown_line, 422, "UNKNOWN_LINE")
    _assert_refused(wrong_reason, 422, "REASON_NOT_ALLOWED_FOR_ITEMS")
    _assert_refused(unknown_package, 422, "UNKNOWN_PACKAGE")
    _assert_refused(seller.ship(mug_order, "PK9"), 422, "UNKNOWN_PACKAGE")


def test_a_replay_comes_before_everything_the_order_now_says(
    seller: SellerClient, mug_order: str
) -> None:
    key, request = new_idempotency_key(), items_request(("L1", 3))
    first = seller.cancelled(mug_order, request, key=key)
    assert seller.order(mug_order)["status"] == "CANCELLED"

    replay = seller.cancel(mug_order, request, key=key, if_match='"1"')

    assert replay.status == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert without_notification(replay.json()) == without_notification(first)
