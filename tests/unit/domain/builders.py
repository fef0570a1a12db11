"""Factories for orders and cancellation requests, shaped like API.md's examples.

Orders are built through ``domain.intake.new_order`` with amounts as decimal strings, so a
test reads like the ``OrderInput`` it stands for.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from domain.cancellation import (
    Cancellation,
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRequest,
    cancel,
)
from domain.intake import LineDraft, PackageDraft, new_order
from domain.model import Buyer, Order, PackageStatus

CREATED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
ANA = Buyer(name="Ana Ruiz", email="ana@example.com", locale="en-US")
ACTOR = "seller-user-1"

AWAITING_SHIPMENT = PackageStatus.AWAITING_SHIPMENT
AWAITING_COLLECTION = PackageStatus.AWAITING_COLLECTION
IN_TRANSIT = PackageStatus.IN_TRANSIT
DELIVERED = PackageStatus.DELIVERED
CANCELLED = PackageStatus.CANCELLED


def line(
    line_id: str = "L1",
    *,
    package_id: str = "PK1",
    quantity: int = 1,
    unit_price: str = "10.00",
    seller_discount: str = "0",
    platform_discount: str = "0",
    tax: str = "0",
    product_id: str | None = None,
    sku_id: str | None = None,
    product_name: str = "Mug",
    sku_name: str = "Blue",
) -> LineDraft:
    return LineDraft(
        line_id=line_id,
        product_id=product_id or f"P-{line_id}",
        sku_id=sku_id or f"K-{line_id}",
        product_name=product_name,
        sku_name=sku_name,
        package_id=package_id,
        quantity=quantity,
        unit_price=unit_price,
        seller_discount=seller_discount,
        platform_discount=platform_discount,
        tax=tax,
    )


def package(package_id: str = "PK1", status: PackageStatus = AWAITING_SHIPMENT) -> PackageDraft:
    return PackageDraft(package_id=package_id, status=status)


def order_fields(
    *lines: LineDraft,
    packages: list[PackageDraft] | None = None,
    currency: str = "USD",
    shipping_fee: str = "0",
    order_id: str = "O1",
    seller_id: str = "S1",
    buyer: Buyer = ANA,
    created_at: datetime = CREATED_AT,
) -> dict[str, Any]:
    """Keyword arguments for ``new_order``; by default one awaiting package per line's package."""
    if packages is None:
        package_ids = list(dict.fromkeys(draft.package_id for draft in lines))
        packages = [package(package_id) for package_id in package_ids]
    return {
        "order_id": order_id,
        "seller_id": seller_id,
        "currency": currency,
        "created_at": created_at,
        "buyer": buyer,
        "shipping_fee": shipping_fee,
        "packages": packages,
        "lines": list(lines),
        "now": CREATED_AT,
    }


def order(*lines: LineDraft, **fields: Any) -> Order:
    """A new order of ``lines``; ``fields`` as ``order_fields`` takes them."""
    return new_order(**order_fields(*lines, **fields))


def mug_order(status: PackageStatus = AWAITING_SHIPMENT) -> Order:
    """API.md's OrderInput: 3 Mugs at 10.00, discounts 3.00 and 1.50, tax 2.04, shipping 5.99."""
    return order(
        line(
            "L1",
            product_id="P1",
            sku_id="K1",
            quantity=3,
            unit_price="10.00",
            seller_discount="3.00",
            platform_discount="1.50",
            tax="2.04",
        ),
        packages=[package("PK1", status)],
        shipping_fee="5.99",
    )


def split_order(
    pk1: PackageStatus = AWAITING_SHIPMENT, pk2: PackageStatus = AWAITING_SHIPMENT
) -> Order:
    """The Mug line in PK1 and 2 Plates at 7.50 (platform discount 0.50, tax 1.20) in PK2."""
    return order(
        line(
            "L1",
            package_id="PK1",
            quantity=3,
            unit_price="10.00",
            seller_discount="3.00",
            platform_discount="1.50",
            tax="2.04",
        ),
        line(
            "L2",
            package_id="PK2",
            product_name="Plate",
            sku_name="White",
            quantity=2,
            unit_price="7.50",
            platform_discount="0.50",
            tax="1.20",
        ),
        packages=[package("PK1", pk1), package("PK2", pk2)],
        shipping_fee="5.99",
    )


def items_request(
    *pairs: tuple[str, int],
    reason: CancelReason = CancelReason.OUT_OF_STOCK,
    note: str | None = None,
) -> CancellationRequest:
    return CancellationRequest(
        reason=reason,
        scope=CancelScope.ITEMS,
        items=tuple(ItemRequest(line_id, quantity) for line_id, quantity in pairs),
        note=note,
    )


def package_request(
    package_id: str, reason: CancelReason = CancelReason.BUYER_REQUESTED
) -> CancellationRequest:
    return CancellationRequest(reason=reason, scope=CancelScope.PACKAGE, package_id=package_id)


def order_request(reason: CancelReason = CancelReason.BUYER_REQUESTED) -> CancellationRequest:
    return CancellationRequest(reason=reason, scope=CancelScope.ORDER)


def apply(
    given: Order, request: CancellationRequest, cancellation_id: str = "C1"
) -> tuple[Order, Cancellation]:
    return cancel(given, request, cancellation_id=cancellation_id, actor=ACTOR, now=NOW)


def after(given: Order, *requests: CancellationRequest) -> Order:
    """The order once every request has been applied, in turn."""
    for request in requests:
        given, _record = apply(given, request)
    return given


def snapshot(given: Order) -> Order:
    """An independent copy to compare against after an operation that must change nothing."""
    return copy.deepcopy(given)
