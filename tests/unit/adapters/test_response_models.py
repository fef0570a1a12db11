"""The OpenAPI document's response models describe exactly what the serializers produce."""

from __future__ import annotations

import json
from typing import Any

from adapters.schemas import (
    CancellationOut,
    OrderOut,
    PreviewOut,
    ReasonsOut,
    RefundOut,
    cancellation_json,
    order_json,
    preview_json,
    reasons_json,
    refund_json,
)
from domain.cancellation import plan_cancellation
from domain.model import PackageStatus
from tests.unit.domain.builders import apply, items_request, package_request, split_order


def as_json(document: Any) -> str:
    return json.dumps(document)


def test_an_order_in_every_state_fits_its_model() -> None:
    order = split_order(pk2=PackageStatus.AWAITING_COLLECTION)
    after, _ = apply(order, items_request(("L1", 1)))
    cancelled, _ = apply(after, package_request("PK2"))

    for state in (order, after, cancelled):
        OrderOut.model_validate_json(as_json(order_json(state)), strict=True)


def test_a_cancellation_and_its_preview_fit_their_models() -> None:
    order = split_order()
    request = items_request(("L1", 2))

    preview = preview_json(plan_cancellation(order, request))
    _, record = apply(order, request)

    PreviewOut.model_validate_json(as_json(preview), strict=True)
    CancellationOut.model_validate_json(as_json(cancellation_json(record)), strict=True)
    RefundOut.model_validate_json(as_json(refund_json(record.refund)), strict=True)
    assert preview["refund"] == cancellation_json(record)["refund"]


def test_the_reasons_fit_their_model() -> None:
    reasons = ReasonsOut.model_validate_json(as_json(reasons_json()), strict=True)
    assert [r.code.value for r in reasons.reasons if r.item_level_allowed] == ["OUT_OF_STOCK"]
