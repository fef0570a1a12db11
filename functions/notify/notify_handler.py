"""Emails the buyer about each new cancellation, from the table's stream."""

from concurrent.futures import Future, ThreadPoolExecutor
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
from adapters.buyer_email import BuyerEmails
from adapters.logs import service_logger
from adapters.notification_store import NotificationStore
from adapters.ses_mailer import SesMailer, ses_backoff
from adapters.settings import NotifySettings
from domain.notification import CancellationKey, DeliveryReport, Notifier, Outcome

# Emails in flight at once (EMAILS_IN_PARALLEL), within one batch. An email waits on three
# calls (claim, send, record), two of them to DynamoDB: overlapping records hides those
# behind the SES sends. Each delivery still sends through SES one attempt at a time, so
# the sending rate is at most this many times a single delivery's; throttled sends are
# retried and then left pending for the reconciler.


settings = NotifySettings.from_environment()
logger = service_logger()
metrics = Metrics()
notifier = Notifier(
    NotificationStore(dynamodb_client(), settings.table_name),
    SesMailer(ses_client(), settings.marketplace_name),
    BuyerEmails(settings.marketplace_name),
    sender=settings.sender,
    clock=lambda: datetime.now(UTC),
    backoff=lambda: ses_backoff(settings.ses_retry_base),
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# botocore clients are thread-safe; the notifier keeps no state between deliveries.
deliveries = ThreadPoolExecutor(
    max_workers=settings.emails_in_parallel, thread_name_prefix="delivery"
)

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


def deliver(record: DynamoDBRecord, lambda_context: LambdaContext | None) -> DeliveryReport:
    """One record's email, in a delivery thread."""
    if lambda_context and lambda_context.get_remaining_time_in_millis() < (
        SECONDS_NEEDED_PER_RECORD * 1000
    ):
        raise OutOfTime(f"not enough time left for record {record.sequence_number}")
    keys = record.dynamodb.keys if record.dynamodb else None
    if not keys:
        return DeliveryReport(
            Outcome.MISSING, detail=f"stream record {record.event_id} has no keys"
        )
    return notifier.deliver(CancellationKey(str(keys["pk"]), str(keys["sk"])))


def record_delivery(delivery: "Future[DeliveryReport]") -> None:
    """Log and count one delivery, or raise its error so that the batch reports the
    record as failed; run by the batch processor, in the invocation's own thread."""
    report = delivery.result()
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
    started = {
        record["eventID"]: deliveries.submit(deliver, DynamoDBRecord(record), context)
        for record in event.get("Records", [])
    }
    return process_partial_response(
        event=event,
        record_handler=lambda record: record_delivery(started[record.event_id]),
        processor=processor,
        context=context,
    )
