"""The email a buyer gets after a seller cancels some or all of an order.

``render_cancellation_email`` turns an order and one of its cancellations into a subject,
a plain-text part and an HTML part; ``render_notice_email`` does the same from the
cancellation and the ``BuyerNotice`` stored with it, without the order. The copy is
English; numbers, amounts and dates follow the buyer's locale (``Buyer.locale``, a BCP 47
tag such as ``"de-DE"``), falling back to ``en-US`` when the tag is missing, malformed or
unknown to CLDR.

Amounts are integer minor units turned into ``Decimal`` with the currency's ISO 4217
digits from ``domain.money`` and formatted with Babel, never through ``float``. The HTML
is a table layout with inline styles only, and every string that comes from a buyer or a
seller is escaped. The seller's note is internal and never shown.

Pure: no I/O, no boto3; the notify function sends what this returns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, parse_pattern

from domain.buyer_notice import BuyerNotice
from domain.cancellation import Cancellation, CancelReason, ItemRefund
from domain.model import Order, OrderStatus
from domain.money import minor_unit_digits

DEFAULT_LOCALE = "en_US"
DEFAULT_MARKETPLACE_NAME = "ACME Marketplace"
REFUND_TIME = "usually within 3\u20135 business days"
MINUS = "\u2212"
TIMES = "\u00d7"
STILL_COMING = "These items are not affected by the cancellation and are still coming to you."
NOTHING_LEFT = "Nothing else remains in this order."

BUYER_REASONS: Mapping[CancelReason, str] = {
    CancelReason.OUT_OF_STOCK: "An item you ordered is out of stock",
    CancelReason.PRICING_ERROR: "The item was listed at an incorrect price",
    CancelReason.UNABLE_TO_DELIVER: "The seller is unable to deliver to your address",
    CancelReason.BUYER_REQUESTED: "You asked us to cancel",
}

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_cancellation_email(
    order: Order,
    cancellation: Cancellation,
    *,
    marketplace_name: str = DEFAULT_MARKETPLACE_NAME,
) -> RenderedEmail:
    """The buyer's email for ``cancellation``.

    ``order`` is the order as it stands after the cancellation (or later): it supplies
    the buyer, the dates, SKU names missing from the cancellation's items, and the items
    still on their way. An order older than the cancellation, or another order, is a
    ``ValueError`` rather than an email that lists the wrong items.
    """
    if order.order_id != cancellation.order_id:
        raise ValueError(
            f"cancellation {cancellation.cancellation_id} belongs to order "
            f"{cancellation.order_id}, not {order.order_id}"
        )
    if order.version < cancellation.order_version:
        raise ValueError(
            f"order {order.order_id} is at version {order.version}, older than cancellation "
            f"{cancellation.cancellation_id} (version {cancellation.order_version})"
        )
    return render_notice_email(
        BuyerNotice.of(order),
        _with_line_names(order, cancellation),
        marketplace_name=marketplace_name,
    )


def render_notice_email(
    notice: BuyerNotice,
    cancellation: Cancellation,
    *,
    marketplace_name: str = DEFAULT_MARKETPLACE_NAME,
) -> RenderedEmail:
    """The buyer's email for ``cancellation``, from ``BuyerNotice.of`` the order as the
    cancellation left it."""
    content = _content(notice, cancellation, buyer_locale(notice.buyer.locale), marketplace_name)
    return RenderedEmail(subject=content.subject, text=_text(content), html=_html(content))


def buyer_locale(tag: str | None) -> Locale:
    """The Babel locale for a BCP 47 tag (``"ja-JP"``), or en-US when there is none."""
    if tag:
        try:
            return Locale.parse(tag.strip().replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return Locale.parse(DEFAULT_LOCALE)


def format_money(minor: int, currency: str, locale: Locale) -> str:
    """``minor`` units of ``currency`` for ``locale``: 2000 USD is "$20.00" in en-US.

    The number of decimals is the currency's ISO 4217 minor unit as ``domain.money``
    knows it (JPY 0, IDR 2), even where CLDR's differs, so no amount is ever rounded.
    A negative amount carries a true minus sign (U+2212).
    """
    digits = minor_unit_digits(currency)
    amount = Decimal(minor).scaleb(-digits)
    pattern = parse_pattern(locale.currency_formats["standard"].pattern)
    pattern.frac_prec = (digits, digits)
    formatted = format_currency(
        amount, currency, format=pattern, locale=locale, currency_digits=False
    )
    return formatted.replace("-", MINUS) if minor < 0 else formatted


def format_count(count: int, locale: Locale) -> str:
    return format_decimal(count, locale=locale)


# -- what the email says, as plain (unescaped) strings ------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    quantity: str
    amount: str | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    amount: str


@dataclass(frozen=True, slots=True)
class _Content:
    marketplace: str
    subject: str
    preheader: str
    title: str
    buyer_name: str
    order_id: str
    placed_on: str
    cancelled_on: str
    summary: str
    reason: str
    cancelled: tuple[_Item, ...]
    refund_rows: tuple[_Row, ...]
    refund_total: _Row
    shipping_note: str | None
    next_steps: str
    remaining: tuple[_Item, ...]


def _content(
    notice: BuyerNotice, cancellation: Cancellation, locale: Locale, marketplace: str
) -> _Content:
    currency = cancellation.refund.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    units = sum(item.quantity for item in cancellation.items)
    unit_words = f"{format_count(units, locale)} {'item' if units == 1 else 'items'}"
    whole_order = cancellation.resulting_order_status is OrderStatus.CANCELLED
    order_id = _one_line(cancellation.order_id)
    if whole_order:
        subject = f"Your order {order_id} has been cancelled"
        title = "Your order has been cancelled"
        if units == notice.units_ordered:
            summary = f"your order {order_id} has been cancelled."
        else:
            summary = (
                f"the remaining {unit_words} from your order {order_id} {_were(units)} "
                "cancelled, so the whole order is now cancelled."
            )
    else:
        subject = f"Your order {order_id}: {unit_words} cancelled"
        title = "Part of your order has been cancelled"
        summary = f"{unit_words} from your order {order_id} {_were(units)} cancelled."

    refund = cancellation.refund
    parts = refund.components
    rows = [_Row("Items", money(parts.subtotal))]
    if parts.seller_discount:
        rows.append(_Row("Seller discount", money(-parts.seller_discount)))
    if parts.platform_discount:
        rows.append(_Row("Platform discount", money(-parts.platform_discount)))
    rows.append(_Row("Tax", money(parts.tax)))
    rows.append(_Row("Shipping", money(refund.shipping_fee)))
    total = money(refund.total)
    if refund.total > 0:
        next_steps = (
            f"The refund of {total} goes back to your original payment method, {REFUND_TIME}. "
            "You don't need to do anything."
        )
        preheader = f"A refund of {total} is on its way to you."
    else:
        next_steps = "There is nothing to refund for this cancellation, as you were not charged."
        preheader = "No payment is needed for the cancelled items."

    return _Content(
        marketplace=marketplace,
        subject=_one_line(subject),
        preheader=preheader,
        title=title,
        buyer_name=notice.buyer.name,
        order_id=cancellation.order_id,
        placed_on=_date(notice.placed_at, locale),
        cancelled_on=_date(cancellation.created_at, locale),
        summary=summary,
        reason=BUYER_REASONS[cancellation.reason],
        cancelled=tuple(
            _Item(
                _name(item.product_name, item.sku_name),
                format_count(item.quantity, locale),
                money(item.refund.components.subtotal),
            )
            for item in cancellation.items
        ),
        refund_rows=tuple(rows),
        refund_total=_Row("Total refund", total),
        shipping_note=(
            "Shipping is refunded when every item in an order is cancelled."
            if refund.shipping_fee == 0 and notice.unrefunded_shipping_fee > 0
            else None
        ),
        next_steps=next_steps,
        remaining=tuple(
            _Item(_name(item.product_name, item.sku_name), format_count(item.quantity, locale))
            for item in notice.items_left
        ),
    )


def _with_line_names(order: Order, cancellation: Cancellation) -> Cancellation:
    """``cancellation`` with the names its items lack taken from the order's lines."""
    items = tuple(_named(order, item) for item in cancellation.items)
    return cancellation if items == cancellation.items else replace(cancellation, items=items)


