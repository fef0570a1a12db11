"""The stock-out's allocation (oldest orders keep what is on hand) and its decision again
when an order's turn comes (never a kept unit, never more than planned)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.cancellation import CancellationRequest
from domain.model import Order
from domain.stockout import Allocator, LinePlan, OrderPlan, Skip, StockoutRequest, decide
from tests.unit.domain.builders import (
    AWAITING_COLLECTION,
    CREATED_AT,
    IN_TRANSIT,
    after,
    items_request,
    line,
    order,
    package,
)

SKU = "MUG-BLU"


def mugs(order_id: str, hours: int, *quantities: int, **fields: object) -> Order:
    """An order placed ``hours`` after the first, with one line of the SKU per quantity,
    each in a package of its own, and a towel line of another SKU."""
    lines = [
        line(f"L{n}", package_id=f"PK{n}", quantity=q, sku_id=SKU, product_id="P-MUG")
        for n, q in enumerate(quantities, start=1)
    ]
    lines.append(line("L9", package_id="PK1", quantity=2, sku_id="TOWEL", product_id="P-T"))
    return order(
        *lines, order_id=order_id, created_at=CREATED_AT + timedelta(hours=hours), **fields
    )


def plan(allocator: Allocator, *orders: Order) -> list[OrderPlan]:
    return [p for o in orders if (p := allocator.take(o)) is not None]


def cancelled(plans: list[OrderPlan]) -> dict[str, list[tuple[str, int, int]]]:
    return {
        p.order_id: [(lp.line_id, lp.keep_quantity, lp.cancel_quantity) for lp in p.lines]
        for p in plans
    }


def test_the_oldest_orders_keep_what_is_on_hand_and_the_rest_is_cancelled() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=4))

    plans = plan(allocator, mugs("O1", 0, 3), mugs("O2", 1, 3), mugs("O3", 2, 2))

    # O1 keeps its 3, O2 keeps 1 of its 3 (a partial keep inside a line), O3 keeps none.
    assert cancelled(plans) == {"O2": [("L1", 1, 2)], "O3": [("L1", 0, 2)]}
    assert (allocator.orders_matched, allocator.units_demanded) == (3, 8)
    assert (allocator.units_kept, allocator.units_to_cancel, allocator.orders_to_cancel) == (
        4,
        4,
        2,
    )
    assert allocator.refunds["USD"].components.subtotal == 4 * 1000


def test_lines_of_the_sku_in_two_packages_are_taken_in_line_order() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=2))

    plans = plan(allocator, mugs("O1", 0, 1, 3))

    assert cancelled(plans) == {"O1": [("L1", 1, 0), ("L2", 1, 2)]}
    assert plans[0].cancel_quantity == 2


def test_a_package_awaiting_collection_is_not_part_of_the_stockout() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=0))
    shipping_soon = mugs(
        "O1", 0, 2, 2, packages=[package("PK1"), package("PK2", AWAITING_COLLECTION)]
    )

    plans = plan(allocator, shipping_soon)

    assert cancelled(plans) == {"O1": [("L1", 0, 2)]}
    assert allocator.units_demanded == 2


def test_orders_no_longer_awaiting_shipment_and_lines_fully_cancelled_are_not_matched() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=0))
    moved_on = mugs("O1", 0, 2, packages=[package("PK1", IN_TRANSIT)])
    gone = after(mugs("O2", 1, 2), items_request(("L1", 2)))

    assert plan(allocator, moved_on, gone) == []
    assert allocator.orders_matched == 0


def test_an_order_that_keeps_everything_is_matched_but_not_planned() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=10))

    assert plan(allocator, mugs("O1", 0, 3)) == []
    assert (allocator.orders_matched, allocator.units_kept, allocator.orders_to_cancel) == (
        1,
        3,
        0,
    )


def test_orders_must_come_oldest_first() -> None:
    allocator = Allocator(StockoutRequest(SKU))
    allocator.take(mugs("O2", 1, 1))

    with pytest.raises(ValueError, match="not after"):
        allocator.take(mugs("O1", 0, 1))


def test_the_same_time_is_ordered_by_order_id() -> None:
    allocator = Allocator(StockoutRequest(SKU, units_on_hand=1))

    plans = plan(allocator, mugs("O1", 0, 1), mugs("O2", 0, 1))

    assert cancelled(plans) == {"O2": [("L1", 0, 1)]}


# --- the decision again ------------------------------------------------------------------


def test_an_unchanged_order_cancels_what_was_planned() -> None:
    order_now = mugs("O1", 0, 3)

    decided = decide(order_now, [LinePlan("L1", 3, 1, 2)], "sold out")

    assert isinstance(decided, CancellationRequest)
    assert [(i.line_id, i.quantity) for i in decided.items] == [("L1", 2)]
    assert decided.note == "sold out"


def test_units_cancelled_by_hand_since_the_plan_are_not_cancelled_again() -> None:
    by_hand = after(mugs("O1", 0, 3), items_request(("L1", 1)))

    decided = decide(by_hand, [LinePlan("L1", 3, 1, 2)], None)

    assert isinstance(decided, CancellationRequest)
    assert [(i.line_id, i.quantity) for i in decided.items] == [("L1", 1)]


def test_a_kept_unit_is_never_cancelled() -> None:
    by_hand = after(mugs("O1", 0, 3), items_request(("L1", 2)))

    decided = decide(by_hand, [LinePlan("L1", 3, 1, 2)], None)

    assert isinstance(decided, Skip)
    assert "beyond those kept" in decided.detail


def test_an_order_that_moved_on_is_skipped_with_the_reason() -> None:
    moved_on = mugs("O1", 0, 3, packages=[package("PK1", IN_TRANSIT)])

    decided = decide(moved_on, [LinePlan("L1", 3, 0, 3)], None)

    assert isinstance(decided, Skip)
    assert "no longer awaiting shipment" in decided.detail


def test_a_line_whose_package_moved_on_is_left_and_the_others_cancelled() -> None:
    split = mugs("O1", 0, 2, 2, packages=[package("PK1"), package("PK2", AWAITING_COLLECTION)])

    decided = decide(split, [LinePlan("L1", 2, 0, 2), LinePlan("L2", 2, 0, 2)], None)

    assert isinstance(decided, CancellationRequest)
    assert [(i.line_id, i.quantity) for i in decided.items] == [("L1", 2)]
