"""Demo data for the local runtime: three sellers' To Ship tabs, loaded through the API.

Orders go in through ``PUT /orders/{order_id}`` (and ship through the ship route) like
the order system would send them, so the demo data obeys every rule the API enforces.
"""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


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


def demo_orders(now: datetime | None = None) -> Iterator[DemoOrder]:
    """A fixed set of orders (the same every time), with times relative to ``now``."""
    now = now or datetime.now(UTC)
    rng = random.Random(20261126)  # noqa: S311 - demo data, not security
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
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback http URL, checked above
        status: int = response.status
        return status


def load(base_url: str, admin_token_for: Callable[[str], str]) -> int:
    """PUT every demo order (and ship some packages); returns how many orders there are.

    Loading twice is harmless: an identical order answers 200 and is left as it is.
    """
    tokens: dict[str, str] = {}
    count = 0
    for order in demo_orders():
        token = tokens.setdefault(order.seller_id, admin_token_for(order.seller_id))
        order_id = order.body["order_id"]
        status = _request("PUT", f"{base_url}/orders/{order_id}", token, order.body)
        if status == 201:
            for package_id in order.ship:
                _request("POST", f"{base_url}/orders/{order_id}/packages/{package_id}/ship", token)
        count += 1
    return count
