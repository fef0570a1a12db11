"""Cancellation rules and refund math.

``plan_cancellation`` decides whether a request is allowed and what it refunds; preview
shows that plan and ``cancel`` applies it, so the two can never disagree. Refunds follow
unit shares (see ``line_refund``): every unit of a line carries a fixed share of each money
component, and cancelling units refunds their shares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import (
    FieldError,
    ItemNotCancellable,
    OrderNotCancellable,
    PackageNotCancellable,
    QuantityExceedsCancellable,
    ReasonNotAllowedForItems,
    RequestInvalid,
    UnknownLine,
    UnknownPackage,
)
from domain.limits import MAX_ITEMS, MAX_NOTE_LENGTH
from domain.model import (
    Components,
    Line,
    Order,
    OrderStatus,
    PackageStatus,
    Refund,
)


class CancelScope(StrEnum):
    ORDER = "ORDER"
    PACKAGE = "PACKAGE"
    ITEMS = "ITEMS"


class CancelReason(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PRICING_ERROR = "PRICING_ERROR"
    UNABLE_TO_DELIVER = "UNABLE_TO_DELIVER"
    BUYER_REQUESTED = "BUYER_REQUESTED"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]

    @property
    def item_level_allowed(self) -> bool:
        return self is CancelReason.OUT_OF_STOCK


_REASON_LABELS = {
    CancelReason.OUT_OF_STOCK: "Out of stock",
    CancelReason.PRICING_ERROR: "Pricing error",
    CancelReason.UNABLE_TO_DELIVER: "Unable to deliver",
    CancelReason.BUYER_REQUESTED: "Buyer requested",
}


class NotificationStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class ItemRequest:
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CancellationRequest:
    """A seller's request, checked for shape on construction (400 ``VALIDATION_ERROR``)."""

    reason: CancelReason
    scope: CancelScope
    items: tuple[ItemRequest, ...] = ()
    package_id: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        problems: list[FieldError] = []
        if self.scope is CancelScope.ITEMS:
            if not 1 <= len(self.items) <= MAX_ITEMS:
                problems.append(FieldError("items", f"must have 1 to {MAX_ITEMS} entries"))
            seen: set[str] = set()
            for index, item in enumerate(self.items):
                if item.quantity < 1:
                    problems.append(FieldError(f"items[{index}].quantity", "must be at least 1"))
                if item.line_id in seen:
                    problems.append(
                        FieldError(f"items[{index}].line_id", f"line {item.line_id} is repeated")
                    )
                seen.add(item.line_id)
        elif self.items:
            problems.append(FieldError("items", "only allowed with scope ITEMS"))
        if self.scope is CancelScope.PACKAGE:
            if not self.package_id:
                problems.append(FieldError("package_id", "required with scope PACKAGE"))
        elif self.package_id is not None:
            problems.append(FieldError("package_id", "only allowed with scope PACKAGE"))
        if self.note is not None and len(self.note) > MAX_NOTE_LENGTH:
            problems.append(FieldError("note", f"at most {MAX_NOTE_LENGTH} characters"))
        if problems:
            raise RequestInvalid(
                "; ".join(f"{p.field}: {p.message}" for p in problems), tuple(problems)
            )


@dataclass(frozen=True, slots=True)
class ItemRefund:
    line_id: str
    sku_id: str
    product_name: str
    sku_name: str
    quantity: int
    refund: Refund


@dataclass(frozen=True, slots=True)
class CancellationPlan:
    """The outcome of a request before it is stored: what it cancels and refunds."""

    request: CancellationRequest
    order_version: int
    items: tuple[ItemRefund, ...]
    refund: Refund
    resulting_order: Order

    @property
    def resulting_order_status(self) -> OrderStatus:
        return self.resulting_order.status


@dataclass(frozen=True, slots=True)
class Cancellation:
    cancellation_id: str
    order_id: str
    seller_id: str
    scope: CancelScope
    reason: CancelReason
    package_id: str | None
    note: str | None
    items: tuple[ItemRefund, ...]
    refund: Refund
    created_at: datetime
    created_by: str
    order_version: int
    resulting_order_status: OrderStatus
    notification_status: NotificationStatus = NotificationStatus.PENDING
    notification_sent_at: datetime | None = None


