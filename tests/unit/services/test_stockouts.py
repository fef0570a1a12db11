"""The stock-out use cases on fakes: start once per key and per SKU, plan in segments
that commit once, run each order once whatever is redelivered, complete when the last
outcome is in."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from domain import stockouts
from domain.cancellation import cancel
from domain.errors import (
    IdempotencyKeyReused,
    NothingToCancel,
    StockoutInProgress,
    StockoutNotFound,
)
from domain.model import Order
from domain.ports import StorageUnavailable
from domain.shipping import ship_package
from domain.stockout import OrderOutcome, StockoutRequest, StockoutStatus
from domain.stockouts import SEGMENT_ORDERS, Stockout
from tests.unit.domain.builders import CREATED_AT, NOW, items_request, line, order
from tests.unit.services.stockout_fakes import (
    FakeQueue,
    FakeStockoutRepository,
    FakeStockoutStore,
    units_of,
)

SKU = "MUG-BLU"
TTL = timedelta(days=7)


def mug_order(number: int, quantity: int = 2, seller_id: str = "S1") -> Order:
    return order(
        line("L1", quantity=quantity, sku_id=SKU, product_id="P-MUG"),
        line("L2", quantity=1, sku_id="TOWEL", product_id="P-TOWEL"),
        order_id=f"O{number:05d}",
        seller_id=seller_id,
        created_at=CREATED_AT + timedelta(minutes=number),
    )


class World:
    def __init__(self, orders: int, page_size: int = 3) -> None:
        self.repo = FakeStockoutRepository()
        for number in range(orders):
            placed = mug_order(number)
            self.repo.orders[(placed.seller_id, placed.order_id)] = placed
        self.store = FakeStockoutStore(self.repo, page_size=page_size)
        self.repo.store = self.store
        self.queue = FakeQueue()
        self.ids = (f"C{n}" for n in itertools.count(1))

    def start(self, request: StockoutRequest, key: str = "K1") -> stockouts.StartResult:
        return stockouts.start(
            self.store,
            self.queue,
            seller_id="S1",
            request=request,
            idempotency_key=key,
            fingerprint=repr(request),
            actor="maria",
            clock=lambda: NOW,
            new_id=lambda: (
                "SO1" if not self.store.stockouts else f"SO{len(self.store.stockouts) + 1}"
            ),
            idempotency_ttl=TTL,
        )

    def plan(self, stockout: Stockout, segment: int = 0, time_left: float = 100.0) -> Stockout:
        return stockouts.plan_step(
            self.store,
            self.queue,
            seller_id="S1",
            stockout_id=stockout.stockout_id,
            segment=segment,
            clock=lambda: NOW,
            time_left=lambda: time_left,
        )

    def run(self, stockout: Stockout, segment: int) -> list[stockouts.StockoutOrder]:
        return stockouts.run_segment(
            self.store,
            self.repo,
            seller_id="S1",
            stockout_id=stockout.stockout_id,
            segment=segment,
            clock=lambda: NOW,
            new_id=lambda: next(self.ids),
        )

    def drain(self, stockout: Stockout) -> None:
        """Deliver every message asked for, plans first, until none is left."""
        while self.queue.plans or self.queue.runs:
            while self.queue.plans:
                _, segment = self.queue.plans.pop(0)
                self.plan(stockout, segment)
            while self.queue.runs:
                _, segment = self.queue.runs.pop(0)
                self.run(stockout, segment)

    def stored(self, stockout: Stockout) -> Stockout:
        found = self.store.stockout("S1", stockout.stockout_id)
        assert found is not None
        return found

    def cancelled_units(self) -> int:
        return sum(
            line.cancelled_quantity
            for o in self.repo.orders.values()
            for line in o.lines
            if line.sku_id == SKU
        )


def test_a_stockout_keeps_the_oldest_orders_units_and_cancels_the_rest_order_by_order() -> None:
    world = World(orders=7)
    started = world.start(StockoutRequest(SKU, units_on_hand=5, note="sold out"))

    assert started.stockout.status is StockoutStatus.PLANNING
    assert world.queue.plans == [("SO1", 0)]
    world.drain(started.stockout)

    done = world.stored(started.stockout)
    assert done.status is StockoutStatus.COMPLETED
    # 7 orders of 2: the first two keep theirs, the third keeps 1 of 2.
    assert (done.orders_planned, done.orders_cancelled, done.orders_skipped) == (5, 5, 0)
    assert done.units_cancelled == 9 == world.cancelled_units()
    assert done.finished_at == NOW
    assert [units_of(world.repo.orders[("S1", f"O{n:05d}")], SKU) for n in range(7)] == [
        2,
        2,
        1,
        0,
        0,
        0,
        0,
    ]
    (refunded,) = done.refunded
    assert refunded.components.subtotal == 9 * 1000
    assert world.store.running("S1", SKU) is None
    for log in world.repo.cancellation_log.values():
        (only,) = log
        assert only.reason.value == "OUT_OF_STOCK"
        assert only.note == "sold out"
        assert only.created_by == "maria"


def test_planning_commits_segments_and_resumes_from_its_cursor_when_time_runs_out() -> None:
    world = World(orders=2 * SEGMENT_ORDERS + 5, page_size=40)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.queue.plans.clear()

    first = world.plan(stockout, 0, time_left=0.0)
    assert first.cursor.segment == 0 and world.queue.plans == [("SO1", 0)]
    world.queue.plans.clear()

    world.plan(stockout, 0, time_left=100.0)

    planned = world.stored(stockout)
    assert planned.cursor.done
    assert planned.orders_planned == 2 * SEGMENT_ORDERS + 5
    assert world.queue.runs == [("SO1", 0), ("SO1", 1), ("SO1", 2)]
    assert [len(world.store.segment(stockout, s)) for s in range(3)] == [90, 90, 5]


def test_a_planning_step_delivered_again_plans_nothing_twice() -> None:
    world = World(orders=10)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.plan(stockout, 0)
    runs = list(world.queue.runs)

    world.plan(stockout, 0)

    assert world.stored(stockout).orders_planned == 10
    # The segment is handed to the workers again: harmless, they find it decided or not.
    assert world.queue.runs == runs * 2


def test_a_segment_run_again_or_twice_cancels_each_order_once() -> None:
    world = World(orders=4)
    stockout = world.start(StockoutRequest(SKU, units_on_hand=1)).stockout
    world.plan(stockout, 0)

    world.run(stockout, 0)
    again = world.run(stockout, 0)

    assert again == []
    assert world.cancelled_units() == 7
    assert all(len(log) == 1 for log in world.repo.cancellation_log.values())
    assert world.stored(stockout).status is StockoutStatus.COMPLETED
    assert world.store.completions == 1


def test_orders_changed_since_the_plan_are_decided_again() -> None:
    world = World(orders=3)
    stockout = world.start(StockoutRequest(SKU, units_on_hand=1)).stockout
    world.plan(stockout, 0)
    # Since the plan: O00001 shipped, O00002 had one mug cancelled by hand.
    shipped = ship_package(world.repo.orders[("S1", "O00001")], "PK1", now=NOW)
    world.repo.orders[("S1", "O00001")] = shipped
    by_hand, _ = cancel(
        world.repo.orders[("S1", "O00002")],
        items_request(("L1", 1)),
        cancellation_id="HAND",
        actor="x",
        now=NOW,
    )
    world.repo.orders[("S1", "O00002")] = by_hand

    world.run(stockout, 0)

    done = world.stored(stockout)
    entries = {e.order_id: e for e in world.store.segment(stockout, 0)}
    assert entries["O00000"].cancelled_quantity == 1  # kept 1 of 2
    assert entries["O00001"].outcome is OrderOutcome.SKIPPED
    assert "no longer awaiting shipment" in (entries["O00001"].detail or "")
    assert entries["O00002"].cancelled_quantity == 1  # the other was cancelled by hand
    assert (done.orders_cancelled, done.orders_skipped, done.units_cancelled) == (2, 1, 2)
    assert done.orders_cancelled + done.orders_skipped == done.orders_planned
    assert done.status is StockoutStatus.COMPLETED


def test_a_lost_race_with_another_change_of_the_order_is_decided_again() -> None:
    world = World(orders=1)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.plan(stockout, 0)

    def by_hand() -> None:
        current = world.repo.orders[("S1", "O00000")]
        after, _ = cancel(
            current, items_request(("L1", 1)), cancellation_id="H", actor="x", now=NOW
        )
        world.repo.orders[("S1", "O00000")] = after

    world.repo.before_write = by_hand
    world.run(stockout, 0)

    (entry,) = world.store.segment(stockout, 0)
    assert entry.cancelled_quantity == 1
    assert world.cancelled_units() == 2


def test_the_same_key_replays_and_another_body_is_refused() -> None:
    world = World(orders=2)
    first = world.start(StockoutRequest(SKU))

    again = world.start(StockoutRequest(SKU))

    assert again.replayed and again.stockout.stockout_id == first.stockout.stockout_id
    # Still planning at its first segment: planning is asked for again.
    assert world.queue.plans == [("SO1", 0), ("SO1", 0)]
    with pytest.raises(IdempotencyKeyReused):
        world.start(StockoutRequest(SKU, units_on_hand=1))


def test_one_running_stockout_per_sku_then_another_once_it_completed() -> None:
    world = World(orders=2)
    first = world.start(StockoutRequest(SKU)).stockout

    with pytest.raises(StockoutInProgress):
        world.start(StockoutRequest(SKU), key="K2")
    world.drain(first)
    for number in range(2, 4):
        placed = mug_order(number)
        world.repo.orders[(placed.seller_id, placed.order_id)] = placed

    second = world.start(StockoutRequest(SKU), key="K2")

    assert second.stockout.stockout_id != first.stockout_id


def test_nothing_to_cancel_is_refused_and_records_nothing() -> None:
    world = World(orders=2)

    with pytest.raises(NothingToCancel):
        world.start(StockoutRequest(SKU, units_on_hand=4))

    assert world.store.stockouts == {} and world.queue.plans == []


def test_another_sellers_stockout_is_not_found() -> None:
    world = World(orders=1)
    stockout = world.start(StockoutRequest(SKU)).stockout

    with pytest.raises(StockoutNotFound):
        stockouts.get(world.store, "S2", stockout.stockout_id)


def test_the_preview_matches_what_the_stockout_then_does() -> None:
    world = World(orders=150)

    preview = stockouts.preview(world.store, "S1", StockoutRequest(SKU, units_on_hand=3))

    assert preview.allocator.orders_to_cancel == 149
    assert preview.allocator.units_to_cancel == 297
    assert len(preview.orders) == stockouts.PREVIEW_ORDERS and preview.truncated
    stockout = world.start(StockoutRequest(SKU, units_on_hand=3)).stockout
    world.drain(stockout)
    done = world.stored(stockout)
    assert (done.orders_cancelled, done.units_cancelled) == (149, 297)
    (refunded,) = done.refunded
    assert refunded == preview.allocator.refunds["USD"]


def test_starts_at_once_with_one_key_make_one_stockout_and_the_other_replays_it() -> None:
    world = World(orders=2)
    first = world.start(StockoutRequest(SKU))
    # The second request read neither key nor lock (the first had not committed yet),
    # then its write met them.
    world.store.keys_hidden = world.store.locks_hidden = True

    again = world.start(StockoutRequest(SKU))

    assert again.replayed and again.stockout.stockout_id == first.stockout.stockout_id


def test_a_start_that_loses_the_sku_to_another_at_once_is_in_progress() -> None:
    world = World(orders=2)
    world.start(StockoutRequest(SKU))
    world.store.locks_hidden = True

    with pytest.raises(StockoutInProgress):
        world.start(StockoutRequest(SKU), key="K2")


def test_a_planning_step_asked_for_ahead_of_the_plan_does_nothing() -> None:
    world = World(orders=3)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.queue.plans.clear()

    world.plan(stockout, 5)

    assert world.stored(stockout).cursor.segment == 0
    assert world.queue.plans == world.queue.runs == []


def test_an_order_gone_since_the_plan_is_skipped() -> None:
    world = World(orders=2)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.plan(stockout, 0)
    del world.repo.orders[("S1", "O00001")]

    world.run(stockout, 0)

    entries = {e.order_id: e for e in world.store.segment(stockout, 0)}
    assert entries["O00001"].outcome is OrderOutcome.SKIPPED
    assert entries["O00001"].detail == "the order is gone"
    assert world.stored(stockout).status is StockoutStatus.COMPLETED


def test_an_order_that_keeps_changing_is_left_for_the_segments_next_delivery() -> None:
    world = World(orders=1)
    stockout = world.start(StockoutRequest(SKU)).stockout
    world.plan(stockout, 0)
    world.repo.conflicts_forever = True

    with pytest.raises(StorageUnavailable):
        world.run(stockout, 0)

    (entry,) = world.store.segment(stockout, 0)
    assert entry.outcome is OrderOutcome.PENDING
    assert world.stored(stockout).status is StockoutStatus.RUNNING
