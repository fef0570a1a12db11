"""Every DynamoDB call of stock-outs: the ``StockoutStore`` and ``StockoutRepository`` of
``domain.stockouts``, on the orders' table (keys in ``adapters.table_keys``).

The SKU's orders are read oldest first through the ``by_product`` index of the products
that have the SKU (the catalogue says which), then by key; the index is never scanned,
and a page is at most one query per product and one batch read. A stock-out's counters
only ever move by atomic ``ADD``s in the transaction that records an order's outcome,
so workers at once never lose a count; its refunds are kept per currency and component
the same way.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.dynamodb_repository import (
    DynamoDBOrderRepository,
    from_attributes,
    to_attributes,
    translated_errors,
)
from adapters.records import (
    order_from_dict,
    parse_time,
    refund_from_dict,
    refund_to_dict,
    sortable_time,
)
from adapters.table_keys import (
    BY_PRODUCT,
    INDEX_KEYS,
    STOCKOUT_ORDER_PREFIX,
    catalog_pk,
    order_id_of_created_sk,
    order_key,
    position_of_stockout_order_sk,
    product_pk,
    sku_lock_key,
    stockout_idempotency_key,
    stockout_key,
    stockout_order_sk,
    stockout_pk,
)
from domain.cancellation import Cancellation
from domain.model import Order, OrderStatus, Refund
from domain.ports import VersionConflict
from domain.stockout import LinePlan, OrderOutcome, StockoutRequest, StockoutStatus
from domain.stockouts import (
    SEGMENT_ORDERS,
    EntryDecided,
    PlanCursor,
    SkuOrders,
    StartRefused,
    Stockout,
    StockoutKey,
    StockoutOrder,
    StockoutOutcome,
)

# Orders a page of the SKU's orders holds at most: one batch read.
SKU_PAGE = 100


def _refunded_name(currency: str, component: str) -> str:
    """The stock-out's counter of one refund component in one currency."""
    return f"refunded_{currency}_{component}"


def _refund_parts(refund: Refund) -> dict[str, int]:
    return {k: v for k, v in refund_to_dict(refund).items() if k != "currency"}


# How long an instance trusts the products it found naming a SKU: a planning step reads
# the catalogue once for its pages rather than once a page, and a product the catalogue
# learns later is seen seconds after.
PRODUCTS_OF_SKU_SECONDS = 5.0


