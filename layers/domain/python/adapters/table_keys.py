"""Every key of the one table: partition and sort keys, index names, index key values.

Every key but the reconciler's starts with the seller id, so a seller can only ever
address its own items:

| item            | pk                              | sk                         |
|-----------------|---------------------------------|----------------------------|
| order           | SELLER#<s>#ORDER#<o>            | ORDER                      |
| product entry   | SELLER#<s>#ORDER#<o>            | PRODUCT#<product_id>       |
| cancellation    | SELLER#<s>#ORDER#<o>            | CANCELLATION#<version>#<id>|
| idempotency key | SELLER#<s>#IDEMPOTENCY#<key>    | IDEMPOTENCY                |
| catalogue entry | SELLER#<s>#PRODUCTS             | PRODUCT#<product_id>       |
| reconciler      | RECONCILER                      | CHECKPOINT                 |
| stock-out       | SELLER#<s>#STOCKOUT#<id>        | STOCKOUT                   |
| its orders      | SELLER#<s>#STOCKOUT#<id>        | ORDER#<position>           |
| a SKU's lock    | SELLER#<s>#STOCKOUT_SKU#<sku>   | LOCK                       |
| a start's key   | SELLER#<s>#STOCKOUT_KEY#<key>   | IDEMPOTENCY                |

``<version>`` is the order version the cancellation produced, ten digits, so that an
order's cancellations sort oldest first whatever the clocks. ``<position>`` is an order's
place in a stock-out's allocation, eight digits, so that they sort in that order and a
segment of them is one key range. Times are
``records.sortable_time`` (fixed-width UTC ISO 8601, sorts as text).

Indexes, each with its hash and range key attributes and what they hold:

- ``by_status``: status_pk = SELLER#<s>#STATUS#<status>, created_sk = <created>#<o>.
  Whole orders: GET /orders in one status, newest first.
- ``by_product``: product_pk = SELLER#<s>#STATUS#<status>#PRODUCT#<p>, the same
  created_sk. One key-only entry per product of an order: GET /orders?product_id=.
- ``by_pending_notification``: pending_pk = NOTIFICATION#PENDING, pending_sk =
  <created>#<cancellation id>. Sparse, key only: the cancellations whose buyer email has
  not gone out, oldest first, for the reconciler.
- ``by_update``: updated_pk = UPDATED#<YYYY-MM-DD>, updated_sk = <updated>#<s>#<o>.
  Key only: orders by the UTC day and time they last changed, for the reconciler's window.
- ``by_product_name``: pk = SELLER#<s>#PRODUCTS, product_sort = <casefolded name>#<p>.
  Sparse: a seller's catalogue entries by name, for GET /products.

An order's product entries are rewritten in the same transaction whenever its status
changes; a cancellation leaves ``by_pending_notification`` (its pending keys and its
``buyer_notice`` are removed) once its buyer email is sent or given up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from adapters.records import sortable_time
from domain.cancellation import Cancellation
from domain.catalog import Product
from domain.model import Order, OrderStatus

# -- the table's own key --------------------------------------------------------------------
# (hash key, range key) attribute names of the table, as template.yaml declares them.
TABLE_KEY: tuple[str, str] = ("pk", "sk")

ORDER_SK = "ORDER"
IDEMPOTENCY_SK = "IDEMPOTENCY"
PRODUCT_PREFIX = "PRODUCT#"
CANCELLATION_PREFIX = "CANCELLATION#"
UPDATED_PREFIX = "UPDATED#"
# The pending-notification index has one partition: every pending cancellation.
PENDING_NOTIFICATIONS = "NOTIFICATION#PENDING"
CHECKPOINT_KEY = {"pk": "RECONCILER", "sk": "CHECKPOINT"}

# On a cancellation item until its buyer email is sent or given up: what the email says of
# the order (``BuyerNotice``). Items stored before it existed have none.
BUYER_NOTICE = "buyer_notice"

# -- indexes ----------------------------------------------------------------------------------
BY_STATUS = "by_status"
BY_PRODUCT = "by_product"
BY_PENDING_NOTIFICATION = "by_pending_notification"
BY_UPDATE = "by_update"
BY_PRODUCT_NAME = "by_product_name"

# Each index's (hash key, range key) attribute names, as template.yaml declares them.
INDEX_KEYS: Mapping[str, tuple[str, str]] = {
    BY_STATUS: ("status_pk", "created_sk"),
    BY_PRODUCT: ("product_pk", "created_sk"),
    BY_PENDING_NOTIFICATION: ("pending_pk", "pending_sk"),
    BY_UPDATE: ("updated_pk", "updated_sk"),
    BY_PRODUCT_NAME: ("pk", "product_sort"),
}


# -- partition and sort keys ------------------------------------------------------------------
def order_pk(seller_id: str, order_id: str) -> str:
    return f"SELLER#{seller_id}#ORDER#{order_id}"


def order_key(seller_id: str, order_id: str) -> dict[str, str]:
    return {"pk": order_pk(seller_id, order_id), "sk": ORDER_SK}


def product_sk(product_id: str) -> str:
    """The sort key of an order's product entry and of a catalogue entry alike."""
    return f"{PRODUCT_PREFIX}{product_id}"


