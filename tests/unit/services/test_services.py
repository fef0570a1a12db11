"""The use cases against an in-memory repository: precedence, replay, races and retries."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from domain import services
from domain.cancellation import CancellationRequest, cancel
from domain.errors import (
    IdempotencyKeyReused,
    ItemNotCancellable,
    OrderExists,
    OrderNotCancellable,
    OrderNotFound,
    OrderVersionMismatch,
    PackageCancelled,
    PackageNotShippable,
    QuantityExceedsCancellable,
    UnknownLine,
)
from domain.model import OrderStatus, PackageStatus
from domain.ports import IdempotencyRecord, StorageUnavailable, VersionConflict
from domain.retry import Backoff, NoBackoff
from domain.shipping import ship_package
from tests.unit.domain.builders import NOW, items_request, mug_order, order_request, split_order
from tests.unit.services.fakes import FakeCatalog, FakeRepository

TTL = timedelta(days=7)


@pytest.fixture
def repo() -> FakeRepository:
    repository = FakeRepository()
    services.ingest_order(repository, FakeCatalog(), mug_order(), "fingerprint-O1")
    return repository


def submit(
    repo: FakeRepository,
    request=None,
    *,
    key="K1",
    fingerprint="F1",
    expected=None,
    backoff: Backoff | None = None,
):
    ids = (f"C{n}" for n in itertools.count(1))
    return services.submit_cancellation(
        repo,
        seller_id="S1",
        order_id="O1",
        request=request or items_request(("L1", 1)),
        idempotency_key=key,
        fingerprint=fingerprint,
        expected_version=expected,
        actor="user-1",
        clock=lambda: NOW,
        new_id=lambda: next(ids),
        idempotency_ttl=TTL,
        backoff=backoff,
    )


def cancelled_concurrently(
    repo: FakeRepository, request: CancellationRequest
) -> Callable[[], None]:
    """Another request's cancellation, landing just before this one's write."""

    def land() -> None:
        current = repo.get("S1", "O1")
        assert current is not None
        after, _ = cancel(current, request, cancellation_id="X", actor="b", now=NOW)
        repo.orders[("S1", "O1")] = after

    return land


def shipped_concurrently(repo: FakeRepository) -> Callable[[], None]:
    def land() -> None:
        current = repo.get("S1", "O1")
        assert current is not None
        repo.orders[("S1", "O1")] = ship_package(current, "PK1", now=NOW)

    return land


def test_submit_applies_once_and_replays_the_original(repo: FakeRepository) -> None:
    first = submit(repo)
    again = submit(repo)

    assert first.replayed is False
    assert again.replayed is True
    assert again.cancellation == first.cancellation
    assert repo.writes == 1
    stored = repo.get("S1", "O1")
    assert stored is not None
    assert stored.version == 2
    assert stored.lines[0].cancelled_quantity == 1
    # 1 of 3 mugs: 10.00 - 1.00 - 0.50 + 0.68 = 9.18
    assert first.cancellation.refund.total == 918


def test_replay_wins_over_everything_that_changed_since(repo: FakeRepository) -> None:
    first = submit(repo, items_request(("L1", 3)), key="all-units")

    replay = submit(repo, items_request(("L1", 3)), key="all-units", expected=1)

    assert replay.replayed is True
    assert replay.cancellation.cancellation_id == first.cancellation.cancellation_id


def test_same_key_with_another_body_is_rejected(repo: FakeRepository) -> None:
    submit(repo, fingerprint="F1")

    with pytest.raises(IdempotencyKeyReused):
        submit(repo, items_request(("L1", 2)), fingerprint="F2")
    assert repo.writes == 1


def test_an_expired_key_can_be_used_again(repo: FakeRepository) -> None:
    submit(repo, key="old")
    record = repo.keys[("S1", "old")]
    repo.keys[("S1", "old")] = replace(record, expires_at=NOW - timedelta(seconds=1))

    second = submit(repo, key="old", fingerprint="other")

    assert second.replayed is False
    assert repo.writes == 2


def test_unknown_order_is_not_found_before_anything_else(repo: FakeRepository) -> None:
    with pytest.raises(OrderNotFound):
        services.submit_cancellation(
            repo,
            seller_id="another-seller",
            order_id="O1",
            request=items_request(("NOPE", 1)),
            idempotency_key="K",
            fingerprint="F",
            expected_version=99,
            actor="u",
            clock=lambda: NOW,
            new_id=lambda: "C1",
            idempotency_ttl=TTL,
        )


def test_if_match_mismatch_is_412_before_the_rules(repo: FakeRepository) -> None:
    with pytest.raises(OrderVersionMismatch):
        submit(repo, items_request(("NOPE", 1)), expected=7)


def test_rules_run_after_the_version_check(repo: FakeRepository) -> None:
    with pytest.raises(UnknownLine):
        submit(repo, items_request(("NOPE", 1)), expected=1)


def test_a_lost_race_is_decided_again_on_the_new_state(repo: FakeRepository) -> None:
    repo.before_write = cancelled_concurrently(repo, items_request(("L1", 2)))

    result = submit(repo, items_request(("L1", 1)))

    stored = repo.get("S1", "O1")
    assert stored is not None
    assert stored.lines[0].cancelled_quantity == 3
    # The last unit takes what is left of each component, and the shipping fee.
    assert result.cancellation.refund.shipping_fee == 599
    assert stored.status is OrderStatus.CANCELLED


def test_a_lost_race_that_leaves_too_little_is_a_409_not_an_over_cancel(
    repo: FakeRepository,
) -> None:
    repo.before_write = cancelled_concurrently(repo, items_request(("L1", 2)))

    with pytest.raises(QuantityExceedsCancellable):
        submit(repo, items_request(("L1", 2)))
    stored = repo.get("S1", "O1")
    assert stored is not None
    assert stored.lines[0].cancelled_quantity == 2


def test_with_if_match_a_lost_race_is_412(repo: FakeRepository) -> None:
    repo.before_write = shipped_concurrently(repo)

    with pytest.raises(OrderVersionMismatch):
        submit(repo, expected=1)


def test_a_ship_that_wins_the_race_makes_item_cancel_impossible(repo: FakeRepository) -> None:
    repo.before_write = shipped_concurrently(repo)

    with pytest.raises(OrderNotCancellable):
        submit(repo)
    stored = repo.get("S1", "O1")
    assert stored is not None
    assert stored.lines[0].cancelled_quantity == 0


def test_endless_contention_gives_up_with_a_409(repo: FakeRepository) -> None:
    class AlwaysConflicting(FakeRepository):
        def save_cancellation(self, before, after, cancellation, idempotency, now):  # type: ignore[no-untyped-def]
            raise VersionConflict(before.order_id)

    contended = AlwaysConflicting()
    services.ingest_order(contended, FakeCatalog(), mug_order(), "F")

    with pytest.raises(StorageUnavailable, match="kept changing"):
        submit(contended)


def test_a_concurrent_submit_with_the_same_key_is_replayed(repo: FakeRepository) -> None:
    def same_key_stored_first() -> None:
        current = repo.get("S1", "O1")
        assert current is not None
        after, record = cancel(
            current, items_request(("L1", 1)), cancellation_id="FIRST", actor="a", now=NOW
        )
        repo.orders[("S1", "O1")] = after
        repo.keys[("S1", "K1")] = IdempotencyRecord("S1", "K1", "F1", record, NOW + TTL)

    repo.before_write = same_key_stored_first

    result = submit(repo)

    assert result.replayed is True
    assert result.cancellation.cancellation_id == "FIRST"


def test_ship_moves_one_package_and_rederives_the_status() -> None:
    repo = FakeRepository()
    services.ingest_order(repo, FakeCatalog(), split_order(), "F")

    shipped = services.ship(
        repo, seller_id="S1", order_id="O1", package_id="PK2", clock=lambda: NOW
    )

    assert shipped.package("PK2").status is PackageStatus.AWAITING_COLLECTION  # type: ignore[union-attr]
    assert shipped.status is OrderStatus.AWAITING_SHIPMENT
    with pytest.raises(PackageNotShippable):
        services.ship(repo, seller_id="S1", order_id="O1", package_id="PK2", clock=lambda: NOW)


def test_ship_retries_after_a_concurrent_change(repo: FakeRepository) -> None:
    repo.before_write = cancelled_concurrently(repo, items_request(("L1", 1)))

    shipped = services.ship(
        repo, seller_id="S1", order_id="O1", package_id="PK1", clock=lambda: NOW
    )

    assert shipped.version == 3
    assert shipped.lines[0].cancelled_quantity == 1


def report(repo: FakeRepository, status: PackageStatus, package_id: str = "PK1"):
    return services.report_status(
        repo,
        seller_id="S1",
        order_id="O1",
        package_id=package_id,
        status=status,
        clock=lambda: NOW,
    )


def test_a_status_report_moves_the_package_and_a_repeat_writes_nothing() -> None:
    repo = FakeRepository()
    services.ingest_order(repo, FakeCatalog(), split_order(), "F")

    first = report(repo, PackageStatus.IN_TRANSIT)
    writes = repo.writes
    again = report(repo, PackageStatus.AWAITING_COLLECTION)

    assert first.changed is True
    assert first.order.status is OrderStatus.PARTIALLY_SHIPPING
    assert again.changed is False
    assert again.order == first.order
    assert repo.writes == writes


def test_a_status_report_losing_to_a_package_cancellation_is_refused(
    repo: FakeRepository,
) -> None:
    repo.before_write = cancelled_concurrently(repo, order_request())

    with pytest.raises(PackageCancelled):
        report(repo, PackageStatus.IN_TRANSIT)

    assert repo.get("S1", "O1").status is OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_a_status_report_losing_to_an_item_cancellation_is_decided_again(
    repo: FakeRepository,
) -> None:
    repo.before_write = cancelled_concurrently(repo, items_request(("L1", 1)))

    reported = report(repo, PackageStatus.DELIVERED)

    assert reported.changed is True
    assert reported.order.version == 3
    assert reported.order.lines[0].cancelled_quantity == 1
    assert reported.order.status is OrderStatus.DELIVERED


def test_a_status_report_of_an_unknown_order_is_not_found(repo: FakeRepository) -> None:
    with pytest.raises(OrderNotFound):
        services.report_status(
            repo,
            seller_id="S2",
            order_id="O1",
            package_id="PK1",
            status=PackageStatus.IN_TRANSIT,
            clock=lambda: NOW,
        )


def test_item_cancel_on_a_package_awaiting_collection_is_refused() -> None:
    repo = FakeRepository()
    services.ingest_order(
        repo, FakeCatalog(), split_order(pk2=PackageStatus.AWAITING_COLLECTION), "F"
    )

    with pytest.raises(ItemNotCancellable):
        services.preview_cancellation(repo, "S1", "O1", items_request(("L2", 1)))


def test_ingesting_the_same_order_twice_is_idempotent_and_a_different_one_conflicts(
    repo: FakeRepository,
) -> None:
    again = services.ingest_order(repo, FakeCatalog(), mug_order(), "fingerprint-O1")
    assert again.created is False
    assert again.order.version == 1

    with pytest.raises(OrderExists):
        services.ingest_order(repo, FakeCatalog(), mug_order(), "another-fingerprint")


def test_preview_changes_nothing_and_matches_the_submit(repo: FakeRepository) -> None:
    plan = services.preview_cancellation(repo, "S1", "O1", order_request())
    assert repo.writes == 0

    result = submit(repo, order_request())

    assert result.cancellation.refund == plan.refund
    assert result.cancellation.items == plan.items
    assert result.cancellation.resulting_order_status is plan.resulting_order_status


def test_cancellations_of_another_sellers_order_are_not_found(repo: FakeRepository) -> None:
    submit(repo)
    assert len(services.list_cancellations(repo, "S1", "O1")) == 1
    with pytest.raises(OrderNotFound):
        services.list_cancellations(repo, "S2", "O1")


def test_contention_is_decided_again_for_as_long_as_the_backoff_allows(
    repo: FakeRepository,
) -> None:
    class ConflictingTwentyTimes(FakeRepository):
        conflicts = 0

        def save_cancellation(self, before, after, cancellation, idempotency, now):  # type: ignore[no-untyped-def]
            if self.conflicts < 20:
                self.conflicts += 1
                raise VersionConflict(before.order_id)
            super().save_cancellation(before, after, cancellation, idempotency, now)

    contended = ConflictingTwentyTimes()
    services.ingest_order(contended, FakeCatalog(), mug_order(), "F")

    result = submit(contended, backoff=NoBackoff(attempts=50))

    assert contended.conflicts == 20
    assert not result.replayed
    stored = contended.get("S1", "O1")
    assert stored is not None and stored.lines[0].cancelled_quantity == 1