class DynamoDBStockoutStore(DynamoDBOrderRepository):
    """The orders' repository, with the stock-outs' items beside the orders."""

    def __init__(self, client: Any, table_name: str) -> None:
        super().__init__(client, table_name)
        self._products_of_sku: dict[tuple[str, str], tuple[float, list[str]]] = {}

    # -- the SKU's orders ------------------------------------------------------------
    def products_with_sku(self, seller_id: str, sku_id: str) -> list[str]:
        """The catalogue's products that name the SKU (a SKU may be named by several)."""
        key = (seller_id, sku_id)
        known = self._products_of_sku.get(key)
        now = time.monotonic()
        if known is not None and now - known[0] < PRODUCTS_OF_SKU_SECONDS:
            return known[1]
        found = self._read_products_with_sku(seller_id, sku_id)
        self._products_of_sku[key] = (now, found)
        return found

    def _read_products_with_sku(self, seller_id: str, sku_id: str) -> list[str]:
        return sorted(
            str(item["product_id"])
            for item in self._query_all(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_attributes({":pk": catalog_pk(seller_id)}),
                ProjectionExpression="product_id, skus",
            )
            if sku_id in (item.get("skus") or {})
        )

    def sku_orders(self, seller_id: str, sku_id: str, after: str | None) -> SkuOrders:
        """A page of the SKU's orders awaiting shipment, oldest first: a k-way merge of
        its products' index entries, cut where the first list that has more stops, so that
        no entry between the page's last and the next page's first is missed."""
        lists = [
            self._oldest_first(
                product_pk(seller_id, OrderStatus.AWAITING_SHIPMENT, product_id), after
            )
            for product_id in self.products_with_sku(seller_id, sku_id)
        ]
        boundary = min((positions[-1] for positions, more in lists if more), default=None)
        # An order with several of the SKU's products is in several lists: once here.
        merged = list(dict.fromkeys(heapq.merge(*(positions for positions, _ in lists))))
        if boundary is not None:
            merged = [p for p in merged if p <= boundary]
        page = merged[:SKU_PAGE]
        more = boundary is not None or len(merged) > len(page)
        kept = [
            (position, order)
            for position, order in zip(page, self._orders_at(seller_id, page), strict=True)
            if order is not None and any(line.sku_id == sku_id for line in order.lines)
        ]
        return SkuOrders(
            orders=[order for _, order in kept],
            positions=[position for position, _ in kept],
            after=page[-1] if more and page else None,
        )

    def _oldest_first(self, partition: str, after: str | None) -> tuple[list[str], bool]:
        hash_key, range_key = INDEX_KEYS[BY_PRODUCT]
        condition = f"{hash_key} = :pk"
        values: dict[str, Any] = {":pk": partition}
        if after is not None:
            condition += f" AND {range_key} > :after"
            values[":after"] = after
        with translated_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName=BY_PRODUCT,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=to_attributes(values),
                ScanIndexForward=True,
                Limit=SKU_PAGE,
            )
        positions = [str(from_attributes(i)[range_key]) for i in response.get("Items", [])]
        return positions, "LastEvaluatedKey" in response

    def _orders_at(self, seller_id: str, positions: Sequence[str]) -> list[Order | None]:
        """The orders at index positions (``created_sk``), read consistently, in order."""
        order_ids = [order_id_of_created_sk(p) for p in positions]
        found: dict[str, Order] = {}
        for start in range(0, len(order_ids), SKU_PAGE):
            keys = [order_key(seller_id, o) for o in order_ids[start : start + SKU_PAGE]]
            for item in self._batch_get(keys, consistent=True):
                found[str(item["order_id"])] = order_from_dict(item)
        return [found.get(order_id) for order_id in order_ids]

    # -- the stock-out ---------------------------------------------------------------------
    def running(self, seller_id: str, sku_id: str) -> str | None:
        lock = self._get_item(**sku_lock_key(seller_id, sku_id))
        return str(lock["stockout_id"]) if lock else None

    def key(self, seller_id: str, key: str, now: datetime) -> StockoutKey | None:
        item = self._get_item(**stockout_idempotency_key(seller_id, key))
        if item is None or int(item["expires_at"]) <= int(now.timestamp()):
            return None
        return StockoutKey(str(item["stockout_id"]), str(item["fingerprint"]))

    def create(self, stockout: Stockout, key: str, fingerprint: str, expires_at: datetime) -> None:
        seller = stockout.seller_id
        now = int(stockout.created_at.timestamp())
        actions = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(_stockout_item(stockout)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(
                        {
                            **sku_lock_key(seller, stockout.request.sku_id),
                            "type": "STOCKOUT_LOCK",
                            "stockout_id": stockout.stockout_id,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(
                        {
                            **stockout_idempotency_key(seller, key),
                            "type": "STOCKOUT_KEY",
                            "stockout_id": stockout.stockout_id,
                            "fingerprint": fingerprint,
                            "expires_at": int(expires_at.timestamp()),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                    "ExpressionAttributeValues": to_attributes({":now": now}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        reasons = self._transact(actions)
        if reasons is None:
            return
        lock, taken = reasons[1], reasons[2]
        if taken.get("Code") == "ConditionalCheckFailed":
            item = from_attributes(taken["Item"]) if taken.get("Item") else None
            if item is not None:
                known = StockoutKey(str(item["stockout_id"]), str(item["fingerprint"]))
                raise StartRefused(key=known)
        if lock.get("Code") == "ConditionalCheckFailed":
            item = from_attributes(lock["Item"]) if lock.get("Item") else {}
            raise StartRefused(running=str(item.get("stockout_id", "")))
        raise VersionConflict(stockout.stockout_id)

    def stockout(self, seller_id: str, stockout_id: str) -> Stockout | None:
        item = self._get_item(**stockout_key(seller_id, stockout_id))
        return _stockout_from_item(seller_id, item) if item else None

    # -- planning ------------------------------------------------------------------------
    def save_segment(
        self,
        stockout: Stockout,
        cursor: PlanCursor,
        entries: Sequence[StockoutOrder],
        refunds: Sequence[Refund],
    ) -> None:
        before = stockout.cursor
        planned = len(entries)
        status = StockoutStatus.RUNNING if planned or cursor.done else stockout.status
        update = {
            "Update": {
                "TableName": self._table,
                "Key": to_attributes(stockout_key(stockout.seller_id, stockout.stockout_id)),
                "UpdateExpression": (
                    "SET cursor_segment = :segment, cursor_after = :after, "
                    "cursor_on_hand = :on_hand, cursor_done = :done, #status = :status "
                    "ADD orders_planned :planned, orders_pending :planned"
                ),
                "ConditionExpression": (
                    "cursor_segment = :old_segment AND cursor_after = :old_after"
                ),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_attributes(
                    {
                        ":segment": cursor.segment,
                        ":after": cursor.after or "",
                        ":on_hand": cursor.on_hand,
                        ":done": cursor.done,
                        ":status": status.value,
                        ":planned": planned,
                        ":old_segment": before.segment,
                        ":old_after": before.after or "",
                    }
                ),
            }
        }
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(_entry_item(stockout, entry)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for entry in entries
        ]
        if self._transact([update, *puts]) is not None:
            raise VersionConflict(stockout.stockout_id)

    def segment(self, stockout: Stockout, segment: int) -> Sequence[StockoutOrder]:
        first = segment * SEGMENT_ORDERS
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": stockout_pk(stockout.seller_id, stockout.stockout_id),
                    ":first": stockout_order_sk(first),
                    ":last": stockout_order_sk(first + SEGMENT_ORDERS - 1),
                }
            ),
            ConsistentRead=True,
        )
        return [_entry_from_item(item) for item in items]

    def orders_page(
        self, stockout: Stockout, page_size: int, after_position: int | None
    ) -> tuple[Sequence[StockoutOrder], int | None]:
        pk = stockout_pk(stockout.seller_id, stockout.stockout_id)
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_attributes(
                {":pk": pk, ":prefix": STOCKOUT_ORDER_PREFIX}
            ),
            "Limit": page_size,
        }
        if after_position is not None:
            arguments["ExclusiveStartKey"] = to_attributes(
                {"pk": pk, "sk": stockout_order_sk(after_position)}
            )
        with translated_errors():
            response = self._client.query(**arguments)
        entries = [_entry_from_item(from_attributes(i)) for i in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and entries
        return entries, (entries[-1].position if more else None)

    # -- outcomes ------------------------------------------------------------------------
    def _outcome_actions(
        self,
        stockout: Stockout,
        entry: StockoutOrder,
        outcome: Mapping[str, Any],
        counters: Mapping[str, int],
        currency: str | None,
    ) -> list[dict[str, Any]]:
        sets = ", ".join(f"#{name} = :{name}" for name in outcome)
        entry_update = {
            "Update": {
                "TableName": self._table,
                "Key": to_attributes(
                    {
                        "pk": stockout_pk(stockout.seller_id, stockout.stockout_id),
                        "sk": stockout_order_sk(entry.position),
                    }
                ),
                "UpdateExpression": f"SET {sets}",
                "ConditionExpression": "#outcome = :pending",
                "ExpressionAttributeNames": {f"#{name}": name for name in outcome},
                "ExpressionAttributeValues": to_attributes(
                    {
                        **{f":{name}": value for name, value in outcome.items()},
                        ":pending": OrderOutcome.PENDING.value,
                    }
                ),
            }
        }
        adds = ", ".join(f"#{i} :{i}" for i in range(len(counters)))
        names = {f"#{i}": name for i, name in enumerate(counters)}
        values: dict[str, Any] = {f":{i}": value for i, value in enumerate(counters.values())}
        expression = f"ADD {adds}"
        if currency is not None:
            expression += ", refund_currencies :currency"
            values[":currency"] = {currency}
        counter_update = {
            "Update": {
                "TableName": self._table,
                "Key": to_attributes(stockout_key(stockout.seller_id, stockout.stockout_id)),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_attributes(values),
            }
        }
        return [entry_update, counter_update]

    def skip(self, stockout: Stockout, entry: StockoutOrder, detail: str) -> bool:
        actions = self._outcome_actions(
            stockout,
            entry,
            {"outcome": OrderOutcome.SKIPPED.value, "detail": detail},
            {"orders_skipped": 1, "orders_pending": -1},
            None,
        )
        return self._transact(actions) is None

    def save_stockout_cancellation(
        self,
        before: Order,
        after: Order,
        cancellation: Cancellation,
        outcome: StockoutOutcome,
        now: datetime,
    ) -> None:
        refund = outcome.refund
        counters = {
            "orders_cancelled": 1,
            "orders_pending": -1,
            "units_cancelled": outcome.cancelled_quantity,
            **{
                _refunded_name(refund.currency, name): value
                for name, value in _refund_parts(refund).items()
            },
        }
        recorded = self._outcome_actions(
            outcome.stockout,
            outcome.entry,
            {
                "outcome": OrderOutcome.CANCELLED.value,
                "cancellation_id": outcome.cancellation_id,
                "cancelled_quantity": outcome.cancelled_quantity,
            },
            counters,
            refund.currency,
        )
        actions = [*recorded, *self._cancellation_actions(before, after, cancellation)]
        reasons = self._transact(actions)
        if reasons is None:
            return
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            raise EntryDecided(outcome.entry.order_id)
        raise VersionConflict(before.order_id)

    def complete_if_done(self, stockout: Stockout, now: datetime) -> bool:
        actions = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_attributes(stockout_key(stockout.seller_id, stockout.stockout_id)),
                    "UpdateExpression": "SET #status = :completed, finished_at = :now",
                    "ConditionExpression": (
                        "cursor_done = :true AND orders_pending = :zero AND #status <> :completed"
                    ),
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_attributes(
                        {
                            ":completed": StockoutStatus.COMPLETED.value,
                            ":now": sortable_time(now),
                            ":true": True,
                            ":zero": 0,
                        }
                    ),
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": to_attributes(sku_lock_key(stockout.seller_id, stockout.request.sku_id)),
                    "ConditionExpression": "stockout_id = :id",
                    "ExpressionAttributeValues": to_attributes({":id": stockout.stockout_id}),
                }
            },
        ]
        return self._transact(actions) is None


