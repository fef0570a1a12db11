"""The k-way merge behind GET /orders?product_id=…: every matching entry exactly once,
newest first, at most as many reads as products per page, and little read beyond what is
returned."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.product_merge import MergeState, first_state, merge_page


class Streams:
    """Products' index entries in memory, counting reads and entries read."""

    def __init__(self, streams: dict[str, list[str]]) -> None:
        self._streams = {p: sorted(set(e), reverse=True) for p, e in streams.items()}
        self.reads: list[str] = []
        self.entries_read = 0

    def read(self, product: str, below: str | None, limit: int) -> Sequence[str]:
        self.reads.append(product)
        found = [e for e in self._streams[product] if below is None or e < below][:limit]
        self.entries_read += len(found)
        return found

    def everything(self) -> list[str]:
        return sorted({e for entries in self._streams.values() for e in entries}, reverse=True)


def walk(streams: Streams, products: list[str], page_size: int) -> list[tuple[str, ...]]:
    pages = []
    state: MergeState | None = first_state(len(products), page_size)
    while state is not None:
        before = len(streams.reads)
        page = merge_page(products, state, page_size, streams.read)
        reads = streams.reads[before:]
        assert len(reads) <= len(products), "more reads than products for one page"
        assert len(page.positions) <= page_size
        pages.append(page.positions)
        if page.next_state is not None:
            # The state survives the page token.
            state = MergeState.decode(page.next_state.encode(), len(products))
        else:
            state = None
        assert len(pages) <= 10_000
    return pages


positions = st.integers(min_value=0, max_value=400).map(lambda n: f"2026-01-01T{n:05d}#O{n}")


@given(
    st.dictionaries(
        st.sampled_from([f"P{n}" for n in range(8)]),
        st.lists(positions, max_size=60),
        min_size=1,
    ),
    st.integers(min_value=1, max_value=25),
)
def test_the_pages_together_are_every_entry_once_newest_first(
    streams_by_product: dict[str, list[str]], page_size: int
) -> None:
    streams = Streams(streams_by_product)
    products = sorted(streams_by_product)

    pages = walk(streams, products, page_size)

    returned = [position for page in pages for position in page]
    assert returned == streams.everything()
    assert all(pages[:-1]), "an empty page before the end"


def round_robin(products: int, of_all: int, orders: int) -> dict[str, list[str]]:
    """Orders a minute apart, each with one of ``of_all`` products in turn."""
    streams: dict[str, list[str]] = {f"P{n:02d}": [] for n in range(products)}
    for number in range(orders):
        product = number % of_all
        if product < products:
            streams[f"P{product:02d}"].append(f"{number:08d}#O{number}")
    return streams


@pytest.mark.parametrize(("products", "page_size"), [(20, 20), (3, 20), (20, 100), (5, 5)])
def test_evenly_spread_products_read_one_look_ahead_per_product_beyond_the_page(
    products: int, page_size: int
) -> None:
    streams = Streams(round_robin(products, 37, 5000))
    names = sorted(round_robin(products, 37, 0))

    pages = walk(streams, names, page_size)

    returned = sum(len(page) for page in pages)
    assert returned == len(streams.everything())
    assert streams.entries_read <= returned + products * len(pages)
    assert sum(len(page) < page_size for page in pages[:-1]) == 0


def test_one_product_far_more_common_than_the_others_still_reads_little_more() -> None:
    streams_by_product = round_robin(10, 37, 5000)
    streams_by_product["P00"] += [f"{n:08d}#X{n}" for n in range(0, 5000, 2)]
    streams = Streams(streams_by_product)

    pages = walk(streams, sorted(streams_by_product), 20)

    returned = sum(len(page) for page in pages)
    assert returned == len(streams.everything())
    # Pages get cut where the common product outruns its share, so a few more look-aheads
    # than one per product and page; reading a page of each product read 10 per order.
    assert streams.entries_read / returned <= 1.6


def test_a_product_with_nothing_newer_than_the_page_is_not_read() -> None:
    streams = Streams({"NEW": [f"{n:04d}#N" for n in range(100, 200)], "OLD": ["0001#O"]})

    first = merge_page(["NEW", "OLD"], first_state(2, 10), 10, streams.read)
    assert first.next_state is not None
    streams.reads.clear()
    merge_page(["NEW", "OLD"], first.next_state, 10, streams.read)

    assert "OLD" not in streams.reads


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"c": 1, "s": []}',
        '{"c": null, "s": [["a", -1, 0]]}',
        '{"c": null, "s": [["a", true, 0]]}',
        '{"c": null, "s": [["a", 1, 2]]}',
        '{"c": null, "s": [[1, 1, 0]]}',
        '{"c": null, "s": [["a", 1, 0], ["b", 1, 0]]}',
        "not json",
    ],
)
def test_a_state_that_encode_did_not_write_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        MergeState.decode(text, 1)


def test_one_product_reads_only_what_its_pages_return() -> None:
    streams = Streams({"P": [f"{n:04d}#O{n}" for n in range(100)]})

    pages = walk(streams, ["P"], 20)

    assert [len(page) for page in pages] == [20] * 5 + [0]
    assert streams.entries_read == 100
