"""How much DynamoDB work each request does, counted through botocore's event hooks on the
API functions' own DynamoDB clients (the ``dynamodb_calls`` fixture): a fixed, small number
of calls per request, and listings that read little more than they return."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    DynamoDBCall,
    DynamoDBCallRecorder,
    IdFactory,
    SellerClient,
    SellerFactory,
    items_request,
    line,
    order_input,
    order_request,
    two_package_order,
)

pytestmark = pytest.mark.integration


def _create_orders(seller: SellerClient, bodies: list[dict[str, object]]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda body: seller.put_order(body).status, bodies))
    assert statuses == [201] * len(bodies)


def _orders_one_a_second(
    seller: SellerClient, unique_id: IdFactory, products: list[str]
) -> list[str]:
    """An order a second, the n-th of ``products[n]``; their ids, oldest first."""
    bodies, order_ids = [], []
    for position, product_id in enumerate(products):
        order_id = unique_id("ORD")
        minute, second = divmod(position, 60)
        bodies.append(
            order_input(
                order_id,
                seller.seller_id,
                created_at=f"2026-11-20T1{minute}:{0:02d}:{second:02d}Z",
                lines=[line(product_id=product_id)],
            )
        )
        order_ids.append(order_id)
    _create_orders(seller, bodies)
    return order_ids


def test_the_recorder_sees_the_calls_of_every_instance(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: seller.get_order(mug_order).status, range(16)))

    assert statuses == [200] * 16
    assert dynamodb_calls.operations("ListOrdersFunction") == ["GetItem"] * 16


def test_reading_an_order_is_one_get_item(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    dynamodb_calls.clear()

    assert seller.get_order(mug_order).status == 200

    assert dynamodb_calls.operations() == ["GetItem"]


def test_a_preview_is_one_get_item(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    dynamodb_calls.clear()

    assert seller.preview(mug_order, items_request(("L1", 1))).status == 200

    assert dynamodb_calls.operations() == ["GetItem"]


def test_a_submit_is_one_batch_read_and_one_transaction(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    dynamodb_calls.clear()

    assert seller.cancel(mug_order, items_request(("L1", 1))).status == 201

    assert dynamodb_calls.operations() == ["BatchGetItem", "TransactWriteItems"]
    assert dynamodb_calls.operations("CancelFunction") == dynamodb_calls.operations()


def test_an_ingestion_is_one_transaction_then_the_catalogue_all_in_the_order_system(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    body = order_input(unique_id("ORD"), seller.seller_id)
    dynamodb_calls.clear()

    assert seller.put_order(body).status == 201
    # The product is new to the seller: the rename of a known one is refused, the first
    # naming goes through.
    assert dynamodb_calls.operations() == ["TransactWriteItems", "UpdateItem", "UpdateItem"]
    assert dynamodb_calls.operations("OrderSystemFunction") == dynamodb_calls.operations()

    dynamodb_calls.clear()

    assert seller.put_order(body).status == 200
    # The refused Put returns the stored order: no read of it; the catalogue is named again.
    assert dynamodb_calls.operations() == ["TransactWriteItems", "UpdateItem"]
    assert dynamodb_calls.operations("OrderSystemFunction") == dynamodb_calls.operations()


def test_a_submit_that_empties_the_order_is_still_one_read_and_one_transaction(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    dynamodb_calls.clear()

    assert seller.cancel(mug_order, items_request(("L1", 3))).status == 201

    assert dynamodb_calls.operations() == ["BatchGetItem", "TransactWriteItems"]


def test_a_replay_is_one_batch_read_and_no_write(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    seller.cancelled(mug_order, items_request(("L1", 1)), key="replayed-key")
    dynamodb_calls.clear()

    replay = seller.cancel(mug_order, items_request(("L1", 1)), key="replayed-key")

    assert replay.headers["idempotent-replayed"] == "true"
    assert dynamodb_calls.operations() == ["BatchGetItem"]


def test_shipping_one_of_two_packages_is_one_get_item_and_one_update(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    dynamodb_calls.clear()

    shipped = seller.ship(order_id, "PK1")

    assert (shipped.status, shipped.json()["status"]) == (200, "AWAITING_SHIPMENT")
    assert dynamodb_calls.operations() == ["GetItem", "UpdateItem"]


def test_shipping_the_last_package_is_one_get_item_and_one_transaction(
    seller: SellerClient, mug_order: str, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    dynamodb_calls.clear()

    shipped = seller.ship(mug_order, "PK1")

    assert (shipped.status, shipped.json()["status"]) == (200, "AWAITING_COLLECTION")
    assert dynamodb_calls.operations() == ["GetItem", "TransactWriteItems"]


def test_a_page_of_the_listing_is_one_query(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    _create_orders(
        seller,
        [
            order_input(unique_id("ORD"), seller.seller_id, created_at=f"2026-11-20T10:00:0{s}Z")
            for s in range(5)
        ],
    )
    token, pages = None, 0
    while True:
        dynamodb_calls.clear()
        document = seller.list_orders(page_size=2, page_token=token).json()
        assert dynamodb_calls.operations() == ["Query"]
        assert dynamodb_calls.items_read() <= 2
        pages += 1
        token = document["next_page_token"]
        if token is None:
            break
    assert pages >= 3


def test_a_page_filtered_by_k_products_is_at_most_k_queries_and_one_batch_read(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    products = ["P-A", "P-B", "P-C"]
    _create_orders(
        seller,
        [
            order_input(
                unique_id("ORD"),
                seller.seller_id,
                created_at=f"2026-11-20T10:00:{second:02d}Z",
                lines=[line(product_id=products[second % 3])],
            )
            for second in range(9)
        ],
    )
    token, seen = None, 0
    while True:
        dynamodb_calls.clear()
        document = seller.list_orders(page_size=2, product_id=products, page_token=token).json()
        operations = dynamodb_calls.operations()
        assert set(operations) <= {"Query", "BatchGetItem"}, operations
        assert operations.count("Query") <= len(products)
        assert operations.count("BatchGetItem") <= 1
        seen += len(document["orders"])
        token = document["next_page_token"]
        if token is None:
            break
    assert seen == 9


def test_filtering_by_a_rare_product_reads_little_more_than_it_returns(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    total, rare_positions = 300, {17, 150, 290}
    products = [
        "P-RARE" if position in rare_positions else f"P-COMMON-{position % 7}"
        for position in range(total)
    ]
    order_ids = _orders_one_a_second(seller, unique_id, products)
    rare = [order_id for order_id, p in zip(order_ids, products, strict=True) if p == "P-RARE"]
    dynamodb_calls.clear()

    response = seller.list_orders(product_id="P-RARE")

    returned = [order["order_id"] for order in response.json()["orders"]]
    assert returned == rare[::-1]
    assert response.json()["next_page_token"] is None
    assert dynamodb_calls.items_read() <= 2 * len(returned), dynamodb_calls.calls


def test_filtering_by_many_products_reads_about_one_look_ahead_per_product_and_page(
    seller: SellerClient, unique_id: IdFactory, dynamodb_calls: DynamoDBCallRecorder
) -> None:
    """Ten products spread over 200 orders (and one not asked for): the merge reads each
    order's index entry, one look-ahead per product and page, and the order itself."""
    products = [f"P-{n}" for n in range(10)]
    each = [products[position % 10] if position % 11 else "P-OTHER" for position in range(220)]
    order_ids = _orders_one_a_second(seller, unique_id, each)
    expected = [order_id for order_id, p in zip(order_ids, each, strict=True) if p != "P-OTHER"]
    page_size, token, returned, pages, read = 20, None, [], 0, 0
    while True:
        dynamodb_calls.clear()
        document = seller.list_orders(
            page_size=page_size, product_id=products, page_token=token
        ).json()
        assert len(dynamodb_calls.operations()) <= len(products) + 1, dynamodb_calls.calls
        read += dynamodb_calls.items_read()
        returned += [order["order_id"] for order in document["orders"]]
        pages += 1
        token = document["next_page_token"]
        if token is None:
            break

    assert returned == expected[::-1]
    # A page of every product, as before, read 11 items per order returned here.
    assert read <= (2 + len(products) / page_size) * len(returned) + len(products), (read, pages)


