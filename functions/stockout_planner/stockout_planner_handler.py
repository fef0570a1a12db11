"""Plans stock-outs a segment at a time, from the planning queue (one message a batch):
each step plans while its invocation has time, commits each segment, hands it to the
workers, and asks for the next step."""

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

from adapters.aws_clients import dynamodb_client, sqs_client
from adapters.logs import service_logger
from adapters.settings import StockoutPlannerSettings
from adapters.stockout_queue import SqsStockoutQueue, StockoutMessage
from adapters.stockout_store import DynamoDBStockoutStore
from domain import stockouts

settings = StockoutPlannerSettings.from_environment()
logger = service_logger()
metrics = Metrics()
store = DynamoDBStockoutStore(dynamodb_client(), settings.table_name)
queue = SqsStockoutQueue(sqs_client(), settings.plan_queue_url, settings.work_queue_url)
processor = BatchProcessor(event_type=EventType.SQS)

# What a step keeps of its invocation's time for one more segment (a page of orders read
# and a transaction written take well under this).
SECONDS_PER_SEGMENT = 10.0


def _plan(record: SQSRecord, context: LambdaContext | None) -> None:
    message = StockoutMessage.of(record.body)
    planned = stockouts.plan_step(
        store,
        queue,
        seller_id=message.seller_id,
        stockout_id=message.stockout_id,
        segment=message.segment,
        clock=lambda: datetime.now(UTC),
        time_left=lambda: (context.get_remaining_time_in_millis() / 1000) if context else 60.0,
        seconds_per_segment=SECONDS_PER_SEGMENT,
    )
    metrics.add_metric(
        name="StockoutSegmentsPlanned",
        unit=MetricUnit.Count,
        value=planned.cursor.segment - message.segment
        if planned.cursor.segment > message.segment
        else 0,
    )
    logger.info(
        "stock-out planned",
        extra={
            "stockout_id": planned.stockout_id,
            "from_segment": message.segment,
            "segments": planned.cursor.segment,
            "orders_planned": planned.orders_planned,
            "planning_done": planned.cursor.done,
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event,
        record_handler=lambda record: _plan(record, context),
        processor=processor,
        context=context,
    )
