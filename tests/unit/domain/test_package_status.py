"""What the order system reports of a package after it left the seller: statuses move
forward only, late and repeated reports change nothing, a cancelled package is refused."""

from __future__ import annotations

import itertools

import pytest

from domain import errors
from domain.cancellation import cancel
from domain.model import OrderStatus, PackageStatus
from domain.shipping import FORWARD, REPORTABLE_STATUSES, report_package_status
from tests.unit.domain.builders import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    DELIVERED,
    IN_TRANSIT,
    NOW,
    order_request,
    package_request,
    split_order,
)

FORWARD_PAIRS = [(a, b) for a, b in itertools.combinations(FORWARD, 2)]
BACKWARD_OR_SAME = [(b, a) for a, b in FORWARD_PAIRS] + [(s, s) for s in FORWARD]


@pytest.mark.parametrize(("current", "reported"), FORWARD_PAIRS)
def test_a_report_moves_the_package_forward_skipping_steps_if_need_be(
    current: PackageStatus, reported: PackageStatus
) -> None:
    order = split_order(pk1=current)

    after = report_package_status(order, "PK1", reported, now=NOW)

    assert after is not None
    assert after.package("PK1").status is reported  # type: ignore[union-attr]
    assert after.package("PK2").status is AWAITING_SHIPMENT  # type: ignore[union-attr]
    assert (after.version, after.updated_at) == (order.version + 1, NOW)
    assert after.lines == order.lines


@pytest.mark.parametrize(("current", "reported"), BACKWARD_OR_SAME)
def test_a_late_or_repeated_report_changes_nothing(
    current: PackageStatus, reported: PackageStatus
) -> None:
    assert report_package_status(split_order(pk1=current), "PK1", reported, now=NOW) is None


@pytest.mark.parametrize(
    ("pk1", "pk2", "expected"),
    [
        (IN_TRANSIT, AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING),
        (DELIVERED, AWAITING_COLLECTION, OrderStatus.PARTIALLY_SHIPPING),
        (IN_TRANSIT, IN_TRANSIT, OrderStatus.IN_TRANSIT),
        (DELIVERED, IN_TRANSIT, OrderStatus.IN_TRANSIT),
        (DELIVERED, DELIVERED, OrderStatus.DELIVERED),
        (AWAITING_COLLECTION, AWAITING_COLLECTION, OrderStatus.AWAITING_COLLECTION),
    ],
)
def test_the_order_status_follows_its_packages_reports(
    pk1: PackageStatus, pk2: PackageStatus, expected: OrderStatus
) -> None:
    order = split_order()
    for package_id, status in (("PK1", pk1), ("PK2", pk2)):
        order = report_package_status(order, package_id, status, now=NOW) or order

    assert order.status is expected


@pytest.mark.parametrize("reported", sorted(REPORTABLE_STATUSES))
def test_any_report_of_a_cancelled_package_is_refused(reported: PackageStatus) -> None:
    order, _ = cancel(
        split_order(), package_request("PK1"), cancellation_id="C1", actor="a", now=NOW
    )

    with pytest.raises(errors.PackageCancelled) as refused:
        report_package_status(order, "PK1", reported, now=NOW)

    assert refused.value.code == "PACKAGE_CANCELLED"


def test_a_report_for_the_other_package_of_a_partly_cancelled_order_moves_it() -> None:
    order, _ = cancel(
        split_order(), package_request("PK1"), cancellation_id="C1", actor="a", now=NOW
    )

    after = report_package_status(order, "PK2", IN_TRANSIT, now=NOW)

    assert after is not None
    assert after.status is OrderStatus.IN_TRANSIT


def test_a_fully_cancelled_order_refuses_reports() -> None:
    order, _ = cancel(split_order(), order_request(), cancellation_id="C1", actor="a", now=NOW)

    with pytest.raises(errors.PackageCancelled):
        report_package_status(order, "PK2", DELIVERED, now=NOW)


def test_a_report_for_a_package_the_order_does_not_have_is_unknown_package() -> None:
    with pytest.raises(errors.UnknownPackage) as refused:
        report_package_status(split_order(), "PK9", IN_TRANSIT, now=NOW)

    assert refused.value.errors[0].field == "package_id"


def test_cancelled_cannot_be_reported() -> None:
    with pytest.raises(ValueError, match="cancellation"):
        report_package_status(split_order(), "PK1", PackageStatus.CANCELLED, now=NOW)
