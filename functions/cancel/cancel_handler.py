"""Write routes of the seller API: preview and submit cancellations, ship, ingest orders."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import http_api
from adapters.aws_clients import dynamodb_client
from adapters.dynamodb_repository import DynamoDBOrderRepository
from adapters.logs import service_logger
from adapters.schemas import (
    ETAG_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    IDENTIFIER_PATTERN,
    IDENTIFIER_WORDS,
    IF_MATCH_PATTERN,
    ORDER_ID_IN_PATH,
    REPLAYED_HEADER,
    CancellationOut,
    CancellationRequestIn,
    OrderIn,
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
from domain.errors import DomainError, FieldError, Forbidden, RequestInvalid
from domain.intake import new_order
from domain.money import format_amount
from domain.retry import FullJitterBackoff

settings = CancelSettings.from_environment()
logger = service_logger()
metrics = Metrics()
dynamodb = dynamodb_client()
repository = DynamoDBOrderRepository(dynamodb, settings.table_name)

app = APIGatewayHttpResolver(enable_validation=True)


def _count_conflict(error: DomainError) -> None:
    if http_api.status_of(error) in (409, 412):
        metrics.add_metric(name="Conflicts", unit=MetricUnit.Count, value=1)


http_api.install_error_handlers(app, logger, on_rejected=_count_conflict)


def _now() -> datetime:
    return datetime.now(UTC)


# What a request keeps of its invocation's time to answer after its last attempt.
ANSWER_MARGIN_SECONDS = 2.0


def _backoff() -> FullJitterBackoff:
    """Lost races are decided again until shortly before the invocation would time out."""
    remaining = app.lambda_context.get_remaining_time_in_millis() / 1000
    return FullJitterBackoff(budget_seconds=max(0.0, remaining - ANSWER_MARGIN_SECONDS))


def _seller() -> str:
    return http_api.seller_id(app, settings.seller_id_claim)


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
        repository, _seller(), http_api.order_id(order_id), request.to_domain()
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
    seller_id = _seller()
    key = http_api.idempotency_key(app)
    expected_version = http_api.if_match_version(app)
    domain_request = request.to_domain()
    result = services.submit_cancellation(
        repository,
        seller_id=seller_id,
        order_id=http_api.order_id(order_id),
        request=domain_request,
        idempotency_key=key,
        fingerprint=http_api.fingerprint(order_id, request.model_dump(mode="json")),
        expected_version=expected_version,
        actor=http_api.actor(app),
        clock=_now,
        new_id=lambda: str(uuid.uuid4()),
        idempotency_ttl=settings.idempotency_ttl,
        backoff=_backoff(),
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
    package_id: Annotated[
        str,
        Path(description="the package's id; one the order does not have is 422 UNKNOWN_PACKAGE"),
    ],
) -> Response[str]:
    order = services.ship(
        repository,
        seller_id=_seller(),
        order_id=http_api.order_id(order_id),
        package_id=package_id,
        clock=_now,
        backoff=_backoff(),
    )
    return http_api.json_response(200, order_json(order), {"ETag": http_api.etag(order.version)})


@app.put(
    "/orders/<order_id>",
    summary="Ingest an order from the order system",
    responses=documented_responses(
        {201: ("Created", OrderOut), 200: ("The identical order already existed", OrderOut)},
        (409, 413),
        headers={201: ETAG_HEADER, 200: ETAG_HEADER},
    ),
)
def put_order(
    order_id: Annotated[
        str,
        Path(
            pattern=IDENTIFIER_PATTERN,
            description=f"the order's id ({IDENTIFIER_WORDS}); the body's order_id is the same",
        ),
    ],
    body: Annotated[OrderIn, Body()],
) -> Response[str]:
    seller_id = _seller()
    if body.seller_id != seller_id:
        raise Forbidden(
            "orders can only be ingested for the token's own seller",
            (FieldError("seller_id", "must be the seller of the token"),),
        )
    if body.order_id != order_id:
        raise RequestInvalid(
            "the body's order_id differs from the path's",
            (FieldError("order_id", f"must be {order_id}"),),
        )
    order = new_order(
        order_id=body.order_id,
        seller_id=body.seller_id,
        currency=body.currency,
        created_at=body.created_at,
        buyer=body.buyer.to_domain(),
        shipping_fee=body.shipping_fee,
        packages=body.package_drafts(),
        lines=[line.to_draft() for line in body.lines],
        now=_now(),
    )
    result = services.ingest_order(
        repository, repository, order, http_api.fingerprint(body.as_sent())
    )
    status = 201 if result.created else 200
    return http_api.json_response(
        status, order_json(result.order), {"ETag": http_api.etag(result.order.version)}
    )


def _record_cancellation(cancellation: Cancellation) -> None:
    with single_metric(
        name="Cancellations",
        unit=MetricUnit.Count,
        value=1,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="scope", value=cancellation.scope.value)
        metric.add_dimension(name="reason", value=cancellation.reason.value)
    with single_metric(
        name="RefundedMinorUnits",
        unit=MetricUnit.Count,
        value=cancellation.refund.total,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="currency", value=cancellation.refund.currency)
    logger.info(
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http_api.resolve(app, event, context, settings.seller_id_claim, logger)
