"""Scheduled reconciliation: resends buyer emails that never went out and checks that every
recently changed order still adds up. Mismatches are reported, never repaired.

Invoked by the schedule with any event, or by hand with a window:
``{"window": {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}}``
(a window run leaves the schedule's checkpoint alone).
"""

import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import dynamodb_client, ses_client
from adapters.notification_store import NotificationStore
from adapters.notifier import Notifier, SesMailer
from domain.invariants import check_order

# Bounded work per run; what is left is picked up by the next run from the checkpoint.
MAX_RESENDS_PER_RUN = 200
MAX_ORDERS_PER_RUN = 1000
# Writes stamped just before now may still be landing; look only at those older than this.
SETTLE = timedelta(minutes=1)
FIRST_RUN_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Settings:
    table_name: str
    sender: str
    marketplace_name: str
    pending_after: timedelta

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls(
            table_name=os.environ["TABLE_NAME"],
            sender=os.environ["EMAIL_SENDER"],
            marketplace_name=os.environ.get("MARKETPLACE_NAME", "Marketplace"),
            pending_after=timedelta(
                minutes=int(os.environ.get("PENDING_NOTIFICATION_MINUTES", "10"))
            ),
        )


settings = Settings.from_environment()
logger = Logger()
tracer = Tracer()
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


@tracer.capture_method
def resend_pending(now: datetime) -> dict[str, int]:
    keys = store.pending_since_before(now - settings.pending_after, MAX_RESENDS_PER_RUN)
    outcomes = Counter(notifier.deliver(key).outcome.value for key in keys)
    if outcomes:
        logger.info("pending notifications retried", extra={"outcomes": dict(outcomes)})
    metrics.add_metric(name="NotificationsResent", unit=MetricUnit.Count, value=outcomes["SENT"])
    oldest = store.oldest_pending_since()
    age = (now - oldest).total_seconds() if oldest else 0
    metrics.add_metric(name="OldestPendingNotificationAge", unit=MetricUnit.Seconds, value=age)
    return dict(outcomes)


@tracer.capture_method
def check_orders(start: datetime, until: datetime, use_checkpoint: bool) -> dict[str, Any]:
    previous = store.checkpoint() if use_checkpoint else None
    changed, more = store.changed_orders(previous, until, start, MAX_ORDERS_PER_RUN)
    violations = 0
    for _position, pk in changed:
        stored = store.stored_order(pk)
        if stored is None:
            continue
        for mismatch in check_order(stored.order, stored.cancellations, stored.stored_status):
            violations += 1
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
    metrics.add_metric(name="OrdersChecked", unit=MetricUnit.Count, value=len(changed))
    metrics.add_metric(name="InvariantViolations", unit=MetricUnit.Count, value=violations)
    advanced = False
    if use_checkpoint and changed:
        advanced = store.advance_checkpoint(previous, changed[-1][0])
    return {
        "orders_checked": len(changed),
        "violations": violations,
        "more": more,
        "checkpoint_advanced": advanced,
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = _now()
    window = event.get("window") if isinstance(event, dict) else None
    resent = resend_pending(now)
    if window:
        start = _instant(window.get("from"), "from")
        until = min(_instant(window.get("to"), "to"), now)
        checked = check_orders(start, until, use_checkpoint=False)
    else:
        checked = check_orders(now - FIRST_RUN_LOOKBACK, now - SETTLE, use_checkpoint=True)
    summary = {"notifications": resent, **checked}
    logger.info("reconciliation finished", extra=summary)
    return summary
