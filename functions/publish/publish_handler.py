"""Publishes a ``Cancellation Created`` event for each new cancellation, from the table's
stream, to the stack's EventBridge bus."""

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

from adapters.aws_clients import events_client
from adapters.cancellation_events import EventBridgeBus, cancellation_created
from adapters.logs import service_logger
from adapters.settings import PublishSettings
from domain.publication import CancellationCreated, publish
from domain.retry import FullJitterBackoff

settings = PublishSettings.from_environment()
logger = service_logger()
metrics = Metrics()
bus = EventBridgeBus(events_client(), settings.event_bus_name)
# A batch none of whose events was published is answered like any other, its records
# listed as failed, rather than raised: the stream offers them again either way, and an
# error would count as the function failing.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)

# What the invocation keeps, after its last attempt, to answer.
ANSWER_MARGIN_SECONDS = 5.0


class NotPublished(Exception):
    pass


def _backoff(context: LambdaContext | None) -> FullJitterBackoff:
    budget = settings.retry_budget.total_seconds()
    if context is not None:
        remaining = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        budget = max(0.0, min(budget, remaining))
    return FullJitterBackoff(budget_seconds=budget, base_seconds=0.1, cap_seconds=2.0)


def _events_of(
    records: list[DynamoDBRecord],
) -> tuple[dict[str, CancellationCreated], dict[str, str]]:
    """The event of each record, by the record's event id, and why any record has none."""
    events: dict[str, CancellationCreated] = {}
    unreadable: dict[str, str] = {}
    for record in records:
        image = record.dynamodb.new_image if record.dynamodb else None
        try:
            if not image:
                raise ValueError("no new image")
            events[record.event_id] = cancellation_created(image)
        except (KeyError, ValueError, TypeError) as error:
            unreadable[record.event_id] = f"not a cancellation record: {error!r}"
    return events, unreadable


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = [DynamoDBRecord(record) for record in event.get("Records", [])]
    events, failed = _events_of(records)
    record_ids = list(events)
    report = publish(bus, [events[i] for i in record_ids], _backoff(context))
    for position, reason in report.unpublished.items():
        failed[record_ids[position]] = f"refused by EventBridge: {reason}"
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=report.published)
    if failed:
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=len(failed))
    logger.info(
        "cancellation events",
        extra={
            "records": len(records),
            "published": report.published,
            "attempts": report.attempts,
            "not_published": len(failed),
        },
    )

    def record_handler(record: DynamoDBRecord) -> None:
        reason = failed.get(record.event_id)
        if reason is None:
            return
        keys = record.dynamodb.keys if record.dynamodb else None
        logger.error(
            "cancellation event not published: handed back to the stream",
            extra={
                "reason": reason,
                "sequence_number": record.dynamodb and record.dynamodb.sequence_number,
                "keys": keys,
            },
        )
        raise NotPublished(reason)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
