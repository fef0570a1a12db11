"""The stock-out use cases: preview, start, plan (in segments), run (order by order).

A stock-out over any number of orders never depends on one function running long:
- **start** records the stock-out (``PLANNING``) with its idempotency key and the SKU's
  lock (one running stock-out per SKU) in one transaction, then asks for its first
  planning step;
- each **planning step** reads the SKU's orders oldest first through the store's index,
  allocates them (``domain.stockout.Allocator``, resumed from the stock-out's cursor),
  and commits a segment of at most ``SEGMENT_ORDERS`` planned orders together with the
  cursor, conditionally on the cursor it started from; each committed segment is handed
  to the workers, and the step asks for the next one until the plan is complete;
- each **worker** takes a segment and decides every pending order of it again on its
  current state (``domain.stockout.decide``): an ordinary ``ITEMS`` cancellation whose
  transaction also records the order's outcome and the stock-out's counters (atomic
  increments), conditionally on the outcome being still pending, or a skip with its
  reason. A worker retried, or a segment delivered twice, finds the outcome recorded and
  changes nothing;
- the last outcome (or the end of planning, whichever comes last) completes the stock-out
  and releases the SKU.

A lost message is made up for: a step or segment delivered again does again only what is
not recorded, and asks for what follows again (which is harmless for the same reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.cancellation import Cancellation, cancel
from domain.errors import (
    IdempotencyKeyReused,
    NothingToCancel,
    StockoutInProgress,
    StockoutNotFound,
)
from domain.model import Order, Refund
from domain.ports import OrderRepository, StorageUnavailable, VersionConflict
from domain.retry import Backoff, NoBackoff, attempts
from domain.stockout import (
    Allocator,
    LinePlan,
    OrderOutcome,
    OrderPlan,
    Skip,
    StockoutRequest,
    StockoutStatus,
    decide,
)

Clock = Callable[[], datetime]
# Planned orders committed in one transaction with the cursor (DynamoDB takes 100 actions).
SEGMENT_ORDERS = 90
# Orders a preview lists.
PREVIEW_ORDERS = 100


@dataclass(frozen=True, slots=True)
class PlanCursor:
    """Where planning stands: the next segment's number, the index position after the
    last order read, the units still on hand, and the allocation's totals so far."""

    segment: int = 0
    after: str | None = None
    on_hand: int = 0
    done: bool = False


@dataclass(frozen=True, slots=True)
class Stockout:
    stockout_id: str
    seller_id: str
    request: StockoutRequest
    status: StockoutStatus
    created_at: datetime
    created_by: str
    finished_at: datetime | None = None
    orders_planned: int = 0
    orders_cancelled: int = 0
    orders_skipped: int = 0
    units_cancelled: int = 0
    refunded: tuple[Refund, ...] = ()
    cursor: PlanCursor = field(default_factory=PlanCursor)


@dataclass(frozen=True, slots=True)
class StockoutOrder:
    """One planned order of a stock-out: its place in the allocation, its plan, and what
    became of it."""

    position: int
    order_id: str
    lines: tuple[LinePlan, ...]
    outcome: OrderOutcome = OrderOutcome.PENDING
    detail: str | None = None
    cancellation_id: str | None = None
    cancelled_quantity: int = 0

    @property
    def segment(self) -> int:
        return self.position // SEGMENT_ORDERS


@dataclass(frozen=True, slots=True)
class StockoutOutcome:
    """What a stock-out's cancellation of one order records with it, in its transaction."""

    stockout: Stockout
    entry: StockoutOrder
    cancellation_id: str
    cancelled_quantity: int
    refund: Refund


@dataclass(frozen=True, slots=True)
class SkuOrders:
    """A page of the SKU's orders awaiting shipment, oldest first: each with the store's
    position after it (where a read resumes), and None for ``after`` on the last page."""

    orders: Sequence[Order]
    positions: Sequence[str]
    after: str | None


@dataclass(frozen=True, slots=True)
class StockoutPreview:
    request: StockoutRequest
    allocator: Allocator
    orders: tuple[OrderPlan, ...]
    truncated: bool


@dataclass(frozen=True, slots=True)
class StartResult:
    stockout: Stockout
    replayed: bool


@dataclass(frozen=True, slots=True)
class StockoutKey:
    """A start's idempotency key, as stored: which stock-out it started, and from what."""

    stockout_id: str
    fingerprint: str


class EntryDecided(Exception):
    """The order's outcome was recorded by another attempt."""


class StartRefused(Exception):
    """The stock-out could not be recorded: its key or its SKU is taken."""

    def __init__(self, key: StockoutKey | None = None, running: str | None = None) -> None:
        super().__init__(running or (key.stockout_id if key else ""))
        self.key = key
        self.running = running


