"""Building a new order from what the order system sends, with every cross-field check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import FieldError, RequestInvalid
from domain.limits import MAX_DISTINCT_PRODUCTS
from domain.model import Buyer, Line, Order, Package, PackageStatus
from domain.money import MINOR_UNITS, format_amount, parse_amount

# An order's products are indexed for listing in the same transaction as the order itself.


@dataclass(frozen=True, slots=True)
class PackageDraft:
    package_id: str
    status: PackageStatus


@dataclass(frozen=True, slots=True)
class LineDraft:
    line_id: str
    product_id: str
    sku_id: str
    product_name: str
    sku_name: str
    package_id: str
    quantity: int
    unit_price: str
    seller_discount: str
    platform_discount: str
    tax: str


def new_order(
    *,
    order_id: str,
    seller_id: str,
    currency: str,
    created_at: datetime,
    buyer: Buyer,
    shipping_fee: str,
    packages: Sequence[PackageDraft],
    lines: Sequence[LineDraft],
    now: datetime,
) -> Order:
    """A version-1 order, or ``RequestInvalid`` listing every problem found."""
    problems: list[FieldError] = []
    if currency not in MINOR_UNITS:
        raise RequestInvalid(
            f"unsupported currency {currency!r}",
            (FieldError("currency", f"must be one of {', '.join(sorted(MINOR_UNITS))}"),),
        )
    if created_at.tzinfo is None:
        problems.append(FieldError("created_at", "must carry a time zone"))
    if "@" not in buyer.email:
        problems.append(FieldError("buyer.email", "must be an email address"))

    def amount(value: str, field: str) -> int | None:
        """The amount in minor units, or None (its problem noted) when it is not one."""
        try:
            return parse_amount(value, currency, field)
        except RequestInvalid as error:
            problems.extend(error.errors)
            return None

    shipping = amount(shipping_fee, "shipping_fee") or 0

    if not packages:
        problems.append(FieldError("packages", "must have at least one package"))
    if not lines:
        problems.append(FieldError("lines", "must have at least one line"))
    package_ids: set[str] = set()
    for index, package in enumerate(packages):
        if package.package_id in package_ids:
            problems.append(FieldError(f"packages[{index}].package_id", "is repeated"))
        package_ids.add(package.package_id)
        if package.status is PackageStatus.CANCELLED:
            problems.append(
                FieldError(
                    f"packages[{index}].status",
                    "a new order cannot hold a cancelled package; cancel it through the API",
                )
            )

    built: list[Line] = []
    line_ids: set[str] = set()
    packages_with_lines: set[str] = set()
    for index, draft in enumerate(lines):
        where = f"lines[{index}]"
        if draft.line_id in line_ids:
            problems.append(FieldError(f"{where}.line_id", "is repeated"))
        line_ids.add(draft.line_id)
        if draft.package_id not in package_ids:
            problems.append(
                FieldError(f"{where}.package_id", f"unknown package {draft.package_id}")
            )
        packages_with_lines.add(draft.package_id)
        if draft.quantity < 1:
            problems.append(FieldError(f"{where}.quantity", "must be at least 1"))
        unit_price = amount(draft.unit_price, f"{where}.unit_price")
        seller_discount = amount(draft.seller_discount, f"{where}.seller_discount")
        platform_discount = amount(draft.platform_discount, f"{where}.platform_discount")
        tax = amount(draft.tax, f"{where}.tax")
        # The subtotal is only known, and the discounts only comparable to it, when each of
        # them is a valid amount and the quantity a valid count.
        if (
            unit_price is not None
            and seller_discount is not None
            and platform_discount is not None
            and draft.quantity >= 1
            and seller_discount + platform_discount > unit_price * draft.quantity
        ):
            subtotal = format_amount(unit_price * draft.quantity, currency)
            problems.append(
                FieldError(
                    f"{where}.seller_discount",
                    f"the two discounts together exceed the line's subtotal ({subtotal})",
                )
            )
        built.append(
            Line(
                line_id=draft.line_id,
                product_id=draft.product_id,
                sku_id=draft.sku_id,
                product_name=draft.product_name,
                sku_name=draft.sku_name,
                package_id=draft.package_id,
                quantity=draft.quantity,
                unit_price=unit_price or 0,
                seller_discount=seller_discount or 0,
                platform_discount=platform_discount or 0,
                tax=tax or 0,
            )
        )
    for index, package in enumerate(packages):
        if package.package_id not in packages_with_lines:
            problems.append(FieldError(f"packages[{index}]", "has no lines"))
    if len({draft.product_id for draft in lines}) > MAX_DISTINCT_PRODUCTS:
        problems.append(
            FieldError("lines", f"at most {MAX_DISTINCT_PRODUCTS} distinct products per order")
        )

    if problems:
        raise RequestInvalid(
            "; ".join(f"{p.field}: {p.message}" for p in problems), tuple(problems)
        )
    return Order(
        order_id=order_id,
        seller_id=seller_id,
        currency=currency,
        created_at=created_at,
        updated_at=now,
        buyer=buyer,
        shipping_fee=shipping,
        packages=tuple(Package(p.package_id, p.status) for p in packages),
        lines=tuple(built),
    )