def _named(order: Order, item: ItemRefund) -> ItemRefund:
    line = order.line(item.line_id)
    if line is None or (item.product_name and item.sku_name):
        return item
    return replace(
        item,
        product_name=item.product_name or line.product_name,
        sku_name=item.sku_name or line.sku_name,
    )


def _name(product_name: str, sku_name: str) -> str:
    return f"{product_name} ({sku_name})" if sku_name else product_name


def _were(units: int) -> str:
    return "was" if units == 1 else "were"


def _date(moment: datetime, locale: Locale) -> str:
    day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
    return format_date(day, format="long", locale=locale)


def _one_line(value: str) -> str:
    """``value`` without line breaks or control characters: safe in a header."""
    return _CONTROL_CHARACTERS.sub(" ", value).strip()


# -- the plain-text part -------------------------------------------------------------------


def _text(content: _Content) -> str:
    rows = (*content.refund_rows, content.refund_total)
    label_width = max(len(row.label) for row in rows) + 4
    amount_width = max(len(row.amount) for row in rows)
    lines = [
        content.marketplace,
        "=" * max(len(content.marketplace), 1),
        "",
        f"Hi {content.buyer_name},",
        "",
        f"We're sorry: {content.summary}",
        "",
        f"Order: {content.order_id}",
        f"Placed on: {content.placed_on}",
        f"Cancelled on: {content.cancelled_on}",
        f"Reason: {content.reason}.",
        "",
        "CANCELLED ITEMS",
        *(f"- {item.name} {TIMES} {item.quantity}: {item.amount}" for item in content.cancelled),
        "",
        "YOUR REFUND",
        *(f"{row.label:<{label_width}}{row.amount:>{amount_width}}" for row in content.refund_rows),
        "-" * (label_width + amount_width),
        (
            f"{content.refund_total.label:<{label_width}}"
            f"{content.refund_total.amount:>{amount_width}}"
        ),
        *([content.shipping_note] if content.shipping_note else []),
        "",
        "WHAT HAPPENS NEXT",
        content.next_steps,
        "",
        *_remaining_text(content.remaining),
        "",
        "--",
        f"You're receiving this email because you placed order {content.order_id} "
        f"on {content.marketplace}.",
    ]
    return "\n".join(lines) + "\n"


