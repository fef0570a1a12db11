"""An in-memory OrderRepository with the same conditional-write semantics as DynamoDB's,
and an in-memory ProductCatalog."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from domain.cancellation import Cancellation
from domain.catalog import CatalogEntry, Product, ProductPage, sorted_skus
from domain.model import Order, OrderStatus
from domain.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    OrderAlreadyStored,
    OrderPage,
    StorageUnavailable,
    VersionConflict,
)


class FakeRepository:
    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], Order] = {}
        self.fingerprints: dict[tuple[str, str], str] = {}
        self.cancellation_log: dict[tuple[str, str], list[Cancellation]] = {}
        self.keys: dict[tuple[str, str], IdempotencyRecord] = {}
        # Runs just before a conditional write, to simulate a concurrent writer.
        self.before_write: Callable[[], None] | None = None
        self.writes = 0

    def get(self, seller_id: str, order_id: str) -> Order | None:
        return self.orders.get((seller_id, order_id))

    def get_for_submit(
        self, seller_id: str, order_id: str, idempotency_key: str, now: datetime
    ) -> tuple[Order | None, IdempotencyRecord | None]:
        record = self.keys.get((seller_id, idempotency_key))
        if record is not None and record.expires_at <= now:
            record = None
        return self.get(seller_id, order_id), record

    def _check_version(self, before: Order) -> None:
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            hook()
        current = self.orders[(before.seller_id, before.order_id)]
        if current.version != before.version:
            raise VersionConflict(before.order_id)

    def save_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        idempotency: IdempotencyRecord,
        now: datetime,
    ) -> None:
        self._check_version(before)
        existing = self.keys.get((idempotency.seller_id, idempotency.key))
        if existing is not None and existing.expires_at > now:
            raise IdempotencyKeyTaken(existing)
        self.writes += 1
        self.orders[(after.seller_id, after.order_id)] = after
        self.cancellation_log.setdefault((after.seller_id, after.order_id), []).append(cancellation)
        self.keys[(idempotency.seller_id, idempotency.key)] = idempotency

    def save_order_change(self, before: Order, after: Order) -> None:
        self._check_version(before)
        self.writes += 1
        self.orders[(after.seller_id, after.order_id)] = after

    def add(self, order: Order, fingerprint: str) -> None:
        key = (order.seller_id, order.order_id)
        if key in self.orders:
            raise OrderAlreadyStored(self.orders[key], self.fingerprints[key])
        self.orders[key] = order
        self.fingerprints[key] = fingerprint

    def cancellations(self, seller_id: str, order_id: str) -> Sequence[Cancellation]:
        return list(self.cancellation_log.get((seller_id, order_id), []))

    def list_orders(
        self,
        seller_id: str,
        status: OrderStatus,
        product_ids: Sequence[str],
        page_size: int,
        after_position: str | None,
    ) -> OrderPage:
        def position(order: Order) -> str:
            return f"{order.created_at.isoformat()}#{order.order_id}"

        matching = sorted(
            (
                o
                for (s, _), o in self.orders.items()
                if s == seller_id
                and o.status is status
                and (not product_ids or o.product_ids & set(product_ids))
                and (after_position is None or position(o) < after_position)
            ),
            key=position,
            reverse=True,
        )
        page = tuple(matching[:page_size])
        more = len(matching) > page_size
        return OrderPage(page, position(page[-1]) if more else None)


class FakeCatalog:
    """An in-memory ProductCatalog: the newest entry names a product, older ones only add
    SKUs it did not know."""

    def __init__(self) -> None:
        self.products: dict[tuple[str, str], tuple[Product, datetime]] = {}
        self.fail_next_record = False

    def record(self, seller_id: str, entries: Sequence[CatalogEntry]) -> None:
        if self.fail_next_record:
            self.fail_next_record = False
            raise StorageUnavailable("catalogue write lost")
        for entry in entries:
            key = (seller_id, entry.product.product_id)
            known = self.products.get(key)
            if known is None:
                self.products[key] = (entry.product, entry.seen_at)
                continue
            product, seen_at = known
            skus = {sku.sku_id: sku for sku in product.skus}
            if entry.seen_at >= seen_at:
                skus |= {sku.sku_id: sku for sku in entry.product.skus}
                self.products[key] = (
                    replace(entry.product, skus=tuple(skus.values())),
                    entry.seen_at,
                )
            else:
                for sku in entry.product.skus:
                    skus.setdefault(sku.sku_id, sku)
                self.products[key] = (replace(product, skus=tuple(skus.values())), seen_at)

    def list_products(
        self, seller_id: str, page_size: int, after_position: str | None
    ) -> ProductPage:
        def position(product: Product) -> str:
            name, product_id = product.sort_key
            return f"{name}#{product_id}"

        matching = sorted(
            (
                replace(product, skus=sorted_skus(product.skus))
                for (s, _), (product, _) in self.products.items()
                if s == seller_id and (after_position is None or position(product) > after_position)
            ),
            key=lambda product: product.sort_key,
        )
        page = tuple(matching[:page_size])
        more = len(matching) > page_size
        return ProductPage(page, position(page[-1]) if more else None)