class StockoutStore(Protocol):
    def sku_orders(self, seller_id: str, sku_id: str, after: str | None) -> SkuOrders: ...

    def running(self, seller_id: str, sku_id: str) -> str | None:
        """The stock-out of the SKU still planning or running, if one is."""
        ...

    def key(self, seller_id: str, key: str, now: datetime) -> StockoutKey | None: ...

    def create(self, stockout: Stockout, key: str, fingerprint: str, expires_at: datetime) -> None:
        """Records the new stock-out, its key and the SKU's lock at once; ``StartRefused``
        when the key or the SKU is taken."""
        ...

    def stockout(self, seller_id: str, stockout_id: str) -> Stockout | None: ...

    def save_segment(
        self,
        stockout: Stockout,
        cursor: PlanCursor,
        entries: Sequence[StockoutOrder],
        refunds: Sequence[Refund],
    ) -> None:
        """Commits the planned orders with the new cursor, if the stock-out's cursor is
        still the one it was read with (``VersionConflict`` otherwise)."""
        ...

    def segment(self, stockout: Stockout, segment: int) -> Sequence[StockoutOrder]: ...

    def skip(self, stockout: Stockout, entry: StockoutOrder, detail: str) -> bool:
        """Records the order skipped if it is still pending; whether it was."""
        ...

    def complete_if_done(self, stockout: Stockout, now: datetime) -> bool: ...

    def orders_page(
        self, stockout: Stockout, page_size: int, after_position: int | None
    ) -> tuple[Sequence[StockoutOrder], int | None]: ...


class StockoutRepository(OrderRepository, Protocol):
    def save_stockout_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        outcome: StockoutOutcome,
        now: datetime,
    ) -> None:
        """The cancellation with its outcome: ``VersionConflict`` when the order changed,
        ``EntryDecided`` when the outcome was recorded already."""
        ...


class StockoutQueue(Protocol):
    def plan(self, stockout: Stockout, segment: int) -> None: ...

    def run(self, stockout: Stockout, segments: Sequence[int]) -> None: ...


# -- preview and start ------------------------------------------------------------------


def _all_sku_orders(store: StockoutStore, seller_id: str, sku_id: str) -> Iterator[Order]:
    after: str | None = None
    while True:
        page = store.sku_orders(seller_id, sku_id, after)
        yield from page.orders
        if page.after is None:
            return
        after = page.after


def preview(store: StockoutStore, seller_id: str, request: StockoutRequest) -> StockoutPreview:
    allocator = Allocator(request)
    shown: list[OrderPlan] = []
    truncated = False
    for order in _all_sku_orders(store, seller_id, request.sku_id):
        plan = allocator.take(order)
        if plan is None:
            continue
        if len(shown) < PREVIEW_ORDERS:
            shown.append(plan)
        else:
            truncated = True
    return StockoutPreview(request, allocator, tuple(shown), truncated)


def _anything_to_cancel(store: StockoutStore, seller_id: str, request: StockoutRequest) -> bool:
    allocator = Allocator(request)
    return any(
        allocator.take(order) is not None
        for order in _all_sku_orders(store, seller_id, request.sku_id)
    )


def start(
    store: StockoutStore,
    queue: StockoutQueue,
    *,
    seller_id: str,
    request: StockoutRequest,
    idempotency_key: str,
    fingerprint: str,
    actor: str,
    clock: Clock,
    new_id: Callable[[], str],
    idempotency_ttl: timedelta,
) -> StartResult:
    """Starts a stock-out once per key: replay or key reuse first, then one running per
    SKU, then nothing to cancel."""
    now = clock()
    known = store.key(seller_id, idempotency_key, now)
    if known is not None:
        return _replay(store, queue, seller_id, known, fingerprint)
    running = store.running(seller_id, request.sku_id)
    if running is not None:
        raise _in_progress(request.sku_id, running)
    if not _anything_to_cancel(store, seller_id, request):
        raise NothingToCancel(
            f"no order awaiting shipment has a unit of {request.sku_id} beyond the "
            f"{request.units_on_hand} on hand"
        )
    stockout = Stockout(
        stockout_id=new_id(),
        seller_id=seller_id,
        request=request,
        status=StockoutStatus.PLANNING,
        created_at=now,
        created_by=actor,
        cursor=PlanCursor(on_hand=request.units_on_hand),
    )
    try:
        store.create(stockout, idempotency_key, fingerprint, now + idempotency_ttl)
    except StartRefused as refused:
        if refused.key is not None:
            return _replay(store, queue, seller_id, refused.key, fingerprint)
        raise _in_progress(request.sku_id, refused.running or "") from None
    queue.plan(stockout, 0)
    return StartResult(stockout, replayed=False)


def _replay(
    store: StockoutStore,
    queue: StockoutQueue,
    seller_id: str,
    known: StockoutKey,
    fingerprint: str,
) -> StartResult:
    if known.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key started another stock-out")
    stockout = store.stockout(seller_id, known.stockout_id)
    if stockout is None:
        raise StorageUnavailable(f"stock-out {known.stockout_id} is not readable yet")
    if stockout.status is StockoutStatus.PLANNING and stockout.cursor.segment == 0:
        # The first request may have ended before it asked for planning: ask again
        # (a planning step asked for twice plans once).
        queue.plan(stockout, 0)
    return StartResult(stockout, replayed=True)


