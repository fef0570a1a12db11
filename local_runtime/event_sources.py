"""The event sources Lambda provides in AWS, for the local runtime: a poller that reads the
table's stream and invokes the subscribed functions with Lambda-shaped batches (after the
template's filter criteria), a poller per SQS event source, and a scheduler for the
schedule-driven functions.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_runtime.template import FunctionSpec

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]
STREAM_EVENT_TYPES = frozenset({"DynamoDB"})
SCHEDULE_EVENT_TYPES = frozenset({"Schedule", "ScheduleV2"})


def matches(pattern: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """EventBridge-style matching as Lambda's filter criteria use it: every key of the
    pattern must be in the document, a list lists the accepted values, a dict nests."""
    for key, expected in pattern.items():
        if key not in document:
            return False
        actual = document[key]
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if actual not in expected:
                return False
        elif actual != expected:
            return False
    return True


@dataclass
class StreamSubscription:
    function_id: str
    batch_size: int
    maximum_retry_attempts: int
    patterns: list[dict[str, Any]]
    # Records handed back as failed, with how often they were tried.
    retries: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    gave_up: list[dict[str, Any]] = field(default_factory=list)

    def gives_up_after(self, tried: int) -> bool:
        """-1, as in AWS, retries until the stream drops the record."""
        return 0 <= self.maximum_retry_attempts < tried

    def wants(self, record: Mapping[str, Any]) -> bool:
        return not self.patterns or any(matches(p, record) for p in self.patterns)


def stream_subscriptions(functions: Iterable[FunctionSpec]) -> list[StreamSubscription]:
    subscriptions = []
    for spec in functions:
        for source in spec.events:
            if source.type not in STREAM_EVENT_TYPES:
                continue
            properties = source.properties
            filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
            subscriptions.append(
                StreamSubscription(
                    function_id=spec.logical_id,
                    batch_size=int(properties.get("BatchSize", 100)),
                    maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", 2)),
                    patterns=[json.loads(f["Pattern"]) for f in filters if "Pattern" in f],
                )
            )
    return subscriptions


def scheduled_functions(functions: Iterable[FunctionSpec]) -> list[str]:
    return [
        spec.logical_id
        for spec in functions
        if any(source.type in SCHEDULE_EVENT_TYPES for source in spec.events)
    ]


def lambda_stream_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it: the source ARN added and the
    creation time a JSON number again (boto3 turns it into a datetime)."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamPoller:
    """Reads every shard of the table's stream and feeds the subscribed functions."""

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        subscriptions: list[StreamSubscription],
        invoke: Invoke,
        *,
        interval_seconds: float = 0.25,
    ) -> None:
        self._client = streams_client
        self._stream_arn = stream_arn
        self._subscriptions = subscriptions
        self._invoke = invoke
        self._interval = interval_seconds
        self._iterators: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._polling = threading.Lock()

    def start(self) -> None:
        if not self._subscriptions:
            return
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Stop delivering (a stream consumer that is down); ``resume`` picks up again."""
        self._running.clear()
        with self._polling:
            pass

    def resume(self) -> None:
        self._running.set()

    def discard_pending(self) -> int:
        """Drop every record not yet delivered, as when a consumer is down longer than the
        stream keeps records (24 hours in AWS); returns how many were dropped."""
        with self._polling:
            self._discover_shards()
            dropped = 0
            for shard_id, first in list(self._iterators.items()):
                position = first
                while position is not None:
                    response = self._client.get_records(ShardIterator=position, Limit=1000)
                    dropped += len(response["Records"])
                    position = response.get("NextShardIterator")
                    if not response["Records"]:
                        break
                self._iterators[shard_id] = position
            return dropped

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until one full poll found nothing new: for tests and ``make reconcile``."""
        self._idle.clear()
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            delivered = 0
            if self._running.is_set():
                try:
                    with self._polling:
                        delivered = self.poll_once()
                except Exception:
                    logger.exception("stream poll failed")
            if not delivered:
                self._idle.set()
            self._stop.wait(self._interval)

    def poll_once(self) -> int:
        self._discover_shards()
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._client.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard_id] = response.get("NextShardIterator")
            records += [lambda_stream_record(r, self._stream_arn) for r in response["Records"]]
        # Each subscription on its own, as each event source mapping polls on its own in
        # AWS: a slow consumer does not hold up the others.
        with ThreadPoolExecutor(
            max_workers=len(self._subscriptions), thread_name_prefix="stream-delivery"
        ) as deliveries:
            retried = deliveries.map(
                lambda subscription: self._deliver_then_retry(subscription, records),
                self._subscriptions,
            )
            return len(records) + sum(retried)

    def _deliver_then_retry(
        self, subscription: StreamSubscription, records: list[dict[str, Any]]
    ) -> int:
        self._deliver(subscription, [r for r in records if subscription.wants(r)])
        return self._retry(subscription)

    def _discover_shards(self) -> None:
        description = self._client.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            self._iterators[shard_id] = self._client.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def _deliver(self, subscription: StreamSubscription, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), subscription.batch_size):
            batch = records[start : start + subscription.batch_size]
            failed = self._invoke_batch(subscription, batch)
            for record in batch:
                number = sequence_number(record)
                if number in failed:
                    tried = subscription.retries.get(number, (record, 0))[1]
                    subscription.retries[number] = (record, tried + 1)

    def _retry(self, subscription: StreamSubscription) -> int:
        if not subscription.retries:
            return 0
        pending = dict(subscription.retries)
        subscription.retries.clear()
        for number, (record, tried) in pending.items():
            if subscription.gives_up_after(tried):
                logger.error(
                    "stream record given up after %d attempts (in AWS: the on-failure destination)",
                    tried,
                    extra={"sequence_number": number, "function": subscription.function_id},
                )
                subscription.gave_up.append(record)
                continue
            if number in self._invoke_batch(subscription, [record]):
                subscription.retries[number] = (record, tried + 1)
        return len(pending)

    def _invoke_batch(
        self, subscription: StreamSubscription, batch: list[dict[str, Any]]
    ) -> set[str]:
        if not batch:
            return set()
        try:
            response = self._invoke(subscription.function_id, {"Records": batch})
        except Exception:
            logger.exception("%s failed on a batch of %d", subscription.function_id, len(batch))
            return {sequence_number(record) for record in batch}
        failures = (response or {}).get("batchItemFailures") or []
        return {str(f.get("itemIdentifier")) for f in failures}


