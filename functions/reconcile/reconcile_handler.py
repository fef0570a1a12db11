"""Scheduled reconciliation: resends buyer emails that never went out and checks that every
recently changed order still adds up. Mismatches are reported, never repaired.

Invoked by the schedule with any event, or by hand with a window:
``{"window": {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}}``
A window run leaves the schedule's checkpoint alone; when it answers ``"more": true``,
run it again with its ``next_after`` as ``window.after`` to go on.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws_clients import dynamodb_client, ses_client
from adapters.buyer_email import BuyerEmails
from adapters.logs import service_logger
from adapters.notification_store import NotificationStore
from adapters.ses_mailer import SesMailer, ses_backoff
from adapters.settings import ReconcileSettings
from domain.notification import CancellationKey, Notifier
from domain.reconciliation import Reconciler, RunReport, Window

settings = ReconcileSettings.from_environment()
logger = service_logger()
metrics = Metrics()
store = NotificationStore(dynamodb_client(), settings.table_name)
notifier = Notifier(
    store,
    SesMailer(ses_client(), settings.marketplace_name),
    BuyerEmails(settings.marketplace_name),
    sender=settings.sender,
    clock=lambda: datetime.now(UTC),
    backoff=lambda: ses_backoff(settings.ses_retry_base),
)


def _deliver(key: CancellationKey) -> str:
    return notifier.deliver(key).outcome.value


reconciler = Reconciler(
    store,
    _deliver,
    logger,
    pending_after=settings.pending_after,
    settle=settings.settle,
)


def _instant(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"window.{name} must be an ISO 8601 time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"window.{name} must carry a time zone")
    return moment.astimezone(UTC)


def window_of(event: Any, now: datetime) -> Window | None:
    """The event's window, checked; None for a scheduled run (any other event)."""
    window = event.get("window") if isinstance(event, dict) else None
    if window is None:
        return None
    start = _instant(window.get("from"), "from")
    until = min(_instant(window.get("to"), "to"), now)
    if start > until:
        raise ValueError("window.from must come before window.to (and before now)")
    after = window.get("after")
    if after is not None and not isinstance(after, str):
        raise ValueError("window.after must be the next_after of an earlier run")
    return Window(start, until, after)


def _publish(report: RunReport) -> None:
    count, seconds = MetricUnit.Count, MetricUnit.Seconds
    sent, failed = report.notifications.get("SENT", 0), report.notifications.get("FAILED", 0)
    metrics.add_metric(name="NotificationsResent", unit=count, value=sent)
    metrics.add_metric(name="EmailsFailed", unit=count, value=failed)
    age = report.oldest_pending_age.total_seconds()
    metrics.add_metric(name="OldestPendingNotificationAge", unit=seconds, value=age)
    metrics.add_metric(name="OrdersChecked", unit=count, value=report.orders_checked)
    metrics.add_metric(name="InvariantViolations", unit=count, value=report.violations)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    window = window_of(event, now)
    report = reconciler.run(now, lambda: context.get_remaining_time_in_millis() / 1000, window)
    _publish(report)
    summary = report.summary()
    logger.info("reconciliation finished", extra=summary)
    return summary
