"""Emails the buyer about each new cancellation, from the table's stream."""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import dynamodb_client, ses_client
from adapters.logs import service_logger
from adapters.notification_store import CancellationKey, NotificationStore
from adapters.notifier import Notifier, Outcome, SesMailer


@dataclass(frozen=True)
class Settings:
    table_name: str
    sender: str
    marketplace_name: str

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls(
            table_name=os.environ["TABLE_NAME"],
            sender=os.environ["EMAIL_SENDER"],
            marketplace_name=os.environ.get("MARKETPLACE_NAME", "Marketplace"),
        )


settings = Settings.from_environment()
logger = service_logger()
metrics = Metrics()
notifier = Notifier(
    NotificationStore(dynamodb_client(), settings.table_name),
    SesMailer(ses_client(), settings.marketplace_name),
    sender=settings.sender,
    marketplace_name=settings.marketplace_name,
    clock=lambda: datetime.now(UTC),
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

METRIC_BY_OUTCOME = {
    Outcome.SENT: "EmailsSent",
    Outcome.SENT_UNCONFIRMED: "EmailsSentUnconfirmed",
    Outcome.FAILED: "EmailsFailed",
    Outcome.DUPLICATE_SUPPRESSED: "DuplicateEmailsSuppressed",
    Outcome.LEFT_PENDING: "EmailsLeftPending",
}


# Room for one more delivery (four SES attempts with their timeouts) before the invocation
# ends; records not started by then are handed back to be retried.
SECONDS_NEEDED_PER_RECORD = 60


class OutOfTime(Exception):
    pass


def notify(record: DynamoDBRecord, lambda_context: LambdaContext | None = None) -> None:
    if lambda_context and lambda_context.get_remaining_time_in_millis() < (
        SECONDS_NEEDED_PER_RECORD * 1000
    ):
        raise OutOfTime(f"not enough time left for record {record.sequence_number}")
    keys = record.dynamodb.keys if record.dynamodb else None
    if not keys:
        logger.warning("stream record without keys", extra={"event_id": record.event_id})
        return
    report = notifier.deliver(CancellationKey(str(keys["pk"]), str(keys["sk"])))
    logger.info(
        "buyer notification",
        extra={
            "outcome": report.outcome.value,
            "cancellation_id": report.cancellation_id,
            "order_id": report.order_id,
            "detail": report.detail,
        },
    )
    metric = METRIC_BY_OUTCOME.get(report.outcome)
    if metric:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=notify, processor=processor, context=context
    )
