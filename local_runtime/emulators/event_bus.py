"""The template's EventBridge buses on moto, and what they received.

Each bus is created with its archives, as CloudFormation would, and one rule of the
local stack's own that sends every event on the bus to a CloudWatch Logs group, as a
consumer's rule would: ``received()`` reads that group back (``GET /_local/events``).
Everything goes through moto's public APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from local_runtime.template import LOCAL_ACCOUNT_ID, EventBusSpec

TAP_RULE = "local-events-tap"
# Every event: each has a source.
EVERYTHING = json.dumps({"source": [{"exists": True}]})


def tap_log_group(bus_name: str) -> str:
    return f"/local/event-bus/{bus_name}"


@dataclass(frozen=True)
class ReceivedEvent:
    source: str
    detail_type: str
    detail: Any
    time: str

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "detail-type": self.detail_type,
            "detail": self.detail,
            "time": self.time,
        }


class LocalEventBuses:
    def __init__(
        self, buses: Iterable[EventBusSpec], client: Callable[[str], Any], region: str
    ) -> None:
        self._buses = list(buses)
        self._client = client
        self._region = region

    def create(self) -> None:
        events, logs = self._client("events"), self._client("logs")
        for bus in self._buses:
            events.create_event_bus(Name=bus.name)
            for archive in bus.archives:
                arguments: dict[str, Any] = {
                    "ArchiveName": archive.logical_id,
                    "EventSourceArn": bus.arn,
                    "RetentionDays": archive.retention_days,
                }
                if archive.event_pattern:
                    arguments["EventPattern"] = json.dumps(archive.event_pattern)
                events.create_archive(**arguments)
            group = tap_log_group(bus.name)
            logs.create_log_group(logGroupName=group)
            events.put_rule(Name=TAP_RULE, EventBusName=bus.name, EventPattern=EVERYTHING)
            events.put_targets(
                Rule=TAP_RULE,
                EventBusName=bus.name,
                Targets=[
                    {
                        "Id": "local-events",
                        "Arn": (
                            f"arn:aws:logs:{self._region}:{LOCAL_ACCOUNT_ID}:log-group:{group}"
                        ),
                    }
                ],
            )

    def received(self) -> list[ReceivedEvent]:
        """Every event the buses received, oldest first."""
        logs = self._client("logs")
        found: list[tuple[int, ReceivedEvent]] = []
        for bus in self._buses:
            paginator = logs.get_paginator("filter_log_events")
            for page in paginator.paginate(logGroupName=tap_log_group(bus.name)):
                for record in page["events"]:
                    event = json.loads(record["message"])
                    found.append(
                        (
                            int(record["timestamp"]),
                            ReceivedEvent(
                                source=event["source"],
                                detail_type=event["detail-type"],
                                detail=event["detail"],
                                time=event["time"],
                            ),
                        )
                    )
        return [event for _, event in sorted(found, key=lambda pair: pair[0])]
