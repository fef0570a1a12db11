"""The one path by which a buyer is emailed about a cancellation, used by the stream
consumer and by the reconciler alike: claim, render, send through SES, record. The claim
brings what the email needs, so an email costs two calls to the store; a cancellation
stored without its ``BuyerNotice`` (before notices were) costs a read of its order too.

Exactly once: a claimed cancellation is sent by one sender at a time, and one recorded
``SENT`` is never sent again. When SES's answer is lost (a timeout after the request
left), the claim is released and the email goes out again later: at most one extra
email, never none.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, make_msgid
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from adapters.buyer_email import RenderedEmail, render_cancellation_email, render_notice_email
from adapters.notification_store import CancellationKey, Claim, ClaimRefusal
from domain.buyer_notice import BuyerNotice
from domain.cancellation import Cancellation
from domain.model import Order
from domain.retry import Backoff, FullJitterBackoff, attempts

# SES errors that no retry will cure: this message or this address is refused. Errors of
# the sender's own setup (an unverified domain, paused sending) are not among them: once
# fixed, every pending email goes out, and the pending-age alarm says meanwhile.
PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "InvalidParameterValue"})
# After this many claims without a delivery the notification is FAILED (and alarmed on).
MAX_CLAIMS = 10
CRLF = "\r\n"
BASE64_LINE = 76


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
    """``NotificationStore``'s delivery calls; each is one DynamoDB call."""

    def claim(
        self, key: CancellationKey, now: datetime, lease: timedelta
    ) -> Claim | ClaimRefusal: ...

    def mark_sent(self, claim: Claim, message_id: str, sent_at: datetime) -> bool: ...

    def mark_failed(self, claim: Claim, reason: str) -> bool: ...

    def release(self, claim: Claim, last_error: str, *, maybe_sent: bool = False) -> bool: ...

    def order_of(self, claim: Claim) -> Order | None: ...


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
            raw = raw_message(self._sender_name, sender, recipient, email)
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


def raw_message(sender_name: str, sender: str, recipient: str, email: RenderedEmail) -> bytes:
    """A multipart/alternative message: the text part, then the HTML part, each UTF-8 in
    base64; a ``ValueError`` (or another error of the ``email`` package) when no valid
    message can be written to ``recipient``.

    Written out here rather than through ``email.message.EmailMessage``, whose header
    registry costs more per message than the SES call itself; the ``email`` package still
    checks the address and encodes the subject and the sender's name.
    """
    for value in (sender_name, sender, recipient, email.subject):
        if "\r" in value or "\n" in value:
            raise ValueError(f"a header cannot hold a line break: {value!r}")
    Address(addr_spec=recipient)
    # "=_" never occurs in base64, so no part can hold the boundary.
    boundary = f"=_{uuid.uuid4().hex}"
    lines = [
        f"From: {formataddr((sender_name, sender))}",
        f"To: {recipient}",
        f"Subject: {Header(email.subject, header_name='Subject').encode(linesep=CRLF)}",
        f"Message-ID: {make_msgid(domain=sender.partition('@')[2] or None)}",
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative;",
        f' boundary="{boundary}"',
        "",
    ]
    for subtype, body in (("plain", email.text), ("html", email.html)):
        encoded = base64.b64encode(body.encode()).decode("ascii")
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
            *(encoded[i : i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE)),
        ]
    lines += [f"--{boundary}--", ""]
    return CRLF.join(lines).encode("ascii")


def ses_backoff() -> Backoff:
    """Between the sends of one email that SES throttled or failed to answer: four sends
    within ten seconds, pauses up to 0.4, 0.8 and 1.6 s."""
    return FullJitterBackoff(budget_seconds=10.0, base_seconds=0.2, cap_seconds=2.0, max_attempts=4)


@dataclass(frozen=True)
class DeliveryReport:
    outcome: Outcome
    cancellation_id: str | None = None
    order_id: str | None = None
    detail: str = ""


class Notifier:
    def __init__(
        self,
        store: DeliveryStore,
        mailer: Mailer,
        *,
        sender: str,
        marketplace_name: str,
        clock: Callable[[], datetime],
        lease: timedelta = timedelta(minutes=5),
        backoff: Callable[[], Backoff] = ses_backoff,
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._sender = sender
        self._marketplace_name = marketplace_name
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

    def _render(self, source: BuyerNotice | Order, cancellation: Cancellation) -> RenderedEmail:
        if isinstance(source, Order):
            return render_cancellation_email(
                source, cancellation, marketplace_name=self._marketplace_name
            )
        return render_notice_email(source, cancellation, marketplace_name=self._marketplace_name)

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
