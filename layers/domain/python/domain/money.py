"""Amounts of money as integer minor units, parsed from and formatted to decimal strings."""

from __future__ import annotations

import re

from domain.errors import FieldError, RequestInvalid

# ISO 4217 minor units of the currencies the marketplace settles in.
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "MXN": 2,
    "BRL": 2,
    "SGD": 2,
    "MYR": 2,
    "PHP": 2,
    "THB": 2,
    "IDR": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
}

_AMOUNT = re.compile(r"(?P<whole>0|[1-9][0-9]{0,14})(?:\.(?P<fraction>[0-9]+))?")


def minor_unit_digits(currency: str, field: str = "currency") -> int:
    """The number of decimals of ``currency``; an unknown currency is a validation error."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise RequestInvalid(
            f"unsupported currency {currency!r}",
            errors=(FieldError(field, f"must be one of {', '.join(sorted(MINOR_UNITS))}"),),
        ) from None


def parse_amount(value: object, currency: str, field: str = "amount") -> int:
    """Parse a non-negative decimal string such as ``"12.30"`` into minor units (1230).

    Floats, negative amounts, exponents and more decimals than the currency has are
    validation errors: an amount that cannot be represented exactly is never rounded.
    """
    digits = minor_unit_digits(currency)
    if not isinstance(value, str):
        raise RequestInvalid(
            f"{field} must be a decimal string",
            errors=(FieldError(field, 'must be a decimal string such as "12.30"'),),
        )
    match = _AMOUNT.fullmatch(value)
    if match is None:
        raise RequestInvalid(
            f"{field} is not a non-negative decimal amount: {value!r}",
            errors=(FieldError(field, 'must be a non-negative decimal string such as "12.30"'),),
        )
    fraction = match.group("fraction") or ""
    if len(fraction) > digits:
        raise RequestInvalid(
            f"{field} has more decimals than {currency} allows ({digits})",
            errors=(FieldError(field, f"{currency} amounts have at most {digits} decimals"),),
        )
    whole = int(match.group("whole"))
    return whole * _scale(digits) + int(fraction.ljust(digits, "0") or "0")


def _scale(digits: int) -> int:
    return int(10**digits)


def format_amount(minor: int, currency: str) -> str:
    """Format minor units as the API's decimal string.

    1230 USD gives ``"12.30"``; 1230 JPY gives ``"1230"``.
    """
    digits = minor_unit_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), _scale(digits))
    if digits == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{digits}d}"
