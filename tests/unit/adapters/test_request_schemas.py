"""The input models say in JSON Schema what the code checks, with the same patterns: what the
OpenAPI document calls valid is accepted, and every pattern has words for its 400."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters import http_api
from adapters.schemas import (
    AMOUNT_PATTERN,
    EARLIEST_YEAR,
    IDENTIFIER_PATTERN,
    LATEST_YEAR,
    PATTERN_MESSAGES,
    YEAR_PATTERN,
    CancellationRequestIn,
    LineIn,
    OrderIn,
)
from domain.errors import RequestInvalid
from domain.money import MINOR_UNITS, parse_amount
from scripts.openapi import COMMITTED_DOCUMENT

TWO_DECIMALS = [currency for currency, digits in MINOR_UNITS.items() if digits == 2]


@given(st.from_regex(AMOUNT_PATTERN, fullmatch=True), st.sampled_from(TWO_DECIMALS))
def test_an_amount_the_pattern_allows_is_one_in_a_two_decimal_currency(
    amount: str, currency: str
) -> None:
    assert parse_amount(amount, currency) >= 0


@given(st.text(alphabet="0123456789.-+e ", max_size=20))
def test_an_amount_a_two_decimal_currency_takes_matches_the_pattern(text: str) -> None:
    try:
        parse_amount(text, "USD")
    except RequestInvalid:
        return
    assert re.fullmatch(AMOUNT_PATTERN, text)


@given(st.text(max_size=140))
def test_an_id_is_one_to_the_handlers_exactly_when_it_is_one_to_the_schema(text: str) -> None:
    try:
        LineIn.model_validate({**_line(), "line_id": text})
        accepted = True
    except ValidationError:
        accepted = False
    # As JSON Schema reads a pattern: its $ is the end of the text, not of a line.
    by_the_schema = re.search(IDENTIFIER_PATTERN.removesuffix("$") + r"\Z", text) is not None

    assert accepted == http_api.is_identifier(text) == by_the_schema


def test_the_year_pattern_is_the_years_an_order_may_be_created_in() -> None:
    for year in range(1990, 2111):
        assert bool(re.match(YEAR_PATTERN, f"{year}-01-01T00:00:00Z")) == (
            EARLIEST_YEAR <= year <= LATEST_YEAR
        )


def _line(**changes: Any) -> dict[str, Any]:
    return {
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
        **changes,
    }


def _request_patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_request_patterns(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_request_patterns(value) for value in node))
    return set()


def test_every_pattern_a_request_is_checked_against_has_words() -> None:
    document = json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8"))
    inputs = {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if name.endswith("In")
    }
    parameters = [
        operation.get("parameters", [])
        for item in document["paths"].values()
        for operation in item.values()
    ]

    patterns = _request_patterns(inputs) | _request_patterns(parameters)

    assert patterns
    assert patterns <= set(PATTERN_MESSAGES), patterns - set(PATTERN_MESSAGES)


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "BUYER_REQUESTED", "scope": "ORDER"},
        {"reason": "BUYER_REQUESTED", "scope": "ORDER", "items": [], "package_id": None},
        {"reason": "PRICING_ERROR", "scope": "PACKAGE", "package_id": "PK1", "note": "late"},
        {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": [{"line_id": "L1", "quantity": 2}]},
    ],
)
def test_a_request_of_any_scope_keeps_the_fields_its_fingerprint_is_made_of(
    body: dict[str, Any],
) -> None:
    request = CancellationRequestIn.model_validate(body)

    # An idempotency key's fingerprint is of these five fields, whatever the scope: a
    # request sent again must be recognised as the same one.
    assert set(request.model_dump(mode="json")) == {
        "reason",
        "scope",
        "items",
        "package_id",
        "note",
    }
    assert request.to_domain().scope.value == body["scope"]


def _order(**changes: Any) -> dict[str, Any]:
    return {
        "order_id": "O1",
        "seller_id": "S1",
        "currency": "USD",
        "created_at": "2026-11-20T10:00:00Z",
        "buyer": {"name": "Ana", "email": "ana@example.com"},
        "shipping_fee": "0",
        "packages": [{"package_id": "PK1", "status": "AWAITING_SHIPMENT"}],
        "lines": [_line()],
        **changes,
    }


def test_an_order_created_in_the_schema_form_is_read_as_utc() -> None:
    order = OrderIn.model_validate(_order(created_at="2026-11-20T11:00:00+01:00"))

    assert order.created_at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_an_order_as_sent_writes_each_amount_and_time_one_way() -> None:
    def sent(**changes: Any) -> dict[str, Any]:
        line = {**_line(), **changes.pop("line", {})}
        body = _order(**{"shipping_fee": "5.90", "lines": [line], **changes})
        return OrderIn.model_validate(body).as_sent()

    same = sent(
        shipping_fee="5.9",
        created_at="2026-11-20T11:00:00+01:00",
        line={"unit_price": "10", "seller_discount": "3"},
    )
    assert same == sent()
    assert sent(shipping_fee="5.91") != sent()
    assert sent(line={"quantity": _line()["quantity"] + 1}) != sent()
    assert sent()["lines"][0]["quantity"] == _line()["quantity"]
