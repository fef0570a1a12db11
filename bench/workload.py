"""The bench's orders and requests: the template's routes and authorizer (the local gateway)
in front of the local runtime's function instances, processes of their own."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local_runtime.functions.runtime import FunctionRuntime
from local_runtime.gateway.auth import TokenVerifier
from local_runtime.gateway.http_api import HttpRequest
from local_runtime.gateway.server import Gateway
from local_runtime.stack import LocalStack

ADMIN_SCOPES = ("orders.read", "orders.write", "orders.admin")
PRODUCTS = 37
RARE_PRODUCT = "P-RARE"
RARE_EVERY = 100  # one order in a hundred has the rare product
# Every order has one unit of it too: the SKU the stock-out step sells out.
STOCKOUT_PRODUCT = "P-STOCK"
STOCKOUT_SKU = f"{STOCKOUT_PRODUCT}-S"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class Api:
    """Requests through the template's routes and authorizer to the runtime's instances."""

    def __init__(self, stack: LocalStack, functions: FunctionRuntime, seller_id: str) -> None:
        self._routes = stack.template.routes
        self._verifier = TokenVerifier(stack.jwt_secret)
        self._gateway = Gateway(self._routes, functions.invoke, self._verifier, port=0)
        self.seller_id = seller_id
        self._token = stack.mint_token(seller_id, ADMIN_SCOPES)

    def event(
        self, method: str, target: str, body: Any = None, headers: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """The payload-2.0 event the gateway hands the function for this request."""
        captured: dict[str, Any] = {}

        def capture(_function_id: str, event: dict[str, Any]) -> dict[str, Any]:
            captured.update(event)
            return {"statusCode": 204, "headers": {}, "body": ""}

        Gateway(self._routes, capture, self._verifier, port=0).handle(
            self._request(method, target, body, headers)
        )
        return captured

    def request(
        self,
        method: str,
        target: str,
        body: Any = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Answer:
        response = self._gateway.handle(self._request(method, target, body, headers))
        document = json.loads(response.body) if response.body else None
        return Answer(response.status, document, {k.lower(): v for k, v in response.headers})

    def _request(
        self, method: str, target: str, body: Any, headers: Sequence[tuple[str, str]]
    ) -> HttpRequest:
        return HttpRequest(
            method,
            target,
            [
                ("host", "127.0.0.1:3000"),
                ("authorization", f"Bearer {self._token}"),
                ("content-type", "application/json"),
                *headers,
            ],
            json.dumps(body).encode() if body is not None else b"",
        )


def order_id(number: int) -> str:
    return f"B-{number:06d}"


def product_of(number: int) -> str:
    return f"P-{number % PRODUCTS:02d}"


def order_body(
    seller_id: str, number: int, quantity: int = 3, buyer_email: str = "bench@example.com"
) -> dict[str, Any]:
    """Orders a minute apart; each has one of 37 products, one in a hundred the rare one
    too, and the stock-out's product last, one unit of it."""
    products = [product_of(number)]
    if number % RARE_EVERY == 0:
        products.append(RARE_PRODUCT)
    products.append(STOCKOUT_PRODUCT)
    minutes = number
    return {
        "order_id": order_id(number),
        "seller_id": seller_id,
        "currency": "USD",
        "created_at": (
            f"2026-{1 + minutes // 43200 % 12:02d}-{1 + minutes // 1440 % 28:02d}"
            f"T{minutes // 60 % 24:02d}:{minutes % 60:02d}:00Z"
        ),
        "buyer": {"name": "Bench Buyer", "email": buyer_email, "locale": "en-US"},
        "shipping_fee": "4.99",
        "packages": [{"package_id": "PK1", "status": "AWAITING_SHIPMENT"}],
        "lines": [
            {
                "line_id": f"L{index}",
                "product_id": product,
                "sku_id": f"{product}-S",
                "product_name": f"Product {product}",
                "sku_name": "Default",
                "quantity": 1 if product == STOCKOUT_PRODUCT else quantity,
                "unit_price": "12.50",
                "seller_discount": "1.00",
                "platform_discount": "0.50",
                "tax": "2.97",
                "package_id": "PK1",
            }
            for index, product in enumerate(products, start=1)
        ],
    }


def one_unit(line_id: str = "L1") -> dict[str, Any]:
    return {
        "reason": "OUT_OF_STOCK",
        "scope": "ITEMS",
        "items": [{"line_id": line_id, "quantity": 1}],
    }