def sequence_number(record: Mapping[str, Any]) -> str:
    """How a function names a failed stream record in ``batchItemFailures``."""
    return str(record["dynamodb"].get("SequenceNumber", ""))


def schedule_event(region: str, function_id: str) -> dict[str, Any]:
    """What EventBridge Scheduler hands a function with no input of its own."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:scheduler:{region}:123456789012:schedule/default/{function_id}"],
        "detail": {},
    }


class Scheduler:
    """Invokes each schedule-driven function every ``interval_seconds``."""

    def __init__(
        self, function_ids: list[str], invoke: Invoke, region: str, interval_seconds: float
    ) -> None:
        self._function_ids = function_ids
        self._invoke = invoke
        self._region = region
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._function_ids or self._interval <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_once(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for function_id in self._function_ids:
            try:
                results[function_id] = self._invoke(
                    function_id, schedule_event(self._region, function_id)
                )
            except Exception as error:
                logger.exception("scheduled run of %s failed", function_id)
                results[function_id] = {"error": str(error)}
        return results

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.run_once()


# --- SQS ------------------------------------------------------------------------------------

QUEUE_EVENT_TYPES = frozenset({"SQS"})


@dataclass
class QueueSubscription:
    function_id: str
    queue_id: str
    batch_size: int
    maximum_concurrency: int


def queue_subscriptions(
    functions: Iterable[FunctionSpec], resolve: Callable[[Any], Any]
) -> list[QueueSubscription]:
    """The template's SQS event sources; ``resolve`` gives parameters their values."""
    subscriptions = []
    for spec in functions:
        for source in spec.events:
            if source.type not in QUEUE_EVENT_TYPES:
                continue
            properties = source.properties
            queue = properties["Queue"]
            queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, Mapping) else str(queue)
            scaling = properties.get("ScalingConfig") or {}
            subscriptions.append(
                QueueSubscription(
                    function_id=spec.logical_id,
                    queue_id=queue_id,
                    batch_size=int(resolve(properties.get("BatchSize", 10))),
                    maximum_concurrency=int(resolve(scaling.get("MaximumConcurrency", 2))),
                )
            )
    return subscriptions


def lambda_sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as Lambda delivers it."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    """Reads one queue and invokes its function with Lambda-shaped batches, up to the
    mapping's maximum concurrency at once: what succeeded is deleted, what the function
    reports failed (or all, when it raised) is left for the queue to deliver again (the
    redrive policy moves it to its dead-letter queue after its receives). A failed
    message is made visible again after ``retry_after_seconds`` rather than the queue's
    visibility timeout, so that a local retry takes a second, not minutes."""

    def __init__(
        self,
        client: Any,
        subscription: QueueSubscription,
        queue_url: str,
        queue_arn: str,
        region: str,
        invoke: Invoke,
        *,
        retry_after_seconds: int = 1,
    ) -> None:
        self._client = client
        self.subscription = subscription
        self._url = queue_url
        self._arn = queue_arn
        self._region = region
        self._invoke = invoke
        self._retry_after = retry_after_seconds
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._polling = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        for number in range(max(1, self.subscription.maximum_concurrency)):
            thread = threading.Thread(
                target=self._run,
                name=f"queue-{self.subscription.function_id}-{number}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._busy > 0

    def pause(self) -> None:
        """Stop receiving (the mapping disabled): returns once no receive is under way and
        what was received has been handled."""
        self._running.clear()
        while True:
            with self._lock:
                if not self._polling:
                    return
            time.sleep(0.05)

    def resume(self) -> None:
        self._running.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._running.wait(0.25):
                continue
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                logger.exception("polling %s failed", self.subscription.queue_id)
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        with self._lock:
            self._polling += 1
        try:
            response = self._client.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(10, self.subscription.batch_size),
                WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"],
            )
            messages = response.get("Messages") or []
            if not messages:
                return 0
            with self._lock:
                self._busy += 1
            try:
                self._deliver(messages)
            finally:
                with self._lock:
                    self._busy -= 1
            return len(messages)
        finally:
            with self._lock:
                self._polling -= 1

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [lambda_sqs_record(m, self._arn, self._region) for m in messages]
        try:
            response = self._invoke(self.subscription.function_id, {"Records": records})
            failures = {
                str(f.get("itemIdentifier"))
                for f in (response or {}).get("batchItemFailures") or []
            }
        except Exception:
            logger.exception(
                "%s failed on a batch of %d", self.subscription.function_id, len(records)
            )
            failures = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failures:
                self._client.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_after,
                )
            else:
                self._client.delete_message(
                    QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"]
                )
