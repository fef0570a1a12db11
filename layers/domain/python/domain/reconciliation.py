"""Reconciliation, the scheduled safety net: buyer emails that never went out are sent
again, and every recently changed order is checked to still add up. Mismatches are
reported, never repaired.

Written against ports: a ``ReconciliationStore`` (the pending notifications, the changed
orders, the checkpoint), a ``deliver`` function (the exactly-once email path), a
``Journal`` (the function's logger) and the invocation's time left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.cancellation import Cancellation
from domain.invariants import check_order
from domain.model import Order
from domain.ports import StorageUnavailable

# Bounded work per run; what is left is picked up by the next run from the checkpoint.
MAX_RESENDS_PER_RUN = 200
MAX_ORDERS_PER_RUN = 1000
FIRST_RUN_LOOKBACK = timedelta(days=1)
# Resends leave the second half of a run to the order checks, which keep a margin.
RESEND_STOPS_WITH_SECONDS_LEFT = 150
CHECKS_STOP_WITH_SECONDS_LEFT = 20


@dataclass(frozen=True)
class StoredOrder:
    """An order as stored, with the status written beside it and all its cancellations."""

    order: Order
    stored_status: str | None
    cancellations: tuple[Cancellation, ...]


class ReconciliationStore[Key](Protocol):
    def pending_since_before(self, cutoff: datetime, limit: int) -> list[Key]: ...

    def oldest_pending_since(self) -> datetime | None: ...

    def changed_orders(
        self, after: str | None, until: datetime, start: datetime, limit: int
    ) -> tuple[list[tuple[str, str]], bool]: ...

    def stored_order(self, pk: str) -> StoredOrder | None: ...

    def checkpoint(self) -> str | None: ...

    def advance_checkpoint(self, previous: str | None, position: str) -> bool: ...


class Journal(Protocol):
    """Where a run reports what it met (the function's logger)."""

    def info(self, msg: str, *, extra: Mapping[str, Any]) -> Any: ...

    def error(self, msg: str, *, extra: Mapping[str, Any]) -> Any: ...

    def exception(self, msg: str, *, extra: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Window:
    """The orders a run checks: changed from ``start`` up to ``until``, after position
    ``after`` when an earlier run of the same window stopped there."""

    start: datetime
    until: datetime
    after: str | None = None


@dataclass(frozen=True)
class RunReport:
    notifications: dict[str, int]
    oldest_pending_age: timedelta
    orders_checked: int
    violations: int
    more: bool
    # A window run: where the next run of the window goes on (None when nothing is left).
    next_after: str | None = None
    # A scheduled run: whether it moved the checkpoint.
    checkpoint_advanced: bool | None = None

    def summary(self) -> dict[str, Any]:
        if self.checkpoint_advanced is None:
            position: dict[str, Any] = {"next_after": self.next_after}
        else:
            position = {"checkpoint_advanced": self.checkpoint_advanced}
        return {
            "notifications": self.notifications,
            "orders_checked": self.orders_checked,
            "violations": self.violations,
            "more": self.more,
            **position,
        }


class Reconciler[Key]:
    def __init__(
        self,
        store: ReconciliationStore[Key],
        deliver: Callable[[Key], str],
        journal: Journal,
        *,
        pending_after: timedelta,
        settle: timedelta,
    ) -> None:
        """``deliver`` sends a pending notification's email if it is still due and returns
        the outcome's name (SENT, FAILED…); ``pending_after``: how old a pending
        notification must be to be resent; ``settle``: how recent a change a scheduled
        run leaves for the next one, as its writes may still be landing."""
        self._store = store
        self._deliver = deliver
        self._journal = journal
        self._pending_after = pending_after
        self._settle = settle

    def run(
        self, now: datetime, seconds_left: Callable[[], float], window: Window | None = None
    ) -> RunReport:
        """One run: the resends, then the checks of ``window``, or, on the schedule, of what
        changed since the checkpoint (a day back on the first run)."""
        outcomes, oldest_age = self.resend_pending(now, seconds_left)
        if window is not None:
            checked, violations, last, more = self.check_orders(window, seconds_left)
            return RunReport(
                outcomes, oldest_age, checked, violations, more, next_after=last if more else None
            )
        previous = self._store.checkpoint()
        scheduled = Window(now - FIRST_RUN_LOOKBACK, now - self._settle, previous)
        checked, violations, last, more = self.check_orders(scheduled, seconds_left)
        advanced = last is not None and self._store.advance_checkpoint(previous, last)
        return RunReport(
            outcomes, oldest_age, checked, violations, more, checkpoint_advanced=advanced
        )

    def resend_pending(
        self, now: datetime, seconds_left: Callable[[], float]
    ) -> tuple[dict[str, int], timedelta]:
        """The outcomes of resending what is pending for longer than ``pending_after``, and
        how long the oldest pending notification has waited."""
        keys = self._store.pending_since_before(now - self._pending_after, MAX_RESENDS_PER_RUN)
        outcomes: Counter[str] = Counter()
        for key in keys:
            if seconds_left() < RESEND_STOPS_WITH_SECONDS_LEFT:
                outcomes["DEFERRED"] += 1
                continue
            try:
                outcomes[self._deliver(key)] += 1
            except Exception:
                # One notification that cannot be handled must not stop the others.
                self._journal.exception("resending a notification failed", extra={"key": key})
                outcomes["ERROR"] += 1
        if outcomes:
            self._journal.info("pending notifications retried", extra={"outcomes": outcomes})
        oldest = self._store.oldest_pending_since()
        return dict(outcomes), (now - oldest) if oldest else timedelta()

    def check_orders(
        self, window: Window, seconds_left: Callable[[], float]
    ) -> tuple[int, int, str | None, bool]:
        """(checked, violations, position of the last checked, whether more remain)."""
        changed, more = self._store.changed_orders(
            window.after, window.until, window.start, MAX_ORDERS_PER_RUN
        )
        checked = violations = 0
        last: str | None = None
        for position, pk in changed:
            if seconds_left() < CHECKS_STOP_WITH_SECONDS_LEFT:
                more = True
                break
            try:
                stored = self._store.stored_order(pk)
                if stored is not None:
                    violations += self._report(stored)
            except StorageUnavailable:
                more = True
                break
            except Exception as error:
                # An order the code cannot even read is a mismatch of its own.
                violations += 1
                self._journal.exception(
                    "order does not add up",
                    extra={
                        "pk": pk,
                        "check": "readable",
                        "detail": f"{type(error).__name__}: {error}",
                    },
                )
            checked += 1
            last = position
        return checked, violations, last, more

    def _report(self, stored: StoredOrder) -> int:
        found = check_order(stored.order, stored.cancellations, stored.stored_status)
        for mismatch in found:
            self._journal.error(
                "order does not add up",
                extra={
                    "seller_id": stored.order.seller_id,
                    "order_id": stored.order.order_id,
                    "check": mismatch.check,
                    "detail": mismatch.detail,
                    "numbers": mismatch.numbers,
                },
            )
        return len(found)