def _stockout_item(stockout: Stockout) -> dict[str, Any]:
    request = stockout.request
    return {
        **stockout_key(stockout.seller_id, stockout.stockout_id),
        "type": "STOCKOUT",
        "stockout_id": stockout.stockout_id,
        "sku_id": request.sku_id,
        "units_on_hand": request.units_on_hand,
        "note": request.note,
        "status": stockout.status.value,
        "created_at": sortable_time(stockout.created_at),
        "created_by": stockout.created_by,
        "orders_planned": 0,
        "orders_pending": 0,
        "orders_cancelled": 0,
        "orders_skipped": 0,
        "units_cancelled": 0,
        "cursor_segment": 0,
        "cursor_after": "",
        "cursor_on_hand": stockout.cursor.on_hand,
        "cursor_done": False,
    }


def _stockout_from_item(seller_id: str, item: Mapping[str, Any]) -> Stockout:
    currencies = sorted(item.get("refund_currencies") or ())
    components = _refund_parts(Refund("XXX"))
    refunded = tuple(
        refund_from_dict(
            {
                "currency": currency,
                **{name: item.get(_refunded_name(currency, name), 0) for name in components},
            }
        )
        for currency in currencies
    )
    finished = item.get("finished_at")
    return Stockout(
        stockout_id=str(item["stockout_id"]),
        seller_id=seller_id,
        request=StockoutRequest(
            sku_id=str(item["sku_id"]),
            units_on_hand=int(item["units_on_hand"]),
            note=item.get("note"),
        ),
        status=StockoutStatus(item["status"]),
        created_at=parse_time(str(item["created_at"])),
        created_by=str(item["created_by"]),
        finished_at=parse_time(str(finished)) if finished else None,
        orders_planned=int(item["orders_planned"]),
        orders_cancelled=int(item["orders_cancelled"]),
        orders_skipped=int(item["orders_skipped"]),
        units_cancelled=int(item["units_cancelled"]),
        refunded=refunded,
        cursor=PlanCursor(
            segment=int(item["cursor_segment"]),
            after=str(item["cursor_after"]) or None,
            on_hand=int(item["cursor_on_hand"]),
            done=bool(item["cursor_done"]),
        ),
    )