# --- DynamoDB's key size limits, which DynamoDB Local does not enforce on Query -------------

# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
_KEY_CONDITION = re.compile(
    r"(?:begins_with\(\s*(?P<f_name>\w+)\s*,\s*(?P<f_value>:\w+)\s*\))"
    r"|(?:(?P<name>\w+)\s*(?:=|<=|>=|<|>)\s*(?P<value>:\w+))"
)


def _key_roles(stack: LocalStack) -> dict[str, str]:
    """Every key attribute of the table and its indexes: HASH or RANGE."""
    properties = stack.template.table.properties
    schemas = [properties["KeySchema"]] + [
        index["KeySchema"] for index in properties.get("GlobalSecondaryIndexes", [])
    ]
    return {key["AttributeName"]: key["KeyType"] for schema in schemas for key in schema}


def _key_values(call: DynamoDBCall, roles: dict[str, str]) -> list[tuple[str, str, Any]]:
    """(attribute, HASH or RANGE, value) of every key value the call sends."""
    params = call.params
    found: list[tuple[str, str, Any]] = []

    def from_item(item: Any) -> None:
        for name, value in (item or {}).items():
            if name in roles:
                found.append((name, roles[name], value))

    from_item(params.get("Key"))
    from_item(params.get("Item"))
    for table in (params.get("RequestItems") or {}).values():
        for key in table.get("Keys", []):
            from_item(key)
    for action in params.get("TransactItems") or []:
        for operation in action.values():
            from_item(operation.get("Key"))
            from_item(operation.get("Item"))
    values = params.get("ExpressionAttributeValues") or {}
    for match in _KEY_CONDITION.finditer(params.get("KeyConditionExpression", "")):
        name = match.group("name") or match.group("f_name")
        placeholder = match.group("value") or match.group("f_value")
        if name in roles:
            found.append((name, roles[name], values[placeholder]))
    return found


