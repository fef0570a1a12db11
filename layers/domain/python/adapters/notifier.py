"""The one path by which a buyer is emailed about a cancellation, used by the stream
consumer and by the reconciler alike: claim, render, send through SES, record.

Exactly once: a claimed cancellation is sent by one sender at a time, and one recorded
``SENT`` is never sent again. When SES's answer is lost (a timeout after the request
left), the claim is released and the email goes out again later: at most one extra
email, never none.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from adapters.buyer_email import RenderedEmail, render_cancellation_email
from adapters.notification_store import CancellationKey, Claim, ClaimRefusal, NotificationStore

# SES errors that no retry will cure: this message or this address is refused. Errors of
# the sender's own setup (an unverified domain, paused sending) are not among them: once
# fixed, every pending email goes out, and the pending-age alarm says meanwhile.
PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "InvalidParameterValue"})
# After this many claims without a delivery the notification is FAILED (and alarmed on).
MAX_CLAIMS = 10


class Outcome(StrEnum):
    SENT = "SENT"
    SENT_UNCONFIRMED = "SENT_UNCONFIRMED"
    DUPLICATE_SUPPRESSED = "DUPLICATE_SUPPRESSED"
    FAILED = "FAILED"
    LEFT_PENDING = "LEFT_PENDING"
    IN_FLIGHT = "IN_FLIGHT"
    ALREADY_FAILED = "ALREADY_FAILED"
    MISSING = "MISSING"


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.maybe_sent = maybe_sent


class Mailer(Protocol):
    def send(self, sender: str, recipient: str, email: RenderedEmail) -> str:
        """Send; the provider's message id, or ``SendFailed``."""
        ...


class SesMailer:
    """SES v1 SendRawEmail with a multipart/alternative message (text and HTML)."""

    def __init__(self, client: Any, sender_name: str) -> None:
        self._client = client
        self._sender_name = sender_name

    def send(self, sender: str, recipient: str, email: RenderedEmail) -> str:
        try:
            message = EmailMessage()
            message["Subject"] = email.subject
            message["From"] = formataddr((self._sender_name, sender))
            message["To"] = recipient
            message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
            message.set_content(email.text)
            message.add_alternative(email.html, subtype="html")
            raw = message.as_bytes()
        except (ValueError, TypeError, AttributeError, IndexError, MessageError) as error:
            raise SendFailed(
                f"no valid message to {recipient!r}: {error}", permanent=True
            ) from error
        try:
            response = self._client.send_raw_email(
                Source=sender, Destinations=[recipient], RawMessage={"Data": raw}
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            raise SendFailed(
                code or "ClientError", permanent=code in PERMANENT_SES_ERRORS
            ) from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            raise SendFailed(type(error).__name__, permanent=False) from error
        except BotoCoreError as error:
            # The request may have reached SES: assume it might have been sent.
            raise SendFailed(type(error).__name__, permanent=False, maybe_sent=True) from error
        return str(response["MessageId"])


@dataclass(frozen=True)
class DeliveryReport:
    outcome: Outcome
    cancellation_id: str | None = None
    order_id: str | None = None
    detail: str = ""


class Notifier:
    def __init__(
        self,
        store: NotificationStore,
        mailer: Mailer,
        *,
        sender: str,
        marketplace_name: str,
        clock: Callable[[], datetime],
        lease: timedelta = timedelta(minutes=5),
        attempts: int = 4,
        pause: Callable[[int], None] = lambda attempt: time.sleep(min(0.2 * 2**attempt, 2)),
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._sender = sender
        self._marketplace_name = marketplace_name
        self._clock = clock
        self._lease = lease
        self._attempts = attempts
        self._pause = pause

    def deliver(self, key: CancellationKey) -> DeliveryReport:
        claimed = self._store.claim(key, self._clock(), self._lease)
        if isinstance(claimed, ClaimRefusal):
            return DeliveryReport(_REFUSAL_OUTCOMES[claimed], detail=f"{key.pk} {key.sk}")
        try:
            return self._deliver(claimed)
        except Exception as error:
            # Give the claim back, so that a retry (the stream's or the reconciler's) can
            # go at once rather than after the lease.
            with contextlib.suppress(Exception):
                self._store.release(claimed, f"{type(error).__name__}: {error}")
            raise

    def _deliver(self, claimed: Claim) -> DeliveryReport:
        report = _report_for(claimed)
        if claimed.attempts > MAX_CLAIMS:
            reason = f"not delivered after {MAX_CLAIMS} attempts"
            self._store.mark_failed(claimed, reason)
            return report(Outcome.FAILED, reason)
        order = self._store.order_of(claimed)
        if order is None:
            self._store.mark_failed(claimed, "the order no longer exists")
            return report(Outcome.FAILED, "the order no longer exists")
        try:
            email = render_cancellation_email(
                order, claimed.cancellation, marketplace_name=self._marketplace_name
            )
        except ValueError as error:
            self._store.mark_failed(claimed, f"the email cannot be written: {error}")
            return report(Outcome.FAILED, str(error))
        last_failure: SendFailed | None = None
        for attempt in range(self._attempts):
            if attempt:
                self._pause(attempt)
            try:
                message_id = self._mailer.send(self._sender, order.buyer.email, email)
            except SendFailed as failure:
                last_failure = failure
                if failure.permanent:
                    self._store.mark_failed(claimed, failure.reason)
                    return report(Outcome.FAILED, failure.reason)
                if failure.maybe_sent:
                    return self._unknown_outcome(claimed, failure, report)
                continue
            self._store.mark_sent(claimed, message_id, self._clock())
            return report(Outcome.SENT, message_id)
        reason = last_failure.reason if last_failure else "unknown"
        self._store.release(claimed, reason)
        return report(Outcome.LEFT_PENDING, reason)

    def _unknown_outcome(
        self,
        claimed: Claim,
        failure: SendFailed,
        report: Callable[[Outcome, str], DeliveryReport],
    ) -> DeliveryReport:
        """SES may or may not have the email. The first time, send again later: one extra
        email at most rather than none. If the resend's outcome is unknown as well, stop:
        a third send could not be told from spam."""
        if claimed.maybe_sent:
            self._store.mark_sent(claimed, "unconfirmed", self._clock())
            return report(Outcome.SENT_UNCONFIRMED, failure.reason)
        self._store.release(claimed, failure.reason, maybe_sent=True)
        return report(Outcome.LEFT_PENDING, failure.reason)


_REFUSAL_OUTCOMES = {
    ClaimRefusal.ALREADY_SENT: Outcome.DUPLICATE_SUPPRESSED,
    ClaimRefusal.ALREADY_FAILED: Outcome.ALREADY_FAILED,
    ClaimRefusal.IN_FLIGHT: Outcome.IN_FLIGHT,
    ClaimRefusal.MISSING: Outcome.MISSING,
}


def _report_for(claim: Claim) -> Callable[[Outcome, str], DeliveryReport]:
    def report(outcome: Outcome, detail: str) -> DeliveryReport:
        return DeliveryReport(
            outcome, claim.cancellation.cancellation_id, claim.cancellation.order_id, detail
        )

    return report
