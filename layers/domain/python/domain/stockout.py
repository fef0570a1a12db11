"""Stock-outs: when a SKU runs out, the oldest orders keep the units still on hand and
every other To Ship unit of the SKU is cancelled, order by order, with reason
``OUT_OF_STOCK``.

Two decisions, both here:
- the **allocation** (``Allocator``): every item-cancellable line of the SKU, oldest
  order first (``created_at``, then ``order_id``, then ``line_id``), keeps as many of its
  remaining units as are still on hand; the rest of its units are to be cancelled. The
  allocator takes orders one at a time, in that order, and keeps only running totals, so
  a plan over any number of orders is made in bounded memory;
- the **decision again** (``decide``), when an order's turn comes: each planned line
  cancels ``min(planned, remaining now - planned keep)`` units, never fewer than none; an
  order that can no longer be item-cancelled, or has nothing left to cancel, is skipped
  with the reason in words. Nothing kept is ever cancelled, and nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.cancellation import (
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRequest,
    plan_cancellation,
)
from domain.model import IneligibleReason, Line, Order, Refund


class StockoutStatus(StrEnum):
    PLANNING = "PLANNING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"


class OrderOutcome(StrEnum):
    PENDING = "PENDING"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"


ACTIVE_STATUSES = frozenset({StockoutStatus.PLANNING, StockoutStatus.RUNNING})


@dataclass(frozen=True, slots=True)
class StockoutRequest:
    sku_id: str
    units_on_hand: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LinePlan:
    line_id: str
    remaining_quantity: int
    keep_quantity: int
    cancel_quantity: int


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """What one order is to give up: its lines of the SKU, and the refund that would be."""

    order_id: str
    created_at: datetime
    lines: tuple[LinePlan, ...]
    refund: Refund

    @property
    def cancel_quantity(self) -> int:
        return sum(line.cancel_quantity for line in self.lines)


def allocation_key(order: Order) -> tuple[datetime, str]:
    """Orders are allocated oldest first: by ``created_at``, then ``order_id``."""
    return (order.created_at, order.order_id)


def lines_of_sku(order: Order, sku_id: str) -> list[Line]:
    """The order's item-cancellable lines of the SKU, in ``line_id`` order."""
    if not order.items_cancellable:
        return []
    return sorted(
        (
            line
            for line in order.lines
            if line.sku_id == sku_id and order.line_eligibility(line).item_cancellable
        ),
        key=lambda line: line.line_id,
    )


def _refund_of(order: Order, items: list[ItemRequest], note: str | None) -> Refund:
    return plan_cancellation(order, items_request(items, note)).refund


def items_request(items: Iterable[ItemRequest], note: str | None) -> CancellationRequest:
    """The ordinary cancellation a stock-out makes of an order."""
    return CancellationRequest(
        reason=CancelReason.OUT_OF_STOCK,
        scope=CancelScope.ITEMS,
        items=tuple(items),
        note=note,
    )


@dataclass
class Allocator:
    """Takes the SKU's orders oldest first and says what each gives up; keeps the totals
    of the whole stock-out as it goes."""

    request: StockoutRequest
    on_hand: int = field(init=False)
    orders_matched: int = 0
    units_demanded: int = 0
    units_kept: int = 0
    units_to_cancel: int = 0
    orders_to_cancel: int = 0
    refunds: dict[str, Refund] = field(default_factory=dict)
    _last: tuple[datetime, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.on_hand = self.request.units_on_hand

    def take(self, order: Order) -> OrderPlan | None:
        """The plan of the next order (oldest first), or None when it gives up nothing."""
        key = allocation_key(order)
        if self._last is not None and key <= self._last:
            raise ValueError(f"order {order.order_id} is not after the one before it")
        self._last = key
        lines = lines_of_sku(order, self.request.sku_id)
        if not lines:
            return None
        self.orders_matched += 1
        planned: list[LinePlan] = []
        for line in lines:
            remaining = line.remaining_quantity
            keep = min(remaining, self.on_hand)
            self.on_hand -= keep
            planned.append(LinePlan(line.line_id, remaining, keep, remaining - keep))
            self.units_demanded += remaining
            self.units_kept += keep
        cancelled = [
            ItemRequest(plan.line_id, plan.cancel_quantity)
            for plan in planned
            if plan.cancel_quantity
        ]
        if not cancelled:
            return None
        refund = _refund_of(order, cancelled, self.request.note)
        self.orders_to_cancel += 1
        self.units_to_cancel += sum(item.quantity for item in cancelled)
        before = self.refunds.get(refund.currency)
        self.refunds[refund.currency] = refund if before is None else before + refund
        return OrderPlan(order.order_id, order.created_at, tuple(planned), refund)


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an order is skipped when its turn comes, in words."""

    detail: str


_WHY_NOT = {
    IneligibleReason.ORDER_NOT_AWAITING_SHIPMENT: "the order is no longer awaiting shipment",
    IneligibleReason.PACKAGE_NOT_AWAITING_SHIPMENT: "its package is no longer awaiting shipment",
    IneligibleReason.FULLY_CANCELLED: "its units were cancelled already",
}


def decide(
    order: Order, planned: Iterable[LinePlan], note: str | None
) -> CancellationRequest | Skip:
    """What to cancel of the order now, given its plan: never more than planned, never a
    unit planned to be kept; or why nothing is."""
    if not order.items_cancellable:
        why = _WHY_NOT[IneligibleReason.ORDER_NOT_AWAITING_SHIPMENT]
        return Skip(f"{why} ({order.status.value})")
    items: list[ItemRequest] = []
    reasons: list[str] = []
    for plan in planned:
        line = order.line(plan.line_id)
        if line is None:
            reasons.append(f"line {plan.line_id} is gone")
            continue
        eligibility = order.line_eligibility(line)
        if not eligibility.item_cancellable:
            reason = eligibility.ineligible_reason or IneligibleReason.FULLY_CANCELLED
            reasons.append(f"line {plan.line_id}: {_WHY_NOT[reason]}")
            continue
        quantity = min(plan.cancel_quantity, line.remaining_quantity - plan.keep_quantity)
        if quantity > 0:
            items.append(ItemRequest(plan.line_id, quantity))
        else:
            reasons.append(f"line {plan.line_id}: no unit left beyond those kept")
    if not items:
        return Skip("; ".join(reasons) or "nothing left to cancel")
    return items_request(items, note)