def _entry_item(stockout: Stockout, entry: StockoutOrder) -> dict[str, Any]:
    return {
        "pk": stockout_pk(stockout.seller_id, stockout.stockout_id),
        "sk": stockout_order_sk(entry.position),
        "type": "STOCKOUT_ORDER",
        "order_id": entry.order_id,
        "lines": [
            {
                "line_id": line.line_id,
                "remaining_quantity": line.remaining_quantity,
                "keep_quantity": line.keep_quantity,
                "cancel_quantity": line.cancel_quantity,
            }
            for line in entry.lines
        ],
        "outcome": entry.outcome.value,
        "cancelled_quantity": 0,
    }


def _entry_from_item(item: Mapping[str, Any]) -> StockoutOrder:
    return StockoutOrder(
        position=position_of_stockout_order_sk(str(item["sk"])),
        order_id=str(item["order_id"]),
        lines=tuple(
            LinePlan(
                str(line["line_id"]),
                int(line["remaining_quantity"]),
                int(line["keep_quantity"]),
                int(line["cancel_quantity"]),
            )
            for line in item["lines"]
        ),
        outcome=OrderOutcome(item["outcome"]),
        detail=item.get("detail"),
        cancellation_id=item.get("cancellation_id"),
        cancelled_quantity=int(item.get("cancelled_quantity", 0)),
    )
