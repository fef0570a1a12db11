"""What the service layer needs from storage, as a protocol the DynamoDB adapter implements.

Tests pass an in-memory implementation; production passes the DynamoDB repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.cancellation import Cancellation
from domain.catalog import CatalogEntry, ProductPage
from domain.model import Order, OrderStatus


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A remembered submit: the request's fingerprint and the cancellation it created."""

    seller_id: str
    key: str
    fingerprint: str
    cancellation: Cancellation
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[Order, ...]
    # Sort position of the last order returned, when more may follow.
    next_position: str | None


class VersionConflict(Exception):
    """The order changed between the read and the conditional write."""


class IdempotencyKeyTaken(Exception):
    """Another submit with the same key was stored first."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


class OrderAlreadyStored(Exception):
    def __init__(self, existing: Order, fingerprint: str) -> None:
        super().__init__(existing.order_id)
        self.existing = existing
        self.fingerprint = fingerprint


class StorageUnavailable(Exception):
    """Storage is throttling, timing out or failing; nothing was written by this call."""


class OrderRepository(Protocol):
    def get(self, seller_id: str, order_id: str) -> Order | None: ...

    def get_for_submit(
        self, seller_id: str, order_id: str, idempotency_key: str, now: datetime
    ) -> tuple[Order | None, IdempotencyRecord | None]:
        """The order and any unexpired record of the key, in one read."""
        ...

    def save_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        idempotency: IdempotencyRecord,
        now: datetime,
    ) -> None:
        """Store all three atomically, only if the order is still at ``before.version``.

        Raises ``VersionConflict`` or ``IdempotencyKeyTaken``.
        """
        ...

    def save_order_change(self, before: Order, after: Order) -> None:
        """Store ``after`` only if the order is still at ``before.version``."""
        ...

    def add(self, order: Order, fingerprint: str) -> None:
        """Store a new order; ``OrderAlreadyStored`` when the id is taken."""
        ...

    def cancellations(self, seller_id: str, order_id: str) -> Sequence[Cancellation]:
        """The order's cancellations, oldest first."""
        ...

    def list_orders(
        self,
        seller_id: str,
        status: OrderStatus,
        product_ids: Sequence[str],
        page_size: int,
        after_position: str | None,
    ) -> OrderPage:
        """Orders newest first; with product ids, those having a line of any of them."""
        ...


class ProductCatalog(Protocol):
    def record(self, seller_id: str, entries: Sequence[CatalogEntry]) -> None:
        """Learn what an order says about its products; an entry older than what is
        known adds its unknown SKUs but renames nothing."""
        ...

    def list_products(
        self, seller_id: str, page_size: int, after_position: str | None
    ) -> ProductPage:
        """The seller's products by name, then id."""
        ...