def _remaining_text(remaining: Sequence[_Item]) -> list[str]:
    if not remaining:
        return ["NOTHING ELSE REMAINS", NOTHING_LEFT]
    return [
        "STILL ON THEIR WAY",
        STILL_COMING,
        *(f"- {item.name} {TIMES} {item.quantity}" for item in remaining),
    ]


# -- the HTML part -------------------------------------------------------------------------

_FONT = "font-family:Helvetica,Arial,'Hiragino Sans','Noto Sans CJK JP',sans-serif;"
_INK = "#1f2937"
_MUTED = "#6b7280"
_RULE = "#e5e7eb"
_ACCENT = "#0f766e"


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _html(content: _Content) -> str:
    body = "".join(
        [
            _paragraph(f"Hi {_e(content.buyer_name)},", bottom=12),
            _paragraph(f"We're sorry: {_e(content.summary)}", bottom=20),
            _order_facts(content),
            _reason(content.reason),
            _heading("Cancelled items"),
            _items_table(content.cancelled),
            _heading("Your refund"),
            _refund_table(content.refund_rows, content.refund_total),
            _note(content.shipping_note),
            _heading("What happens next"),
            _paragraph(_e(content.next_steps), bottom=8),
            _remaining_html(content.remaining),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>{_e(content.subject)}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">{_e(content.preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
bgcolor="#f3f4f6" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:16px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" \
style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid {_RULE};\
border-collapse:separate;">
<tr><td bgcolor="{_ACCENT}" style="background-color:{_ACCENT};padding:20px 32px;{_FONT}\
font-size:20px;font-weight:bold;color:#ffffff;">{_e(content.marketplace)}</td></tr>
<tr><td style="padding:32px 32px 8px 32px;{_FONT}color:{_INK};">
<h1 style="margin:0 0 20px 0;{_FONT}font-size:22px;line-height:30px;font-weight:bold;\
color:{_INK};">{_e(content.title)}</h1>
{body}
</td></tr>
<tr><td style="padding:18px 32px 22px 32px;border-top:1px solid {_RULE};{_FONT}\
font-size:12px;line-height:18px;color:{_MUTED};">You're receiving this email because you \
placed order {_e(content.order_id)} on {_e(content.marketplace)}.</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""


def _paragraph(inner: str, *, bottom: int) -> str:
    return (
        f'<p style="margin:0 0 {bottom}px 0;{_FONT}font-size:15px;line-height:22px;'
        f'color:{_INK};">{inner}</p>\n'
    )


def _heading(text: str) -> str:
    return (
        f'<h2 style="margin:22px 0 8px 0;{_FONT}font-size:13px;line-height:18px;'
        f'font-weight:bold;letter-spacing:1px;text-transform:uppercase;color:{_MUTED};">'
        f"{_e(text)}</h2>\n"
    )


def _table(rows: str) -> str:
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="width:100%;border-collapse:collapse;">\n{rows}</table>\n'
    )


def _cell(inner: str, *, align: str = "left", style: str = "") -> str:
    return (
        f'<td align="{align}" valign="top" style="padding:8px 0;border-bottom:1px solid '
        f'{_RULE};{_FONT}font-size:15px;line-height:22px;color:{_INK};{style}">{inner}</td>'
    )


def _note(text: str | None) -> str:
    if text is None:
        return ""
    return (
        f'<p style="margin:8px 0 0 0;{_FONT}font-size:13px;line-height:18px;'
        f'color:{_MUTED};">{_e(text)}</p>\n'
    )


def _order_facts(content: _Content) -> str:
    facts = (
        ("Order", content.order_id),
        ("Placed on", content.placed_on),
        ("Cancelled on", content.cancelled_on),
    )
    rows = "".join(
        f'<tr><td style="padding:2px 16px 2px 0;{_FONT}font-size:14px;line-height:20px;'
        f'color:{_MUTED};white-space:nowrap;">{_e(label)}</td>'
        f'<td style="padding:2px 0;{_FONT}font-size:14px;line-height:20px;color:{_INK};">'
        f"{_e(value)}</td></tr>\n"
        for label, value in facts
    )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        f'style="margin:0 0 20px 0;border-collapse:collapse;">\n{rows}</table>\n'
    )


