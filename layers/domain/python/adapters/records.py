"""Domain objects to and from plain dictionaries: the stored shape of orders and cancellations.

Amounts are stored as integer minor units; times as UTC ISO 8601 strings of fixed width,
so that they sort as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.buyer_notice import BuyerNotice, ItemLeft
from domain.cancellation import (
    Cancellation,
    CancelReason,
    CancelScope,
    ItemRefund,
    NotificationStatus,
)
from domain.model import Buyer, Components, Line, Order, OrderStatus, Package, PackageStatus, Refund


def sortable_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def api_time(moment: datetime) -> str:
    """``2026-11-20T10:00:00Z``, with milliseconds when there are any."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _int(value: Any) -> int:
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"stored amount {value} is not a whole number of minor units")
        return int(value)
    if isinstance(value, int):
        return value
    raise TypeError(f"expected a number, got {type(value).__name__}")


def components_to_dict(components: Components) -> dict[str, int]:
    return {
        "subtotal": components.subtotal,
        "seller_discount": components.seller_discount,
        "platform_discount": components.platform_discount,
        "tax": components.tax,
    }


def components_from_dict(data: Mapping[str, Any]) -> Components:
    return Components(
        _int(data["subtotal"]),
        _int(data["seller_discount"]),
        _int(data["platform_discount"]),
        _int(data["tax"]),
    )


def order_to_dict(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "seller_id": order.seller_id,
        "currency": order.currency,
        "created_at": sortable_time(order.created_at),
        "updated_at": sortable_time(order.updated_at),
        "version": order.version,
        "status": order.status.value,
        "shipping_fee": order.shipping_fee,
        "shipping_refunded": order.shipping_refunded,
        "buyer": buyer_to_dict(order.buyer),
        "packages": [
            {"package_id": p.package_id, "status": p.status.value} for p in order.packages
        ],
        "lines": [
            {
                "line_id": line.line_id,
                "product_id": line.product_id,
                "sku_id": line.sku_id,
                "product_name": line.product_name,
                "sku_name": line.sku_name,
                "package_id": line.package_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "seller_discount": line.seller_discount,
                "platform_discount": line.platform_discount,
                "tax": line.tax,
                "cancelled_quantity": line.cancelled_quantity,
                "refunded": components_to_dict(line.refunded),
            }
            for line in order.lines
        ],
    }


def order_from_dict(data: Mapping[str, Any]) -> Order:
    return Order(
        order_id=data["order_id"],
        seller_id=data["seller_id"],
        currency=data["currency"],
        created_at=parse_time(data["created_at"]),
        updated_at=parse_time(data["updated_at"]),
        version=_int(data["version"]),
        shipping_fee=_int(data["shipping_fee"]),
        shipping_refunded=bool(data["shipping_refunded"]),
        buyer=buyer_from_dict(data["buyer"]),
        packages=tuple(
            Package(p["package_id"], PackageStatus(p["status"])) for p in data["packages"]
        ),
        lines=tuple(
            Line(
                line_id=line["line_id"],
                product_id=line["product_id"],
                sku_id=line["sku_id"],
                product_name=line["product_name"],
                sku_name=line["sku_name"],
                package_id=line["package_id"],
                quantity=_int(line["quantity"]),
                unit_price=_int(line["unit_price"]),
                seller_discount=_int(line["seller_discount"]),
                platform_discount=_int(line["platform_discount"]),
                tax=_int(line["tax"]),
                cancelled_quantity=_int(line["cancelled_quantity"]),
                refunded=components_from_dict(line["refunded"]),
            )
            for line in data["lines"]
        ),
    )


def buyer_to_dict(buyer: Buyer) -> dict[str, Any]:
    return {"name": buyer.name, "email": buyer.email, "locale": buyer.locale}


def buyer_from_dict(data: Mapping[str, Any]) -> Buyer:
    return Buyer(name=data["name"], email=data["email"], locale=data["locale"])


def refund_to_dict(refund: Refund) -> dict[str, Any]:
    return {
        "currency": refund.currency,
        **components_to_dict(refund.components),
        "shipping_fee": refund.shipping_fee,
    }


def refund_from_dict(data: Mapping[str, Any]) -> Refund:
    return Refund(data["currency"], components_from_dict(data), _int(data["shipping_fee"]))


def cancellation_to_dict(cancellation: Cancellation) -> dict[str, Any]:
    return {
        "cancellation_id": cancellation.cancellation_id,
        "order_id": cancellation.order_id,
        "seller_id": cancellation.seller_id,
        "scope": cancellation.scope.value,
        "reason": cancellation.reason.value,
        "package_id": cancellation.package_id,
        "note": cancellation.note,
        "items": [
            {
                "line_id": item.line_id,
                "sku_id": item.sku_id,
                "product_name": item.product_name,
                "sku_name": item.sku_name,
                "quantity": item.quantity,
                "refund": refund_to_dict(item.refund),
            }
            for item in cancellation.items
        ],
        "refund": refund_to_dict(cancellation.refund),
        "created_at": sortable_time(cancellation.created_at),
        "created_by": cancellation.created_by,
        "order_version": cancellation.order_version,
        "resulting_order_status": cancellation.resulting_order_status.value,
        "notification": {
            "status": cancellation.notification_status.value,
            "sent_at": (
                sortable_time(cancellation.notification_sent_at)
                if cancellation.notification_sent_at
                else None
            ),
        },
    }


def cancellation_from_dict(data: Mapping[str, Any]) -> Cancellation:
    notification = data.get("notification") or {}
    sent_at = notification.get("sent_at")
    return Cancellation(
        cancellation_id=data["cancellation_id"],
        order_id=data["order_id"],
        seller_id=data["seller_id"],
        scope=CancelScope(data["scope"]),
        reason=CancelReason(data["reason"]),
        package_id=data.get("package_id"),
        note=data.get("note"),
        items=tuple(
            ItemRefund(
                line_id=item["line_id"],
                sku_id=item["sku_id"],
                product_name=item["product_name"],
                sku_name=item["sku_name"],
                quantity=_int(item["quantity"]),
                refund=refund_from_dict(item["refund"]),
            )
            for item in data["items"]
        ),
        refund=refund_from_dict(data["refund"]),
        created_at=parse_time(data["created_at"]),
        created_by=data["created_by"],
        order_version=_int(data["order_version"]),
        resulting_order_status=OrderStatus(data["resulting_order_status"]),
        notification_status=NotificationStatus(notification.get("status", "PENDING")),
        notification_sent_at=parse_time(sent_at) if sent_at else None,
    )


def buyer_notice_to_dict(notice: BuyerNotice) -> dict[str, Any]:
    return {
        "buyer": buyer_to_dict(notice.buyer),
        "placed_at": sortable_time(notice.placed_at),
        "units_ordered": notice.units_ordered,
        "unrefunded_shipping_fee": notice.unrefunded_shipping_fee,
        "items_left": [
            {"product_name": i.product_name, "sku_name": i.sku_name, "quantity": i.quantity}
            for i in notice.items_left
        ],
    }


def buyer_notice_from_dict(data: Mapping[str, Any]) -> BuyerNotice:
    return BuyerNotice(
        buyer=buyer_from_dict(data["buyer"]),
        placed_at=parse_time(data["placed_at"]),
        units_ordered=_int(data["units_ordered"]),
        unrefunded_shipping_fee=_int(data["unrefunded_shipping_fee"]),
        items_left=tuple(
            ItemLeft(i["product_name"], i["sku_name"], _int(i["quantity"]))
            for i in data["items_left"]
        ),
    )