def _in_progress(sku_id: str, stockout_id: str) -> StockoutInProgress:
    return StockoutInProgress(f"stock-out {stockout_id} of {sku_id} is still running")


def get(store: StockoutStore, seller_id: str, stockout_id: str) -> Stockout:
    stockout = store.stockout(seller_id, stockout_id)
    if stockout is None:
        raise StockoutNotFound(f"stock-out {stockout_id} not found")
    return stockout


# -- planning ---------------------------------------------------------------------------


def plan_step(
    store: StockoutStore,
    queue: StockoutQueue,
    *,
    seller_id: str,
    stockout_id: str,
    segment: int,
    clock: Clock,
    time_left: Callable[[], float],
    seconds_per_segment: float = 5.0,
) -> Stockout:
    """Plans from the stock-out's cursor on while time is left, then asks for the next
    step. A step delivered again hands the segments committed since it was asked for to
    the workers again, then goes on from the cursor; two steps at once commit each
    segment once (the loser's commit is refused and it stops)."""
    stockout = get(store, seller_id, stockout_id)
    if segment < stockout.cursor.segment:
        queue.run(stockout, range(segment, stockout.cursor.segment))
    elif segment > stockout.cursor.segment:
        return stockout
    while not stockout.cursor.done:
        if time_left() < seconds_per_segment:
            queue.plan(stockout, stockout.cursor.segment)
            return stockout
        try:
            stockout, planned = _plan_segment(store, stockout)
        except VersionConflict:
            return stockout
        if planned:
            queue.run(stockout, [stockout.cursor.segment - 1])
    store.complete_if_done(stockout, clock())
    return stockout


def _plan_segment(store: StockoutStore, stockout: Stockout) -> tuple[Stockout, bool]:
    """Allocates the next orders into one segment and commits it with the cursor."""
    cursor = stockout.cursor
    allocator = Allocator(replace(stockout.request, units_on_hand=cursor.on_hand))
    entries: list[StockoutOrder] = []
    refunds: list[Refund] = []
    after = cursor.after
    done = False
    first = stockout.orders_planned
    while len(entries) < SEGMENT_ORDERS and not done:
        page = store.sku_orders(stockout.seller_id, stockout.request.sku_id, after)
        for order, position in zip(page.orders, page.positions, strict=True):
            plan = allocator.take(order)
            after = position
            if plan is not None:
                entries.append(StockoutOrder(first + len(entries), plan.order_id, plan.lines))
                refunds.append(plan.refund)
                if len(entries) == SEGMENT_ORDERS:
                    break
        else:
            if page.after is None:
                done = True
            else:
                after = page.after
    new_cursor = PlanCursor(
        segment=cursor.segment + (1 if entries else 0),
        after=after,
        on_hand=allocator.on_hand,
        done=done,
    )
    store.save_segment(stockout, new_cursor, entries, refunds)
    return (
        replace(
            stockout,
            cursor=new_cursor,
            orders_planned=stockout.orders_planned + len(entries),
            status=StockoutStatus.RUNNING if entries or done else stockout.status,
        ),
        bool(entries),
    )


# -- running ----------------------------------------------------------------------------


def run_segment(
    store: StockoutStore,
    repo: StockoutRepository,
    *,
    seller_id: str,
    stockout_id: str,
    segment: int,
    clock: Clock,
    new_id: Callable[[], str],
    backoff: Callable[[], Backoff] = NoBackoff,
) -> list[StockoutOrder]:
    """Decides every pending order of the segment again and records its outcome; what
    was decided already is left as it is. Returns the orders it decided."""
    stockout = get(store, seller_id, stockout_id)
    decided: list[StockoutOrder] = []
    for entry in store.segment(stockout, segment):
        if entry.outcome is not OrderOutcome.PENDING:
            continue
        if _run_one(store, repo, stockout, entry, clock, new_id, backoff()):
            decided.append(entry)
    store.complete_if_done(stockout, clock())
    return decided


def _run_one(
    store: StockoutStore,
    repo: StockoutRepository,
    stockout: Stockout,
    entry: StockoutOrder,
    clock: Clock,
    new_id: Callable[[], str],
    backoff: Backoff,
) -> bool:
    for _ in attempts(backoff):
        order = repo.get(stockout.seller_id, entry.order_id)
        if order is None:
            return store.skip(stockout, entry, "the order is gone")
        decision = decide(order, entry.lines, stockout.request.note)
        if isinstance(decision, Skip):
            return store.skip(stockout, entry, decision.detail)
        now = clock()
        after, cancellation = cancel(
            order, decision, cancellation_id=new_id(), actor=stockout.created_by, now=now
        )
        outcome = StockoutOutcome(
            stockout=stockout,
            entry=entry,
            cancellation_id=cancellation.cancellation_id,
            cancelled_quantity=sum(item.quantity for item in cancellation.items),
            refund=cancellation.refund,
        )
        try:
            repo.save_stockout_cancellation(order, after, cancellation, outcome, now)
        except EntryDecided:
            return False
        except VersionConflict:
            continue
        return True
    raise StorageUnavailable(f"order {entry.order_id} kept changing; it is tried again later")
