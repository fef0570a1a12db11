"""The API's JSON shapes: pydantic models for what comes in, plain dicts for what goes out.

Input models reject unknown fields and never coerce types (``"2"`` is not a quantity,
``12.3`` is not an amount). They say everything about a request that JSON Schema can say,
so that the OpenAPI document generated from them describes what is accepted; the rules
that relate fields to each other are the domain's, and each model's description names them.
Every pattern has words (``PATTERN_MESSAGES``): a client is told what a value must look
like, never a regular expression.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictInt,
    StrictStr,
)
from pydantic_core import PydanticCustomError

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
from domain.catalog import Product
from domain.intake import LineDraft, PackageDraft
from domain.limits import (
    MAX_ITEMS,
    MAX_LINES,
    MAX_NOTE_LENGTH,
    MAX_PACKAGES,
    MAX_PAGE_TOKEN_LENGTH,
    MAX_QUANTITY,
)
from domain.model import Buyer, Order, PackageStatus, Refund
from domain.money import MINOR_UNITS, format_amount

CURRENCIES = tuple(sorted(MINOR_UNITS))
# The tags of the cancellation request's variants.
SCOPE_TAGS = frozenset(scope.value for scope in CancelScope)

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
IDENTIFIER_WORDS = "1 to 128 letters, digits and . _ : -, starting with a letter or digit"
# A non-negative decimal string with no more decimals than any currency has; how many a
# given currency allows is checked against the order's currency.
AMOUNT_DECIMALS = max(MINOR_UNITS.values())
AMOUNT_PATTERN = rf"^(0|[1-9][0-9]{{0,14}})(\.[0-9]{{1,{AMOUNT_DECIMALS}}})?$"
_NO_DECIMALS = ", ".join(sorted(c for c, digits in MINOR_UNITS.items() if digits == 0))
AMOUNT_WORDS = (
    f'a non-negative decimal string such as "12.30", with at most {AMOUNT_DECIMALS} '
    f"decimals ({_NO_DECIMALS}: none)"
)
# An address an email can be sent to: no display names, comments or IP literals.
EMAIL_ADDRESS = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
# Printable ASCII, 1 to 128 characters. HTTP drops the spaces around a header value, so a
# key neither starts nor ends with one.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,126}[!-~])?$"
# An order version, quoted as in the ETag or bare; "*" (any version) is the same as none.
IF_MATCH_PATTERN = r'^[ \t]*(\*|"[0-9]{1,18}"|[0-9]{1,18})?[ \t]*$'
# What ``PageTokens`` issues: two base64url parts; empty is the same as none.
PAGE_TOKEN_PATTERN = r"^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?$"  # noqa: S105 - not a secret
PAGE_TOKEN_MAX_LENGTH = MAX_PAGE_TOKEN_LENGTH
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
# The years EARLIEST_YEAR to LATEST_YEAR, as the schema can say it of a date-time's text.
YEAR_PATTERN = r"^(20[0-9]{2}|2100)-"

PATTERN_MESSAGES: dict[str, str] = {
    IDENTIFIER_PATTERN: f"must be {IDENTIFIER_WORDS}",
    AMOUNT_PATTERN: f"must be {AMOUNT_WORDS}",
    EMAIL_ADDRESS: "must be a deliverable email address such as ana@example.com",
    LOCALE_PATTERN: "must be a locale such as en-US or pt-BR",
    IDEMPOTENCY_KEY_PATTERN: (
        "must be 1 to 128 printable ASCII characters, not starting or ending with a space"
    ),
    IF_MATCH_PATTERN: 'must be an order version from the ETag, such as "3"',
    PAGE_TOKEN_PATTERN: "must be a next_page_token as a previous page returned it",
    YEAR_PATTERN: f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}",
}


def pattern_message(pattern: str) -> str:
    """What a value that does not match ``pattern`` should have been, in words."""
    return PATTERN_MESSAGES.get(pattern, "does not have the form this value takes")


def _instant(value: object) -> datetime:
    """An ISO 8601 time with a zone, such as ``2026-11-20T10:00:00Z``, as UTC."""
    example = "such as 2026-11-20T10:00:00Z"
    if not isinstance(value, str):
        raise PydanticCustomError("instant", f"must be a string with a date and time {example}")
    try:
        # RFC 3339 lets the T and the Z be written in lower case.
        moment = datetime.fromisoformat(value.upper())
    except ValueError:
        raise PydanticCustomError(
            "instant", f"must be a date and time with a zone {example}"
        ) from None
    if moment.tzinfo is None:
        raise PydanticCustomError("instant", "must carry a time zone, such as Z or +02:00")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "instant", f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
        )
    return moment.astimezone(UTC)


def _decimal_string(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("amount_type", f"must be {AMOUNT_WORDS}")
    if not isinstance(value, str):
        raise PydanticCustomError(
            "amount_type", 'amounts are decimal strings, such as "12.30", never JSON numbers'
        )
    return value


def _known_currency(value: object) -> object:
    if isinstance(value, str) and value not in MINOR_UNITS:
        raise PydanticCustomError("currency", f"must be one of {', '.join(CURRENCIES)}")
    return value


Instant = Annotated[
    datetime,
    BeforeValidator(_instant),
    Field(
        description=(
            "a date-time with a zone, such as 2026-11-20T10:00:00Z or "
            f"2026-11-20T11:00:00+01:00, between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
        ),
        examples=["2026-11-20T10:00:00Z"],
        json_schema_extra={"pattern": YEAR_PATTERN},
    ),
]
Identifier = Annotated[StrictStr, Field(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_WORDS)]
_AMOUNT_DESCRIPTION = f"{AMOUNT_WORDS}, and no more decimals than the order's currency has"
# The pattern constrains the string; the type check before it words a JSON number's error.
Amount = Annotated[
    StrictStr,
    Field(pattern=AMOUNT_PATTERN, description=_AMOUNT_DESCRIPTION, examples=["12.30"]),
    BeforeValidator(_decimal_string),
]
Currency = Annotated[
    StrictStr,
    BeforeValidator(_known_currency),
    Field(
        description="ISO 4217 code of a currency the marketplace settles in",
        json_schema_extra={"enum": list(CURRENCIES)},
        examples=["USD"],
    ),
]
Text = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Note = Annotated[
    StrictStr,
    Field(max_length=MAX_NOTE_LENGTH, description=f"at most {MAX_NOTE_LENGTH} characters"),
]


# defer_build: a model's validator is built when a request first needs it, not on import,
# so a cold start builds only the models of the route it serves.
class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CancellationItemIn(_Input):
    line_id: Identifier
    quantity: Annotated[
        StrictInt,
        Field(ge=1, description='units to cancel: a JSON integer (2, not 2.0 or "2")'),
    ]


def _only_with(scope: CancelScope, *, empty: object = None) -> BeforeValidator:
    """A field of another scope: absent, null (or, for ``items``, empty) here."""

    def check(value: object) -> object:
        if value is not None and value != empty:
            raise PydanticCustomError(
                "scope_field", "only allowed with scope {scope}", {"scope": scope.value}
            )
        return value

    return BeforeValidator(check)


ItemsOfAnotherScope = Annotated[
    Annotated[list[CancellationItemIn], Field(max_length=0)] | None,
    _only_with(CancelScope.ITEMS, empty=[]),
    Field(description="only with scope ITEMS: absent, null or []"),
]
PackageOfAnotherScope = Annotated[
    None,
    _only_with(CancelScope.PACKAGE),
    Field(description="only with scope PACKAGE: absent or null"),
]


class _CancellationIn(_Input):
    reason: CancelReason
    note: Note | None = None


class CancelOrderIn(_CancellationIn):
    """Cancel every unit of the order left."""

    scope: Literal["ORDER"]
    items: ItemsOfAnotherScope = None
    package_id: PackageOfAnotherScope = None


class CancelPackageIn(_CancellationIn):
    """Cancel every unit of one package left."""

    scope: Literal["PACKAGE"]
    items: ItemsOfAnotherScope = None
    package_id: Annotated[
        Identifier,
        Field(description="the package; one the order does not have is 422 UNKNOWN_PACKAGE"),
    ]


class CancelItemsIn(_CancellationIn):
    """Cancel some units of some lines. Only a reason with ``item_level_allowed``
    (``OUT_OF_STOCK``) can cancel items; another is 422 REASON_NOT_ALLOWED_FOR_ITEMS."""

    scope: Literal["ITEMS"]
    items: Annotated[
        list[CancellationItemIn],
        Field(
            min_length=1,
            max_length=MAX_ITEMS,
            json_schema_extra={"uniqueItems": True},
            description=(
                f"1 to {MAX_ITEMS} lines, each named once (a line id given twice is 400); "
                "a line the order does not have is 422 UNKNOWN_LINE"
            ),
        ),
    ]
    package_id: PackageOfAnotherScope = None


class CancellationRequestIn(
    RootModel[
        Annotated[CancelOrderIn | CancelPackageIn | CancelItemsIn, Field(discriminator="scope")]
    ]
):
    """A cancellation request; ``scope`` says which fields it takes."""

    def to_domain(self) -> CancellationRequest:
        request = self.root
        return CancellationRequest(
            reason=request.reason,
            scope=CancelScope(request.scope),
            items=tuple(ItemRequest(i.line_id, i.quantity) for i in request.items or ()),
            package_id=request.package_id,
            note=request.note,
        )


class BuyerIn(_Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    email: Annotated[
        StrictStr,
        Field(
            min_length=6,
            max_length=254,
            pattern=EMAIL_ADDRESS,
            description="a deliverable address: no display name, comment or IP literal",
            examples=["ana@example.com"],
        ),
    ]
    locale: Annotated[
        StrictStr, Field(pattern=LOCALE_PATTERN, description="the buyer's locale, e.g. en-US")
    ] = "en-US"

    def to_domain(self) -> Buyer:
        return Buyer(name=self.name, email=self.email, locale=self.locale)


class NewPackageStatus(StrEnum):
    """The statuses the order system can give a package, in a new order or a status report:
    any but CANCELLED, which only a cancellation sets."""

    AWAITING_SHIPMENT = PackageStatus.AWAITING_SHIPMENT.value
    AWAITING_COLLECTION = PackageStatus.AWAITING_COLLECTION.value
    IN_TRANSIT = PackageStatus.IN_TRANSIT.value
    DELIVERED = PackageStatus.DELIVERED.value


def _not_cancelled(value: object) -> object:
    if value == PackageStatus.CANCELLED.value:
        raise PydanticCustomError(
            "package_cancelled",
            "the order system cannot cancel a package; cancel it through the API",
        )
    return value


class PackageIn(_Input):
    package_id: Identifier
    status: Annotated[NewPackageStatus, BeforeValidator(_not_cancelled)]


class PackageStatusReportIn(_Input):
    """What the order system reports of a package: the status it reached, and when."""

    status: Annotated[
        NewPackageStatus,
        BeforeValidator(_not_cancelled),
        Field(
            description=(
                "where the package is now; statuses only move forward, and a report of the "
                "current status or one already passed changes nothing"
            )
        ),
    ]
    occurred_at: Annotated[Instant, Field(description="when the package reached it")]

    @property
    def package_status(self) -> PackageStatus:
        return PackageStatus(self.status.value)


_LINE_TOTAL = f"for all the line's units: {_AMOUNT_DESCRIPTION}"


class LineIn(_Input):
    line_id: Identifier
    product_id: Identifier
    sku_id: Identifier
    product_name: Text
    sku_name: Annotated[StrictStr, Field(max_length=500)]
    quantity: Annotated[
        StrictInt,
        Field(ge=1, le=MAX_QUANTITY, description='a JSON integer (3, not 3.0 or "3")'),
    ]
    unit_price: Amount
    seller_discount: Annotated[Amount, Field(description=_LINE_TOTAL)]
    platform_discount: Annotated[Amount, Field(description=_LINE_TOTAL)]
    tax: Annotated[Amount, Field(description=_LINE_TOTAL)]
    package_id: Annotated[Identifier, Field(description="one of the order's packages")]

    def to_draft(self) -> LineDraft:
        return LineDraft(**self.model_dump())


class OrderIn(_Input):
    """An order from the order system. Beyond each field's own rules: package ids and line
    ids are each distinct within the order, every line's ``package_id`` is one of its
    ``packages`` and every package holds at least one line, a line's two discounts together
    never exceed its subtotal (``unit_price`` times ``quantity``), amounts have no more
    decimals than ``currency`` has, and an order names at most 90 distinct products;
    otherwise 400 VALIDATION_ERROR."""

    order_id: Annotated[Identifier, Field(description="the order id of the path")]
    seller_id: Annotated[
        StrictStr, Field(description="the token's seller; another is 403 FORBIDDEN")
    ]
    currency: Currency
    created_at: Instant
    buyer: BuyerIn
    shipping_fee: Amount
    packages: Annotated[list[PackageIn], Field(min_length=1, max_length=MAX_PACKAGES)]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]

    def package_drafts(self) -> list[PackageDraft]:
        return [PackageDraft(p.package_id, PackageStatus(p.status.value)) for p in self.packages]

    def as_sent(self) -> dict[str, Any]:
        """The order as the order system sent it, each amount written one way ("10",
        "10.0" and "10.00" alike) and each time in UTC: what tells a retried ingestion
        from a different order under the same id, whatever shape the order is stored in."""
        sent = _amounts_one_way(OrderIn, self.model_dump(mode="json"))
        sent["lines"] = [_amounts_one_way(LineIn, line) for line in sent["lines"]]
        return sent


def _amounts_one_way(model: type[BaseModel], dumped: dict[str, Any]) -> dict[str, Any]:
    amounts = _amount_fields(model)
    return {
        name: str(Decimal(value).normalize()) if name in amounts else value
        for name, value in dumped.items()
    }


@functools.cache
def _amount_fields(model: type[BaseModel]) -> frozenset[str]:
    """The model's fields that are amounts (found once per model, not per request)."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if any(getattr(check, "func", None) is _decimal_string for check in field.metadata)
    )


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


