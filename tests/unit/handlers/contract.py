"""API.md's objects as the tests check them: field sets, the refund identity, order inputs."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

MAX_BODY_BYTES = 64 * 1024  # API.md: "a body over 64 KiB" is 413
ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")

PROBLEM_FIELDS = {"type", "title", "status", "code", "detail", "errors"}
REFUND_FIELDS = {
    "currency",
    "subtotal",
    "seller_discount",
    "platform_discount",
    "tax",
    "shipping_fee",
    "total",
}
ORDER_FIELDS = {
    "order_id",
    "status",
    "currency",
    "created_at",
    "updated_at",
    "version",
    "buyer",
    "shipping_fee",
    "packages",
    "lines",
    "paid_total",
    "refunded_total",
    "actions",
}
PACKAGE_FIELDS = {"package_id", "status", "cancellable", "ineligible_reason"}
LINE_FIELDS = {
    "line_id",
    "product_id",
    "sku_id",
    "product_name",
    "sku_name",
    "package_id",
    "quantity",
    "cancelled_quantity",
    "cancellable_quantity",
    "item_cancellable",
    "ineligible_reason",
    "unit_price",
    "seller_discount",
    "platform_discount",
    "tax",
}
CANCELLATION_FIELDS = {
    "cancellation_id",
    "order_id",
    "scope",
    "reason",
    "package_id",
    "note",
    "items",
    "refund",
    "created_at",
    "created_by",
    "order_version",
    "resulting_order_status",
    "notification",
}
CANCELLATION_ITEM_FIELDS = {"line_id", "sku_id", "product_name", "quantity", "refund"}
PREVIEW_FIELDS = {"order_version", "refund", "items", "resulting_order_status"}
PREVIEW_ITEM_FIELDS = {"line_id", "quantity", "refund"}
REASON_FIELDS = {"code", "label", "item_level_allowed"}

MUG = {
    "line_id": "L1",
    "product_id": "P1",
    "sku_id": "K1",
    "product_name": "Mug",
    "sku_name": "Blue",
    "quantity": 3,
    "unit_price": "10.00",
    "seller_discount": "3.00",
    "platform_discount": "1.50",
    "tax": "2.04",
    "package_id": "PK1",
}
KETTLE = {
    "line_id": "L2",
    "product_id": "P2",
    "sku_id": "K2",
    "product_name": "Gooseneck Kettle",
    "sku_name": "Matte Black",
    "quantity": 1,
    "unit_price": "64.90",
    "seller_discount": "0.00",
    "platform_discount": "0.00",
    "tax": "5.36",
    "package_id": "PK2",
}


def order_input(
    order_id: str = "O1",
    seller_id: str = "seller-acme",
    *,
    created_at: str = "2026-11-20T10:00:00Z",
    lines: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """API.md's ``OrderInput`` example; ``lines=[MUG, KETTLE]`` makes two packages."""
    chosen = copy.deepcopy(lines if lines is not None else [MUG])
    packages = list(dict.fromkeys(line["package_id"] for line in chosen))
    document = {
        "order_id": order_id,
        "seller_id": seller_id,
        "currency": "USD",
        "created_at": created_at,
        "buyer": {"name": "Ana Ruiz", "email": "ana@example.com", "locale": "en-US"},
        "shipping_fee": "5.99",
        "packages": [{"package_id": p, "status": "AWAITING_SHIPMENT"} for p in packages],
        "lines": chosen,
    }
    document.update(overrides)
    return document


def assert_refund(refund: dict[str, Any], **expected: str) -> None:
    """A ``Refund``: exactly its fields, decimal strings, and API.md's total identity."""
    assert set(refund) == REFUND_FIELDS
    for name in REFUND_FIELDS - {"currency"}:
        assert isinstance(refund[name], str), name
        assert re.fullmatch(r"\d+(\.\d+)?", refund[name]), (name, refund[name])
    amount = {name: Decimal(refund[name]) for name in REFUND_FIELDS - {"currency"}}
    assert amount["total"] == (
        amount["subtotal"]
        - amount["seller_discount"]
        - amount["platform_discount"]
        + amount["tax"]
        + amount["shipping_fee"]
    )
    for name, value in expected.items():
        assert refund[name] == value, (name, refund[name], value)


def assert_problem(result: Any, status: int, code: str) -> dict[str, Any]:
    """An ``application/problem+json`` error of API.md's shape; returns its document."""
    assert result.status == status, result.text
    assert result.content_type == "application/problem+json"
    document = result.json()
    assert set(document) == PROBLEM_FIELDS
    assert document["type"] == "about:blank"
    assert document["status"] == status
    assert document["code"] == code
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["detail"], str) and document["detail"]
    assert isinstance(document["errors"], list)
    for error in document["errors"]:
        assert set(error) == {"field", "message"}
        assert isinstance(error["field"], str) and error["field"]
        assert isinstance(error["message"], str) and error["message"]
    return document
