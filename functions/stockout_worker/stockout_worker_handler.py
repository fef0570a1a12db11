"""Runs stock-out segments from the work queue: each pending order of a segment is
decided again on its current state and cancelled (an ordinary ITEMS cancellation, with
its outcome and the stock-out's counters in the same transaction) or skipped. A message
delivered again, or a worker retried, finds the outcomes recorded and changes nothing."""

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import dynamodb_client
from adapters.logs import service_logger
from adapters.settings import TableSettings
from adapters.stockout_queue import StockoutMessage
from adapters.stockout_store import DynamoDBStockoutStore
from domain import stockouts
from domain.retry import FullJitterBackoff

settings = TableSettings.from_environment()
logger = service_logger()
metrics = Metrics()
store = DynamoDBStockoutStore(dynamodb_client(), settings.table_name)
processor = BatchProcessor(event_type=EventType.SQS)

# How long one order's lost races are decided again before the segment is left to its
# message's next delivery.
ORDER_RETRY_SECONDS = 5.0


def _run(record: SQSRecord) -> None:
    message = StockoutMessage.of(record.body)
    decided = stockouts.run_segment(
        store,
        store,
        seller_id=message.seller_id,
        stockout_id=message.stockout_id,
        segment=message.segment,
        clock=lambda: datetime.now(UTC),
        new_id=lambda: str(uuid.uuid4()),
        backoff=lambda: FullJitterBackoff(budget_seconds=ORDER_RETRY_SECONDS),
    )
    metrics.add_metric(name="StockoutOrdersDecided", unit=MetricUnit.Count, value=len(decided))
    logger.info(
        "stock-out segment run",
        extra={
            "stockout_id": message.stockout_id,
            "segment": message.segment,
            "decided": len(decided),
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=_run, processor=processor, context=context
    )
