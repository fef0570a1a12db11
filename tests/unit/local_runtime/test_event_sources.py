"""The local stand-ins for Lambda's event sources: filter criteria, record shape, retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_runtime.event_sources import (
    StreamPoller,
    lambda_stream_record,
    matches,
    scheduled_functions,
    stream_subscriptions,
)
from local_runtime.template import SamTemplate

TEMPLATE = SamTemplate.load()
EVENTS = Path(__file__).parents[3] / "events"


def stream_record(event_name: str, item_type: str) -> dict[str, Any]:
    return {
        "eventID": f"{event_name}-{item_type}",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            "Keys": {"pk": {"S": "P"}, "sk": {"S": "S"}},
            "NewImage": {"type": {"S": item_type}},
            "SequenceNumber": f"{event_name}-{item_type}-seq",
        },
    }


SUBSCRIPTIONS = {s.function_id: s for s in stream_subscriptions(TEMPLATE.functions.values())}


def test_notify_and_publish_are_subscribed_to_new_cancellations_only() -> None:
    assert set(SUBSCRIPTIONS) == {"NotifyFunction", "PublishFunction"}
    for subscription in SUBSCRIPTIONS.values():

        def wanted(event_name: str, item_type: str, subscription: Any = subscription) -> bool:
            record = lambda_stream_record(stream_record(event_name, item_type), "a")
            return bool(subscription.wants(record))

        assert wanted("INSERT", "CANCELLATION")
        assert not wanted("MODIFY", "CANCELLATION")
        assert not wanted("INSERT", "ORDER")
        assert not wanted("REMOVE", "IDEMPOTENCY")


def test_the_sample_stream_batches_pass_the_templates_filters() -> None:
    for function_id, sample in (
        ("NotifyFunction", "notify_stream_batch.json"),
        ("PublishFunction", "publish_stream_batch.json"),
    ):
        batch = json.loads((EVENTS / sample).read_text())
        assert all(SUBSCRIPTIONS[function_id].wants(record) for record in batch["Records"])


def test_patterns_nest_and_list_the_accepted_values() -> None:
    pattern = {"a": {"b": ["x", "y"]}, "c": ["z"]}
    assert matches(pattern, {"a": {"b": "y", "other": 1}, "c": "z"})
    assert not matches(pattern, {"a": {"b": "w"}, "c": "z"})
    assert not matches(pattern, {"a": {"b": "x"}})
    assert not matches(pattern, {"a": "b", "c": "z"})


def test_records_reach_the_function_as_lambda_delivers_them() -> None:
    record = lambda_stream_record(stream_record("INSERT", "CANCELLATION"), "arn:stream")

    assert record["eventSourceARN"] == "arn:stream"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1795683600


def test_reconcile_is_the_scheduled_function() -> None:
    assert scheduled_functions(TEMPLATE.functions.values()) == ["ReconcileFunction"]


class FakeStreams:
    """One shard holding the given records, read once."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "start"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        records, self._records = self._records, []
        return {"Records": records, "NextShardIterator": "next"}


def _failing_second_record() -> tuple[list[dict[str, Any]], list[list[str]], Any]:
    records = [stream_record("INSERT", "CANCELLATION") for _ in range(2)]
    records[1]["eventID"] = "second"
    records[1]["dynamodb"]["SequenceNumber"] = "200"
    invocations: list[list[str]] = []

    def invoke(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        # As Powertools' batch processor reports a failed stream record: its sequence number.
        ids = [r["eventID"] for r in event["Records"]]
        invocations.append(ids)
        return {"batchItemFailures": [{"itemIdentifier": "200"}] if "second" in ids else []}

    return records, invocations, invoke


def test_a_subscription_that_never_gives_up_retries_for_as_long_as_it_takes() -> None:
    subscription = stream_subscriptions([TEMPLATE.function("PublishFunction")])[0]
    assert subscription.maximum_retry_attempts == -1
    records, invocations, invoke = _failing_second_record()

    poller = StreamPoller(FakeStreams(records), "arn", [subscription], invoke)
    for _ in range(50):
        poller.poll_once()

    # Each poll offers it again (the first right after the batch it failed in).
    assert invocations[1:] == [["second"]] * 50
    assert subscription.gave_up == []


def test_failed_records_are_retried_alone_then_given_up() -> None:
    subscription = SUBSCRIPTIONS["NotifyFunction"]
    records, invocations, invoke = _failing_second_record()

    poller = StreamPoller(FakeStreams(records), "arn", [subscription], invoke)
    for _ in range(subscription.maximum_retry_attempts + 3):
        poller.poll_once()

    assert invocations[0] == ["INSERT-CANCELLATION", "second"]
    assert invocations[1:] == [["second"]] * subscription.maximum_retry_attempts
    assert [r["eventID"] for r in subscription.gave_up] == ["second"]
