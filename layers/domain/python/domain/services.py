"""Use cases of the seller API: each reads through the repository, decides with the domain
rules and writes back conditionally, re-deciding when the order changed underneath.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.cancellation import (
    Cancellation,
    CancellationPlan,
    CancellationRequest,
    plan_cancellation,
)
from domain.cancellation import cancel as apply_cancellation
from domain.catalog import ProductPage, products_of
from domain.errors import (
    IdempotencyKeyReused,
    OrderExists,
    OrderNotFound,
    OrderVersionMismatch,
)
from domain.model import Order, OrderStatus, PackageStatus
from domain.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    OrderAlreadyStored,
    OrderPage,
    OrderRepository,
    ProductCatalog,
    StorageUnavailable,
    VersionConflict,
)
from domain.retry import Backoff, NoBackoff, attempts
from domain.shipping import report_package_status, ship_package

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SubmitResult:
    cancellation: Cancellation
    replayed: bool


@dataclass(frozen=True, slots=True)
class IngestResult:
    order: Order
    created: bool


def get_order(repo: OrderRepository, seller_id: str, order_id: str) -> Order:
    order = repo.get(seller_id, order_id)
    if order is None:
        raise OrderNotFound(f"order {order_id} not found")
    return order


def list_orders(
    repo: OrderRepository,
    seller_id: str,
    status: OrderStatus,
    product_ids: Sequence[str],
    page_size: int,
    after_position: str | None,
) -> OrderPage:
    return repo.list_orders(seller_id, status, product_ids, page_size, after_position)


def list_cancellations(
    repo: OrderRepository, seller_id: str, order_id: str
) -> Sequence[Cancellation]:
    get_order(repo, seller_id, order_id)
    return repo.cancellations(seller_id, order_id)


def preview_cancellation(
    repo: OrderRepository, seller_id: str, order_id: str, request: CancellationRequest
) -> CancellationPlan:
    return plan_cancellation(get_order(repo, seller_id, order_id), request)


def submit_cancellation(
    repo: OrderRepository,
    *,
    seller_id: str,
    order_id: str,
    request: CancellationRequest,
    idempotency_key: str,
    fingerprint: str,
    expected_version: int | None,
    actor: str,
    clock: Clock,
    new_id: Callable[[], str],
    idempotency_ttl: timedelta,
    backoff: Backoff | None = None,
) -> SubmitResult:
    """Cancel exactly once per idempotency key.

    The checks run in API.md's precedence: replay or key reuse, then 404, then 412, then
    the domain rules (422, 409). A lost race is decided again on a fresh read, which
    replays, answers 412 (the If-Match version moved) or applies the rules anew, for as
    long as the backoff allows.
    """
    for _ in attempts(backoff or NoBackoff()):
        now = clock()
        order, record = repo.get_for_submit(seller_id, order_id, idempotency_key, now)
        if record is not None:
            return _replay(record, fingerprint)
        if order is None:
            raise OrderNotFound(f"order {order_id} not found")
        if expected_version is not None and order.version != expected_version:
            raise _version_mismatch(order.version, expected_version)
        after, cancellation = apply_cancellation(
            order, request, cancellation_id=new_id(), actor=actor, now=now
        )
        idempotency = IdempotencyRecord(
            seller_id=seller_id,
            key=idempotency_key,
            fingerprint=fingerprint,
            cancellation=cancellation,
            expires_at=now + idempotency_ttl,
        )
        try:
            repo.save_cancellation(order, after, cancellation, idempotency, now)
        except IdempotencyKeyTaken as taken:
            return _replay(taken.record, fingerprint)
        except VersionConflict:
            continue
        return SubmitResult(cancellation, replayed=False)
    raise StorageUnavailable(f"order {order_id} kept changing; the cancellation was not applied")


def ship(
    repo: OrderRepository,
    *,
    seller_id: str,
    order_id: str,
    package_id: str,
    clock: Clock,
    backoff: Backoff | None = None,
) -> Order:
    for _ in attempts(backoff or NoBackoff()):
        order = get_order(repo, seller_id, order_id)
        after = ship_package(order, package_id, now=clock())
        try:
            repo.save_order_change(order, after)
        except VersionConflict:
            continue
        return after
    raise StorageUnavailable(f"order {order_id} kept changing; the package was not shipped")


@dataclass(frozen=True, slots=True)
class StatusReportResult:
    order: Order
    changed: bool


def report_status(
    repo: OrderRepository,
    *,
    seller_id: str,
    order_id: str,
    package_id: str,
    status: PackageStatus,
    clock: Clock,
    backoff: Backoff | None = None,
) -> StatusReportResult:
    """Move the package forward as the order system reports it; a report of where the
    package is already, or was, changes nothing. A lost race is decided again on the
    order as it is now: a cancellation that got there first refuses the report."""
    for _ in attempts(backoff or NoBackoff()):
        order = get_order(repo, seller_id, order_id)
        after = report_package_status(order, package_id, status, now=clock())
        if after is None:
            return StatusReportResult(order, changed=False)
        try:
            repo.save_order_change(order, after)
        except VersionConflict:
            continue
        return StatusReportResult(after, changed=True)
    raise StorageUnavailable(f"order {order_id} kept changing; the report was not applied")


def ingest_order(
    repo: OrderRepository, catalog: ProductCatalog, order: Order, fingerprint: str
) -> IngestResult:
    """Store a new order, then learn its products. The order system retries an ingestion
    it got no answer to, and the identical retry learns them again: a catalogue write
    lost after the order was stored is made up for."""
    try:
        repo.add(order, fingerprint)
    except OrderAlreadyStored as stored:
        if stored.fingerprint != fingerprint:
            raise OrderExists(
                f"order {order.order_id} already exists with different content"
            ) from None
        catalog.record(order.seller_id, products_of(stored.existing))
        return IngestResult(stored.existing, created=False)
    catalog.record(order.seller_id, products_of(order))
    return IngestResult(order, created=True)


def list_products(
    catalog: ProductCatalog, seller_id: str, page_size: int, after_position: str | None
) -> ProductPage:
    return catalog.list_products(seller_id, page_size, after_position)


def _replay(record: IdempotencyRecord, fingerprint: str) -> SubmitResult:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {record.key!r} was already used for a different request"
        )
    return SubmitResult(record.cancellation, replayed=True)


def _version_mismatch(current: int, expected: int) -> OrderVersionMismatch:
    return OrderVersionMismatch(f"the order is at version {current}, not {expected}")
