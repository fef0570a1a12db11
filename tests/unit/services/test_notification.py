"""The notifier on fakes: what each buyer email costs the store, and that the email written
from the notice stored with a cancellation is the one its order would give."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.buyer_email import BuyerEmails, RenderedEmail, render_cancellation_email
from domain.model import Buyer
from domain.notification import CancellationKey, Notifier, Outcome, SendFailed
from domain.retry import NoBackoff
from tests.unit.domain.builders import apply, items_request, order_request, split_order
from tests.unit.email.helpers import MUG, order_for
from tests.unit.services.notification_fakes import FakeDeliveryStore, FakeMailer

SENDER = "orders@example.com"
MARKETPLACE = "ACME Marketplace"


def notifier(store: FakeDeliveryStore, mailer: FakeMailer) -> Notifier[RenderedEmail]:
    return Notifier(
        store,
        mailer,
        BuyerEmails(MARKETPLACE),
        sender=SENDER,
        clock=lambda: datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        backoff=lambda: NoBackoff(attempts=4),
    )


def buyer(number: int) -> Buyer:
    return Buyer(name=f"Buyer {number}", email=f"buyer{number}@example.com", locale="en-US")


def test_every_email_of_a_batch_costs_a_claim_and_a_mark_sent() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    cancelled = [
        apply(order_for(buyer(n), MUG, order_id=f"O{n}"), items_request(("L1", n % 3 + 1)), f"C{n}")
        for n in range(5)
    ]
    keys = [store.add(after, cancellation) for after, cancellation in cancelled]

    reports = [notifier(store, mailer).deliver(key) for key in keys]

    assert [report.outcome for report in reports] == [Outcome.SENT] * 5
    assert [store.calls_for(key) for key in keys] == [["claim", "mark_sent"]] * 5
    assert len(store.calls) == 2 * len(keys)
    assert [sent.recipient for sent in mailer.sent] == [f"buyer{n}@example.com" for n in range(5)]
    assert [sent.email for sent in mailer.sent] == [
        render_cancellation_email(after, cancellation, marketplace_name=MARKETPLACE)
        for after, cancellation in cancelled
    ]


def test_the_email_from_the_notice_is_the_email_from_the_order_for_a_whole_order() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    first, _ = apply(split_order(), items_request(("L2", 1)), "C1")
    after, cancellation = apply(first, order_request(), "C2")
    key = store.add(after, cancellation)

    notifier(store, mailer).deliver(key)

    (sent,) = mailer.sent
    assert sent.email == render_cancellation_email(
        after, cancellation, marketplace_name=MARKETPLACE
    )
    assert sent.email.subject == "Your order O1 has been cancelled"
    assert store.calls_for(key) == ["claim", "mark_sent"]


def test_a_cancellation_stored_without_a_notice_is_written_from_its_order() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    after, cancellation = apply(order_for(buyer(7), MUG), items_request(("L1", 2)))
    key = store.add(after, cancellation, with_notice=False)

    report = notifier(store, mailer).deliver(key)

    assert report.outcome is Outcome.SENT
    assert store.calls_for(key) == ["claim", "order_of", "mark_sent"]
    (sent,) = mailer.sent
    assert sent.recipient == "buyer7@example.com"
    assert sent.email == render_cancellation_email(
        after, cancellation, marketplace_name=MARKETPLACE
    )


def test_without_a_notice_or_an_order_the_notification_fails() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    after, cancellation = apply(order_for(buyer(1), MUG), items_request(("L1", 1)))
    key = store.add(after, cancellation, with_notice=False)
    del store.orders[key.pk]

    report = notifier(store, mailer).deliver(key)

    assert (report.outcome, report.detail) == (Outcome.FAILED, "the order no longer exists")
    assert store.calls_for(key) == ["claim", "order_of", "mark_failed"]
    assert mailer.attempts == 0


def test_a_notice_needs_no_order_at_all() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    after, cancellation = apply(order_for(buyer(2), MUG), items_request(("L1", 1)))
    key = store.add(after, cancellation)
    del store.orders[key.pk]

    report = notifier(store, mailer).deliver(key)

    assert report.outcome is Outcome.SENT
    assert [sent.recipient for sent in mailer.sent] == ["buyer2@example.com"]


def test_a_redelivered_record_costs_one_refused_claim_and_sends_nothing() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    after, cancellation = apply(order_for(buyer(3), MUG), items_request(("L1", 1)))
    key = store.add(after, cancellation)
    notifier(store, mailer).deliver(key)
    store.calls.clear()

    report = notifier(store, mailer).deliver(key)

    assert report.outcome is Outcome.DUPLICATE_SUPPRESSED
    assert store.calls == [("claim", key.sk)]
    assert len(mailer.sent) == 1


def test_ses_retries_within_a_delivery_cost_the_store_nothing_more() -> None:
    store = FakeDeliveryStore()
    mailer = FakeMailer(SendFailed("Throttling", permanent=False), SendFailed("", permanent=False))
    after, cancellation = apply(order_for(buyer(4), MUG), items_request(("L1", 1)))
    key = store.add(after, cancellation)

    report = notifier(store, mailer).deliver(key)

    assert report.outcome is Outcome.SENT
    assert mailer.attempts == 3
    assert store.calls_for(key) == ["claim", "mark_sent"]


def test_an_unknown_key_costs_one_claim() -> None:
    store, mailer = FakeDeliveryStore(), FakeMailer()
    key = CancellationKey("SELLER#S1#ORDER#O9", "CANCELLATION#C9")

    report = notifier(store, mailer).deliver(key)

    assert report.outcome is Outcome.MISSING
    assert store.calls == [("claim", key.sk)]
