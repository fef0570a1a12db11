"""A seller only ever sees its own orders: another seller's order is 404 on every route,
exactly as if it did not exist, and never shows in a listing.

The matrix at the end runs over ``ROUTES``, one entry per route of ``template.yaml`` (a test
fails when a route is added without one): on every route another seller gets a 404 or a
fresh result of its own, never the first seller's data, and every kind of bad token (none,
expired, signed with another key, of another audience or issuer, ``alg: none``, without
``exp``, without the route's scope) is 401 or 403 before anything is read or written.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from local_runtime.gateway.tokens import mint_token as mint_local_token
from local_runtime.stack import LocalStack
from local_runtime.template import SamTemplate
from tests.integration.conftest import (
    READ_WRITE,
    ApiClient,
    ApiResponse,
    IdFactory,
    SellerClient,
    assert_problem,
    items_request,
    new_idempotency_key,
    order_input,
    order_request,
    package_request,
    two_package_order,
    without_notification,
)

pytestmark = pytest.mark.integration

STATUSES = ["AWAITING_SHIPMENT", "AWAITING_COLLECTION", "CANCELLED", "IN_TRANSIT"]


@pytest.fixture
def sellers_order(seller: SellerClient, unique_id: IdFactory) -> str:
    """An order of ``seller`` with one cancellation already made."""
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    seller.cancelled(order_id, items_request(("L1", 1)))
    return order_id


def test_another_sellers_order_is_404_on_every_route_and_stays_untouched(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str
) -> None:
    before = seller.order(sellers_order)
    cancellations_before = [
        without_notification(c) for c in seller.cancellation_list(sellers_order)
    ]

    responses = {
        "get": other_seller.get_order(sellers_order),
        "cancellations": other_seller.cancellations(sellers_order),
        "preview": other_seller.preview(sellers_order, items_request(("L1", 1))),
        "submit items": other_seller.cancel(sellers_order, items_request(("L1", 1))),
        "submit package": other_seller.cancel(sellers_order, package_request("PK2")),
        "submit order": other_seller.cancel(sellers_order, order_request(), if_match='"2"'),
        "ship": other_seller.ship(sellers_order, "PK1"),
        "status report": other_seller.report_status(sellers_order, "PK1", "IN_TRANSIT"),
    }

    for route, response in responses.items():
        document = assert_problem(response, 404, "ORDER_NOT_FOUND")
        assert str(before["version"]) not in response.headers.get("etag", ""), route
        assert "L1" not in document["detail"], route
    assert seller.order(sellers_order) == before
    assert [
        without_notification(c) for c in seller.cancellation_list(sellers_order)
    ] == cancellations_before


def test_another_sellers_order_answers_exactly_like_a_missing_one(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str, unique_id: IdFactory
) -> None:
    missing = unique_id("ORD")

    for call in (
        other_seller.get_order,
        lambda order_id: other_seller.preview(order_id, package_request("PK9")),
        lambda order_id: other_seller.ship(order_id, "PK9"),
        lambda order_id: other_seller.report_status(order_id, "PK9", "DELIVERED"),
    ):
        theirs, nobodys = call(sellers_order).json(), call(missing).json()
        assert theirs["detail"].replace(sellers_order, "X") == nobodys["detail"].replace(
            missing, "X"
        )
        assert {k: v for k, v in theirs.items() if k != "detail"} == {
            k: v for k, v in nobodys.items() if k != "detail"
        }


def test_listings_never_show_another_sellers_orders(
    seller: SellerClient, other_seller: SellerClient, sellers_order: str, unique_id: IdFactory
) -> None:
    shipped, cancelled = unique_id("ORD"), unique_id("ORD")
    for order_id in (shipped, cancelled):
        seller.create_order(order_input(order_id, seller.seller_id))
    seller.ship(shipped, "PK1")
    seller.cancelled(cancelled, order_request())
    own = unique_id("ORD")
    other_seller.create_order(order_input(own, other_seller.seller_id))

    for status in STATUSES:
        for product_ids in (None, "P-MUG", ["P-MUG", "P-TOWEL"]):
            listed = other_seller.list_orders(status=status, product_id=product_ids).json()
            expected = [own] if status == "AWAITING_SHIPMENT" else []
            assert [o["order_id"] for o in listed["orders"]] == expected, (status, product_ids)
    assert [o["order_id"] for o in seller.list_orders().json()["orders"]] == [sellers_order]


def test_two_sellers_may_use_the_same_order_id_independently(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))

    created = other_seller.put_order(
        order_input(order_id, other_seller.seller_id, shipping_fee="0.00")
    )
    other_seller.cancelled(order_id, order_request())

    assert created.status == 201
    assert other_seller.order(order_id)["status"] == "CANCELLED"
    mine = seller.order(order_id)
    assert (mine["status"], mine["shipping_fee"], mine["refunded_total"]) == (
        "AWAITING_SHIPMENT",
        "5.99",
        "0.00",
    )
    assert seller.cancellation_list(order_id) == []


def test_two_sellers_may_use_the_same_idempotency_key_independently(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))
    other_seller.create_order(order_input(order_id, other_seller.seller_id))
    key, request = new_idempotency_key(), items_request(("L1", 1))

    mine = seller.cancel(order_id, request, key=key)
    theirs = other_seller.cancel(order_id, request, key=key)

    assert (mine.status, theirs.status) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["cancellation_id"] != theirs.json()["cancellation_id"]
    assert seller.order(order_id)["lines"][0]["cancelled_quantity"] == 1
    assert other_seller.order(order_id)["lines"][0]["cancelled_quantity"] == 1


def test_a_page_token_of_one_seller_is_refused_to_another(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    for second in range(2):
        seller.create_order(
            order_input(
                unique_id("ORD"), seller.seller_id, created_at=f"2026-11-20T10:00:0{second}Z"
            )
        )
    token = seller.list_orders(page_size=1).json()["next_page_token"]

    assert_problem(other_seller.list_orders(page_token=token), 400, "INVALID_PAGE_TOKEN")
    assert seller.list_orders(page_token=token, page_size=1).status == 200


def test_an_admin_cannot_ingest_an_order_into_another_sellers_account(
    seller: SellerClient, other_seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")

    response = other_seller.put_order(order_input(order_id, seller.seller_id))

    assert_problem(response, 403, "FORBIDDEN")
    assert_problem(seller.get_order(order_id), 404, "ORDER_NOT_FOUND")
    assert_problem(other_seller.get_order(order_id), 404, "ORDER_NOT_FOUND")


# --- The matrix: every route of the template, another seller, every bad token -------------

ALL_SCOPES = frozenset({"orders.read", "orders.write", "orders.admin"})


@dataclass(frozen=True)
class Tenants:
    """A victim seller whose order, products and idempotency key an intruder goes after.

    ``markers`` appear in the victim's data only (its product, SKU, buyer and seller id):
    no answer to the intruder may contain one."""

    victim: SellerClient
    intruder: SellerClient
    # The order every route goes after, with one cancellation; and one for PUT alone, which
    # gives the intruder an order of its own under the same id.
    order_id: str
    put_order_id: str
    idempotency_key: str
    markers: Mapping[str, str]
    # The victim's stock-out of its secret SKU, started with the same idempotency key.
    stockout_id: str

    def victims_state(self) -> tuple[Any, ...]:
        cancellations = [
            without_notification(c) for c in self.victim.cancellation_list(self.order_id)
        ]
        stockout = self.victim.api.get(f"/stockouts/{self.stockout_id}", token=self.victim.token)
        return (
            self.victim.order(self.order_id),
            cancellations,
            self.victim.order(self.put_order_id),
            stockout.status,
            stockout.json().get("stockout_id"),
        )


@dataclass(frozen=True)
class Route:
    """One route of ``template.yaml``, and how to call it on the victim's order."""

    method: str
    path: str
    scope: str
    # The body for the acting seller: (its seller id, the order id) -> JSON, or None.
    body: Callable[[str, str], Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def call(self, tenants: Tenants, actor: SellerClient, token: str | None) -> ApiResponse:
        order_id = tenants.put_order_id if self.method == "PUT" else tenants.order_id
        return actor.api.request(
            self.method,
            self.path.format(order_id=order_id, package_id="PK1", stockout_id=tenants.stockout_id),
            token=token,
            json_body=self.body(actor.seller_id, order_id) if self.body else None,
            headers=[("Idempotency-Key", tenants.idempotency_key)],
        )


def _cancellation(_seller_id: str, _order_id: str) -> dict[str, Any]:
    return items_request(("L1", 1))


def _order(seller_id: str, order_id: str) -> dict[str, Any]:
    return order_input(order_id, seller_id)


def _stockout(_seller_id: str, order_id: str) -> dict[str, Any]:
    """The victim's secret SKU (named after its order's tag)."""
    return {"sku_id": f"SKU-SECRET-{order_id.removeprefix('ORD-')}", "units_on_hand": 0}


def _report(_seller_id: str, _order_id: str) -> dict[str, Any]:
    return {"status": "IN_TRANSIT", "occurred_at": "2026-11-21T08:00:00Z"}


# Every route of template.yaml (test_the_route_table_covers_every_route_of_the_template).
ROUTES = {
    route.key: route
    for route in (
        Route("GET", "/orders", "orders.read"),
        Route("GET", "/orders/{order_id}", "orders.read"),
        Route("GET", "/cancel-reasons", "orders.read"),
        Route("GET", "/orders/{order_id}/cancellations", "orders.read"),
        Route("GET", "/products", "orders.read"),
        Route("POST", "/orders/{order_id}/cancellations/preview", "orders.write", _cancellation),
        Route("POST", "/orders/{order_id}/cancellations", "orders.write", _cancellation),
        Route("POST", "/orders/{order_id}/packages/{package_id}/ship", "orders.write"),
        Route("PUT", "/orders/{order_id}", "orders.admin", _order),
        Route("POST", "/orders/{order_id}/packages/{package_id}/status", "orders.admin", _report),
        Route("POST", "/stockouts/preview", "orders.write", _stockout),
        Route("POST", "/stockouts", "orders.write", _stockout),
        Route("GET", "/stockouts/{stockout_id}", "orders.read"),
        Route("GET", "/stockouts/{stockout_id}/orders", "orders.read"),
    )
}


def _seller_client(api: ApiClient, stack: LocalStack, seller_id: str) -> SellerClient:
    return SellerClient(
        api=api,
        seller_id=seller_id,
        token=stack.mint_token(seller_id, list(READ_WRITE)),
        admin_token=stack.mint_token(seller_id, ["orders.admin"]),
    )


@pytest.fixture(scope="module")
def tenants(local_stack: LocalStack) -> Tenants:
    """One victim order with a cancellation, shared by the whole matrix: nothing in it may
    change it."""
    api = ApiClient(local_stack.base_url)
    tag = uuid.uuid4().hex[:10].upper()
    victim = _seller_client(api, local_stack, f"seller-victim-{tag.lower()}")
    intruder = _seller_client(api, local_stack, f"seller-intruder-{tag.lower()}")
    order_id = f"ORD-{tag}"
    lines = [
        {
            **line_,
            "product_id": f"P-SECRET-{tag}",
            "sku_id": f"SKU-SECRET-{tag}",
            "product_name": f"Secret Kettle {tag}",
        }
        for line_ in order_input(order_id, victim.seller_id)["lines"]
    ]
    body = order_input(order_id, victim.seller_id, email=f"victim-{tag.lower()}@example.com")
    victim.create_order({**body, "lines": lines})
    put_order_id = f"{order_id}-PUT"
    victim.create_order({**body, "order_id": put_order_id, "lines": lines})
    key = new_idempotency_key()
    # The same key and body from the intruder, on the same order id, must not replay this.
    victim.cancelled(order_id, items_request(("L1", 1)), key=key)
    started = victim.api.post(
        "/stockouts",
        token=victim.token,
        json_body=_stockout(victim.seller_id, order_id) | {"units_on_hand": 100},
        headers=[("Idempotency-Key", key)],
    )
    # Nothing beyond 100 units on hand: refused, so the victim's orders stay as they are.
    assert_problem(started, 409, "NOTHING_TO_CANCEL")
    started = victim.api.post(
        "/stockouts",
        token=victim.token,
        json_body=_stockout(victim.seller_id, order_id) | {"units_on_hand": 2},
        headers=[("Idempotency-Key", key)],
    )
    assert started.status == 202, started.body[:300]
    stockout_id = started.json()["stockout_id"]
    _wait_until_completed(victim, stockout_id)
    return Tenants(
        victim=victim,
        intruder=intruder,
        order_id=order_id,
        put_order_id=put_order_id,
        idempotency_key=key,
        stockout_id=stockout_id,
        markers={
            "seller id": victim.seller_id,
            "product id": f"P-SECRET-{tag}",
            "sku id": f"SKU-SECRET-{tag}",
            "product name": f"Secret Kettle {tag}",
            "buyer email": f"victim-{tag.lower()}",
            "masked buyer email": "v***@example.com",
        },
    )


def _wait_until_completed(seller: SellerClient, stockout_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = seller.api.get(f"/stockouts/{stockout_id}", token=seller.token).json()
        if found["status"] == "COMPLETED":
            return
        time.sleep(0.2)
    raise AssertionError(f"stock-out {stockout_id} did not complete")


def _assert_nothing_of_the_victims(
    response: ApiResponse, tenants: Tenants, sent: frozenset[str] = frozenset()
) -> None:
    """No marker of the victim's in the answer, but those the request itself sent."""
    assert response.status < 500, response.body[:300]
    text = response.body.decode("utf-8", "replace")
    leaked = [
        name for name, marker in tenants.markers.items() if marker in text and name not in sent
    ]
    assert not leaked, (leaked, text[:500])


def test_the_route_table_covers_every_route_of_the_template() -> None:
    template = {route.route_key: route for route in SamTemplate.load().routes}

    assert set(ROUTES) == set(template), "add the route to ROUTES, with how to call it"
    for key, route in template.items():
        assert route.requires_auth, key
        assert route.authorization_scopes == (ROUTES[key].scope,), key


def test_the_markers_are_in_the_victims_own_answers(tenants: Tenants) -> None:
    """Else their absence from the intruder's answers would prove nothing."""
    victim = tenants.victim
    answers = {
        path: victim.api.get(path, token=victim.token).body.decode()
        for path in (
            f"/orders/{tenants.order_id}",
            f"/orders/{tenants.order_id}/cancellations",
            "/products",
            "/orders",
        )
    }

    markers = tenants.markers
    for name in ("product id", "sku id", "product name", "masked buyer email"):
        assert markers[name] in answers[f"/orders/{tenants.order_id}"], name
    assert markers["product id"] in answers["/products"]
    assert markers["product name"] in answers[f"/orders/{tenants.order_id}/cancellations"]
    assert tenants.order_id in answers["/orders"]


@pytest.mark.parametrize("route_key", list(ROUTES))
def test_another_seller_gets_404_or_a_fresh_result_of_its_own_on_every_route(
    tenants: Tenants, route_key: str
) -> None:
    route = ROUTES[route_key]
    before = tenants.victims_state()
    reasons = tenants.victim.api.get("/cancel-reasons", token=tenants.victim.token)
    token = (
        tenants.intruder.admin_token if route.scope == "orders.admin" else tenants.intruder.token
    )

    response = route.call(tenants, tenants.intruder, token)

    # A stock-out request names the SKU, which its answer repeats.
    sent = frozenset({"sku id"}) if route.body is _stockout else frozenset()
    _assert_nothing_of_the_victims(response, tenants, sent)
    if route_key == "PUT /orders/{order_id}":
        # The same order id in the intruder's own account: a new order of its own.
        assert response.status in (200, 201), response.body[:300]
        assert response.json()["order_id"] == tenants.put_order_id
        assert response.json()["lines"][0]["product_id"] == "P-MUG"
    elif route_key == "GET /orders":
        assert response.status == 200
        assert all(o["lines"][0]["product_id"] == "P-MUG" for o in response.json()["orders"])
    elif route_key == "GET /products":
        assert response.status == 200
        assert {p["product_id"] for p in response.json()["products"]} <= {"P-MUG"}
    elif route_key == "GET /cancel-reasons":
        assert (response.status, response.json()) == (200, reasons.json())
    elif route_key == "POST /stockouts/preview":
        assert response.status == 200, response.body[:300]
        assert response.json()["orders_matched"] == 0
    elif route_key == "POST /stockouts":
        # The victim's key, its body: no replay of the victim's stock-out.
        assert_problem(response, 409, "NOTHING_TO_CANCEL")
    elif "{stockout_id}" in route.path:
        assert_problem(response, 404, "STOCKOUT_NOT_FOUND")
    else:
        assert "{order_id}" in route.path
        assert_problem(response, 404, "ORDER_NOT_FOUND")
        assert "idempotent-replayed" not in response.headers
    assert tenants.victims_state() == before


def test_the_victims_idempotency_key_on_the_intruders_own_order_is_a_fresh_cancellation(
    tenants: Tenants,
) -> None:
    own_order = f"{tenants.order_id}-OWN"
    tenants.intruder.create_order(order_input(own_order, tenants.intruder.seller_id))
    before = tenants.victims_state()

    response = tenants.intruder.cancel(
        own_order, items_request(("L1", 1)), key=tenants.idempotency_key
    )

    assert response.status == 201, response.body[:300]
    assert "idempotent-replayed" not in response.headers
    _assert_nothing_of_the_victims(response, tenants)
    (victims,) = before[1]
    assert response.json()["cancellation_id"] != victims["cancellation_id"]
    assert response.json()["order_id"] == own_order
    assert tenants.victims_state() == before


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(seller_id: str, scopes: frozenset[str]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": f"user-{seller_id}",
        "seller_id": seller_id,
        "scope": " ".join(sorted(scopes)),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }


# Each bad token: how to make it for (the local stack, the seller, the route's scope), and
# the answer it must get.
BAD_TOKENS: dict[str, tuple[Callable[[LocalStack, str, str], str | None], int]] = {
    "no token": (lambda stack, seller, scope: None, 401),
    "not a JWT": (lambda stack, seller, scope: "not-a-token", 401),
    "expired": (
        lambda stack, seller, scope: stack.mint_token(
            seller,
            sorted(ALL_SCOPES),
            issued_at=datetime.now(UTC) - timedelta(days=2),
            lifetime=timedelta(hours=1),
        ),
        401,
    ),
    "signed with another key": (
        lambda stack, seller, scope: mint_local_token(
            seller, sorted(ALL_SCOPES), secret="not-the-stacks-secret"
        ),
        401,
    ),
    "another audience": (
        lambda stack, seller, scope: stack.mint_token(
            seller, sorted(ALL_SCOPES), extra_claims={"aud": "another-client"}
        ),
        401,
    ),
    "another issuer": (
        lambda stack, seller, scope: stack.mint_token(
            seller, sorted(ALL_SCOPES), extra_claims={"iss": "https://issuer.example.com"}
        ),
        401,
    ),
    "alg none": (lambda stack, seller, scope: _unsigned(_claims(seller, ALL_SCOPES)), 401),
    "no exp": (
        lambda stack, seller, scope: jwt.encode(
            {k: v for k, v in _claims(seller, ALL_SCOPES).items() if k != "exp"},
            stack.jwt_secret,
            algorithm="HS256",
        ),
        401,
    ),
    "no scope": (lambda stack, seller, scope: stack.mint_token(seller, []), 403),
    "every scope but the route's": (
        lambda stack, seller, scope: stack.mint_token(seller, sorted(ALL_SCOPES - {scope})),
        403,
    ),
}


def test_the_claims_of_the_hand_made_bad_tokens_are_good_when_signed(
    local_stack: LocalStack, tenants: Tenants
) -> None:
    """``alg none`` and ``no exp`` are refused for that fault alone."""
    token = jwt.encode(
        _claims(tenants.victim.seller_id, ALL_SCOPES), local_stack.jwt_secret, algorithm="HS256"
    )

    response = tenants.victim.api.get(f"/orders/{tenants.order_id}", token=token)

    assert response.status == 200, response.body[:300]


@pytest.mark.parametrize("bad_token", list(BAD_TOKENS))
@pytest.mark.parametrize("route_key", list(ROUTES))
def test_every_route_refuses_every_kind_of_bad_token(
    local_stack: LocalStack, tenants: Tenants, route_key: str, bad_token: str
) -> None:
    route = ROUTES[route_key]
    make, status = BAD_TOKENS[bad_token]
    token = make(local_stack, tenants.victim.seller_id, route.scope)
    before = tenants.victims_state()

    response = route.call(tenants, tenants.victim, token)

    assert_problem(response, status, "UNAUTHORIZED" if status == 401 else "FORBIDDEN")
    _assert_nothing_of_the_victims(response, tenants)
    assert tenants.victims_state() == before
