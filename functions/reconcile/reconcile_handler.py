"""Scheduled reconciliation: resends buyer emails that never went out and checks that every
recently changed order still adds up. Mismatches are reported, never repaired.

Invoked by the schedule with any event, or by hand with a window:
``{"window": {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}}``
A window run leaves the schedule's checkpoint alone; when it answers ``"more": true``,
run it again with its ``next_after`` as ``window.after`` to go on.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import dynamodb_client, ses_client
from adapters.logs import service_logger
from adapters.notification_store import NotificationStore, StoredOrder
from adapters.notifier import Notifier, SesMailer
from adapters.settings import ReconcileSettings
from domain.invariants import check_order
from domain.ports import StorageUnavailable

# Bounded work per run; what is left is picked up by the next run from the checkpoint.
MAX_RESENDS_PER_RUN = 200
MAX_ORDERS_PER_RUN = 1000
# Writes stamped just before now may still be landing; look only at those older than this.
SETTLE = timedelta(minutes=1)
FIRST_RUN_LOOKBACK = timedelta(days=1)
# Resends leave the second half of a run to the order checks, which keep a margin.
RESEND_STOPS_WITH_SECONDS_LEFT = 150
CHECKS_STOP_WITH_SECONDS_LEFT = 20


settings = ReconcileSettings.from_environment()
logger = service_logger()
metrics = Metrics()
store = NotificationStore(dynamodb_client(), settings.table_name)
notifier = Notifier(
    store,
    SesMailer(ses_client(), settings.marketplace_name),
    sender=settings.sender,
    marketplace_name=settings.marketplace_name,
    clock=lambda: datetime.now(UTC),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"window.{name} must be an ISO 8601 time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"window.{name} must carry a time zone")
    return moment.astimezone(UTC)


class Budget:
    """The invocation's time: resends may use part of it, order checks stop with a margin."""

    def __init__(self, context: LambdaContext) -> None:
        self._context = context

    def seconds_left(self) -> float:
        return float(self._context.get_remaining_time_in_millis()) / 1000


def resend_pending(now: datetime, budget: Budget) -> dict[str, int]:
    keys = store.pending_since_before(now - settings.pending_after, MAX_RESENDS_PER_RUN)
    outcomes: Counter[str] = Counter()
    for key in keys:
        if budget.seconds_left() < RESEND_STOPS_WITH_SECONDS_LEFT:
            outcomes["DEFERRED"] += 1
            continue
        try:
            outcomes[notifier.deliver(key).outcome.value] += 1
        except Exception:
            # One notification that cannot be handled must not stop the others.
            logger.exception("resending a notification failed", extra={"sk": key.sk})
            outcomes["ERROR"] += 1
    if outcomes:
        logger.info("pending notifications retried", extra={"outcomes": dict(outcomes)})
    metrics.add_metric(name="NotificationsResent", unit=MetricUnit.Count, value=outcomes["SENT"])
    metrics.add_metric(name="EmailsFailed", unit=MetricUnit.Count, value=outcomes["FAILED"])
    oldest = store.oldest_pending_since()
    age = (now - oldest).total_seconds() if oldest else 0
    metrics.add_metric(name="OldestPendingNotificationAge", unit=MetricUnit.Seconds, value=age)
    return dict(outcomes)


def _report(stored: StoredOrder) -> int:
    found = check_order(stored.order, stored.cancellations, stored.stored_status)
    for mismatch in found:
        logger.error(
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


def check_orders(
    start: datetime, until: datetime, after: str | None, budget: Budget
) -> tuple[int, int, str | None, bool]:
    """Check the orders changed after position ``after`` (or ``start``) and before
    ``until``: (checked, violations, position of the last checked, whether more remain)."""
    changed, more = store.changed_orders(after, until, start, MAX_ORDERS_PER_RUN)
    checked = violations = 0
    last: str | None = None
    for position, pk in changed:
        if budget.seconds_left() < CHECKS_STOP_WITH_SECONDS_LEFT:
            more = True
            break
        try:
            stored = store.stored_order(pk)
            if stored is not None:
                violations += _report(stored)
        except StorageUnavailable:
            more = True
            break
        except Exception as error:
            # An order the code cannot even read is a mismatch of its own.
            violations += 1
            logger.exception(
                "order does not add up",
                extra={"pk": pk, "check": "readable", "detail": f"{type(error).__name__}: {error}"},
            )
        checked += 1
        last = position
    metrics.add_metric(name="OrdersChecked", unit=MetricUnit.Count, value=checked)
    metrics.add_metric(name="InvariantViolations", unit=MetricUnit.Count, value=violations)
    return checked, violations, last, more


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = _now()
    budget = Budget(context)
    window = event.get("window") if isinstance(event, dict) else None
    if window is not None:
        start = _instant(window.get("from"), "from")
        until = min(_instant(window.get("to"), "to"), now)
        if start > until:
            raise ValueError("window.from must come before window.to (and before now)")
        after = window.get("after")
        if after is not None and not isinstance(after, str):
            raise ValueError("window.after must be the next_after of an earlier run")
    resent = resend_pending(now, budget)
    if window is not None:
        checked, violations, last, more = check_orders(start, until, after, budget)
        position = {"next_after": last if more else None}
    else:
        previous = store.checkpoint()
        checked, violations, last, more = check_orders(
            now - FIRST_RUN_LOOKBACK, now - SETTLE, previous, budget
        )
        advanced = last is not None and store.advance_checkpoint(previous, last)
        position = {"checkpoint_advanced": advanced}
    summary = {
        "notifications": resent,
        "orders_checked": checked,
        "violations": violations,
        "more": more,
        **position,
    }
    logger.info("reconciliation finished", extra=summary)
    return summary
