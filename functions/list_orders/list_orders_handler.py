"""GET routes of the seller API: the To Ship list, an order, its cancellations, the reasons,
the products, and a stock-out with its orders."""

import functools
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import http_api
from adapters.api_function import ApiFunction
from adapters.aws_clients import secrets_provider
from adapters.page_tokens import (
    PRODUCT_FILTERS,
    PageTokens,
    order_filters,
    stockout_order_filters,
)
from adapters.schemas import (
    ETAG_HEADER,
    IDENTIFIER_WORDS,
    ORDER_ID_IN_PATH,
    PAGE_TOKEN_MAX_LENGTH,
    PAGE_TOKEN_PATTERN,
    CancellationsOut,
    OrderOut,
    OrdersPageOut,
    ProductId,
    ProductsPageOut,
    ReasonsOut,
    cancellation_json,
    documented_responses,
    order_json,
    product_json,
    reasons_json,
)
from adapters.settings import ListOrdersSettings
from adapters.stockout_schemas import (
    StockoutOrdersPageOut,
    StockoutOut,
    stockout_json,
    stockout_order_json,
)
from adapters.stockout_store import DynamoDBStockoutStore
from domain import services, stockouts
from domain.errors import FieldError, RequestInvalid
from domain.limits import MAX_PAGE_SIZE, MAX_PRODUCT_FILTERS, ORDERS_PAGE_SIZE, PRODUCTS_PAGE_SIZE
from domain.model import OrderStatus
from domain.ports import StorageUnavailable

# A listing's next page: the token its previous page returned.
PageToken = Annotated[
    str,
    Query(
        description=(
            "the next_page_token of the previous page of this listing, for the same seller and "
            "filters; any other token is 400 INVALID_PAGE_TOKEN"
        ),
        json_schema_extra={"pattern": PAGE_TOKEN_PATTERN, "maxLength": PAGE_TOKEN_MAX_LENGTH},
    ),
]


settings = ListOrdersSettings.from_environment()
api = ApiFunction.wire(settings, count_conflicts=False)
# The resolver the routes below are on; the OpenAPI writer reads it from here.
app = api.app
stockout_store = DynamoDBStockoutStore(api.dynamodb, settings.table_name)
STOCKOUT_ID_IN_PATH = "the stock-out's id; another seller's is 404 STOCKOUT_NOT_FOUND"
# How long a warm instance signs with the key it read before reading it again.
PAGE_TOKEN_KEY_MAX_AGE_SECONDS = 24 * 3600


@functools.cache
def _secret_store() -> SecretsProvider:
    """Created when a page token is first signed or checked: most requests need none."""
    return secrets_provider()


def _page_tokens() -> PageTokens:
    """The signer, its key read from Secrets Manager on a cold start's first listing and
    then served from Powertools' cache."""
    try:
        key = _secret_store().get(
            settings.page_token_secret_arn, max_age=PAGE_TOKEN_KEY_MAX_AGE_SECONDS
        )
    except GetParameterError as error:
        raise StorageUnavailable(f"the page token key could not be read: {error}") from error
    return PageTokens(str(key))


@app.get(
    "/orders",
    summary="List the seller's orders, newest first",
    # A page token is long enough that an over-long one can pass the gateway's URL limit.
    responses=documented_responses({200: ("A page of orders", OrdersPageOut)}, (414,)),
)
def list_orders(
    status: Annotated[OrderStatus, Query(description="the orders' status")] = (
        OrderStatus.AWAITING_SHIPMENT
    ),
    product_id: Annotated[
        list[ProductId],
        Query(
            max_length=MAX_PRODUCT_FILTERS,
            description=(
                f"repeatable, up to {MAX_PRODUCT_FILTERS} values (a value repeated counts each "
                "time): an order matches if any of its lines has one of them"
            ),
        ),
    ] = [],  # noqa: B006 - never mutated
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = ORDERS_PAGE_SIZE,
    page_token: PageToken = "",
) -> Response[str]:
    seller_id = api.seller()
    # Counted as sent, repeats too; the schema's own limit, checked again here.
    if len(product_id) > MAX_PRODUCT_FILTERS:
        raise RequestInvalid(
            f"at most {MAX_PRODUCT_FILTERS} product ids can be given",
            (FieldError("product_id", f"must have at most {MAX_PRODUCT_FILTERS} entries"),),
        )
    malformed = [p for p in product_id if not http_api.is_identifier(p)]
    if malformed:
        raise RequestInvalid(
            f"product ids are {IDENTIFIER_WORDS}",
            tuple(FieldError("product_id", f"not a product id: {p[:40]}") for p in malformed),
        )
    product_ids = sorted(set(product_id))
    filters = order_filters(status, product_ids)
    page_tokens = _page_tokens()
    position = page_tokens.position(page_token, seller_id, filters) if page_token else None
    page = services.list_orders(api.repository, seller_id, status, product_ids, page_size, position)
    next_token = (
        page_tokens.issue(seller_id, filters, page.next_position) if page.next_position else None
    )
    return http_api.json_response(
        200,
        {"orders": [order_json(order) for order in page.orders], "next_page_token": next_token},
    )


