"""Demo data for the local runtime: three sellers' To Ship tabs, loaded through the API.

Orders go in through ``PUT /orders/{order_id}`` (and ship through the ship route) like
the order system would send them, so the demo data obeys every rule the API enforces.

The oldest five of seller-acme's orders belong to the sample events in ``events/``, one
order per event that changes one, so that each event works on a fresh stack in any
order (``SAMPLE_ORDERS``):

| order     | event                                        | what the seed leaves there |
|-----------|----------------------------------------------|----------------------------|
| ACME-1032 | report_package_status.json (PK1 in transit)  | two packages to ship       |
| ACME-1033 | ship_package.json (PK1)                      | two packages to ship       |
| ACME-1034 | preview_cancellation.json                    | 3 blue mugs                |
| ACME-1035 | create_cancellation.json (If-Match "1")      | 4 blue mugs                |
| ACME-1036 | notify_stream_batch.json,                    | 2 blue mugs cancelled, the |
|           | publish_stream_batch.json, get_order.json,   | buyer email not yet sent,  |
|           | list_cancellations.json                      | the event not published    |

``put_order.json`` ingests ACME-1037, which the seed does not create.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from local_runtime.stack import LocalStack

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    skus: tuple[tuple[str, str], ...]
    price: Decimal


@dataclass(frozen=True)
class DemoSeller:
    seller_id: str
    currency: str
    decimals: int
    tax_rate: Decimal
    shipping_fees: tuple[Decimal, ...]
    products: tuple[Product, ...]
    order_count: int
    locale: str


SELLERS = (
    DemoSeller(
        seller_id="seller-acme",
        currency="USD",
        decimals=2,
        tax_rate=Decimal("0.0825"),
        shipping_fees=(Decimal("0.00"), Decimal("4.99"), Decimal("5.99")),
        locale="en-US",
        order_count=36,
        products=(
            Product(
                "P-MUG",
                "Stoneware Mug",
                (("MUG-BLU", "Blue"), ("MUG-SND", "Sand")),
                Decimal("14.00"),
            ),
            Product(
                "P-TOWEL",
                "Linen Tea Towel",
                (("TWL-OAT", "Oatmeal"), ("TWL-SGE", "Sage")),
                Decimal("9.50"),
            ),
            Product(
                "P-KETTLE", "Gooseneck Kettle", (("KTL-BLK", "Matte Black"),), Decimal("64.90")
            ),
            Product("P-GRINDER", "Hand Coffee Grinder", (("GRD-STL", "Steel"),), Decimal("39.00")),
            Product(
                "P-BEANS",
                "Single Origin Beans 250 g",
                (("BNS-ETH", "Ethiopia"), ("BNS-COL", "Colombia")),
                Decimal("12.75"),
            ),
            Product("P-FILTER", "Paper Filters x100", (("FLT-02", "Size 02"),), Decimal("5.20")),
        ),
    ),
    DemoSeller(
        seller_id="seller-bolt",
        currency="EUR",
        decimals=2,
        tax_rate=Decimal("0.19"),
        shipping_fees=(Decimal("3.90"), Decimal("0.00")),
        locale="de-DE",
        order_count=14,
        products=(
            Product(
                "P-LAMP",
                "Clamp Desk Lamp",
                (("LMP-WHT", "White"), ("LMP-GRN", "Green")),
                Decimal("49.00"),
            ),
            Product("P-CABLE", "Braided USB-C Cable 2 m", (("CBL-2M", "2 m"),), Decimal("11.99")),
            Product("P-HUB", "7-port USB Hub", (("HUB-7", "Aluminium"),), Decimal("34.50")),
        ),
    ),
    DemoSeller(
        seller_id="seller-kumo",
        currency="JPY",
        decimals=0,
        tax_rate=Decimal("0.10"),
        shipping_fees=(Decimal("0"), Decimal("550")),
        locale="ja-JP",
        order_count=12,
        products=(
            Product(
                "P-TENUGUI",
                "Cotton Tenugui",
                (("TNG-WAV", "Waves"), ("TNG-CRN", "Cranes")),
                Decimal("1320"),
            ),
            Product(
                "P-CHOPSTICKS", "Lacquered Chopsticks", (("CHP-RED", "Vermilion"),), Decimal("2480")
            ),
            Product("P-TEA", "Hojicha 100 g", (("TEA-100", "100 g"),), Decimal("980")),
        ),
    ),
)

BUYERS = (
    ("Ana Ruiz", "ana.ruiz@example.com"),
    ("Ben Okafor", "ben.okafor@example.com"),
    ("Chloé Martin", "chloe.martin@example.com"),
    ("Dmitri Volkov", "dmitri@example.net"),
    ("Emi Tanaka", "emi.tanaka@example.jp"),
    ("Farah Haddad", "farah.h@example.org"),
    ("Gus Lindqvist", "gus@example.se"),
    ("Hana Novak", "hana.novak@example.cz"),
)


@dataclass(frozen=True)
class DemoOrder:
    seller_id: str
    body: dict[str, Any]
    # Packages the demo ships after ingesting, to show split orders.
    ship: tuple[str, ...]


def _money(amount: Decimal, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    return str(amount.quantize(quantum, rounding=ROUND_HALF_UP))


ACME = SELLERS[0]


def _sample_line(
    line_id: str,
    product_id: str,
    sku_id: str,
    quantity: int,
    *,
    package_id: str = "PK1",
    seller_discount_percent: int = 0,
    platform_discount_percent: int = 0,
) -> dict[str, Any]:
    """A line of a seller-acme order, priced from its catalogue like the generated ones."""
    product = next(p for p in ACME.products if p.product_id == product_id)
    sku_name = dict(product.skus)[sku_id]
    subtotal = product.price * quantity
    seller_discount = subtotal * seller_discount_percent / 100
    platform_discount = subtotal * platform_discount_percent / 100
    return {
        "line_id": line_id,
        "product_id": product.product_id,
        "sku_id": sku_id,
        "product_name": product.name,
        "sku_name": sku_name,
        "quantity": quantity,
        "unit_price": _money(product.price, ACME.decimals),
        "seller_discount": _money(seller_discount, ACME.decimals),
        "platform_discount": _money(platform_discount, ACME.decimals),
        "tax": _money(
            (subtotal - seller_discount - platform_discount) * ACME.tax_rate, ACME.decimals
        ),
        "package_id": package_id,
    }


def _awaiting(*package_ids: str) -> list[dict[str, str]]:
    return [{"package_id": p, "status": "AWAITING_SHIPMENT"} for p in package_ids]


# The sample events' own orders, in place of what the generator would make of them: their
# shipping fee, packages and lines (the buyer and the time are the generator's).
SAMPLE_ORDERS: dict[str, dict[str, Any]] = {
    # events/report_package_status.json: the order system reports PK1 in transit, so the
    # order is Partially shipping while PK2 waits.
    "ACME-1032": {
        "shipping_fee": "3.99",
        "packages": _awaiting("PK1", "PK2"),
        "lines": [
            _sample_line("L1", "P-TOWEL", "TWL-OAT", 2),
            _sample_line("L2", "P-BEANS", "BNS-ETH", 1, package_id="PK2"),
        ],
    },
    # events/ship_package.json arranges shipment of PK1; PK2 stays to ship.
    "ACME-1033": {
        "shipping_fee": "4.99",
        "packages": _awaiting("PK1", "PK2"),
        "lines": [
            _sample_line("L1", "P-KETTLE", "KTL-BLK", 1),
            _sample_line("L2", "P-FILTER", "FLT-02", 2, package_id="PK2"),
        ],
    },
    # events/preview_cancellation.json: what cancelling 2 of the 3 blue mugs refunds.
    "ACME-1034": {
        "shipping_fee": "0.00",
        "packages": _awaiting("PK1"),
        "lines": [
            _sample_line("L1", "P-MUG", "MUG-BLU", 3, seller_discount_percent=10),
            _sample_line("L2", "P-TOWEL", "TWL-OAT", 2, platform_discount_percent=5),
        ],
    },
    # events/create_cancellation.json cancels 2 of the 4 blue mugs, at version 1.
    "ACME-1035": {
        "shipping_fee": "5.99",
        "packages": _awaiting("PK1"),
        "lines": [
            _sample_line("L1", "P-MUG", "MUG-BLU", 4, seller_discount_percent=10),
            _sample_line("L2", "P-BEANS", "BNS-ETH", 1),
        ],
    },
    # Both blue mugs are cancelled by the seed (SAMPLE_CANCELLATION); the grinder ships.
    "ACME-1036": {
        "shipping_fee": "0.00",
        "packages": _awaiting("PK1"),
        "lines": [
            _sample_line("L1", "P-MUG", "MUG-BLU", 2, seller_discount_percent=10),
            _sample_line("L2", "P-GRINDER", "GRD-STL", 1),
        ],
    },
}


@dataclass(frozen=True)
class SampleCancellation:
    """A cancellation the seed makes through the domain services, with a known id."""

    seller_id: str
    order_id: str
    cancellation_id: str
    request: dict[str, Any]
    idempotency_key: str
    created_by: str


# events/notify_stream_batch.json is the stream record of its INSERT.
SAMPLE_CANCELLATION = SampleCancellation(
    seller_id=ACME.seller_id,
    order_id="ACME-1036",
    cancellation_id="6f1c9a52-2a7e-4c43-9d2b-0f3a8d1e7b41",
    request={
        "reason": "OUT_OF_STOCK",
        "scope": "ITEMS",
        "items": [{"line_id": "L1", "quantity": 2}],
        "note": "Blue mugs sold out",
    },
    idempotency_key="demo-ACME-1036-blue-mugs",
    created_by="maria.lopez",
)


def demo_orders(now: datetime | None = None) -> Iterator[DemoOrder]:
    """A fixed set of orders (the same every time), with times relative to ``now``."""
    now = now or datetime.now(UTC)
    rng = random.Random(20261126)  # noqa: S311 - demo data, not security  # nosec B311
    for seller in SELLERS:
        prefix = seller.seller_id.removeprefix("seller-").upper()
        for number in range(1, seller.order_count + 1):
            order_id = f"{prefix}-{1000 + number}"
            created_at = now - timedelta(
                hours=number * 5 + rng.randint(0, 4), minutes=rng.randint(0, 59)
            )
            split = number % 4 == 0
            package_ids = ["PK1", "PK2"] if split else ["PK1"]
            packages = [{"package_id": p, "status": "AWAITING_SHIPMENT"} for p in package_ids]
            # A few orders have already moved on entirely, so other tabs are not empty.
            if number % 9 == 0:
                packages = [{"package_id": p, "status": "IN_TRANSIT"} for p in package_ids]
            if number % 11 == 0:
                packages = [{"package_id": p, "status": "DELIVERED"} for p in package_ids]
            chosen = rng.sample(seller.products, k=min(len(seller.products), rng.randint(1, 3)))
            lines = []
            for index, product in enumerate(chosen, start=1):
                sku_id, sku_name = rng.choice(product.skus)
                quantity = rng.choice((1, 1, 2, 3, 4, 6))
                subtotal = product.price * quantity
                seller_discount = subtotal * Decimal(rng.choice((0, 0, 5, 10, 15))) / 100
                platform_discount = subtotal * Decimal(rng.choice((0, 0, 0, 3, 5))) / 100
                taxable = subtotal - seller_discount - platform_discount
                lines.append(
                    {
                        "line_id": f"L{index}",
                        "product_id": product.product_id,
                        "sku_id": sku_id,
                        "product_name": product.name,
                        "sku_name": sku_name,
                        "quantity": quantity,
                        "unit_price": _money(product.price, seller.decimals),
                        "seller_discount": _money(seller_discount, seller.decimals),
                        "platform_discount": _money(platform_discount, seller.decimals),
                        "tax": _money(taxable * seller.tax_rate, seller.decimals),
                        "package_id": package_ids[(index - 1) % len(package_ids)],
                    }
                )
            if split and len(lines) == 1:
                lines[0]["package_id"] = "PK1"
                packages = packages[:1]
            name, email = BUYERS[(number + len(seller.seller_id)) % len(BUYERS)]
            body = {
                "order_id": order_id,
                "seller_id": seller.seller_id,
                "currency": seller.currency,
                "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "buyer": {"name": name, "email": email, "locale": seller.locale},
                "shipping_fee": _money(rng.choice(seller.shipping_fees), seller.decimals),
                "packages": packages,
                "lines": lines,
            }
            # In split orders still awaiting shipment, one package was already handed over.
            ship = (
                ("PK2",)
                if len(packages) == 2 and packages[1]["status"] == "AWAITING_SHIPMENT"
                else ()
            )
            sample = SAMPLE_ORDERS.get(order_id) if seller is ACME else None
            if sample is not None:
                body |= sample
                ship = ()
            yield DemoOrder(seller.seller_id, body, ship)


def _request(method: str, url: str, token: str, body: Any | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(f"demo data only goes to the local runtime, not {url}")
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL, checked above
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback http URL, checked above  # nosec B310
        status: int = response.status
        return status


def load(base_url: str, admin_token_for: Callable[[str], str]) -> int:
    """PUT every demo order (and ship some packages), then make ``SAMPLE_CANCELLATION``;
    returns how many orders there are.

    Loading twice is harmless: an identical order answers 200 and is left as it is.
    """
    tokens: dict[str, str] = {}
    created: set[str] = set()
    count = 0
    for order in demo_orders():
        token = tokens.setdefault(order.seller_id, admin_token_for(order.seller_id))
        order_id = order.body["order_id"]
        status = _request("PUT", f"{base_url}/orders/{order_id}", token, order.body)
        if status == 201:
            created.add(order_id)
            for package_id in order.ship:
                _request("POST", f"{base_url}/orders/{order_id}/packages/{package_id}/ship", token)
        count += 1
    if SAMPLE_CANCELLATION.order_id in created:
        create_sample_cancellation(SAMPLE_CANCELLATION)
    return count


def create_sample_cancellation(sample: SampleCancellation) -> None:
    """Cancel as the cancel function does, through the domain services, but with a known
    cancellation id, and unseen by the stream's consumers: its buyer email stays pending
    until ``events/notify_stream_batch.json`` delivers the record (or the reconciler
    resends it, once it is PendingNotificationMinutes old), and its event unpublished
    until ``events/publish_stream_batch.json`` does.

    Runs in the local stack's process, with the cancel function's layers and settings.
    """
    stack = LocalStack.running()
    if stack is None:
        raise RuntimeError("the sample cancellation is made inside a running local stack")
    cancel = stack.template.function("CancelFunction")
    for layer in cancel.layer_dirs:
        if str(layer) not in sys.path:
            sys.path.append(str(layer))
    from adapters.dynamodb_repository import DynamoDBOrderRepository  # noqa: PLC0415 (the layer)
    from adapters.http_api import fingerprint  # noqa: PLC0415
    from adapters.schemas import CancellationRequestIn  # noqa: PLC0415
    from adapters.settings import CancelSettings  # noqa: PLC0415
    from domain import services  # noqa: PLC0415

    settings = CancelSettings.from_environment(cancel.environment)
    request = CancellationRequestIn.model_validate(sample.request)
    repository = DynamoDBOrderRepository(stack.client("dynamodb"), settings.table_name)
    ttl = settings.idempotency_ttl
    with _unseen_by_stream_consumer():
        result = services.submit_cancellation(
            repository,
            seller_id=sample.seller_id,
            order_id=sample.order_id,
            request=request.to_domain(),
            idempotency_key=sample.idempotency_key,
            # As the cancel function computes it: the same request over HTTP is a replay.
            fingerprint=fingerprint(sample.order_id, request.model_dump(mode="json")),
            expected_version=1,
            actor=sample.created_by,
            clock=lambda: datetime.now(UTC),
            new_id=lambda: sample.cancellation_id,
            idempotency_ttl=ttl,
        )
    logger.info(
        "%s: cancellation %s, its buyer email not sent nor its event published yet "
        "(make invoke FN=notify EVENT=events/notify_stream_batch.json sends it; "
        "FN=publish EVENT=events/publish_stream_batch.json publishes it)",
        sample.order_id,
        result.cancellation.cancellation_id,
    )


@contextlib.contextmanager
def _unseen_by_stream_consumer() -> Iterator[None]:
    """What is written inside never reaches the stream's consumers, as when a consumer is
    down for longer than the stream keeps records (24 hours in AWS)."""
    stack = LocalStack.running()
    poller = stack.stream_poller if stack is not None else None
    if poller is None:
        yield
        return
    # Deliver everything before, so that only what is written inside is dropped.
    poller.drain()
    poller.pause()
    try:
        yield
    finally:
        poller.discard_pending()
        poller.resume()
