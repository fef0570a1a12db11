"""The API's JSON shapes: pydantic models for what comes in, plain dicts for what goes out.

Input models reject unknown fields and never coerce types (``"2"`` is not a quantity,
``12.3`` is not an amount); cross-field rules are the domain's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from adapters.records import api_time
from domain.cancellation import (
    Cancellation,
    CancellationPlan,
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRefund,
    ItemRequest,
)
from domain.intake import LineDraft, PackageDraft
from domain.model import Buyer, Order, PackageStatus, Refund
from domain.money import format_amount

MAX_LINES = 100
MAX_PACKAGES = 50

# An address an email can be sent to: no display names, comments or IP literals.
EMAIL_ADDRESS = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def _instant(value: object) -> datetime:
    """An ISO 8601 time with a zone, such as ``2026-11-20T10:00:00Z``, as UTC."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string such as 2026-11-20T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 time such as 2026-11-20T10:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("must carry a time zone, such as Z or +02:00")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment.astimezone(UTC)


Instant = Annotated[datetime, BeforeValidator(_instant)]
Identifier = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")]
Text = Annotated[StrictStr, Field(min_length=1, max_length=500)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CancellationItemIn(_Input):
    line_id: StrictStr
    quantity: StrictInt


class CancellationRequestIn(_Input):
    reason: CancelReason
    scope: CancelScope
    items: list[CancellationItemIn] | None = None
    package_id: StrictStr | None = None
    note: StrictStr | None = None

    def to_domain(self) -> CancellationRequest:
        return CancellationRequest(
            reason=self.reason,
            scope=self.scope,
            items=tuple(ItemRequest(i.line_id, i.quantity) for i in self.items or ()),
            package_id=self.package_id,
            note=self.note,
        )


class BuyerIn(_Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    email: Annotated[StrictStr, Field(min_length=6, max_length=254, pattern=EMAIL_ADDRESS)]
    locale: Annotated[StrictStr, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] = "en-US"

    def to_domain(self) -> Buyer:
        return Buyer(name=self.name, email=self.email, locale=self.locale)


class PackageIn(_Input):
    package_id: Identifier
    status: PackageStatus


class LineIn(_Input):
    line_id: Identifier
    product_id: Identifier
    sku_id: Identifier
    product_name: Text
    sku_name: Annotated[StrictStr, Field(max_length=500)]
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    unit_price: StrictStr
    seller_discount: StrictStr
    platform_discount: StrictStr
    tax: StrictStr
    package_id: Identifier

    def to_draft(self) -> LineDraft:
        return LineDraft(**self.model_dump())


class OrderIn(_Input):
    order_id: Identifier
    seller_id: StrictStr
    currency: Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
    created_at: Instant
    buyer: BuyerIn
    shipping_fee: StrictStr
    packages: Annotated[list[PackageIn], Field(min_length=1, max_length=MAX_PACKAGES)]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]

    def package_drafts(self) -> list[PackageDraft]:
        return [PackageDraft(p.package_id, p.status) for p in self.packages]


# -- responses -------------------------------------------------------------------------
def refund_json(refund: Refund) -> dict[str, str]:
    def money(minor: int) -> str:
        return format_amount(minor, refund.currency)

    c = refund.components
    return {
        "currency": refund.currency,
        "subtotal": money(c.subtotal),
        "seller_discount": money(c.seller_discount),
        "platform_discount": money(c.platform_discount),
        "tax": money(c.tax),
        "shipping_fee": money(refund.shipping_fee),
        "total": money(refund.total),
    }


def order_json(order: Order) -> dict[str, Any]:
    def money(minor: int) -> str:
        return format_amount(minor, order.currency)

    packages = []
    for package in order.packages:
        eligibility = order.package_eligibility(package)
        packages.append(
            {
                "package_id": package.package_id,
                "status": package.status.value,
                "cancellable": eligibility.cancellable,
                "ineligible_reason": _value(eligibility.ineligible_reason),
            }
        )
    lines = []
    for line in order.lines:
        line_eligibility = order.line_eligibility(line)
        lines.append(
            {
                "line_id": line.line_id,
                "product_id": line.product_id,
                "sku_id": line.sku_id,
                "product_name": line.product_name,
                "sku_name": line.sku_name,
                "package_id": line.package_id,
                "quantity": line.quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "cancellable_quantity": line_eligibility.cancellable_quantity,
                "item_cancellable": line_eligibility.item_cancellable,
                "ineligible_reason": _value(line_eligibility.ineligible_reason),
                "unit_price": money(line.unit_price),
                "seller_discount": money(line.seller_discount),
                "platform_discount": money(line.platform_discount),
                "tax": money(line.tax),
            }
        )
    actions = order.actions
    return {
        "order_id": order.order_id,
        "status": order.status.value,
        "currency": order.currency,
        "created_at": api_time(order.created_at),
        "updated_at": api_time(order.updated_at),
        "version": order.version,
        "buyer": {"name": order.buyer.name, "email": order.buyer.masked_email},
        "shipping_fee": money(order.shipping_fee),
        "packages": packages,
        "lines": lines,
        "paid_total": money(order.paid.total),
        "refunded_total": money(order.refunded.total),
        "actions": {"cancel_order": actions.cancel_order, "cancel_items": actions.cancel_items},
    }


def _item_json(item: ItemRefund, with_names: bool) -> dict[str, Any]:
    if not with_names:
        return {
            "line_id": item.line_id,
            "quantity": item.quantity,
            "refund": refund_json(item.refund),
        }
    return {
        "line_id": item.line_id,
        "sku_id": item.sku_id,
        "product_name": item.product_name,
        "quantity": item.quantity,
        "refund": refund_json(item.refund),
    }


def preview_json(plan: CancellationPlan) -> dict[str, Any]:
    return {
        "order_version": plan.order_version,
        "refund": refund_json(plan.refund),
        "items": [_item_json(item, with_names=False) for item in plan.items],
        "resulting_order_status": plan.resulting_order_status.value,
    }


def cancellation_json(cancellation: Cancellation) -> dict[str, Any]:
    sent_at = cancellation.notification_sent_at
    return {
        "cancellation_id": cancellation.cancellation_id,
        "order_id": cancellation.order_id,
        "scope": cancellation.scope.value,
        "reason": cancellation.reason.value,
        "package_id": cancellation.package_id,
        "note": cancellation.note,
        "items": [_item_json(item, with_names=True) for item in cancellation.items],
        "refund": refund_json(cancellation.refund),
        "created_at": api_time(cancellation.created_at),
        "created_by": cancellation.created_by,
        "order_version": cancellation.order_version,
        "resulting_order_status": cancellation.resulting_order_status.value,
        "notification": {
            "status": cancellation.notification_status.value,
            "sent_at": api_time(sent_at) if sent_at else None,
        },
    }


def reasons_json() -> dict[str, Any]:
    return {
        "reasons": [
            {
                "code": reason.value,
                "label": reason.label,
                "item_level_allowed": reason.item_level_allowed,
            }
            for reason in CancelReason
        ]
    }


def _value(reason: Any) -> str | None:
    return None if reason is None else str(reason.value)


# -- documentation of the responses ------------------------------------------------------
# What the serializers above produce, as models for the OpenAPI document. A unit test
# validates every serializer's output against its model, so the two cannot drift apart.
class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


Money = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["12.30"])]


