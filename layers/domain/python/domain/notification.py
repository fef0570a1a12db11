"""The one path by which a buyer is emailed about a cancellation, used by the stream
consumer and by the reconciler alike: claim, render, send, record. The claim brings what
the email needs, so an email costs two calls to the store; a cancellation stored without
its ``BuyerNotice`` (before notices were) costs a read of its order too.

Exactly once: a claimed cancellation is sent by one sender at a time, and one recorded
``SENT`` is never sent again. When the mail service's answer is lost (a timeout after the
request left), the claim is released and the email goes out again later: at most one
extra email, never none.

Written against ports: the store (``DeliveryStore``), the mail service (``Mailer``), the
email's writer (``Renderer``), a clock and a backoff.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.buyer_notice import BuyerNotice
from domain.cancellation import Cancellation
from domain.model import Order
from domain.retry import Backoff, attempts

# After this many claims without a delivery the notification is FAILED (and alarmed on).
MAX_CLAIMS = 10


@dataclass(frozen=True, slots=True)
class CancellationKey:
    """Where a cancellation, and its notification, is stored."""

    pk: str
    sk: str


class ClaimRefusal(StrEnum):
    ALREADY_SENT = "ALREADY_SENT"
    ALREADY_FAILED = "ALREADY_FAILED"
    IN_FLIGHT = "IN_FLIGHT"
    MISSING = "MISSING"


@dataclass(frozen=True, slots=True)
class Claim:
    pk: str
    sk: str
    token: str
    cancellation: Cancellation
    attempts: int
    # An earlier attempt's outcome was unknown: the email may already be out.
    maybe_sent: bool = False
    # None for a cancellation stored before notices were: its order has what the email needs.
    notice: BuyerNotice | None = None


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


class DeliveryStore(Protocol):
    """The notification store's delivery calls; each is one call to the store."""

    def claim(
        self, key: CancellationKey, now: datetime, lease: timedelta
    ) -> Claim | ClaimRefusal: ...

    def mark_sent(self, claim: Claim, message_id: str, sent_at: datetime) -> bool: ...

    def mark_failed(self, claim: Claim, reason: str) -> bool: ...

    def release(self, claim: Claim, last_error: str, *, maybe_sent: bool = False) -> bool: ...

    def order_of(self, claim: Claim) -> Order | None: ...


class Mailer[Email](Protocol):
    def send(self, sender: str, recipient: str, email: Email) -> str:
        """Send; the provider's message id, or ``SendFailed``."""
        ...


class Renderer[Email](Protocol):
    def __call__(self, source: BuyerNotice | Order, cancellation: Cancellation) -> Email:
        """The buyer's email about ``cancellation``, written from the notice stored with it
        or (a cancellation stored before notices were) from its order; ``ValueError`` when
        none can be written."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    outcome: Outcome
    cancellation_id: str | None = None
    order_id: str | None = None
    detail: str = ""


class Notifier[Email]:
    def __init__(
        self,
        store: DeliveryStore,
        mailer: Mailer[Email],
        render: Renderer[Email],
        *,
        sender: str,
        clock: Callable[[], datetime],
        backoff: Callable[[], Backoff],
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        """``backoff``: a fresh one per email, for the pauses between its sends."""
        self._store = store
        self._mailer = mailer
        self._render = render
        self._sender = sender
        self._clock = clock
        self._lease = lease
        self._backoff = backoff

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
        # A cancellation stored before notices were has none: its order tells what is needed.
        source = claimed.notice or self._store.order_of(claimed)
        if source is None:
            self._store.mark_failed(claimed, "the order no longer exists")
            return report(Outcome.FAILED, "the order no longer exists")
        try:
            email = self._render(source, claimed.cancellation)
        except ValueError as error:
            self._store.mark_failed(claimed, f"the email cannot be written: {error}")
            return report(Outcome.FAILED, str(error))
        recipient = source.buyer.email
        last_failure: SendFailed | None = None
        for _ in attempts(self._backoff()):
            try:
                message_id = self._mailer.send(self._sender, recipient, email)
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
