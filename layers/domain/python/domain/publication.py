"""Telling the rest of the business about each cancellation: one ``Cancellation Created``
event per committed cancellation, for payments (which pays the refund out) and inventory
(which restocks what was not out of stock).

At least once and never lost: the events are derived from the stored cancellations (the
table's stream), not sent by the request that cancelled, so publishing adds nothing to the
submit path and a cancellation cannot be committed without its event following. What the
bus refuses is offered again, event by event, for as long as the backoff allows; whatever
is still refused then is handed back, and the stream offers it again later. A repeat
carries the same ``cancellation_id``, by which consumers drop it.

Written against one port, the ``EventBus``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.cancellation import Cancellation
from domain.model import OrderStatus
from domain.retry import Backoff, attempts


@dataclass(frozen=True, slots=True)
class CancellationCreated:
    """A committed cancellation, with the order as the cancellation left it."""

    cancellation: Cancellation

    @property
    def seller_id(self) -> str:
        return self.cancellation.seller_id

    @property
    def cancellation_id(self) -> str:
        return self.cancellation.cancellation_id

    @property
    def order_id(self) -> str:
        return self.cancellation.order_id

    @property
    def order_status(self) -> OrderStatus:
        return self.cancellation.resulting_order_status

    @property
    def order_version(self) -> int:
        return self.cancellation.order_version


class EventBus(Protocol):
    def put(self, events: Sequence[CancellationCreated]) -> Mapping[int, str]:
        """Publishes ``events``; returns, by position in ``events``, why each one the bus
        did not take was refused (an empty mapping when it took them all)."""
        ...


@dataclass(frozen=True, slots=True)
class PublishReport:
    published: int
    attempts: int
    # By position in the events given: why each was still refused on the last attempt.
    unpublished: Mapping[int, str]


def publish(
    bus: EventBus, events: Sequence[CancellationCreated], backoff: Backoff
) -> PublishReport:
    """Publishes every event, offering again only those the bus refused, while the backoff
    allows."""
    pending = list(range(len(events)))
    refused: dict[int, str] = {}
    made = 0
    if pending:
        for made in attempts(backoff):  # noqa: B007 (the count is reported)
            refused_now = bus.put([events[i] for i in pending])
            refused = {pending[position]: reason for position, reason in refused_now.items()}
            pending = sorted(refused)
            if not pending:
                break
    return PublishReport(published=len(events) - len(pending), attempts=made, unpublished=refused)
