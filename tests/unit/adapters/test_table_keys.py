"""``table_keys`` against template.yaml's OrdersTable, and the stored shape of its keys.

The literal keys below are an independent statement of what is stored: items already in
the table and page tokens already handed out depend on them, byte for byte.
"""

from __future__ import annotations

from typing import Any

from adapters import table_keys as keys
from domain.catalog import Product, Sku
from local_runtime.template import load_template_document
from tests.unit.domain.builders import apply, mug_order, order_request

TABLE = load_template_document()["Resources"]["OrdersTable"]["Properties"]


def _hash_and_range(schema: list[dict[str, Any]]) -> tuple[str, str]:
    roles = {key["KeyType"]: key["AttributeName"] for key in schema}
    assert set(roles) == {"HASH", "RANGE"}, schema
    return roles["HASH"], roles["RANGE"]


def test_the_table_key_is_the_templates() -> None:
    assert _hash_and_range(TABLE["KeySchema"]) == keys.TABLE_KEY


def test_the_indexes_and_their_key_attributes_are_the_templates() -> None:
    declared = {
        index["IndexName"]: _hash_and_range(index["KeySchema"])
        for index in TABLE["GlobalSecondaryIndexes"]
    }
    assert declared == dict(keys.INDEX_KEYS)
    assert set(keys.INDEX_KEYS) == {
        keys.BY_STATUS,
        keys.BY_PRODUCT,
        keys.BY_PENDING_NOTIFICATION,
        keys.BY_UPDATE,
        keys.BY_PRODUCT_NAME,
    }


def test_every_key_attribute_is_a_declared_string() -> None:
    declared = {a["AttributeName"]: a["AttributeType"] for a in TABLE["AttributeDefinitions"]}
    used = set(keys.TABLE_KEY).union(*keys.INDEX_KEYS.values())
    assert declared == dict.fromkeys(used, "S")


def test_the_keys_of_an_order_and_its_cancellation_are_stored_as_they_always_were() -> None:
    order = mug_order()
    cancelled, cancellation = apply(order, order_request(), cancellation_id="C1")

    assert keys.order_key("S1", "O1") == {"pk": "SELLER#S1#ORDER#O1", "sk": "ORDER"}
    assert keys.product_sk("P1") == "PRODUCT#P1"
    assert keys.cancellation_sk(cancellation) == "CANCELLATION#0000000002#C1"
    assert keys.idempotency_pk("S1", "k-1") == "SELLER#S1#IDEMPOTENCY#k-1"
    assert keys.IDEMPOTENCY_SK == "IDEMPOTENCY"
    assert keys.CHECKPOINT_KEY == {"pk": "RECONCILER", "sk": "CHECKPOINT"}
    assert keys.BUYER_NOTICE == "buyer_notice"

    assert keys.status_pk("S1", cancelled.status) == "SELLER#S1#STATUS#CANCELLED"
    assert (
        keys.product_pk("S1", order.status, "P1") == "SELLER#S1#STATUS#AWAITING_SHIPMENT#PRODUCT#P1"
    )
    assert keys.created_sk(cancelled) == "2026-11-20T10:00:00.000000Z#O1"
    assert keys.updated_pk(cancelled.updated_at) == "UPDATED#2026-11-21"
    assert keys.updated_sk(cancelled) == "2026-11-21T09:30:00.000000Z#S1#O1"
    assert keys.PENDING_NOTIFICATIONS == "NOTIFICATION#PENDING"
    assert keys.pending_sk(cancellation) == "2026-11-21T09:30:00.000000Z#C1"


def test_the_catalogue_keys_are_stored_as_they_always_were() -> None:
    product = Product("P1", "Big Mug", (Sku("K1", "Blue"),))
    assert keys.catalog_key("S1", "P1") == {"pk": "SELLER#S1#PRODUCTS", "sk": "PRODUCT#P1"}
    assert keys.product_sort(product) == "big mug#P1"


def test_each_parser_reads_back_what_its_builder_wrote() -> None:
    order = mug_order()
    cancelled, cancellation = apply(order, order_request())

    assert keys.order_id_of_created_sk(keys.created_sk(order)) == order.order_id
    assert keys.pending_since(keys.pending_sk(cancellation)) == cancellation.created_at
    day = keys.day_of_updated_sk(keys.updated_sk(cancelled))
    assert keys.updated_pk_of_day(day) == keys.updated_pk(cancelled.updated_at)
