"""The seller's stock-out routes that change or compute: preview one, start one.

Reading a stock-out and its orders is a GET route of ``functions/list_orders``; the plan
and the cancellations are made by ``functions/stockout_planner`` and
``functions/stockout_worker`` from their queues."""

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import http_api
from adapters.api_function import ApiFunction, utc_now
from adapters.aws_clients import sqs_client
from adapters.schemas import IDEMPOTENCY_KEY_PATTERN, REPLAYED_HEADER, documented_responses
from adapters.settings import StockoutApiSettings
from adapters.stockout_queue import SqsStockoutQueue
from adapters.stockout_schemas import (
    StockoutOut,
    StockoutPreviewOut,
    StockoutRequestIn,
    stockout_json,
    stockout_preview_json,
)
from adapters.stockout_store import DynamoDBStockoutStore
from domain import stockouts

settings = StockoutApiSettings.from_environment()
api = ApiFunction.wire(settings, count_conflicts=True)
# The resolver the routes below are on; the OpenAPI writer reads it from here.
app = api.app
store = DynamoDBStockoutStore(api.dynamodb, settings.table_name)
queue = SqsStockoutQueue(sqs_client(), settings.plan_queue_url)


@app.post(
    "/stockouts/preview",
    summary="What a stock-out of a SKU would keep and cancel; changes nothing",
    responses=documented_responses(
        {200: ("The stock-out it would be", StockoutPreviewOut)}, (413,)
    ),
)
def preview_stockout(request: Annotated[StockoutRequestIn, Body()]) -> Response[str]:
    preview = stockouts.preview(store, api.seller(), request.to_domain())
    return http_api.json_response(200, stockout_preview_json(preview))


@app.post(
    "/stockouts",
    summary="Start a stock-out: the oldest orders keep the units on hand, the rest is cancelled",
    responses=documented_responses(
        {
            202: (
                "The stock-out, started (again, with Idempotent-Replayed, on a replay)",
                StockoutOut,
            )
        },
        (409, 413),
        headers={202: REPLAYED_HEADER},
    ),
)
def start_stockout(
    request: Annotated[StockoutRequestIn, Body()],
    # Declared for the document and the presence check; read from the raw header as the
    # cancellation route does.
    _idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description=(
                "the client's key for this stock-out: 1 to 128 printable ASCII characters; "
                "the same key with the same body again replays the original answer"
            ),
            json_schema_extra={
                "minLength": 1,
                "maxLength": 128,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            },
        ),
    ],
) -> Response[str]:
    seller_id = api.seller()
    key = http_api.idempotency_key(api.app)
    result = stockouts.start(
        store,
        queue,
        seller_id=seller_id,
        request=request.to_domain(),
        idempotency_key=key,
        fingerprint=http_api.fingerprint("stockout", request.model_dump(mode="json")),
        actor=http_api.actor(api.app),
        clock=utc_now,
        new_id=lambda: str(uuid.uuid4()),
        idempotency_ttl=settings.idempotency_ttl,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    if not result.replayed:
        api.logger.info(
            "stock-out started",
            extra={
                "stockout_id": result.stockout.stockout_id,
                "sku_id": result.stockout.request.sku_id,
                "units_on_hand": result.stockout.request.units_on_hand,
            },
        )
    return http_api.json_response(202, stockout_json(result.stockout), headers)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(event, context)
