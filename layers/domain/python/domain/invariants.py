"""What must always hold between an order and its cancellations; the reconciler reports any
breach and repairs none (a mismatch means data or code went wrong, and a person decides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.cancellation import Cancellation
from domain.model import Components, Order, PackageStatus, Refund, derive_order_status


@dataclass(frozen=True, slots=True)
class Mismatch:
    check: str
    detail: str
    numbers: dict[str, int | str] = field(default_factory=dict)


def check_order(
    order: Order, cancellations: Sequence[Cancellation], stored_status: str | None = None
) -> list[Mismatch]:
    """Every broken invariant of ``order`` given all of its ``cancellations``."""
    found: list[Mismatch] = []
    found.extend(_line_checks(order, cancellations))
    found.extend(_total_checks(order, cancellations))
    found.extend(_status_checks(order, stored_status))
    return found


def _line_checks(order: Order, cancellations: Sequence[Cancellation]) -> list[Mismatch]:
    found: list[Mismatch] = []
    for line in order.lines:
        items = [i for c in cancellations for i in c.items if i.line_id == line.line_id]
        cancelled = sum(i.quantity for i in items)
        refunded = Components.sum(i.refund.components for i in items)
        if not 0 <= line.cancelled_quantity <= line.quantity:
            found.append(
                Mismatch(
                    "cancelled_within_ordered",
                    f"line {line.line_id} has {line.cancelled_quantity} of {line.quantity} "
                    "units cancelled",
                    {
                        "line_id": line.line_id,
                        "cancelled": line.cancelled_quantity,
                        "ordered": line.quantity,
                    },
                )
            )
        if cancelled != line.cancelled_quantity:
            found.append(
                Mismatch(
                    "cancelled_matches_cancellations",
                    f"line {line.line_id} records {line.cancelled_quantity} cancelled units, "
                    f"its cancellations add up to {cancelled}",
                    {
                        "line_id": line.line_id,
                        "recorded": line.cancelled_quantity,
                        "from_cancellations": cancelled,
                    },
                )
            )
        if refunded != line.refunded:
            found.append(
                Mismatch(
                    "refunded_matches_cancellations",
                    f"line {line.line_id} records a refund of {line.refunded.total}, "
                    f"its cancellations add up to {refunded.total} (minor units)",
                    {
                        "line_id": line.line_id,
                        "recorded": line.refunded.total,
                        "from_cancellations": refunded.total,
                    },
                )
            )
        charged = line.charged
        if any(
            r > c or r < 0
            for r, c in zip(line.refunded.as_tuple(), charged.as_tuple(), strict=True)
        ):
            found.append(
                Mismatch(
                    "refund_within_paid",
                    f"line {line.line_id} refunds beyond what was charged",
                    {
                        "line_id": line.line_id,
                        "refunded": line.refunded.total,
                        "charged": charged.total,
                    },
                )
            )
    return found


def _total_checks(order: Order, cancellations: Sequence[Cancellation]) -> list[Mismatch]:
    found: list[Mismatch] = []
    from_cancellations = Refund(order.currency)
    for cancellation in cancellations:
        from_cancellations = from_cancellations + cancellation.refund
    recorded = order.refunded
    if from_cancellations.total != recorded.total:
        found.append(
            Mismatch(
                "order_refund_matches_cancellations",
                f"the order records a refund of {recorded.total}, its cancellations add up to "
                f"{from_cancellations.total} (minor units)",
                {"recorded": recorded.total, "from_cancellations": from_cancellations.total},
            )
        )
    if recorded.total > order.paid.total:
        found.append(
            Mismatch(
                "order_refund_within_paid",
                f"refunded {recorded.total} of {order.paid.total} paid (minor units)",
                {"refunded": recorded.total, "paid": order.paid.total},
            )
        )
    shipping_refunds = [c.refund.shipping_fee for c in cancellations if c.refund.shipping_fee]
    nothing_left = order.remaining_quantity == 0
    expected = [order.shipping_fee] if nothing_left and order.shipping_fee else []
    if shipping_refunds != expected or order.shipping_refunded != nothing_left:
        found.append(
            Mismatch(
                "shipping_refunded_once_at_the_end",
                "the shipping fee must be refunded exactly once, by the cancellation that "
                "leaves no unit",
                {
                    "shipping_fee": order.shipping_fee,
                    "times_refunded": len(shipping_refunds),
                    "units_left": order.remaining_quantity,
                },
            )
        )
    return found


def _status_checks(order: Order, stored_status: str | None) -> list[Mismatch]:
    found: list[Mismatch] = []
    for package in order.packages:
        lines = list(order.lines_of(package.package_id))
        all_cancelled = all(line.remaining_quantity == 0 for line in lines)
        if all_cancelled != (package.status is PackageStatus.CANCELLED):
            found.append(
                Mismatch(
                    "package_status",
                    f"package {package.package_id} is {package.status} with "
                    f"{sum(line.remaining_quantity for line in lines)} units left",
                    {"package_id": package.package_id, "status": package.status.value},
                )
            )
    derived = derive_order_status(p.status for p in order.packages)
    if stored_status is not None and stored_status != derived.value:
        found.append(
            Mismatch(
                "order_status",
                f"the order is stored as {stored_status} but its packages make it {derived}",
                {"stored": stored_status, "derived": derived.value},
            )
        )
    return found