def line_refund(line: Line, quantity: int) -> Components:
    """What cancelling ``quantity`` of the line's not yet cancelled units refunds.

    Unit shares: each of the line's ``q`` units carries ``C // q`` minor units of a
    component ``C``; the ``C % q`` left over go one each to units 1, 2, ... for the seller
    discount and the tax, and to units q, q-1, ... for the platform discount, so no unit's
    discounts exceed its price. A cancellation takes the highest-numbered units not yet
    cancelled and refunds the sum of their shares; the one that takes the line's last units
    refunds all that is left, and no other refunds more of a component than is left.
    """
    remaining = line.remaining_quantity
    if not 1 <= quantity <= remaining:
        raise ValueError(f"cannot refund {quantity} of {remaining} remaining units")
    left = line.left_to_refund
    if quantity == remaining:
        return left
    # The units left are 1 to ``remaining``. When every earlier refund followed this rule,
    # what is left of a component is the sum of their shares, and those shares are that sum
    # spread over them the same way: ``C // q`` or one more each, the ones with one more
    # first (last for the platform discount). So the units taken, the last ``quantity`` of
    # those left, carry the last ``quantity`` shares of what is left. On a line partly
    # refunded by an earlier rule, the same computation shares out what is left over the
    # units left: no cancellation refunds more of a component than is left, or less than 0.
    return Components(
        line.unit_price * quantity,
        _last_units_share(left.seller_discount, remaining, quantity, extras_first=True),
        _last_units_share(left.platform_discount, remaining, quantity, extras_first=False),
        _last_units_share(left.tax, remaining, quantity, extras_first=True),
    )


def _last_units_share(amount: int, units: int, taken: int, *, extras_first: bool) -> int:
    """What the last ``taken`` of ``units`` units carry of ``amount`` spread over them.

    Each carries ``amount // units``; the ``amount % units`` left over go one each to the
    first units when ``extras_first``, otherwise to the last ones.
    """
    each, extra = divmod(amount, units)
    extras = max(0, extra - (units - taken)) if extras_first else min(taken, extra)
    return each * taken + extras


def plan_cancellation(order: Order, request: CancellationRequest) -> CancellationPlan:
    """Check ``request`` against ``order`` and compute its refund and the resulting order.

    Raises the domain error of API.md's precedence: 422 before 409, and within 409
    order, then package, then item, then quantity.
    """
    units = _units_to_cancel(order, request)
    return _plan(order, request, units)


def cancel(
    order: Order,
    request: CancellationRequest,
    *,
    cancellation_id: str,
    actor: str,
    now: datetime,
) -> tuple[Order, Cancellation]:
    """Apply ``request``: the order after it and the record of the cancellation."""
    plan = plan_cancellation(order, request)
    resulting = replace(plan.resulting_order, updated_at=now)
    record = Cancellation(
        cancellation_id=cancellation_id,
        order_id=order.order_id,
        seller_id=order.seller_id,
        scope=request.scope,
        reason=request.reason,
        package_id=request.package_id,
        note=request.note,
        items=plan.items,
        refund=plan.refund,
        created_at=now,
        created_by=actor,
        order_version=resulting.version,
        resulting_order_status=resulting.status,
    )
    return resulting, record


def _units_to_cancel(order: Order, request: CancellationRequest) -> list[tuple[Line, int]]:
    if request.scope is CancelScope.ITEMS:
        return _item_units(order, request)
    if request.scope is CancelScope.PACKAGE:
        return _package_units(order, request)
    return _order_units(order)


def _order_units(order: Order) -> list[tuple[Line, int]]:
    if not order.whole_cancellable:
        raise OrderNotCancellable(
            f"order {order.order_id} is {order.status}; whole orders can be cancelled only "
            "while awaiting shipment or collection"
        )
    return [(line, line.remaining_quantity) for line in order.lines if line.remaining_quantity]


def _package_units(order: Order, request: CancellationRequest) -> list[tuple[Line, int]]:
    package_id = request.package_id or ""
    package = order.package(package_id)
    if package is None:
        raise UnknownPackage(
            f"order {order.order_id} has no package {package_id}",
            (FieldError("package_id", "unknown package"),),
        )
    if not order.whole_cancellable:
        raise OrderNotCancellable(
            f"order {order.order_id} is {order.status}; packages can be cancelled only while "
            "the order is awaiting shipment or collection"
        )
    if not order.package_eligibility(package).cancellable:
        raise PackageNotCancellable(
            f"package {package_id} is {package.status}",
            (FieldError("package_id", f"package is {package.status}"),),
        )
    return [
        (line, line.remaining_quantity)
        for line in order.lines_of(package_id)
        if line.remaining_quantity
    ]