class RefundOut(_Output):
    currency: str
    subtotal: Money
    seller_discount: Money
    platform_discount: Money
    tax: Money
    shipping_fee: Money
    total: Money


class BuyerOut(_Output):
    name: str
    email: str = Field(description="masked: first character, ***, @ and the domain")


class PackageOut(_Output):
    package_id: str
    status: PackageStatus
    cancellable: bool
    ineligible_reason: str | None


class LineOut(_Output):
    line_id: str
    product_id: str
    sku_id: str
    product_name: str
    sku_name: str
    package_id: str
    quantity: int
    cancelled_quantity: int
    cancellable_quantity: int
    item_cancellable: bool
    ineligible_reason: str | None
    unit_price: Money
    seller_discount: Money
    platform_discount: Money
    tax: Money


class ActionsOut(_Output):
    cancel_order: bool
    cancel_items: bool


class OrderOut(_Output):
    order_id: str
    status: str
    currency: str
    created_at: str
    updated_at: str
    version: int
    buyer: BuyerOut
    shipping_fee: Money
    packages: list[PackageOut]
    lines: list[LineOut]
    paid_total: Money
    refunded_total: Money
    actions: ActionsOut


class OrdersPageOut(_Output):
    orders: list[OrderOut]
    next_page_token: str | None


class PreviewItemOut(_Output):
    line_id: str
    quantity: int
    refund: RefundOut


class PreviewOut(_Output):
    order_version: int
    refund: RefundOut
    items: list[PreviewItemOut]
    resulting_order_status: str


class CancellationItemOut(_Output):
    line_id: str
    sku_id: str
    product_name: str
    quantity: int
    refund: RefundOut


class NotificationOut(_Output):
    status: str = Field(description="PENDING, SENT or FAILED")
    sent_at: str | None


class CancellationOut(_Output):
    cancellation_id: str
    order_id: str
    scope: CancelScope
    reason: CancelReason
    package_id: str | None
    note: str | None
    items: list[CancellationItemOut]
    refund: RefundOut
    created_at: str
    created_by: str
    order_version: int
    resulting_order_status: str
    notification: NotificationOut


class CancellationsOut(_Output):
    cancellations: list[CancellationOut]


class ReasonOut(_Output):
    code: CancelReason
    label: str
    item_level_allowed: bool


class ReasonsOut(_Output):
    reasons: list[ReasonOut]


class FieldProblemOut(_Output):
    field: str
    message: str


class ProblemOut(_Output):
    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldProblemOut]


_ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR, IDEMPOTENCY_KEY_REQUIRED or INVALID_PAGE_TOKEN",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "ORDER_NOT_FOUND",
    409: "a rule of the order's current state forbids it (see the code)",
    412: "ORDER_VERSION_MISMATCH",
    413: "PAYLOAD_TOO_LARGE",
    422: "REASON_NOT_ALLOWED_FOR_ITEMS, UNKNOWN_LINE or UNKNOWN_PACKAGE",
    503: "temporarily unavailable; retry after Retry-After seconds",
}


def documented_responses(
    success: dict[int, tuple[str, type[BaseModel]]], errors: tuple[int, ...]
) -> dict[int, Any]:
    """Powertools ``responses=`` for a route: its successes and its problem+json errors."""
    responses: dict[int, Any] = {
        status: {"description": text, "content": {"application/json": {"model": model}}}
        for status, (text, model) in success.items()
    }
    for status in (400, 401, 403, *errors, 503):
        responses[status] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {"application/problem+json": {"model": ProblemOut}},
        }
    return responses
