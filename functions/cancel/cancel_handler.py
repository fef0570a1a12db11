"""The seller's write routes: preview and submit cancellations, ship a package.

The order system's routes (order ingestion) are in ``functions/order_system``."""

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import http_api
from adapters.api_function import ApiFunction, utc_now
from adapters.schemas import (
    ETAG_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    IF_MATCH_PATTERN,
    ORDER_ID_IN_PATH,
    PACKAGE_ID_IN_PATH,
    REPLAYED_HEADER,
    CancellationOut,
    CancellationRequestIn,
    OrderOut,
    PreviewOut,
    cancellation_json,
    documented_responses,
    order_json,
    preview_json,
)
from adapters.settings import CancelSettings
from domain import services
from domain.cancellation import Cancellation
from domain.money import format_amount

settings = CancelSettings.from_environment()
api = ApiFunction.wire(settings, count_conflicts=True)
# The resolver the routes below are on; the OpenAPI writer reads it from here.
app = api.app


@app.post(
    "/orders/<order_id>/cancellations/preview",
    summary="The refund and resulting status a cancellation would have; changes nothing",
    responses=documented_responses(
        {200: ("What the cancellation would do", PreviewOut)}, (404, 409, 413, 422)
    ),
)
def preview_cancellation(
    order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)],
    request: Annotated[CancellationRequestIn, Body()],
) -> Response[str]:
    plan = services.preview_cancellation(
        api.repository, api.seller(), http_api.order_id(order_id), request.to_domain()
    )
    return http_api.json_response(200, preview_json(plan))


@app.post(
    "/orders/<order_id>/cancellations",
    summary="Cancel an order, a package or some units",
    responses=documented_responses(
        {201: ("The cancellation (again, with Idempotent-Replayed, on a replay)", CancellationOut)},
        (404, 409, 412, 413, 422),
        headers={201: {**ETAG_HEADER, **REPLAYED_HEADER}},
    ),
)
def create_cancellation(
    order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)],
    request: Annotated[CancellationRequestIn, Body()],
    # Declared for the document and the presence check; the value is read from the raw
    # header (the resolver would split it at commas) and checked there, so that an empty
    # one is IDEMPOTENCY_KEY_REQUIRED like a missing one.
    _idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description=(
                "the client's key for this cancellation: 1 to 128 printable ASCII characters; "
                "the same key with the same body again replays the original answer"
            ),
            json_schema_extra={
                "minLength": 1,
                "maxLength": 128,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            },
        ),
    ],
    _if_match: Annotated[
        str,
        Header(
            alias="If-Match",
            description=(
                'the order version from the ETag or the preview, "3" or 3; a weak tag or a '
                "list is 400; another version than the order's is 412 ORDER_VERSION_MISMATCH"
            ),
            json_schema_extra={"pattern": IF_MATCH_PATTERN},
        ),
    ] = "",
) -> Response[str]:
    seller_id = api.seller()
    key = http_api.idempotency_key(api.app)
    expected_version = http_api.if_match_version(api.app)
    domain_request = request.to_domain()
    result = services.submit_cancellation(
        api.repository,
        seller_id=seller_id,
        order_id=http_api.order_id(order_id),
        request=domain_request,
        idempotency_key=key,
        fingerprint=http_api.fingerprint(order_id, request.model_dump(mode="json")),
        expected_version=expected_version,
        actor=http_api.actor(api.app),
        clock=utc_now,
        new_id=lambda: str(uuid.uuid4()),
        idempotency_ttl=settings.idempotency_ttl,
        backoff=api.lost_race_backoff(),
    )
    headers = {"ETag": http_api.etag(result.cancellation.order_version)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        _record_cancellation(result.cancellation)
    return http_api.json_response(201, cancellation_json(result.cancellation), headers)


@app.post(
    "/orders/<order_id>/packages/<package_id>/ship",
    summary="Arrange shipment: the package goes to Awaiting Collection",
    responses=documented_responses(
        {200: ("The order after", OrderOut)}, (404, 409, 413, 422), headers={200: ETAG_HEADER}
    ),
)
def ship_package(
    order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)],
    package_id: Annotated[str, Path(description=PACKAGE_ID_IN_PATH)],
) -> Response[str]:
    order = services.ship(
        api.repository,
        seller_id=api.seller(),
        order_id=http_api.order_id(order_id),
        package_id=package_id,
        clock=utc_now,
        backoff=api.lost_race_backoff(),
    )
    return http_api.json_response(200, order_json(order), {"ETag": http_api.etag(order.version)})


def _record_cancellation(cancellation: Cancellation) -> None:
    with single_metric(
        name="Cancellations",
        unit=MetricUnit.Count,
        value=1,
        default_dimensions=api.metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="scope", value=cancellation.scope.value)
        metric.add_dimension(name="reason", value=cancellation.reason.value)
    with single_metric(
        name="RefundedMinorUnits",
        unit=MetricUnit.Count,
        value=cancellation.refund.total,
        default_dimensions=api.metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="currency", value=cancellation.refund.currency)
    api.logger.info(
        "cancellation created",
        extra={
            "order_id": cancellation.order_id,
            "cancellation_id": cancellation.cancellation_id,
            "scope": cancellation.scope.value,
            "reason": cancellation.reason.value,
            "refund_total": format_amount(cancellation.refund.total, cancellation.refund.currency),
            "currency": cancellation.refund.currency,
        },
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(event, context)