def _size(value: Any) -> int:
    if "S" in value:
        return len(value["S"].encode("utf-8"))
    if "B" in value:
        return len(value["B"])
    return len(str(value.get("N", "")))


def test_no_request_sends_dynamodb_a_key_longer_than_dynamodb_accepts(
    local_stack: LocalStack,
    make_seller: SellerFactory,
    dynamodb_calls: DynamoDBCallRecorder,
) -> None:
    seller = make_seller("s" * 128)
    longest = "O" * 128
    product = "P" * 128
    seller.put_order(
        order_input(longest, seller.seller_id, lines=[line("L" * 128, product_id=product)])
    )
    responses = [
        seller.get_order(longest),
        seller.list_orders(product_id=[f"{index:02d}{product[2:]}" for index in range(20)]),
        seller.list_orders(product_id=product, status="CANCELLED"),
        seller.list_orders(product_id="P" * 2100),
        seller.list_orders(product_id="Ü" * 1100),
        seller.preview(longest, order_request()),
        seller.cancel(longest, items_request(("L" * 128, 1)), key="K" * 128),
        seller.ship(longest, "PK1"),
        seller.cancellations(longest),
    ]

    assert all(response.status < 500 for response in responses), [r.body for r in responses]
    assert {r.status for r in responses[3:5]} <= {200, 400}
    roles = _key_roles(local_stack)
    too_long = [
        (call.operation, name, _size(value))
        for call in dynamodb_calls.calls
        for name, role, value in _key_values(call, roles)
        if _size(value) > (MAX_PARTITION_KEY_BYTES if role == "HASH" else MAX_SORT_KEY_BYTES)
    ]
    assert too_long == []
    assert dynamodb_calls.operations().count("Query") >= 3