def product_json(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "product_name": product.product_name,
        "skus": [{"sku_id": sku.sku_id, "sku_name": sku.sku_name} for sku in product.skus],
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
    model_config = ConfigDict(extra="forbid", defer_build=True)


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


class SkuOut(_Output):
    sku_id: str
    sku_name: str


class ProductOut(_Output):
    product_id: str
    product_name: str = Field(description="the name the newest order naming the product gave")
    skus: list[SkuOut]


class ProductsPageOut(_Output):
    products: list[ProductOut]
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
    field: str = Field(description="where in the request: items[0].quantity, Idempotency-Key")
    message: str = Field(description="what the value must be, in words")


class ProblemOut(_Output):
    """``application/problem+json``: every error the functions and the local runtime answer."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldProblemOut]


class AuthorizerMessage(_Output):
    """What API Gateway's JWT authorizer answers by itself in AWS, before any function:
    ``{"message": "Unauthorized"}`` or ``{"message": "Forbidden"}``."""

    message: str


_AUTHORIZER = "in AWS, API Gateway's JWT authorizer answers this itself as application/json"
_ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR, IDEMPOTENCY_KEY_REQUIRED or INVALID_PAGE_TOKEN",
    401: f"UNAUTHORIZED: no token, a bad signature or an expired token ({_AUTHORIZER})",
    403: (
        "FORBIDDEN: the token lacks the route's scope (when the JWT authorizer decides it, "
        f"{_AUTHORIZER}) or a usable seller claim, or the request names another seller"
    ),
    404: "ORDER_NOT_FOUND",
    409: "a rule of the order's current state forbids it (see the code)",
    412: "ORDER_VERSION_MISMATCH",
    413: "PAYLOAD_TOO_LARGE: a body over 64 KiB",
    414: "URI_TOO_LONG: the request line is longer than the gateway accepts",
    422: "REASON_NOT_ALLOWED_FOR_ITEMS, UNKNOWN_LINE or UNKNOWN_PACKAGE",
    503: (
        "SERVICE_UNAVAILABLE: storage throttled or timed out, or the order kept changing; "
        "nothing was written: retry after Retry-After seconds"
    ),
}
# Statuses whose answer may come from API Gateway's authorizer rather than a function.
_AUTHORIZER_STATUSES = (401, 403)

ORDER_ID_IN_PATH = (
    f"the order's id ({IDENTIFIER_WORDS}); another seller's order, or an id no order could "
    "have, is 404 ORDER_NOT_FOUND"
)
PACKAGE_ID_IN_PATH = "the package's id; one the order does not have is 422 UNKNOWN_PACKAGE"
ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": 'the order\'s version, quoted: "3"; send it back as If-Match',
        "required": True,
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
    }
}
REPLAYED_HEADER: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "true when the same Idempotency-Key and body came before: the "
        "original answer, nothing changed",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
ProductId = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]


def documented_responses(
    success: Mapping[int, tuple[str, type[BaseModel]]],
    errors: tuple[int, ...],
    headers: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[int, Any]:
    """Powertools ``responses=`` for a route: its successes (with the ``headers`` of each
    status), its problem+json errors, and 401/403 also as API Gateway's authorizer answers
    them in AWS."""
    headers = headers or {}
    responses: dict[int, Any] = {}
    for status, (text, model) in success.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"model": model}},
        }
        if status in headers:
            responses[status]["headers"] = dict(headers[status])
    for status in (400, *_AUTHORIZER_STATUSES, *errors, 503):
        content: dict[str, Any] = {"application/problem+json": {"model": ProblemOut}}
        if status in _AUTHORIZER_STATUSES:
            content["application/json"] = {"model": AuthorizerMessage}
        responses[status] = {"description": _ERROR_DESCRIPTIONS[status], "content": content}
    responses[503]["headers"] = dict(RETRY_AFTER_HEADER)
    return responses
