"""Reading a rendered email back: the HTML's text, its table rows and its tags."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from domain.intake import LineDraft, new_order
from domain.model import Buyer, Order
from tests.unit.domain.builders import line, order_fields


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.rows: list[tuple[str, ...]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self._row = []
            self._cell = None
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            # An outer layout row holding a table ends after its inner rows: skip it.
            if self._row:
                self.rows.append(tuple(self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _squash(value: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", value).strip()


def read_html(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def html_rows(html: str) -> list[tuple[str, ...]]:
    """The cells of every table row whose cells hold text only, as the buyer reads them."""
    return read_html(html).rows


def html_text(html: str) -> str:
    """The HTML's visible text, entities decoded and whitespace squashed."""
    return _squash(" ".join(read_html(html).text))


def text_rows(text: str) -> dict[str, str]:
    """The plain-text refund table: label -> amount, from lines such as ``Tax   $1.36``."""
    rows: dict[str, str] = {}
    for row in text.splitlines():
        match = re.fullmatch(r"(\S.*?) {2,}(\S.*)", row)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def section(text: str, heading: str) -> list[str]:
    """The lines of the plain-text section under ``heading``, up to the next blank line."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = lines.index("", start)
    return lines[start:end]


MUG = line(
    "L1",
    product_id="P1",
    sku_id="K1",
    quantity=3,
    unit_price="10.00",
    seller_discount="3.00",
    platform_discount="1.50",
    tax="2.04",
)


def order_for(
    buyer: Buyer,
    *lines: LineDraft,
    currency: str = "USD",
    shipping_fee: str = "0",
    order_id: str = "O1",
) -> Order:
    """An order like ``builders.order`` for another buyer (and order id)."""
    return new_order(
        **order_fields(
            *lines, currency=currency, shipping_fee=shipping_fee, buyer=buyer, order_id=order_id
        )
    )
