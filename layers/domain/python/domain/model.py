"""The order aggregate: lines, packages, statuses and what has been cancelled and refunded.

Every object is immutable; a change produces a new ``Order`` with a higher version, so
a rule that fails half way through leaves the order it was given untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PackageStatus(StrEnum):
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    AWAITING_COLLECTION = "AWAITING_COLLECTION"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class OrderStatus(StrEnum):
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    AWAITING_COLLECTION = "AWAITING_COLLECTION"
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class IneligibleReason(StrEnum):
    ORDER_NOT_AWAITING_SHIPMENT = "ORDER_NOT_AWAITING_SHIPMENT"
    PACKAGE_NOT_AWAITING_SHIPMENT = "PACKAGE_NOT_AWAITING_SHIPMENT"
    PACKAGE_NOT_CANCELLABLE = "PACKAGE_NOT_CANCELLABLE"
    FULLY_CANCELLED = "FULLY_CANCELLED"


SHIPPED = frozenset({PackageStatus.IN_TRANSIT, PackageStatus.DELIVERED})
NOT_YET_SHIPPED = frozenset({PackageStatus.AWAITING_SHIPMENT, PackageStatus.AWAITING_COLLECTION})
WHOLE_CANCEL_ORDER_STATUSES = frozenset(
    {OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION}
)


@dataclass(frozen=True, slots=True)
class Components:
    """The four per-line money components, in minor units."""

    subtotal: int = 0
    seller_discount: int = 0
    platform_discount: int = 0
    tax: int = 0

    def __add__(self, other: Components) -> Components:
        return Components(
            self.subtotal + other.subtotal,
            self.seller_discount + other.seller_discount,
            self.platform_discount + other.platform_discount,
            self.tax + other.tax,
        )

    def __sub__(self, other: Components) -> Components:
        return Components(
            self.subtotal - other.subtotal,
            self.seller_discount - other.seller_discount,
            self.platform_discount - other.platform_discount,
            self.tax - other.tax,
        )

    @property
    def total(self) -> int:
        return self.subtotal - self.seller_discount - self.platform_discount + self.tax

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.subtotal, self.seller_discount, self.platform_discount, self.tax)

    @staticmethod
    def sum(parts: Iterable[Components]) -> Components:
        result = Components()
        for part in parts:
            result = result + part
        return result


@dataclass(frozen=True, slots=True)
class Refund:
    """What a cancellation gives back: the four components plus any shipping fee."""

    currency: str
    components: Components = Components()
    shipping_fee: int = 0

    @property
    def total(self) -> int:
        return self.components.total + self.shipping_fee

    def __add__(self, other: Refund) -> Refund:
        if other.currency != self.currency:
            raise ValueError("cannot add refunds in different currencies")
        return Refund(
            self.currency,
            self.components + other.components,
            self.shipping_fee + other.shipping_fee,
        )


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str
    email: str
    locale: str = "en-US"

    @property
    def masked_email(self) -> str:
        local, _, domain = self.email.partition("@")
        return f"{local[:1]}***@{domain}"


@dataclass(frozen=True, slots=True)
class Package:
    package_id: str
    status: PackageStatus


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    product_id: str
    sku_id: str
    product_name: str
    sku_name: str
    package_id: str
    quantity: int
    unit_price: int
    seller_discount: int
    platform_discount: int
    tax: int
    cancelled_quantity: int = 0
    refunded: Components = Components()

    @property
    def charged(self) -> Components:
        """The line's totals for all of its units."""
        return Components(
            self.unit_price * self.quantity, self.seller_discount, self.platform_discount, self.tax
        )

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity

    @property
    def left_to_refund(self) -> Components:
        return self.charged - self.refunded


@dataclass(frozen=True, slots=True)
class LineEligibility:
    cancellable_quantity: int
    item_cancellable: bool
    ineligible_reason: IneligibleReason | None


@dataclass(frozen=True, slots=True)
class PackageEligibility:
    cancellable: bool
    ineligible_reason: IneligibleReason | None


