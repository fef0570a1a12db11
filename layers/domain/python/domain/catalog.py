"""The seller's catalogue as its orders name it: products and their SKUs, for the product
filter and the stock-out picker. It is learnt from ingested orders; the newest order that
names a product decides its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model import Order


@dataclass(frozen=True, slots=True)
class Sku:
    sku_id: str
    sku_name: str


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    product_name: str
    skus: tuple[Sku, ...]

    @property
    def sort_key(self) -> tuple[str, str]:
        """How a seller reads the list: by name, whatever its case, then by id."""
        return (self.product_name.casefold(), self.product_id)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What one order says about one product, as of the order's creation."""

    product: Product
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ProductPage:
    products: tuple[Product, ...]
    # Sort position of the last product returned, when more may follow.
    next_position: str | None


def products_of(order: Order) -> tuple[CatalogEntry, ...]:
    """The products an order names, each with the SKUs it names, sorted by product id."""
    names: dict[str, str] = {}
    skus: dict[str, dict[str, str]] = {}
    for line in order.lines:
        names[line.product_id] = line.product_name
        skus.setdefault(line.product_id, {})[line.sku_id] = line.sku_name
    return tuple(
        CatalogEntry(
            Product(
                product_id,
                names[product_id],
                tuple(Sku(sku_id, name) for sku_id, name in sorted(skus[product_id].items())),
            ),
            order.created_at,
        )
        for product_id in sorted(names)
    )


def sorted_skus(skus: tuple[Sku, ...] | list[Sku]) -> tuple[Sku, ...]:
    return tuple(sorted(skus, key=lambda sku: (sku.sku_name.casefold(), sku.sku_id)))
