"""In-memory stand-ins for the notifier's store and mailer, with the store's claim, lease
and finish semantics; every store call is logged, since each is one DynamoDB call."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.buyer_email import RenderedEmail
from domain.buyer_notice import BuyerNotice
from domain.cancellation import Cancellation
from domain.model import Order
from domain.notification import CancellationKey, Claim, ClaimRefusal, SendFailed


@dataclass
class _Stored:
    cancellation: Cancellation
    notice: BuyerNotice | None
    status: str = "PENDING"
    token: str | None = None
    claimed_until: datetime | None = None
    attempts: int = 0
    maybe_sent: bool = False
    message_id: str | None = None


class FakeDeliveryStore:
    def __init__(self) -> None:
        self.items: dict[CancellationKey, _Stored] = {}
        self.orders: dict[str, Order] = {}
        # (operation, the cancellation's sort key), in call order.
        self.calls: list[tuple[str, str]] = []
        self._tokens = (f"token-{n}" for n in itertools.count(1))

    def add(
        self, order: Order, cancellation: Cancellation, *, with_notice: bool = True
    ) -> CancellationKey:
        """Store ``order`` as the cancellation left it, and the cancellation; without its
        notice, like an item stored before notices were."""
        pk = f"SELLER#{order.seller_id}#ORDER#{order.order_id}"
        key = CancellationKey(pk, f"CANCELLATION#{cancellation.cancellation_id}")
        self.orders[pk] = order
        notice = BuyerNotice.of(order) if with_notice else None
        self.items[key] = _Stored(cancellation, notice)
        return key

    def calls_for(self, key: CancellationKey) -> list[str]:
        return [operation for operation, sk in self.calls if sk == key.sk]

    def claim(self, key: CancellationKey, now: datetime, lease: timedelta) -> Claim | ClaimRefusal:
        self.calls.append(("claim", key.sk))
        stored = self.items.get(key)
        if stored is None:
            return ClaimRefusal.MISSING
        if stored.status == "SENT":
            return ClaimRefusal.ALREADY_SENT
        if stored.status == "FAILED":
            return ClaimRefusal.ALREADY_FAILED
        if stored.claimed_until is not None and stored.claimed_until >= now:
            return ClaimRefusal.IN_FLIGHT
        stored.token = next(self._tokens)
        stored.claimed_until = now + lease
        stored.attempts += 1
        return Claim(
            pk=key.pk,
            sk=key.sk,
            token=stored.token,
            cancellation=stored.cancellation,
            attempts=stored.attempts,
            maybe_sent=stored.maybe_sent,
            notice=stored.notice,
        )

    def mark_sent(self, claim: Claim, message_id: str, sent_at: datetime) -> bool:
        self.calls.append(("mark_sent", claim.sk))
        stored = self._held(claim)
        if stored is None:
            return False
        stored.status, stored.message_id, stored.notice = "SENT", message_id, None
        return True

    def mark_failed(self, claim: Claim, reason: str) -> bool:
        self.calls.append(("mark_failed", claim.sk))
        stored = self._held(claim)
        if stored is None:
            return False
        stored.status, stored.notice = "FAILED", None
        return True

    def release(self, claim: Claim, last_error: str, *, maybe_sent: bool = False) -> bool:
        self.calls.append(("release", claim.sk))
        stored = self._held(claim)
        if stored is None:
            return False
        stored.maybe_sent = maybe_sent or claim.maybe_sent
        return True

    def order_of(self, claim: Claim) -> Order | None:
        self.calls.append(("order_of", claim.sk))
        return self.orders.get(claim.pk)

    def _held(self, claim: Claim) -> _Stored | None:
        stored = self.items[CancellationKey(claim.pk, claim.sk)]
        if stored.token != claim.token:
            return None
        stored.token = stored.claimed_until = None
        return stored


@dataclass(frozen=True)
class Sent:
    sender: str
    recipient: str
    email: RenderedEmail


class FakeMailer:
    """Sends into ``sent``; ``failures`` are raised first, one per send, in order."""

    def __init__(self, *failures: SendFailed) -> None:
        self.sent: list[Sent] = []
        self.failures = list(failures)
        self.attempts = 0

    def send(self, sender: str, recipient: str, email: RenderedEmail) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(Sent(sender, recipient, email))
        return f"message-{len(self.sent)}"