@dataclass(frozen=True, slots=True)
class Actions:
    cancel_order: bool
    cancel_items: bool


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    seller_id: str
    currency: str
    created_at: datetime
    updated_at: datetime
    buyer: Buyer
    shipping_fee: int
    packages: tuple[Package, ...]
    lines: tuple[Line, ...]
    version: int = 1
    shipping_refunded: bool = False
    _packages_by_id: dict[str, Package] = field(init=False, repr=False, compare=False)
    _lines_by_id: dict[str, Line] = field(init=False, repr=False, compare=False)
    _status: OrderStatus = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_packages_by_id", {p.package_id: p for p in self.packages})
        object.__setattr__(self, "_lines_by_id", {line.line_id: line for line in self.lines})
        # Asked once per line when eligibility is shown; the packages never change.
        object.__setattr__(self, "_status", derive_order_status(p.status for p in self.packages))

    # -- look-ups ---------------------------------------------------------------------
    def package(self, package_id: str) -> Package | None:
        return self._packages_by_id.get(package_id)

    def line(self, line_id: str) -> Line | None:
        return self._lines_by_id.get(line_id)

    def lines_of(self, package_id: str) -> Iterator[Line]:
        return (line for line in self.lines if line.package_id == package_id)

    def package_of(self, line: Line) -> Package:
        return self._packages_by_id[line.package_id]

    # -- derived state ----------------------------------------------------------------
    @property
    def status(self) -> OrderStatus:
        return self._status

    @property
    def remaining_quantity(self) -> int:
        return sum(line.remaining_quantity for line in self.lines)

    @property
    def paid(self) -> Refund:
        """What the buyer paid, as a refund of everything would give it back."""
        return Refund(
            self.currency, Components.sum(line.charged for line in self.lines), self.shipping_fee
        )

    @property
    def refunded(self) -> Refund:
        return Refund(
            self.currency,
            Components.sum(line.refunded for line in self.lines),
            self.shipping_fee if self.shipping_refunded else 0,
        )

    @property
    def product_ids(self) -> frozenset[str]:
        return frozenset(line.product_id for line in self.lines)

    # -- eligibility: the one statement of what may be cancelled, which the order's view
    # shows and domain.cancellation enforces --------------------------------------------
    @property
    def whole_cancellable(self) -> bool:
        """The whole order, or one of its packages not yet shipped, may be cancelled."""
        return self.status in WHOLE_CANCEL_ORDER_STATUSES

    @property
    def items_cancellable(self) -> bool:
        """Units of its lines may be cancelled one by one (in packages awaiting shipment)."""
        return self.status is OrderStatus.AWAITING_SHIPMENT

    def line_eligibility(self, line: Line) -> LineEligibility:
        reason: IneligibleReason | None = None
        if line.remaining_quantity == 0:
            reason = IneligibleReason.FULLY_CANCELLED
        elif not self.items_cancellable:
            reason = IneligibleReason.ORDER_NOT_AWAITING_SHIPMENT
        elif self.package_of(line).status is not PackageStatus.AWAITING_SHIPMENT:
            reason = IneligibleReason.PACKAGE_NOT_AWAITING_SHIPMENT
        if reason is not None:
            return LineEligibility(0, False, reason)
        return LineEligibility(line.remaining_quantity, True, None)

    def package_eligibility(self, package: Package) -> PackageEligibility:
        if package.status is PackageStatus.CANCELLED:
            return PackageEligibility(False, IneligibleReason.FULLY_CANCELLED)
        if self.whole_cancellable and package.status in NOT_YET_SHIPPED:
            return PackageEligibility(True, None)
        return PackageEligibility(False, IneligibleReason.PACKAGE_NOT_CANCELLABLE)

    @property
    def actions(self) -> Actions:
        return Actions(
            cancel_order=self.whole_cancellable,
            cancel_items=any(self.line_eligibility(line).item_cancellable for line in self.lines),
        )


def derive_order_status(package_statuses: Iterable[PackageStatus]) -> OrderStatus:
    """The order status from its packages, as API.md's "Order statuses" section defines it."""
    statuses = list(package_statuses)
    live = [s for s in statuses if s is not PackageStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    shipped = [s for s in live if s in SHIPPED]
    if not shipped:
        if PackageStatus.AWAITING_SHIPMENT in live:
            return OrderStatus.AWAITING_SHIPMENT
        return OrderStatus.AWAITING_COLLECTION
    if len(shipped) < len(live):
        return OrderStatus.PARTIALLY_SHIPPING
    if all(s is PackageStatus.DELIVERED for s in live):
        return OrderStatus.DELIVERED
    return OrderStatus.IN_TRANSIT
