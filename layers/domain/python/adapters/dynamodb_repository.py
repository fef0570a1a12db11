"""DynamoDB calls of the orders and the catalogue: item shapes, conditions and error
translation. The table's keys, indexes and prefixes, and its layout, are in ``table_keys``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from adapters.product_merge import MergeState, first_state, merge_page
from adapters.records import (
    buyer_notice_to_dict,
    cancellation_from_dict,
    cancellation_to_dict,
    order_from_dict,
    order_to_dict,
    sortable_time,
)
from adapters.table_keys import (
    BUYER_NOTICE,
    BY_PRODUCT,
    BY_PRODUCT_NAME,
    BY_STATUS,
    CANCELLATION_PREFIX,
    IDEMPOTENCY_SK,
    INDEX_KEYS,
    ORDER_SK,
    PENDING_NOTIFICATIONS,
    cancellation_sk,
    catalog_key,
    catalog_pk,
    created_sk,
    idempotency_pk,
    order_id_of_created_sk,
    order_key,
    order_pk,
    pending_sk,
    product_pk,
    product_sk,
    product_sort,
    status_pk,
    updated_pk,
    updated_sk,
)
from domain.buyer_notice import BuyerNotice
from domain.cancellation import Cancellation
from domain.catalog import CatalogEntry, Product, ProductPage, Sku, sorted_skus
from domain.errors import FieldError, InvalidPageToken
from domain.model import Order, OrderStatus
from domain.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    OrderAlreadyStored,
    OrderPage,
    StorageUnavailable,
    VersionConflict,
)
from domain.retry import Backoff, FullJitterBackoff, attempts

# Errors after which the caller may retry later; nothing was written.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)


def storage_backoff() -> Backoff:
    """Between the rounds of a batch read DynamoDB left unprocessed, and the tries of an
    ingestion whose transaction met another: five tries within two seconds."""
    return FullJitterBackoff(
        budget_seconds=2.0, base_seconds=0.025, cap_seconds=0.4, max_attempts=5
    )


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in attributes.items()}


class DynamoDBOrderRepository:
    """``domain.ports.OrderRepository`` on one DynamoDB table."""

    def __init__(
        self, client: Any, table_name: str, backoff: Callable[[], Backoff] = storage_backoff
    ) -> None:
        self._client = client
        self._table = table_name
        self._backoff = backoff

    # -- reads ------------------------------------------------------------------------
    def get(self, seller_id: str, order_id: str) -> Order | None:
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attributes(order_key(seller_id, order_id)),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return order_from_dict(from_attributes(item)) if item else None

    def get_for_submit(
        self, seller_id: str, order_id: str, idempotency_key: str, now: datetime
    ) -> tuple[Order | None, IdempotencyRecord | None]:
        keys = [
            order_key(seller_id, order_id),
            {"pk": idempotency_pk(seller_id, idempotency_key), "sk": IDEMPOTENCY_SK},
        ]
        items = self._batch_get(keys, consistent=True)
        order: Order | None = None
        record: IdempotencyRecord | None = None
        for item in items:
            if item["sk"] == ORDER_SK:
                order = order_from_dict(item)
            else:
                record = _idempotency_from_item(item, now)
        return order, record

    def cancellations(self, seller_id: str, order_id: str) -> list[Cancellation]:
        found: list[Cancellation] = []
        for item in self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_attributes(
                {":pk": order_pk(seller_id, order_id), ":prefix": CANCELLATION_PREFIX}
            ),
            ConsistentRead=True,
        ):
            found.append(cancellation_from_dict(item))
        return found

    def list_orders(
        self,
        seller_id: str,
        status: OrderStatus,
        product_ids: Sequence[str],
        page_size: int,
        after_position: str | None,
    ) -> OrderPage:
        if not product_ids:
            return self._list_by_status(seller_id, status, page_size, after_position)
        return self._list_by_products(seller_id, status, product_ids, page_size, after_position)

    def _list_by_status(
        self, seller_id: str, status: OrderStatus, page_size: int, after_position: str | None
    ) -> OrderPage:
        response = self._query_page(
            status_pk(seller_id, status), BY_STATUS, page_size, after_position
        )
        items = [from_attributes(i) for i in response.get("Items", [])]
        orders = tuple(order_from_dict(item) for item in items)
        more = "LastEvaluatedKey" in response and bool(items)
        return OrderPage(orders, items[-1]["created_sk"] if more else None)

    def _list_by_products(
        self,
        seller_id: str,
        status: OrderStatus,
        product_ids: Sequence[str],
        page_size: int,
        after_position: str | None,
    ) -> OrderPage:
        products = sorted(set(product_ids))
        state = _merge_state(after_position, len(products), page_size)

        def read(product_id: str, below: str | None, limit: int) -> list[str]:
            response = self._query_page(
                product_pk(seller_id, status, product_id), BY_PRODUCT, limit, below
            )
            return [str(from_attributes(i)["created_sk"]) for i in response.get("Items", [])]

        page = merge_page(products, state, page_size, read)
        order_ids = [order_id_of_created_sk(position) for position in page.positions]
        fetched = {
            item["order_id"]: order_from_dict(item)
            for item in self._batch_get(
                [order_key(seller_id, o) for o in order_ids],
                consistent=False,
            )
        }
        # The product index is eventually consistent: skip an order that moved on since.
        orders = tuple(
            fetched[o] for o in order_ids if o in fetched and fetched[o].status is status
        )
        return OrderPage(orders, page.next_state.encode() if page.next_state else None)

    def list_products(
        self, seller_id: str, page_size: int, after_position: str | None
    ) -> ProductPage:
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": catalog_pk(seller_id)}
        if after_position is not None:
            condition += " AND product_sort > :after"
            values[":after"] = after_position
        with translated_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName=BY_PRODUCT_NAME,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=to_attributes(values),
                Limit=page_size,
            )
        items = [from_attributes(i) for i in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and bool(items)
        return ProductPage(
            tuple(_product_from_item(item) for item in items),
            str(items[-1]["product_sort"]) if more else None,
        )

    # -- writes -----------------------------------------------------------------------
    def record(self, seller_id: str, entries: Sequence[CatalogEntry]) -> None:
        """One entry per product; each write is idempotent, so a retry can repeat them all.

        The newest order to name a product renames it and its SKUs; an older one only adds
        the SKUs nobody named yet. Usually one write: the first naming of a product, or a
        newer order. An older order than the entry's costs two.
        """
        for entry in entries:
            if not self._rename_if_newer(seller_id, entry):
                self._add_unknown_skus(seller_id, entry)

    def _rename_if_newer(self, seller_id: str, entry: CatalogEntry) -> bool:
        product = entry.product
        names = {"#skus": "skus", **{f"#k{i}": sku.sku_id for i, sku in enumerate(product.skus)}}
        values = {
            ":type": "PRODUCT",
            ":id": product.product_id,
            ":name": product.product_name,
            ":sort": product_sort(product),
            ":seen": sortable_time(entry.seen_at),
            ":skus": {sku.sku_id: {"sku_name": sku.sku_name} for sku in product.skus},
            **{f":k{i}": {"sku_name": sku.sku_name} for i, sku in enumerate(product.skus)},
        }
        common = "#type = :type, product_id = :id, product_name = :name, " + (
            "product_sort = :sort, seen_at = :seen"
        )
        attempts = (
            # The product is known and this order is not older than what named it.
            (
                "SET "
                + common
                + "".join(f", #skus.#k{i} = :k{i}" for i in range(len(product.skus))),
                "attribute_exists(pk) AND seen_at <= :seen",
                {k: v for k, v in values.items() if k != ":skus"},
                names,
            ),
            # The product's first naming.
            (
                "SET " + common + ", #skus = :skus",
                "attribute_not_exists(pk)",
                {k: v for k, v in values.items() if not k.startswith(":k")},
                {"#skus": "skus"},
            ),
        )
        for update, condition, attempt_values, attempt_names in attempts:
            try:
                with translated_errors():
                    self._client.update_item(
                        TableName=self._table,
                        Key=to_attributes(catalog_key(seller_id, product.product_id)),
                        UpdateExpression=update,
                        ConditionExpression=condition,
                        ExpressionAttributeNames={"#type": "type", **attempt_names},
                        ExpressionAttributeValues=to_attributes(attempt_values),
                    )
            except ClientError as error:
                if _code(error) != "ConditionalCheckFailedException":
                    raise
                continue
            return True
        return False

    def _add_unknown_skus(self, seller_id: str, entry: CatalogEntry) -> None:
        skus = entry.product.skus
        with translated_errors():
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(catalog_key(seller_id, entry.product.product_id)),
                UpdateExpression="SET "
                + ", ".join(
                    f"#skus.#k{i} = if_not_exists(#skus.#k{i}, :k{i})" for i in range(len(skus))
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={
                    "#skus": "skus",
                    **{f"#k{i}": sku.sku_id for i, sku in enumerate(skus)},
                },
                ExpressionAttributeValues=to_attributes(
                    {f":k{i}": {"sku_name": sku.sku_name} for i, sku in enumerate(skus)}
                ),
            )

    def save_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        idempotency: IdempotencyRecord,
        now: datetime,
    ) -> None:
        idempotency_key_pk = idempotency_pk(idempotency.seller_id, idempotency.key)
        idempotency_item = {
            "pk": idempotency_key_pk,
            "sk": IDEMPOTENCY_SK,
            "type": "IDEMPOTENCY",
            "key": idempotency.key,
            "fingerprint": idempotency.fingerprint,
            "cancellation": cancellation_to_dict(idempotency.cancellation),
            "expires_at": int(idempotency.expires_at.timestamp()),
        }
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(idempotency_item),
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                    "ExpressionAttributeValues": to_attributes({":now": int(now.timestamp())}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            *self._cancellation_actions(before, after, cancellation),
        ]
        reasons = self._transact(actions)
        if reasons is None:
            return
        idempotency_reason = reasons[0]
        if idempotency_reason.get("Code") == "ConditionalCheckFailed":
            item = idempotency_reason.get("Item")
            stored = (
                from_attributes(item)
                if item
                else self._get_item(idempotency_key_pk, IDEMPOTENCY_SK)
            )
            record = _idempotency_from_item(stored, now) if stored else None
            if record is not None:
                raise IdempotencyKeyTaken(record)
        raise VersionConflict(before.order_id)

    def _cancellation_actions(
        self, before: Order, after: Order, cancellation: Cancellation
    ) -> list[dict[str, Any]]:
        """A cancellation's own writes, whoever makes it: the order at its version, the
        cancellation, and the product entries when the order's status changes."""
        actions: list[dict[str, Any]] = [
            {"Update": self._update_order_if_version(before, after)},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(_cancellation_item(cancellation, after)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if before.status is not after.status:
            actions.extend(self._put_product_entries(after))
        return actions

    def save_order_change(self, before: Order, after: Order) -> None:
        update = self._update_order_if_version(before, after)
        if before.status is after.status:
            try:
                with translated_errors():
                    self._client.update_item(**update)
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise VersionConflict(before.order_id) from None
                raise
            return
        actions = [{"Update": update}, *self._put_product_entries(after)]
        if self._transact(actions) is not None:
            raise VersionConflict(before.order_id)

    def add(self, order: Order, fingerprint: str) -> None:
        item = _order_item(order, fingerprint)
        order_key_pk = order_pk(order.seller_id, order.order_id)
        actions = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            *self._put_product_entries(order),
        ]
        for _ in attempts(self._backoff()):
            reasons = self._transact(actions)
            if reasons is None:
                return
            existing = reasons[0].get("Item")
            stored = (
                from_attributes(existing) if existing else self._get_item(order_key_pk, ORDER_SK)
            )
            if stored is not None:
                raise OrderAlreadyStored(
                    order_from_dict(stored), str(stored.get("fingerprint", ""))
                )
            # A concurrent transaction on the same items: try again.
        raise StorageUnavailable(f"order {order.order_id} could not be stored; retry")

    # -- helpers ----------------------------------------------------------------------
    def _update_order_if_version(self, before: Order, after: Order) -> dict[str, Any]:
        """Rewrite every attribute of the order but its ingestion fingerprint."""
        attributes = {
            "status_pk": status_pk(after.seller_id, after.status),
            "created_sk": created_sk(after),
            "updated_pk": updated_pk(after.updated_at),
            "updated_sk": updated_sk(after),
            **order_to_dict(after),
        }
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":a{i}": value for i, value in enumerate(attributes.values())}
        values[":expected"] = before.version
        return {
            "TableName": self._table,
            "Key": to_attributes(order_key(after.seller_id, after.order_id)),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(names))),
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {**names, "#version": "version"},
            "ExpressionAttributeValues": to_attributes(values),
        }

    def _put_product_entries(self, order: Order) -> list[dict[str, Any]]:
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(
                        {
                            "pk": order_pk(order.seller_id, order.order_id),
                            "sk": product_sk(product_id),
                            "type": "ORDER_PRODUCT",
                            "product_pk": product_pk(order.seller_id, order.status, product_id),
                            "created_sk": created_sk(order),
                        }
                    ),
                }
            }
            for product_id in sorted(order.product_ids)
        ]

    def _transact(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Run the transaction; the cancellation reasons when a condition failed, else None.

        botocore gives every call a ClientRequestToken and reuses it on its own retries,
        so a transaction retried after a timeout is applied at most once.
        """
        try:
            with translated_errors():
                self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if _code(error) != "TransactionCanceledException":
                raise
            reasons: list[dict[str, Any]] = error.response.get("CancellationReasons") or []
            codes = {r.get("Code") for r in reasons}
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                return reasons + [{}] * (len(actions) - len(reasons))
            raise StorageUnavailable(f"transaction cancelled: {sorted(map(str, codes))}") from None
        return None

    def _get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attributes({"pk": pk, "sk": sk}),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def _batch_get(self, keys: list[dict[str, str]], consistent: bool) -> list[dict[str, Any]]:
        if not keys:
            return []
        request: dict[str, Any] = {
            self._table: {"Keys": [to_attributes(k) for k in keys], "ConsistentRead": consistent}
        }
        found: list[dict[str, Any]] = []
        for _ in attempts(self._backoff()):
            with translated_errors():
                response = self._client.batch_get_item(RequestItems=request)
            found.extend(from_attributes(i) for i in response["Responses"].get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise StorageUnavailable("batch read kept returning unprocessed keys")

    def _query_page(
        self, partition: str, index: str, page_size: int, after_position: str | None
    ) -> dict[str, Any]:
        key_name = INDEX_KEYS[index][0]
        condition = f"{key_name} = :pk"
        values: dict[str, Any] = {":pk": partition}
        if after_position is not None:
            condition += " AND created_sk < :after"
            values[":after"] = after_position
        with translated_errors():
            response: dict[str, Any] = self._client.query(
                TableName=self._table,
                IndexName=index,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=to_attributes(values),
                ScanIndexForward=False,
                Limit=page_size,
            )
        return response

    def _query_all(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            with translated_errors():
                response = self._client.query(TableName=self._table, **kwargs)
            yield from (from_attributes(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return


def _order_item(order: Order, fingerprint: str | None) -> dict[str, Any]:
    return {
        **order_key(order.seller_id, order.order_id),
        "type": "ORDER",
        "status_pk": status_pk(order.seller_id, order.status),
        "created_sk": created_sk(order),
        "updated_pk": updated_pk(order.updated_at),
        "updated_sk": updated_sk(order),
        "fingerprint": fingerprint,
        **order_to_dict(order),
    }


def _product_from_item(item: Mapping[str, Any]) -> Product:
    skus = item.get("skus") or {}
    return Product(
        product_id=str(item["product_id"]),
        product_name=str(item["product_name"]),
        skus=sorted_skus([Sku(str(sku_id), str(v["sku_name"])) for sku_id, v in skus.items()]),
    )


def _cancellation_item(cancellation: Cancellation, after: Order) -> dict[str, Any]:
    return {
        "pk": order_pk(cancellation.seller_id, cancellation.order_id),
        "sk": cancellation_sk(cancellation),
        "type": "CANCELLATION",
        # In the pending-notification index until the buyer email is sent or given up.
        "pending_pk": PENDING_NOTIFICATIONS,
        "pending_sk": pending_sk(cancellation),
        **cancellation_to_dict(cancellation),
        BUYER_NOTICE: buyer_notice_to_dict(BuyerNotice.of(after)),
    }


def _idempotency_from_item(item: Mapping[str, Any], now: datetime) -> IdempotencyRecord | None:
    """The record, unless it has expired (DynamoDB's TTL deletes expired items only lazily)."""
    expires_at_epoch = int(item["expires_at"])
    if expires_at_epoch <= int(now.timestamp()):
        return None
    expires_at = datetime.fromtimestamp(expires_at_epoch, tz=now.tzinfo)
    cancellation = cancellation_from_dict(item["cancellation"])
    return IdempotencyRecord(
        seller_id=cancellation.seller_id,
        key=str(item["key"]),
        fingerprint=str(item["fingerprint"]),
        cancellation=cancellation,
        expires_at=expires_at,
    )


def _merge_state(after_position: str | None, products: int, page_size: int) -> MergeState:
    """Where a product listing goes on from. A position that is a bare sort key (a token
    issued before the merge kept its state) goes on from there with nothing known."""
    if after_position is None:
        return first_state(products, page_size)
    if not after_position.startswith("{"):
        return MergeState(after_position, first_state(products, page_size).streams)
    try:
        return MergeState.decode(after_position, products)
    except ValueError:
        raise InvalidPageToken(
            "the page token is not valid for this seller and these filters",
            (FieldError("page_token", "request the first page again without a token"),),
        ) from None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if _code(error) in _UNAVAILABLE_CODES:
            raise StorageUnavailable(_code(error)) from error
        raise
    except BotoCoreError as error:
        raise StorageUnavailable(type(error).__name__) from error
