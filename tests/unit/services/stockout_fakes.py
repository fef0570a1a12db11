"""In-memory stand-ins for the stock-out's store, queue and repository, with the same
promises as the DynamoDB ones: conditional segment commits, outcomes recorded once, and
counters that add up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from domain.cancellation import Cancellation
from domain.model import Order, OrderStatus, Refund
from domain.ports import VersionConflict
from domain.stockout import OrderOutcome, StockoutStatus, lines_of_sku
from domain.stockouts import (
    EntryDecided,
    PlanCursor,
    SkuOrders,
    StartRefused,
    Stockout,
    StockoutKey,
    StockoutOrder,
    StockoutOutcome,
)
from tests.unit.services.fakes import FakeRepository


def _add(refunds: Iterable[Refund], more: Iterable[Refund]) -> tuple[Refund, ...]:
    total: dict[str, Refund] = {r.currency: r for r in refunds}
    for refund in more:
        total[refund.currency] = (
            total[refund.currency] + refund if refund.currency in total else refund
        )
    return tuple(total[c] for c in sorted(total))


class FakeStockoutStore:
    def __init__(self, orders: FakeRepository, page_size: int = 3) -> None:
        self.orders = orders
        self.page_size = page_size
        self.stockouts: dict[tuple[str, str], Stockout] = {}
        self.entries: dict[tuple[str, str], dict[int, StockoutOrder]] = {}
        self.keys: dict[tuple[str, str], StockoutKey] = {}
        self.locks: dict[tuple[str, str], str] = {}
        self.pending: dict[tuple[str, str], int] = {}
        self.completions = 0
        # A concurrent start committed between this one's reads and its write: the reads
        # miss it, the write is refused.
        self.keys_hidden = False
        self.locks_hidden = False

    # -- reads through "the index" --
    def sku_orders(self, seller_id: str, sku_id: str, after: str | None) -> SkuOrders:
        def position(order: Order) -> str:
            return f"{order.created_at.isoformat()}#{order.order_id}"

        matching = sorted(
            (
                o
                for (s, _), o in self.orders.orders.items()
                if s == seller_id
                and o.status is OrderStatus.AWAITING_SHIPMENT
                and any(line.sku_id == sku_id for line in o.lines)
                and (after is None or position(o) > after)
            ),
            key=position,
        )
        page = matching[: self.page_size]
        more = len(matching) > self.page_size
        return SkuOrders(page, [position(o) for o in page], position(page[-1]) if more else None)

    def running(self, seller_id: str, sku_id: str) -> str | None:
        return None if self.locks_hidden else self.locks.get((seller_id, sku_id))

    def key(self, seller_id: str, key: str, now: datetime) -> StockoutKey | None:
        return None if self.keys_hidden else self.keys.get((seller_id, key))

    def create(self, stockout: Stockout, key: str, fingerprint: str, expires_at: datetime) -> None:
        seller = stockout.seller_id
        if (seller, key) in self.keys:
            raise StartRefused(key=self.keys[(seller, key)])
        if (seller, stockout.request.sku_id) in self.locks:
            raise StartRefused(running=self.locks[(seller, stockout.request.sku_id)])
        self.keys[(seller, key)] = StockoutKey(stockout.stockout_id, fingerprint)
        self.locks[(seller, stockout.request.sku_id)] = stockout.stockout_id
        self.stockouts[(seller, stockout.stockout_id)] = stockout
        self.entries[(seller, stockout.stockout_id)] = {}
        self.pending[(seller, stockout.stockout_id)] = 0

    def stockout(self, seller_id: str, stockout_id: str) -> Stockout | None:
        return self.stockouts.get((seller_id, stockout_id))

    def save_segment(
        self,
        stockout: Stockout,
        cursor: PlanCursor,
        entries: Sequence[StockoutOrder],
        refunds: Sequence[Refund],
    ) -> None:
        key = (stockout.seller_id, stockout.stockout_id)
        stored = self.stockouts[key]
        if stored.cursor != stockout.cursor:
            raise VersionConflict(stockout.stockout_id)
        for entry in entries:
            self.entries[key][entry.position] = entry
        self.pending[key] += len(entries)
        status = StockoutStatus.RUNNING if entries or cursor.done else stored.status
        self.stockouts[key] = replace(
            stored,
            cursor=cursor,
            orders_planned=stored.orders_planned + len(entries),
            status=status if stored.status is not StockoutStatus.COMPLETED else stored.status,
        )

    def segment(self, stockout: Stockout, segment: int) -> Sequence[StockoutOrder]:
        return [
            e
            for _, e in sorted(self.entries[(stockout.seller_id, stockout.stockout_id)].items())
            if e.segment == segment
        ]

    def _decide(self, stockout: Stockout, entry: StockoutOrder) -> tuple[str, str]:
        key = (stockout.seller_id, stockout.stockout_id)
        if self.entries[key][entry.position].outcome is not OrderOutcome.PENDING:
            raise EntryDecided(entry.order_id)
        return key

    def skip(self, stockout: Stockout, entry: StockoutOrder, detail: str) -> bool:
        try:
            key = self._decide(stockout, entry)
        except EntryDecided:
            return False
        self.entries[key][entry.position] = replace(
            entry, outcome=OrderOutcome.SKIPPED, detail=detail
        )
        self.pending[key] -= 1
        stored = self.stockouts[key]
        self.stockouts[key] = replace(stored, orders_skipped=stored.orders_skipped + 1)
        return True

    def record_cancellation(self, outcome: StockoutOutcome) -> None:
        key = self._decide(outcome.stockout, outcome.entry)
        self.entries[key][outcome.entry.position] = replace(
            outcome.entry,
            outcome=OrderOutcome.CANCELLED,
            cancellation_id=outcome.cancellation_id,
            cancelled_quantity=outcome.cancelled_quantity,
        )
        self.pending[key] -= 1
        stored = self.stockouts[key]
        self.stockouts[key] = replace(
            stored,
            orders_cancelled=stored.orders_cancelled + 1,
            units_cancelled=stored.units_cancelled + outcome.cancelled_quantity,
            refunded=_add(stored.refunded, [outcome.refund]),
        )

    def complete_if_done(self, stockout: Stockout, now: datetime) -> bool:
        key = (stockout.seller_id, stockout.stockout_id)
        stored = self.stockouts[key]
        if stored.status is StockoutStatus.COMPLETED or not stored.cursor.done:
            return False
        if self.pending[key]:
            return False
        self.stockouts[key] = replace(stored, status=StockoutStatus.COMPLETED, finished_at=now)
        del self.locks[(stockout.seller_id, stockout.request.sku_id)]
        self.completions += 1
        return True

    def orders_page(
        self, stockout: Stockout, page_size: int, after_position: int | None
    ) -> tuple[Sequence[StockoutOrder], int | None]:
        ordered = [
            e
            for p, e in sorted(self.entries[(stockout.seller_id, stockout.stockout_id)].items())
            if after_position is None or p > after_position
        ]
        page = ordered[:page_size]
        return page, (page[-1].position if len(ordered) > page_size else None)


class FakeStockoutRepository(FakeRepository):
    def __init__(self) -> None:
        super().__init__()
        self.store: FakeStockoutStore | None = None

    conflicts_forever = False

    def save_stockout_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        outcome: StockoutOutcome,
        now: datetime,
    ) -> None:
        assert self.store is not None
        if self.conflicts_forever:
            raise VersionConflict(before.order_id)
        self._check_version(before)
        self.store._decide(outcome.stockout, outcome.entry)
        self.writes += 1
        self.orders[(after.seller_id, after.order_id)] = after
        log = self.cancellation_log.setdefault((after.seller_id, after.order_id), [])
        log.append(cancellation)
        self.store.record_cancellation(outcome)


class FakeQueue:
    """Keeps what was asked for; ``deliver`` hands it out, as many times as asked."""

    def __init__(self) -> None:
        self.plans: list[tuple[str, int]] = []
        self.runs: list[tuple[str, int]] = []

    def plan(self, stockout: Stockout, segment: int) -> None:
        self.plans.append((stockout.stockout_id, segment))

    def run(self, stockout: Stockout, segments: Iterable[int]) -> None:
        self.runs.extend((stockout.stockout_id, s) for s in segments)


def units_of(order: Order, sku_id: str) -> int:
    return sum(line.remaining_quantity for line in lines_of_sku(order, sku_id))
