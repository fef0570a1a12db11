"""The reconciliation use case on fakes: what it resends, what it checks, where it stops,
and what it reports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.ports import StorageUnavailable
from domain.reconciliation import (
    CHECKS_STOP_WITH_SECONDS_LEFT,
    FIRST_RUN_LOOKBACK,
    MAX_ORDERS_PER_RUN,
    MAX_RESENDS_PER_RUN,
    RESEND_STOPS_WITH_SECONDS_LEFT,
    Reconciler,
    StoredOrder,
    Window,
)
from tests.unit.domain.builders import apply, items_request, mug_order

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PENDING_AFTER = timedelta(minutes=10)
SETTLE = timedelta(minutes=1)
PLENTY_OF_TIME = 900.0


def consistent(order_id: str) -> StoredOrder:
    order, record = apply(mug_order(), items_request(("L1", 1)), cancellation_id=f"C-{order_id}")
    order = replace(order, order_id=order_id)
    return StoredOrder(order, order.status.value, (replace(record, order_id=order_id),))


def tampered(order_id: str) -> StoredOrder:
    stored = consistent(order_id)
    line = replace(stored.order.lines[0], cancelled_quantity=2)
    return replace(stored, order=replace(stored.order, lines=(line,)))


@dataclass
class FakeStore:
    pending: list[tuple[datetime, str]] = field(default_factory=list)
    # (position, pk) in position order, and what each pk holds (an exception: unreadable)
    changed: list[tuple[str, str]] = field(default_factory=list)
    orders: dict[str, StoredOrder | Exception] = field(default_factory=dict)
    saved_checkpoint: str | None = None
    queries: list[dict[str, Any]] = field(default_factory=list)

    def pending_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        return [key for since, key in sorted(self.pending) if since < cutoff][:limit]

    def oldest_pending_since(self) -> datetime | None:
        return min((since for since, _ in self.pending), default=None)

    def changed_orders(
        self, after: str | None, until: datetime, start: datetime, limit: int
    ) -> tuple[list[tuple[str, str]], bool]:
        self.queries.append({"after": after, "until": until, "start": start, "limit": limit})
        found = [(p, pk) for p, pk in self.changed if after is None or p > after]
        return found[:limit], len(found) > limit

    def stored_order(self, pk: str) -> StoredOrder | None:
        held = self.orders.get(pk)
        if isinstance(held, Exception):
            raise held
        return held

    def checkpoint(self) -> str | None:
        return self.saved_checkpoint

    def advance_checkpoint(self, previous: str | None, position: str) -> bool:
        if self.saved_checkpoint != previous:
            return False
        self.saved_checkpoint = position
        return True


@dataclass
class FakeJournal:
    lines: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def info(self, msg: str, *, extra: Any) -> None:
        self.lines.append(("info", msg, dict(extra)))

    def error(self, msg: str, *, extra: Any) -> None:
        self.lines.append(("error", msg, dict(extra)))

    def exception(self, msg: str, *, extra: Any) -> None:
        self.lines.append(("exception", msg, dict(extra)))


def reconciler(
    store: FakeStore, journal: FakeJournal, outcome: Any = "SENT"
) -> tuple[Reconciler[str], list[str]]:
    delivered: list[str] = []

    def deliver(key: str) -> str:
        delivered.append(key)
        return outcome(key) if callable(outcome) else str(outcome)

    return (
        Reconciler(store, deliver, journal, pending_after=PENDING_AFTER, settle=SETTLE),
        delivered,
    )


def test_only_notifications_pending_longer_than_the_limit_are_resent_oldest_first() -> None:
    store = FakeStore(
        pending=[
            (NOW - timedelta(minutes=30), "old"),
            (NOW - timedelta(minutes=2), "fresh"),
            (NOW - timedelta(hours=2), "oldest"),
        ]
    )
    run, delivered = reconciler(store, FakeJournal())

    report = run.run(NOW, lambda: PLENTY_OF_TIME)

    assert delivered == ["oldest", "old"]
    assert report.notifications == {"SENT": 2}
    assert report.oldest_pending_age == timedelta(hours=2)


def test_one_notification_that_fails_is_counted_and_the_others_are_still_resent() -> None:
    store = FakeStore(pending=[(NOW - timedelta(hours=1), k) for k in ("a", "b", "c")])
    journal = FakeJournal()

    def outcome(key: str) -> str:
        if key == "b":
            raise RuntimeError("the store went away")
        return "FAILED" if key == "c" else "SENT"

    run, delivered = reconciler(store, journal, outcome)

    report = run.run(NOW, lambda: PLENTY_OF_TIME)

    assert delivered == ["a", "b", "c"]
    assert report.notifications == {"SENT": 1, "ERROR": 1, "FAILED": 1}
    assert ("exception", "resending a notification failed", {"key": "b"}) in journal.lines


def test_resends_are_deferred_once_the_run_is_short_of_time() -> None:
    store = FakeStore(pending=[(NOW - timedelta(hours=1), k) for k in ("a", "b")])
    left = iter([PLENTY_OF_TIME, RESEND_STOPS_WITH_SECONDS_LEFT - 1])
    run, delivered = reconciler(store, FakeJournal())

    outcomes, _ = run.resend_pending(NOW, lambda: next(left))

    assert delivered == ["a"]
    assert outcomes == {"SENT": 1, "DEFERRED": 1}


def test_a_run_resends_at_most_its_bound() -> None:
    store = FakeStore(pending=[(NOW - timedelta(hours=1, seconds=n), f"k{n}") for n in range(250)])
    run, delivered = reconciler(store, FakeJournal())

    run.resend_pending(NOW, lambda: PLENTY_OF_TIME)

    assert len(delivered) == MAX_RESENDS_PER_RUN


def test_a_scheduled_run_checks_since_its_checkpoint_up_to_the_settle_and_advances_it() -> None:
    store = FakeStore(
        changed=[("p1", "A"), ("p2", "B"), ("p3", "C")],
        orders={"A": consistent("A"), "B": tampered("B"), "C": consistent("C")},
        saved_checkpoint="p1",
    )
    journal = FakeJournal()
    run, _ = reconciler(store, journal)

    report = run.run(NOW, lambda: PLENTY_OF_TIME)

    assert store.queries == [
        {
            "after": "p1",
            "until": NOW - SETTLE,
            "start": NOW - FIRST_RUN_LOOKBACK,
            "limit": MAX_ORDERS_PER_RUN,
        }
    ]
    assert (report.orders_checked, report.violations, report.more) == (2, 1, False)
    assert report.checkpoint_advanced is True
    assert store.saved_checkpoint == "p3"
    errors = [extra for level, _msg, extra in journal.lines if level == "error"]
    assert [(e["order_id"], e["check"]) for e in errors] == [
        ("B", "cancelled_matches_cancellations")
    ]
    assert report.summary() == {
        "notifications": {},
        "orders_checked": 2,
        "violations": 1,
        "more": False,
        "checkpoint_advanced": True,
    }


class RacedStore(FakeStore):
    """Another run moves the checkpoint between this run's read of it and its advance."""

    def checkpoint(self) -> str | None:
        position = super().checkpoint()
        self.saved_checkpoint = "p9"
        return position


