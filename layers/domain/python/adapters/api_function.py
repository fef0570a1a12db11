"""What every seller API function wires the same way at its cold start: its logger and
metrics, a DynamoDB client and the order repository on its table, a validating resolver
whose every failure is a problem response, and the entry point around it. Functions that
write count their 409s and 412s as the ``Conflicts`` metric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from adapters import http_api
from adapters.aws_clients import dynamodb_client
from adapters.dynamodb_repository import DynamoDBOrderRepository
from adapters.logs import service_logger
from adapters.settings import SellerApiSettings
from domain.errors import DomainError
from domain.retry import FullJitterBackoff

CONFLICT_STATUSES = frozenset({409, 412})
# What a request keeps of its invocation's time to answer after its last attempt.
ANSWER_MARGIN_SECONDS = 2.0
EntryPoint = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class ApiFunction:
    logger: Logger
    metrics: Metrics
    dynamodb: Any
    repository: DynamoDBOrderRepository
    app: APIGatewayHttpResolver
    seller_id_claim: str
    # The request logged with its correlation id, the metrics flushed, the route run after
    # the checks that come before routing (http_api.resolve).
    handle: EntryPoint

    @classmethod
    def wire(cls, settings: SellerApiSettings, *, count_conflicts: bool) -> ApiFunction:
        logger = service_logger()
        metrics = Metrics()
        dynamodb = dynamodb_client()
        app = APIGatewayHttpResolver(enable_validation=True)

        def count_conflict(error: DomainError) -> None:
            if http_api.status_of(error) in CONFLICT_STATUSES:
                metrics.add_metric(name="Conflicts", unit=MetricUnit.Count, value=1)

        http_api.install_error_handlers(
            app, logger, on_rejected=count_conflict if count_conflicts else None
        )

        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
        @metrics.log_metrics
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return http_api.resolve(app, event, context, settings.seller_id_claim, logger)

        return cls(
            logger=logger,
            metrics=metrics,
            dynamodb=dynamodb,
            repository=DynamoDBOrderRepository(dynamodb, settings.table_name),
            app=app,
            seller_id_claim=settings.seller_id_claim,
            handle=handle,
        )

    def lost_race_backoff(self) -> FullJitterBackoff:
        """Lost races are decided again until shortly before the invocation would time out."""
        remaining = self.app.lambda_context.get_remaining_time_in_millis() / 1000
        return FullJitterBackoff(budget_seconds=max(0.0, remaining - ANSWER_MARGIN_SECONDS))

    def seller(self) -> str:
        """The seller of the request's token."""
        return http_api.seller_id(self.app, self.seller_id_claim)


def utc_now() -> datetime:
    return datetime.now(UTC)
