"""What the buyer's email about a cancellation says of the order beyond the cancellation
itself: who the buyer is, when the order was placed, how much of it there was and what is
still coming.

Taken from the order as the cancellation left it and stored with the cancellation, so the
email can be written from the cancellation alone, without reading the order again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model import Buyer, Order, PackageStatus


@dataclass(frozen=True, slots=True)
class ItemLeft:
    """Units of a line still on their way to the buyer."""

    product_name: str
    sku_name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class BuyerNotice:
    buyer: Buyer
    placed_at: datetime
    units_ordered: int
    # The shipping fee the buyer paid and has not had back, in minor units.
    unrefunded_shipping_fee: int
    items_left: tuple[ItemLeft, ...]

    @classmethod
    def of(cls, order: Order) -> BuyerNotice:
        return cls(
            buyer=order.buyer,
            placed_at=order.created_at,
            units_ordered=sum(line.quantity for line in order.lines),
            unrefunded_shipping_fee=0 if order.shipping_refunded else order.shipping_fee,
            items_left=tuple(
                ItemLeft(line.product_name, line.sku_name, remaining)
                for line in order.lines
                if (remaining := line.remaining_quantity) > 0
                and order.package_of(line).status is not PackageStatus.CANCELLED
            ),
        )
