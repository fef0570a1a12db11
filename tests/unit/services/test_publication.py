"""Publishing Cancellation Created events on a fake bus: what the bus refuses is offered
again, alone, until it is taken or the backoff gives up; nothing taken is offered twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.publication import CancellationCreated, publish
from domain.retry import NoBackoff
from tests.unit.domain.builders import apply, items_request, mug_order


class FakeBus:
    """Takes every event but those its ``refusals`` name, one refusal used per call."""

    def __init__(self, *refusals: set[str]) -> None:
        self.refusals = list(refusals)
        self.calls: list[list[str]] = []
        self.taken: list[str] = []

    def put(self, events: Sequence[CancellationCreated]) -> Mapping[int, str]:
        ids = [event.cancellation_id for event in events]
        self.calls.append(ids)
        refused = self.refusals.pop(0) if self.refusals else set()
        self.taken += [i for i in ids if i not in refused]
        return {position: "ThrottlingException" for position, i in enumerate(ids) if i in refused}


def events(count: int) -> list[CancellationCreated]:
    order = mug_order()
    return [
        CancellationCreated(apply(order, items_request(("L1", 1)), f"C{n}")[1])
        for n in range(1, count + 1)
    ]


def test_every_event_is_published_in_one_call_when_the_bus_takes_them() -> None:
    bus = FakeBus()

    report = publish(bus, events(3), NoBackoff())

    assert (report.published, report.attempts, report.unpublished) == (3, 1, {})
    assert bus.calls == [["C1", "C2", "C3"]]


def test_refused_events_alone_are_offered_again_until_taken() -> None:
    bus = FakeBus({"C2", "C3"}, {"C3"})

    report = publish(bus, events(4), NoBackoff())

    assert bus.calls == [["C1", "C2", "C3", "C4"], ["C2", "C3"], ["C3"]]
    assert sorted(bus.taken) == ["C1", "C2", "C3", "C4"]
    assert len(bus.taken) == len(set(bus.taken))
    assert (report.published, report.attempts, report.unpublished) == (4, 3, {})


def test_what_is_still_refused_when_the_backoff_gives_up_is_reported_by_position() -> None:
    bus = FakeBus({"C2"}, {"C2"}, {"C2"})

    report = publish(bus, events(3), NoBackoff(attempts=3))

    assert report.published == 2
    assert report.attempts == 3
    assert report.unpublished == {1: "ThrottlingException"}
    assert bus.taken == ["C1", "C3"]


def test_no_events_make_no_call() -> None:
    bus = FakeBus()

    report = publish(bus, [], NoBackoff())

    assert (report.published, report.attempts, bus.calls) == (0, 0, [])


def test_the_event_carries_the_order_as_the_cancellation_left_it() -> None:
    (event,) = events(1)

    assert event.seller_id == "S1"
    assert (event.order_id, event.order_version) == ("O1", 2)
    assert event.order_status.value == "AWAITING_SHIPMENT"
