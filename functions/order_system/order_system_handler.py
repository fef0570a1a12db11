"""The order system's routes of the seller API: ingest orders, and report what happened to
their packages after they left the seller's hands."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import http_api
from adapters.api_function import ApiFunction, utc_now
from adapters.schemas import (
    ETAG_HEADER,
    IDENTIFIER_PATTERN,
    IDENTIFIER_WORDS,
    ORDER_ID_IN_PATH,
    PACKAGE_ID_IN_PATH,
    OrderIn,
    OrderOut,
    PackageStatusReportIn,
    documented_responses,
    order_json,
)
from adapters.settings import SellerApiSettings
from domain import services
from domain.errors import FieldError, Forbidden, RequestInvalid
from domain.intake import new_order

settings = SellerApiSettings.from_environment()
api = ApiFunction.wire(settings, count_conflicts=True)
# The resolver the routes below are on; the OpenAPI writer reads it from here.
app = api.app


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
    seller_id = api.seller()
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
        now=utc_now(),
    )
    result = services.ingest_order(
        api.repository, api.repository, order, http_api.fingerprint(body.as_sent())
    )
    status = 201 if result.created else 200
    return http_api.json_response(
        status, order_json(result.order), {"ETag": http_api.etag(result.order.version)}
    )


@app.post(
    "/orders/<order_id>/packages/<package_id>/status",
    summary="Report where a package is: statuses only move forward",
    responses=documented_responses(
        {200: ("The order after (unchanged for a late or repeated report)", OrderOut)},
        (404, 409, 413, 422),
        headers={200: ETAG_HEADER},
    ),
)
def report_package_status(
    order_id: Annotated[str, Path(description=ORDER_ID_IN_PATH)],
    package_id: Annotated[str, Path(description=PACKAGE_ID_IN_PATH)],
    report: Annotated[PackageStatusReportIn, Body()],
) -> Response[str]:
    result = services.report_status(
        api.repository,
        seller_id=api.seller(),
        order_id=http_api.order_id(order_id),
        package_id=package_id,
        status=report.package_status,
        clock=utc_now,
        backoff=api.lost_race_backoff(),
    )
    api.logger.info(
        "package status reported",
        extra={
            "order_id": result.order.order_id,
            "package_id": package_id,
            "status": report.package_status.value,
            "occurred_at": report.occurred_at.isoformat(),
            "changed": result.changed,
            "order_status": result.order.status.value,
        },
    )
    order = result.order
    return http_api.json_response(200, order_json(order), {"ETag": http_api.etag(order.version)})


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(event, context)