def _reason(reason: str) -> str:
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="width:100%;border-collapse:collapse;"><tr>'
        f'<td bgcolor="#f0fdfa" style="background-color:#f0fdfa;border-left:4px solid '
        f'{_ACCENT};padding:12px 16px;{_FONT}font-size:15px;line-height:22px;color:{_INK};">'
        f'<span style="color:{_MUTED};">Reason:</span> {_e(reason)}.</td></tr></table>\n'
    )


def _item_label(item: _Item) -> str:
    return (
        f"{_e(item.name)}"
        f'<span style="color:{_MUTED};white-space:nowrap;"> {TIMES} {_e(item.quantity)}</span>'
    )


def _items_table(items: Sequence[_Item]) -> str:
    rows = "".join(
        "<tr>"
        + _cell(_item_label(item))
        + _cell(_e(item.amount or ""), align="right", style="white-space:nowrap;padding-left:16px;")
        + "</tr>\n"
        for item in items
    )
    return _table(rows)


def _refund_table(rows: Sequence[_Row], total: _Row) -> str:
    body = "".join(
        "<tr>"
        + _cell(_e(row.label), style=f"color:{_MUTED};")
        + _cell(_e(row.amount), align="right", style="white-space:nowrap;padding-left:16px;")
        + "</tr>\n"
        for row in rows
    )
    strong = (
        f"border-top:2px solid {_INK};border-bottom:0;padding-top:12px;font-size:17px;"
        f"font-weight:bold;color:{_INK};"
    )
    body += (
        "<tr>"
        + _cell(_e(total.label), style=strong)
        + _cell(_e(total.amount), align="right", style=f"{strong}white-space:nowrap;")
        + "</tr>\n"
    )
    return _table(body)


def _remaining_html(remaining: Sequence[_Item]) -> str:
    if not remaining:
        return _heading("Nothing else remains") + _paragraph(NOTHING_LEFT, bottom=8)
    plain = "padding:4px 0;border-bottom:0;"
    rows = "".join("<tr>" + _cell(_item_label(item), style=plain) + "</tr>\n" for item in remaining)
    return _heading("Still on their way") + _paragraph(STILL_COMING, bottom=6) + _table(rows)


class BuyerEmails:
    """The ``Renderer`` of ``domain.notification``: the email from the notice stored with a
    cancellation, or from its order for one stored before notices were."""

    def __init__(self, marketplace_name: str) -> None:
        self._marketplace_name = marketplace_name

    def __call__(self, source: BuyerNotice | Order, cancellation: Cancellation) -> RenderedEmail:
        if isinstance(source, Order):
            return render_cancellation_email(
                source, cancellation, marketplace_name=self._marketplace_name
            )
        return render_notice_email(source, cancellation, marketplace_name=self._marketplace_name)
