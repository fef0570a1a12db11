"""The product catalogue learnt at ingestion: names, SKUs, the newest name, paging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import services
from domain.catalog import Product, Sku, products_of
from domain.intake import LineDraft
from domain.model import Order
from domain.ports import StorageUnavailable
from tests.unit.domain.builders import CREATED_AT, line, order
from tests.unit.services.fakes import FakeCatalog, FakeRepository


def _order(order_id: str, *lines: LineDraft, days: int = 0, seller_id: str = "S1") -> Order:
    return order(
        *lines, order_id=order_id, seller_id=seller_id, created_at=CREATED_AT + timedelta(days=days)
    )


MUG_BLUE = line("L1", product_id="P-MUG", sku_id="K-BLUE", product_name="Mug", sku_name="Blue")
MUG_RED = line("L2", product_id="P-MUG", sku_id="K-RED", product_name="Mug", sku_name="Red")
PLATE = line("L3", product_id="P-PLATE", sku_id="K-W", product_name="plate", sku_name="White")


def test_an_order_names_each_of_its_products_once_with_all_their_skus() -> None:
    entries = products_of(_order("O1", MUG_BLUE, PLATE, MUG_RED))

    assert [entry.product for entry in entries] == [
        Product("P-MUG", "Mug", (Sku("K-BLUE", "Blue"), Sku("K-RED", "Red"))),
        Product("P-PLATE", "plate", (Sku("K-W", "White"),)),
    ]
    assert {entry.seen_at for entry in entries} == {CREATED_AT}


def test_ingestion_records_the_products_and_a_retry_records_them_again() -> None:
    repo, catalog = FakeRepository(), FakeCatalog()
    order = _order("O1", MUG_BLUE)
    catalog.fail_next_record = True
    with pytest.raises(StorageUnavailable):
        services.ingest_order(repo, catalog, order, "F")
    assert repo.get("S1", "O1") is not None
    assert services.list_products(catalog, "S1", 10, None).products == ()

    again = services.ingest_order(repo, catalog, order, "F")

    assert again.created is False
    page = services.list_products(catalog, "S1", 10, None)
    assert page.products == (Product("P-MUG", "Mug", (Sku("K-BLUE", "Blue"),)),)


def test_the_newest_order_names_a_product_and_older_ones_only_add_skus() -> None:
    repo, catalog = FakeRepository(), FakeCatalog()
    renamed = line(
        "L1", product_id="P-MUG", sku_id="K-BLUE", product_name="Mug v2", sku_name="Navy"
    )
    services.ingest_order(repo, catalog, _order("NEW", renamed, days=5), "F1")
    services.ingest_order(repo, catalog, _order("OLD", MUG_BLUE, MUG_RED, days=1), "F2")

    (product,) = services.list_products(catalog, "S1", 10, None).products

    assert product.product_name == "Mug v2"
    assert product.skus == (Sku("K-BLUE", "Navy"), Sku("K-RED", "Red"))


def test_products_are_listed_by_name_whatever_its_case_then_by_id_in_pages() -> None:
    repo, catalog = FakeRepository(), FakeCatalog()
    services.ingest_order(repo, catalog, _order("O1", PLATE, MUG_BLUE), "F1")
    other_mug = line("L9", product_id="P-AMUG", sku_id="K9", product_name="Mug", sku_name="Green")
    services.ingest_order(repo, catalog, _order("O2", other_mug), "F2")
    services.ingest_order(repo, catalog, _order("O3", PLATE, seller_id="S2"), "F3")

    first = services.list_products(catalog, "S1", 2, None)
    second = services.list_products(catalog, "S1", 2, first.next_position)

    assert [p.product_id for p in first.products] == ["P-AMUG", "P-MUG"]
    assert first.next_position is not None
    assert [p.product_id for p in second.products] == ["P-PLATE"]
    assert second.next_position is None