def cancellation_sk(cancellation: Cancellation) -> str:
    """Cancellations sort by the order version they produced: oldest first, whatever the clocks."""
    return f"{CANCELLATION_PREFIX}{cancellation.order_version:010d}#{cancellation.cancellation_id}"


def idempotency_pk(seller_id: str, key: str) -> str:
    return f"SELLER#{seller_id}#IDEMPOTENCY#{key}"


def catalog_pk(seller_id: str) -> str:
    return f"SELLER#{seller_id}#PRODUCTS"


def catalog_key(seller_id: str, product_id: str) -> dict[str, str]:
    return {"pk": catalog_pk(seller_id), "sk": product_sk(product_id)}


# -- index keys ----------------------------------------------------------------------------------
def status_pk(seller_id: str, status: OrderStatus) -> str:
    return f"SELLER#{seller_id}#STATUS#{status.value}"


def product_pk(seller_id: str, status: OrderStatus, product_id: str) -> str:
    return f"SELLER#{seller_id}#STATUS#{status.value}#PRODUCT#{product_id}"


def created_sk(order: Order) -> str:
    return f"{sortable_time(order.created_at)}#{order.order_id}"


def order_id_of_created_sk(position: str) -> str:
    """The order id of a ``created_sk``: the inverse of ``created_sk``."""
    return position.split("#", 1)[1]


def updated_pk(moment: datetime) -> str:
    return updated_pk_of_day(sortable_time(moment)[:10])


def updated_pk_of_day(day: str) -> str:
    """The ``by_update`` partition of one UTC day, ``YYYY-MM-DD``."""
    return f"{UPDATED_PREFIX}{day}"


def updated_sk(order: Order) -> str:
    return f"{sortable_time(order.updated_at)}#{order.seller_id}#{order.order_id}"


def day_of_updated_sk(position: str) -> str:
    """The UTC day, ``YYYY-MM-DD``, of an ``updated_sk`` (or of a bare sortable time): the
    day of the ``by_update`` partition that holds it."""
    return position[:10]


def pending_sk(cancellation: Cancellation) -> str:
    return f"{sortable_time(cancellation.created_at)}#{cancellation.cancellation_id}"


def pending_since(position: str) -> datetime:
    """When the cancellation of a ``pending_sk`` was created: the inverse of ``pending_sk``."""
    return datetime.fromisoformat(position.split("#", maxsplit=1)[0])


STOCKOUT_SK = "STOCKOUT"
STOCKOUT_ORDER_PREFIX = "ORDER#"
LOCK_SK = "LOCK"


def stockout_pk(seller_id: str, stockout_id: str) -> str:
    return f"SELLER#{seller_id}#STOCKOUT#{stockout_id}"


def stockout_key(seller_id: str, stockout_id: str) -> dict[str, str]:
    return {"pk": stockout_pk(seller_id, stockout_id), "sk": STOCKOUT_SK}


def stockout_order_sk(position: int) -> str:
    return f"{STOCKOUT_ORDER_PREFIX}{position:08d}"


def position_of_stockout_order_sk(sort_key: str) -> int:
    return int(sort_key.removeprefix(STOCKOUT_ORDER_PREFIX))


def sku_lock_key(seller_id: str, sku_id: str) -> dict[str, str]:
    return {"pk": f"SELLER#{seller_id}#STOCKOUT_SKU#{sku_id}", "sk": LOCK_SK}


def stockout_idempotency_key(seller_id: str, key: str) -> dict[str, str]:
    return {"pk": f"SELLER#{seller_id}#STOCKOUT_KEY#{key}", "sk": IDEMPOTENCY_SK}


def product_sort(product: Product) -> str:
    name, product_id = product.sort_key
    return f"{name}#{product_id}"
