from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import FieldError, RequestInvalid
from domain.money import (
    MINOR_UNITS,
    format_amount,
    minor_unit_digits,
    parse_amount,
)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("MXN", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
    ],
)
def test_minor_unit_digits_follow_iso_4217(currency: str, digits: int) -> None:
    assert minor_unit_digits(currency) == digits


def test_unknown_currency_is_a_validation_error_on_the_given_field() -> None:
    with pytest.raises(RequestInvalid) as raised:
        minor_unit_digits("XXX", field="order.currency")

    assert raised.value.code == "VALIDATION_ERROR"
    assert [e.field for e in raised.value.errors] == ["order.currency"]
    assert "XXX" in raised.value.detail


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.30", "USD", 1230),
        ("12.3", "USD", 1230),
        ("12", "USD", 1200),
        ("0", "USD", 0),
        ("0.00", "USD", 0),
        ("0.05", "USD", 5),
        ("0.5", "EUR", 50),
        ("999999999999999.99", "USD", 99999999999999999),
        ("1230", "JPY", 1230),
        ("0", "JPY", 0),
        ("7", "KRW", 7),
    ],
)
def test_parse_amount_reads_decimal_strings_into_minor_units(
    value: str, currency: str, minor: int
) -> None:
    assert parse_amount(value, currency) == minor


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("12.345", "USD"),
        ("0.001", "USD"),
        ("12.5", "JPY"),
        ("12.0", "JPY"),
        ("1230.00", "JPY"),
    ],
)
def test_parse_amount_rejects_more_decimals_than_the_currency_has(
    value: str, currency: str
) -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse_amount(value, currency, "lines[0].unit_price")

    assert raised.value.code == "VALIDATION_ERROR"
    assert [e.field for e in raised.value.errors] == ["lines[0].unit_price"]
    assert f"at most {MINOR_UNITS[currency]} decimals" in raised.value.errors[0].message


@pytest.mark.parametrize(
    "value",
    [
        "-1.00",
        "-0",
        "+1.00",
        "1e3",
        "1E3",
        "1.2e2",
        "",
        " 12.30",
        "12.30 ",
        "12.",
        ".5",
        "012.30",
        "00",
        "1,000.00",
        "1 000",
        "NaN",
        "Infinity",
        "0x10",
        "\uff11\uff12",
        "1234567890123456",
    ],
)
def test_parse_amount_rejects_strings_that_are_not_plain_non_negative_decimals(
    value: str,
) -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse_amount(value, "USD", "shipping_fee")

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.errors == (
        FieldError("shipping_fee", 'must be a non-negative decimal string such as "12.30"'),
    )


@pytest.mark.parametrize("value", ["12.30\n", "0\n"])
def test_parse_amount_rejects_a_trailing_newline(value: str) -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse_amount(value, "USD", "shipping_fee")

    assert [e.field for e in raised.value.errors] == ["shipping_fee"]


@pytest.mark.parametrize("value", [12.3, 12.0, 1230, 0, None, True, Decimal("12.30"), b"12.30"])
def test_parse_amount_rejects_anything_but_a_string(value: object) -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse_amount(value, "USD", "tax")

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.errors == (FieldError("tax", 'must be a decimal string such as "12.30"'),)


def test_parse_amount_rejects_an_unknown_currency_on_the_currency_field() -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse_amount("12.30", "ABC", "tax")

    assert raised.value.code == "VALIDATION_ERROR"
    assert [e.field for e in raised.value.errors] == ["currency"]
    assert "USD" in raised.value.errors[0].message


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1230, "USD", "12.30"),
        (5, "USD", "0.05"),
        (50, "USD", "0.50"),
        (0, "USD", "0.00"),
        (100, "GBP", "1.00"),
        (99999999999999999, "USD", "999999999999999.99"),
        (-5, "USD", "-0.05"),
        (-1230, "USD", "-12.30"),
        (1230, "JPY", "1230"),
        (0, "JPY", "0"),
        (-7, "KRW", "-7"),
    ],
)
def test_format_amount_writes_the_currency_decimals(minor: int, currency: str, text: str) -> None:
    assert format_amount(minor, currency) == text


def test_format_amount_rejects_an_unknown_currency() -> None:
    with pytest.raises(RequestInvalid) as raised:
        format_amount(100, "ZZZ")

    assert raised.value.code == "VALIDATION_ERROR"


@settings(max_examples=200, deadline=None)
@given(
    minor=st.integers(min_value=0, max_value=10**15 - 1),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_format_then_parse_gives_back_the_same_minor_units(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency), currency) == minor
