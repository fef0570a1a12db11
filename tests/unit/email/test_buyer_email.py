"""The buyer's cancellation email: what it says, in which numbers, and that it is safe."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from adapters.buyer_email import (
    BUYER_REASONS,
    RenderedEmail,
    buyer_locale,
    format_money,
    render_cancellation_email,
    render_notice_email,
)
from adapters.records import buyer_notice_from_dict, buyer_notice_to_dict
from domain.buyer_notice import BuyerNotice
from domain.cancellation import CancelReason
from domain.model import Buyer, PackageStatus
from domain.money import MINOR_UNITS
from tests.unit.domain.builders import (
    ANA,
    apply,
    items_request,
    line,
    mug_order,
    order,
    order_request,
    package_request,
    split_order,
)
from tests.unit.email.helpers import (
    MUG,
    html_rows,
    html_text,
    order_for,
    read_html,
    section,
    text_rows,
)

REFUND_LABELS = ("Items", "Seller discount", "Platform discount", "Tax", "Shipping")


def refund_table(email: RenderedEmail) -> dict[str, str]:
    """The refund rows of both parts, checked to agree with each other."""
    from_text = {
        label: amount
        for label, amount in text_rows(email.text).items()
        if label in (*REFUND_LABELS, "Total refund")
    }
    from_html = {
        row[0]: row[1]
        for row in html_rows(email.html)
        if len(row) == 2 and row[0] in (*REFUND_LABELS, "Total refund")
    }
    assert from_text == from_html
    return from_text


# -- API.md's order in USD, en-US ---------------------------------------------------------


def test_a_partial_item_cancellation_in_usd() -> None:
    after, cancellation = apply(mug_order(), items_request(("L1", 2)))

    email = render_cancellation_email(after, cancellation)

    assert email.subject == "Your order O1: 2 items cancelled"
    assert refund_table(email) == {
        "Items": "$20.00",
        "Seller discount": "\u2212$2.00",
        "Platform discount": "\u2212$1.00",
        "Tax": "$1.36",
        "Shipping": "$0.00",
        "Total refund": "$18.36",
    }
    next_steps = (
        "The refund of $18.36 goes back to your original payment method, "
        "usually within 3\u20135 business days."
    )
    for part in (email.text, html_text(email.html)):
        assert "Hi Ana Ruiz," in part
        assert "Order: O1" in part or "Order O1" in part
        assert "Placed on: November 20, 2026" in part or "Placed on November 20, 2026" in part
        assert "November 21, 2026" in part
        assert "An item you ordered is out of stock" in part
        assert "Out of stock" not in part  # the seller-facing label
        assert next_steps in part
        assert "Shipping is refunded when every item in an order is cancelled." in part
    assert section(email.text, "CANCELLED ITEMS") == ["- Mug (Blue) \u00d7 2: $20.00"]
    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- Mug (Blue) \u00d7 1"]
    rows = html_rows(email.html)
    assert ("Mug (Blue) \u00d7 2", "$20.00") in rows
    assert ("Mug (Blue) \u00d7 1",) in rows
    assert "Nothing else remains" not in email.text


def test_one_unit_makes_a_singular_subject() -> None:
    after, cancellation = apply(mug_order(), items_request(("L1", 1)))

    email = render_cancellation_email(after, cancellation)

    assert email.subject == "Your order O1: 1 item cancelled"
    assert "1 item from your order O1 was cancelled." in email.text
    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- Mug (Blue) \u00d7 2"]


def test_the_sellers_note_never_reaches_the_buyer() -> None:
    note = "Supplier batch 7 failed QA, do not tell the buyer"
    after, cancellation = apply(mug_order(), items_request(("L1", 2), note=note))

    email = render_cancellation_email(after, cancellation)

    assert cancellation.note == note
    for part in (email.subject, email.text, email.html):
        assert "Supplier batch" not in part


# -- whole orders and shipping ------------------------------------------------------------


def test_a_full_cancellation_refunds_shipping_and_says_nothing_remains() -> None:
    after, cancellation = apply(mug_order(), order_request())

    email = render_cancellation_email(after, cancellation)

    assert email.subject == "Your order O1 has been cancelled"
    assert refund_table(email) == {
        "Items": "$30.00",
        "Seller discount": "\u2212$3.00",
        "Platform discount": "\u2212$1.50",
        "Tax": "$2.04",
        "Shipping": "$5.99",
        "Total refund": "$33.53",
    }
    assert "your order O1 has been cancelled." in email.text
    assert section(email.text, "NOTHING ELSE REMAINS") == ["Nothing else remains in this order."]
    assert "STILL ON THEIR WAY" not in email.text
    assert "Still on their way" not in email.html
    assert "Nothing else remains in this order." in html_text(email.html)
    assert "Shipping is refunded when" not in email.text
    assert "You asked us to cancel" in email.text
    assert "The refund of $33.53 goes back to your original payment method" in email.text


def test_the_cancellation_that_empties_the_order_refunds_the_rest_and_shipping() -> None:
    first, _ = apply(mug_order(), items_request(("L1", 2)), "C1")
    last, cancellation = apply(first, items_request(("L1", 1)), "C2")

    email = render_cancellation_email(last, cancellation)

    assert email.subject == "Your order O1 has been cancelled"
    assert "the remaining 1 item from your order O1 was cancelled" in email.text
    assert refund_table(email) == {
        "Items": "$10.00",
        "Seller discount": "\u2212$1.00",
        "Platform discount": "\u2212$0.50",
        "Tax": "$0.68",
        "Shipping": "$5.99",
        "Total refund": "$15.17",
    }
    assert "Nothing else remains in this order." in email.text


def test_a_cancelled_package_is_not_on_its_way_but_the_other_one_is() -> None:
    after, cancellation = apply(
        split_order(), package_request("PK2", CancelReason.UNABLE_TO_DELIVER)
    )

    email = render_cancellation_email(after, cancellation)

    assert email.subject == "Your order O1: 2 items cancelled"
    assert section(email.text, "CANCELLED ITEMS") == ["- Plate (White) \u00d7 2: $15.00"]
    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- Mug (Blue) \u00d7 3"]
    assert "The seller is unable to deliver to your address" in email.text
    assert refund_table(email) == {
        "Items": "$15.00",
        "Platform discount": "\u2212$0.50",
        "Tax": "$1.20",
        "Shipping": "$0.00",
        "Total refund": "$15.70",
    }
    assert ("Plate (White) \u00d7 2",) not in html_rows(email.html)


def test_a_line_cancelled_in_full_no_longer_shows_as_on_its_way() -> None:
    first, _ = apply(split_order(), items_request(("L2", 1)), "C1")
    after, cancellation = apply(first, items_request(("L1", 3)), "C2")

    email = render_cancellation_email(after, cancellation)

    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- Plate (White) \u00d7 1"]
    assert ("Plate (White) \u00d7 1",) in html_rows(email.html)
    on_their_way = [row for row in html_rows(email.html) if len(row) == 1]
    assert not any("Mug" in row[0] for row in on_their_way)


def test_lines_of_a_cancelled_package_are_never_listed_as_on_their_way() -> None:
    after, cancellation = apply(split_order(), items_request(("L1", 1)))
    # Whatever left units a cancelled package may hold, they are not coming.
    packages = tuple(
        replace(package, status=PackageStatus.CANCELLED) if package.package_id == "PK2" else package
        for package in after.packages
    )

    email = render_cancellation_email(replace(after, packages=packages), cancellation)

    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- Mug (Blue) \u00d7 2"]


def test_a_missing_sku_name_is_taken_from_the_orders_line() -> None:
    after, cancellation = apply(mug_order(), items_request(("L1", 2)))
    bare = replace(
        cancellation, items=tuple(replace(item, sku_name="") for item in cancellation.items)
    )

    email = render_cancellation_email(after, bare)

    assert section(email.text, "CANCELLED ITEMS") == ["- Mug (Blue) \u00d7 2: $20.00"]
    assert ("Mug (Blue) \u00d7 2", "$20.00") in html_rows(email.html)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (CancelReason.OUT_OF_STOCK, "An item you ordered is out of stock"),
        (CancelReason.PRICING_ERROR, "The item was listed at an incorrect price"),
        (CancelReason.UNABLE_TO_DELIVER, "The seller is unable to deliver to your address"),
        (CancelReason.BUYER_REQUESTED, "You asked us to cancel"),
    ],
)
def test_every_reason_is_told_in_the_buyers_words(reason: CancelReason, words: str) -> None:
    after, cancellation = apply(mug_order(), order_request(reason))

    email = render_cancellation_email(after, cancellation)

    assert BUYER_REASONS[reason] == words
    assert f"Reason: {words}." in email.text
    assert f"Reason: {words}." in html_text(email.html)
    assert reason.label not in email.text
    assert reason.label not in html_text(email.html)


def test_nothing_to_refund_says_so_instead_of_promising_a_refund() -> None:
    free = order(line("L1", quantity=1, unit_price="10.00", seller_discount="10.00"))
    after, cancellation = apply(free, order_request())

    email = render_cancellation_email(after, cancellation)

    assert refund_table(email)["Total refund"] == "$0.00"
    assert "There is nothing to refund for this cancellation" in email.text
    assert "goes back to your original payment method" not in email.text


# -- locales, currencies and amounts ------------------------------------------------------


def test_a_jpy_order_for_a_japanese_buyer_has_no_decimals() -> None:
    buyer = Buyer(name="山田 花子", email="hanako@example.jp", locale="ja-JP")
    given = order_for(
        buyer,
        line(
            "L1",
            product_name="湯呑み",
            sku_name="藍色",
            quantity=3,
            unit_price="660",
            seller_discount="90",
            tax="198",
        ),
        currency="JPY",
        shipping_fee="500",
    )
    after, cancellation = apply(given, items_request(("L1", 2)))

    email = render_cancellation_email(after, cancellation)

    assert refund_table(email) == {
        "Items": "\uffe51,320",
        "Seller discount": "\u2212\uffe560",
        "Tax": "\uffe5132",
        "Shipping": "\uffe50",
        "Total refund": "\uffe51,392",
    }
    assert "Hi 山田 花子," in email.text
    assert section(email.text, "CANCELLED ITEMS") == ["- 湯呑み (藍色) \u00d7 2: \uffe51,320"]
    assert section(email.text, "STILL ON THEIR WAY")[1:] == ["- 湯呑み (藍色) \u00d7 1"]
    assert "Placed on: 2026年11月20日" in email.text
    assert "Cancelled on: 2026年11月21日" in email.text
    assert "The refund of \uffe51,392 goes back" in email.text
    assert "1,320.00" not in email.text
    assert "1,320.00" not in email.html


def test_a_german_buyer_gets_german_numbers_and_dates() -> None:
    buyer = Buyer(name="Jonas Weber", email="jonas@example.de", locale="de-DE")
    after, cancellation = apply(
        order_for(buyer, MUG, currency="EUR", shipping_fee="5.99"), items_request(("L1", 2))
    )

    email = render_cancellation_email(after, cancellation)

    assert refund_table(email) == {
        "Items": "20,00\xa0€",
        "Seller discount": "\u22122,00\xa0€",
        "Platform discount": "\u22121,00\xa0€",
        "Tax": "1,36\xa0€",
        "Shipping": "0,00\xa0€",
        "Total refund": "18,36\xa0€",
    }
    assert "Cancelled on: 21. November 2026" in email.text


@pytest.mark.parametrize("tag", ["xx-XX", "", "   ", "not a locale", "en-US-u-nu-arab", "zz"])
def test_an_unknown_or_invalid_locale_falls_back_to_en_us(tag: str) -> None:
    buyer = Buyer(name="Ana Ruiz", email="ana@example.com", locale=tag)
    after, cancellation = apply(
        order_for(buyer, MUG, shipping_fee="5.99"), items_request(("L1", 2))
    )

    email = render_cancellation_email(after, cancellation)

    assert str(buyer_locale(tag)) == "en_US"
    assert refund_table(email)["Total refund"] == "$18.36"
    assert "Cancelled on: November 21, 2026" in email.text


@pytest.mark.parametrize(
    ("tag", "expected"), [("de-DE", "de_DE"), ("ja_JP", "ja_JP"), ("fr", "fr")]
)
def test_locale_tags_are_read_with_either_separator(tag: str, expected: str) -> None:
    assert str(buyer_locale(tag)) == expected


def test_amounts_beyond_float_precision_are_exact() -> None:
    huge = order(line("L1", quantity=1, unit_price="999999999999999.99"))
    after, cancellation = apply(huge, order_request())

    email = render_cancellation_email(after, cancellation)

    assert refund_table(email)["Total refund"] == "$999,999,999,999,999.99"


@pytest.mark.parametrize("currency", sorted(MINOR_UNITS))
def test_every_currency_shows_its_iso_minor_unit_digits(currency: str) -> None:
    digits = MINOR_UNITS[currency]
    minor = 123456789 * 10**digits + (12 if digits == 2 else 0)

    formatted = format_money(minor, currency, buyer_locale("en-US"))

    expected = "123,456,789" + (".12" if digits == 2 else "")
    assert expected in formatted
    assert formatted.endswith(expected)


def test_idr_keeps_its_cents_although_cldr_gives_it_none() -> None:
    # CLDR's IDR precision is 0; the marketplace settles IDR in cents (ISO 4217: 2).
    assert format_money(15000050, "IDR", buyer_locale("id-ID")) == "Rp150.000,50"


# -- escaping and headers -----------------------------------------------------------------

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_PRODUCT = 'Mug & "Co" <b>'


def test_buyer_and_seller_strings_are_escaped_in_html_and_raw_in_text() -> None:
    buyer = Buyer(name=HOSTILE_NAME, email="eve@example.com", locale="en-US")
    given = order_for(
        buyer,
        line("L1", quantity=3, product_name=HOSTILE_PRODUCT, sku_name="<i>Blue</i>"),
        order_id="O<1>",
    )
    after, cancellation = apply(given, items_request(("L1", 2)))

    email = render_cancellation_email(after, cancellation)

    assert "<script" not in email.html.lower()
    assert "<b>" not in email.html
    assert "<i>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "Mug &amp; &quot;Co&quot; &lt;b&gt;" in email.html
    assert "O&lt;1&gt;" in email.html
    reader = read_html(email.html)
    assert reader.tags <= {
        "html", "head", "meta", "title", "body", "div", "table", "tr", "td",
        "h1", "h2", "p", "span",
    }  # fmt: skip
    visible = html_text(email.html)
    assert f"Hi {HOSTILE_NAME}," in visible
    assert f"{HOSTILE_PRODUCT} (<i>Blue</i>) \u00d7 2" in visible

    assert f"Hi {HOSTILE_NAME}," in email.text
    assert f"- {HOSTILE_PRODUCT} (<i>Blue</i>) \u00d7 2: $20.00" in email.text
    assert f"- {HOSTILE_PRODUCT} (<i>Blue</i>) \u00d7 1" in email.text
    assert "&lt;" not in email.text
    assert "&amp;" not in email.text
    assert email.subject == "Your order O<1>: 2 items cancelled"


def test_the_subject_is_one_line_whatever_the_order_id() -> None:
    given = order_for(ANA, MUG, order_id="O1\r\nBcc: eve@example.com")
    after, cancellation = apply(given, items_request(("L1", 2)))

    email = render_cancellation_email(after, cancellation)

    assert "\r" not in email.subject
    assert "\n" not in email.subject
    assert email.subject == "Your order O1 Bcc: eve@example.com: 2 items cancelled"


# -- from the notice stored with the cancellation -----------------------------------------

JONAS = Buyer(name="Jonas Weber", email="jonas@example.de", locale="de-DE")
NOTICE_CASES = {
    "some units": lambda: apply(mug_order(), items_request(("L1", 2))),
    "the whole order": lambda: apply(mug_order(), order_request()),
    "the last units": lambda: apply(
        apply(mug_order(), items_request(("L1", 2)))[0], items_request(("L1", 1))
    ),
    "a package": lambda: apply(split_order(), package_request("PK2")),
    "a line in full": lambda: apply(
        apply(split_order(), items_request(("L2", 1)))[0], items_request(("L1", 3))
    ),
    "in euros, in German": lambda: apply(
        order_for(JONAS, MUG, currency="EUR", shipping_fee="5.99"), items_request(("L1", 1))
    ),
}


@pytest.mark.parametrize("case", NOTICE_CASES)
def test_the_stored_notice_writes_the_email_the_order_writes(case: str) -> None:
    resulting, cancellation = NOTICE_CASES[case]()
    stored = buyer_notice_from_dict(buyer_notice_to_dict(BuyerNotice.of(resulting)))

    email = render_notice_email(stored, cancellation)

    assert stored == BuyerNotice.of(resulting)
    assert email == render_cancellation_email(resulting, cancellation)


def test_the_notice_keeps_only_what_is_still_coming() -> None:
    resulting, cancellation = apply(split_order(), package_request("PK2"))

    notice = BuyerNotice.of(resulting)

    assert [(i.product_name, i.sku_name, i.quantity) for i in notice.items_left] == [
        ("Mug", "Blue", 3)
    ]
    assert (notice.units_ordered, notice.unrefunded_shipping_fee) == (5, 599)
    assert cancellation.refund.shipping_fee == 0


# -- misuse -------------------------------------------------------------------------------


def test_the_order_before_the_cancellation_is_refused() -> None:
    before = mug_order()
    _after, cancellation = apply(before, items_request(("L1", 2)))

    with pytest.raises(ValueError, match="older than cancellation"):
        render_cancellation_email(before, cancellation)


def test_another_orders_cancellation_is_refused() -> None:
    after, cancellation = apply(mug_order(), items_request(("L1", 2)))

    with pytest.raises(ValueError, match="belongs to order"):
        render_cancellation_email(replace(after, order_id="O2"), cancellation)


def test_the_rendered_email_is_immutable() -> None:
    after, cancellation = apply(mug_order(), items_request(("L1", 2)))
    email = render_cancellation_email(after, cancellation)

    with pytest.raises(dataclasses.FrozenInstanceError):
        email.subject = "changed"  # type: ignore[misc]
