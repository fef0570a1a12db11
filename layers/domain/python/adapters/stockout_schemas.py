"""The stock-out routes' HTTP models: the request, and the JSON of a preview, a
``Stockout`` and a ``StockoutOrder`` (API.md's "Stock-outs"), with the response models
the OpenAPI document shows (``tests/unit/adapters/test_response_models.py`` holds the two
in step)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictInt

from adapters.records import api_time
from adapters.schemas import Identifier, Note, RefundOut, _Input, _Output, refund_json
from domain.limits import MAX_QUANTITY
from domain.stockout import OrderOutcome, StockoutRequest, StockoutStatus
from domain.stockouts import Stockout, StockoutOrder, StockoutPreview


class StockoutRequestIn(_Input):
    sku_id: Annotated[Identifier, Field(description="the SKU that ran out")]
    units_on_hand: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=MAX_QUANTITY * 1000,
            description="the units still on hand, which the oldest orders keep (a JSON integer)",
        ),
    ] = 0
    note: Note | None = None

    def to_domain(self) -> StockoutRequest:
        return StockoutRequest(self.sku_id, self.units_on_hand, self.note)


# -- JSON ------------------------------------------------------------------------------------


def stockout_preview_json(preview: StockoutPreview) -> dict[str, Any]:
    allocator = preview.allocator
    return {
        "sku_id": preview.request.sku_id,
        "units_on_hand": preview.request.units_on_hand,
        "orders_matched": allocator.orders_matched,
        "units_demanded": allocator.units_demanded,
        "units_kept": allocator.units_kept,
        "units_to_cancel": allocator.units_to_cancel,
        "orders_to_cancel": allocator.orders_to_cancel,
        "refunds": [refund_json(allocator.refunds[c]) for c in sorted(allocator.refunds)],
        "orders": [
            {
                "order_id": plan.order_id,
                "created_at": api_time(plan.created_at),
                "lines": [
                    {
                        "line_id": line.line_id,
                        "remaining_quantity": line.remaining_quantity,
                        "keep_quantity": line.keep_quantity,
                        "cancel_quantity": line.cancel_quantity,
                    }
                    for line in plan.lines
                ],
                "refund": refund_json(plan.refund),
            }
            for plan in preview.orders
        ],
        "truncated": preview.truncated,
    }


def stockout_json(stockout: Stockout) -> dict[str, Any]:
    return {
        "stockout_id": stockout.stockout_id,
        "sku_id": stockout.request.sku_id,
        "units_on_hand": stockout.request.units_on_hand,
        "note": stockout.request.note,
        "status": stockout.status.value,
        "created_at": api_time(stockout.created_at),
        "created_by": stockout.created_by,
        "finished_at": api_time(stockout.finished_at) if stockout.finished_at else None,
        "orders_planned": stockout.orders_planned,
        "orders_cancelled": stockout.orders_cancelled,
        "orders_skipped": stockout.orders_skipped,
        "units_cancelled": stockout.units_cancelled,
        "refunded": [refund_json(refund) for refund in stockout.refunded],
    }


def stockout_order_json(entry: StockoutOrder) -> dict[str, Any]:
    return {
        "order_id": entry.order_id,
        "outcome": entry.outcome.value,
        "detail": entry.detail,
        "cancellation_id": entry.cancellation_id,
        "cancelled_quantity": entry.cancelled_quantity,
    }


# -- response models -------------------------------------------------------------------------


class StockoutLineOut(_Output):
    line_id: str
    remaining_quantity: int
    keep_quantity: int
    cancel_quantity: int


class StockoutPlanOut(_Output):
    order_id: str
    created_at: str
    lines: list[StockoutLineOut]
    refund: RefundOut


class StockoutPreviewOut(_Output):
    sku_id: str
    units_on_hand: int
    orders_matched: int
    units_demanded: int
    units_kept: int
    units_to_cancel: int
    orders_to_cancel: int
    refunds: list[RefundOut] = Field(description="the refunds' sum per currency")
    orders: list[StockoutPlanOut] = Field(
        description="the orders with something to cancel, in allocation order, at most 100"
    )
    truncated: bool = Field(description="whether more orders than those listed would cancel")


class StockoutOut(_Output):
    stockout_id: str
    sku_id: str
    units_on_hand: int
    note: str | None
    status: StockoutStatus
    created_at: str
    created_by: str
    finished_at: str | None
    orders_planned: int
    orders_cancelled: int
    orders_skipped: int
    units_cancelled: int
    refunded: list[RefundOut] = Field(description="what its cancellations refunded so far")


class StockoutOrderOut(_Output):
    order_id: str
    outcome: OrderOutcome
    detail: str | None = Field(description="why the order was skipped, in words")
    cancellation_id: str | None
    cancelled_quantity: int


class StockoutOrdersPageOut(_Output):
    orders: list[StockoutOrderOut]
    next_page_token: str | None