def test_a_scheduled_run_that_lost_the_checkpoint_to_another_says_so() -> None:
    store = RacedStore(changed=[("p1", "A")], orders={"A": consistent("A")})
    run, _ = reconciler(store, FakeJournal())

    report = run.run(NOW, lambda: PLENTY_OF_TIME)

    assert (report.orders_checked, report.checkpoint_advanced) == (1, False)
    assert store.saved_checkpoint == "p9"


def test_a_window_run_checks_the_window_and_leaves_the_checkpoint_alone() -> None:
    window = Window(NOW - timedelta(days=3), NOW - timedelta(days=2), after="p1")
    store = FakeStore(
        changed=[("p1", "A"), ("p2", "B")],
        orders={"A": consistent("A"), "B": consistent("B")},
        saved_checkpoint="p0",
    )
    run, _ = reconciler(store, FakeJournal())

    report = run.run(NOW, lambda: PLENTY_OF_TIME, window)

    assert store.queries[0]["start"] == window.start
    assert store.queries[0]["until"] == window.until
    assert (report.orders_checked, report.next_after, report.checkpoint_advanced) == (1, None, None)
    assert store.saved_checkpoint == "p0"
    assert report.summary()["next_after"] is None


def test_an_order_that_cannot_be_read_is_a_violation_and_the_run_goes_on() -> None:
    store = FakeStore(
        changed=[("p1", "A"), ("p2", "B")],
        orders={"A": ValueError("no such currency XXX"), "B": consistent("B")},
    )
    journal = FakeJournal()
    run, _ = reconciler(store, journal)

    checked, violations, last, more = run.check_orders(
        Window(NOW - timedelta(days=1), NOW), lambda: PLENTY_OF_TIME
    )

    assert (checked, violations, last, more) == (2, 1, "p2", False)
    (line,) = [extra for level, _msg, extra in journal.lines if level == "exception"]
    assert line == {"pk": "A", "check": "readable", "detail": "ValueError: no such currency XXX"}


@pytest.mark.parametrize("stop", ["storage", "time"])
def test_checks_stop_where_they_are_when_storage_fails_or_time_runs_short(stop: str) -> None:
    store = FakeStore(
        changed=[("p1", "A"), ("p2", "B"), ("p3", "C")],
        orders={"A": consistent("A"), "B": consistent("B"), "C": consistent("C")},
    )
    left = [PLENTY_OF_TIME, PLENTY_OF_TIME, CHECKS_STOP_WITH_SECONDS_LEFT - 1]
    if stop == "storage":
        store.orders["B"] = StorageUnavailable("throttled")
        left = [PLENTY_OF_TIME] * 3
    seconds = iter(left)
    run, _ = reconciler(store, FakeJournal())

    report = run.run(
        NOW, lambda: next(seconds, PLENTY_OF_TIME), Window(NOW - FIRST_RUN_LOOKBACK, NOW)
    )

    expected = ("p1", 1) if stop == "storage" else ("p2", 2)
    assert (report.next_after, report.orders_checked) == expected
    assert report.more is True