@app.get(
    "/products",
    summary="The seller's products and SKUs as its orders name them, by name",
    responses=documented_responses({200: ("A page of products", ProductsPageOut)}, (414,)),
)
def list_products(
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PRODUCTS_PAGE_SIZE,
    page_token: PageToken = "",
) -> Response[str]:
    seller_id = api.seller()
    page_tokens = _page_tokens()
    position = page_tokens.position(page_token, seller_id, PRODUCT_FILTERS) if page_token else None
    page = services.list_products(api.repository, seller_id, page_size, position)
    next_token = (
        page_tokens.issue(seller_id, PRODUCT_FILTERS, page.next_position)
        if page.next_position
        else None
    )
    return http_api.json_response(
        200,
        {
            "products": [product_json(product) for product in page.products],
            "next_page_token": next_token,
        },
    )


@app.get(
    "/orders/<order_id>",
    summary="One order, with what can still be cancelled",
    responses=documented_responses(
        {200: ("The order; ETag is its version", OrderOut)}, (404,), headers={200: ETAG_HEADER}
    ),
)
def get_order(order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)]) -> Response[str]:
    order = services.get_order(api.repository, api.seller(), http_api.order_id(order_id))
    return http_api.json_response(200, order_json(order), {"ETag": http_api.etag(order.version)})


@app.get(
    "/orders/<order_id>/cancellations",
    summary="The order's cancellations, oldest first",
    responses=documented_responses({200: ("The cancellations", CancellationsOut)}, (404,)),
)
def list_cancellations(
    order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)],
) -> Response[str]:
    found = services.list_cancellations(api.repository, api.seller(), http_api.order_id(order_id))
    return http_api.json_response(200, {"cancellations": [cancellation_json(c) for c in found]})


@app.get(
    "/cancel-reasons",
    summary="Reasons a seller can give, and which allow item level",
    responses=documented_responses({200: ("The reasons", ReasonsOut)}, ()),
)
def list_cancel_reasons() -> Response[str]:
    api.seller()
    return http_api.json_response(200, reasons_json())


@app.get(
    "/stockouts/<stockout_id>",
    summary="A stock-out and how far it has got",
    responses=documented_responses({200: ("The stock-out", StockoutOut)}, (404,)),
)
def get_stockout(
    stockout_id: Annotated[str, Path(description=STOCKOUT_ID_IN_PATH)],
) -> Response[str]:
    stockout = stockouts.get(stockout_store, api.seller(), http_api.stockout_id(stockout_id))
    return http_api.json_response(200, stockout_json(stockout))


@app.get(
    "/stockouts/<stockout_id>/orders",
    summary="A stock-out's orders, in allocation order, with what became of each",
    responses=documented_responses(
        {200: ("A page of its orders", StockoutOrdersPageOut)}, (404, 414)
    ),
)
def list_stockout_orders(
    stockout_id: Annotated[str, Path(description=STOCKOUT_ID_IN_PATH)],
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
    page_token: PageToken = "",
) -> Response[str]:
    seller_id = api.seller()
    stockout = stockouts.get(stockout_store, seller_id, http_api.stockout_id(stockout_id))
    filters = stockout_order_filters(stockout.stockout_id)
    page_tokens = _page_tokens()
    position = page_tokens.position(page_token, seller_id, filters) if page_token else None
    entries, next_position = stockout_store.orders_page(
        stockout, page_size, int(position) if position is not None else None
    )
    next_token = (
        page_tokens.issue(seller_id, filters, str(next_position))
        if next_position is not None
        else None
    )
    return http_api.json_response(
        200,
        {"orders": [stockout_order_json(e) for e in entries], "next_page_token": next_token},
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(event, context)