def _item_units(order: Order, request: CancellationRequest) -> list[tuple[Line, int]]:
    if not request.reason.item_level_allowed:
        raise ReasonNotAllowedForItems(
            f"reason {request.reason} does not allow cancelling single items",
            (FieldError("reason", "use a reason that allows item-level cancellation"),),
        )
    unknown = [
        FieldError(f"items[{index}].line_id", f"unknown line {item.line_id}")
        for index, item in enumerate(request.items)
        if order.line(item.line_id) is None
    ]
    if unknown:
        raise UnknownLine(
            "order "
            + order.order_id
            + " has no line "
            + ", ".join(r.line_id for r in request.items if order.line(r.line_id) is None),
            tuple(unknown),
        )
    if not order.items_cancellable:
        raise OrderNotCancellable(
            f"order {order.order_id} is {order.status}; items can be cancelled only while the "
            "order is awaiting shipment"
        )
    lines = [
        (index, item, _known_line(order, item.line_id)) for index, item in enumerate(request.items)
    ]
    not_cancellable = [
        FieldError(f"items[{index}].line_id", _item_problem(order, line))
        for index, _item, line in lines
        if not order.line_eligibility(line).item_cancellable
    ]
    if not_cancellable:
        raise ItemNotCancellable(
            "; ".join(p.message for p in not_cancellable), tuple(not_cancellable)
        )
    exceeding = [
        (index, item, line)
        for index, item, line in lines
        if item.quantity > line.remaining_quantity
    ]
    if exceeding:
        raise QuantityExceedsCancellable(
            "; ".join(
                f"line {line.line_id}: {item.quantity} requested, "
                f"{line.remaining_quantity} cancellable"
                for _index, item, line in exceeding
            ),
            tuple(
                FieldError(
                    f"items[{index}].quantity", f"at most {line.remaining_quantity} cancellable"
                )
                for index, _item, line in exceeding
            ),
        )
    return [(line, item.quantity) for _index, item, line in lines]


def _known_line(order: Order, line_id: str) -> Line:
    line = order.line(line_id)
    if line is None:  # pragma: no cover - unknown lines were rejected above
        raise UnknownLine(f"order {order.order_id} has no line {line_id}")
    return line


def _item_problem(order: Order, line: Line) -> str:
    if line.remaining_quantity == 0:
        return f"line {line.line_id} is fully cancelled"
    package = order.package_of(line)
    return f"line {line.line_id} is in package {package.package_id}, which is {package.status}"


def _plan(
    order: Order, request: CancellationRequest, units: list[tuple[Line, int]]
) -> CancellationPlan:
    items: list[ItemRefund] = []
    updated: dict[str, Line] = {}
    for line, quantity in units:
        components = line_refund(line, quantity)
        items.append(
            ItemRefund(
                line_id=line.line_id,
                sku_id=line.sku_id,
                product_name=line.product_name,
                sku_name=line.sku_name,
                quantity=quantity,
                refund=Refund(order.currency, components),
            )
        )
        updated[line.line_id] = replace(
            line,
            cancelled_quantity=line.cancelled_quantity + quantity,
            refunded=line.refunded + components,
        )
    lines = tuple(updated.get(line.line_id, line) for line in order.lines)
    nothing_left = all(line.remaining_quantity == 0 for line in lines)
    shipping_refund = order.shipping_fee if nothing_left and not order.shipping_refunded else 0
    packages = tuple(
        replace(package, status=PackageStatus.CANCELLED)
        if package.status is not PackageStatus.CANCELLED
        and all(
            line.remaining_quantity == 0 for line in lines if line.package_id == package.package_id
        )
        else package
        for package in order.packages
    )
    resulting = replace(
        order,
        lines=lines,
        packages=packages,
        shipping_refunded=order.shipping_refunded or nothing_left,
        version=order.version + 1,
    )
    refund = Refund(
        order.currency, Components.sum(item.refund.components for item in items), shipping_refund
    )
    return CancellationPlan(
        request=request,
        order_version=order.version,
        items=tuple(items),
        refund=refund,
        resulting_order=resulting,
    )
