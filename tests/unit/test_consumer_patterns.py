"""The README's consumer rule patterns, as rules on a bus (moto's EventBridge), given the
events the publish function writes: payments gets every cancellation, inventory every one
but those out of stock."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adapters.cancellation_events import put_events_entry
from domain.cancellation import CancelReason
from domain.publication import CancellationCreated
from local_runtime import PROJECT_ROOT
from tests.unit.domain.builders import apply, items_request, mug_order, order_request

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def pattern_after(sentence: str) -> dict[str, Any]:
    """The JSON block that follows ``sentence`` in the README."""
    found = re.search(re.escape(sentence) + r"\s*```json\n(.*?)```", README, re.DOTALL)
    assert found, f"the README has no pattern after {sentence!r}"
    pattern: dict[str, Any] = json.loads(found[1])
    return pattern


PAYMENTS = pattern_after("Payments takes every cancellation:")
INVENTORY = pattern_after(
    "Inventory restocks what was cancelled for any reason but the stock itself:"
)


def event(reason: CancelReason, cancellation_id: str) -> CancellationCreated:
    request = (
        items_request(("L1", 1)) if reason is CancelReason.OUT_OF_STOCK else order_request(reason)
    )
    _, cancellation = apply(mug_order(), request, cancellation_id)
    return CancellationCreated(cancellation)


class Consumers:
    """A bus with the two consumers' rules on it, each sending what it matches to a log
    group of its own, as a consumer's queue or function would receive it."""

    def __init__(self, events: Any, logs: Any) -> None:
        self.events, self.logs = events, logs
        events.create_event_bus(Name=BUS)
        for name, pattern in (("payments", PAYMENTS), ("inventory", INVENTORY)):
            logs.create_log_group(logGroupName=f"/consumers/{name}")
            events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
            events.put_targets(
                Rule=name,
                EventBusName=BUS,
                Targets=[
                    {
                        "Id": name,
                        "Arn": f"arn:aws:logs:us-east-1:123456789012:log-group:/consumers/{name}",
                    }
                ],
            )

    def publish(self, *entries: dict[str, Any]) -> None:
        answer = self.events.put_events(Entries=list(entries))
        assert answer["FailedEntryCount"] == 0

    def received(self, name: str) -> list[str]:
        found = self.logs.filter_log_events(logGroupName=f"/consumers/{name}")["events"]
        return sorted(
            json.loads(e["message"])["detail"]["cancellation"]["cancellation_id"] for e in found
        )


BUS = "cancellations"


@pytest.fixture
def consumers() -> Any:
    with mock_aws():
        yield Consumers(
            boto3.client("events", region_name="us-east-1"),
            boto3.client("logs", region_name="us-east-1"),
        )


def test_payments_gets_every_cancellation_and_inventory_all_but_those_out_of_stock(
    consumers: Consumers,
) -> None:
    published = {reason: event(reason, f"C-{reason.value}") for reason in CancelReason}

    consumers.publish(*(put_events_entry(e, BUS) for e in published.values()))

    assert consumers.received("payments") == sorted(e.cancellation_id for e in published.values())
    assert consumers.received("inventory") == sorted(
        e.cancellation_id
        for reason, e in published.items()
        if reason is not CancelReason.OUT_OF_STOCK
    )


def test_neither_gets_another_source(consumers: Consumers) -> None:
    other = put_events_entry(event(CancelReason.BUYER_REQUESTED, "C1"), BUS) | {"Source": "orders"}

    consumers.publish(other)

    assert consumers.received("payments") == consumers.received("inventory") == []
