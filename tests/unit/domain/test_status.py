import itertools

import pytest

from domain.model import (
    Actions,
    Buyer,
    Components,
    IneligibleReason,
    LineEligibility,
    OrderStatus,
    PackageEligibility,
    PackageStatus,
    Refund,
    derive_order_status,
)
from domain.shipping import ship_package
from tests.unit.domain.builders import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    CANCELLED,
    DELIVERED,
    IN_TRANSIT,
    NOW,
    after,
    items_request,
    line,
    mug_order,
    order,
    order_request,
    package,
    package_request,
    split_order,
)

AS = AWAITING_SHIPMENT
AC = AWAITING_COLLECTION


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        ([CANCELLED], OrderStatus.CANCELLED),
        ([CANCELLED, CANCELLED, CANCELLED], OrderStatus.CANCELLED),
        ([AS], OrderStatus.AWAITING_SHIPMENT),
        ([AS, AS], OrderStatus.AWAITING_SHIPMENT),
        ([AS, AC], OrderStatus.AWAITING_SHIPMENT),
        ([AC, AS, AC], OrderStatus.AWAITING_SHIPMENT),
        ([AS, CANCELLED], OrderStatus.AWAITING_SHIPMENT),
        ([AC], OrderStatus.AWAITING_COLLECTION),
        ([AC, AC], OrderStatus.AWAITING_COLLECTION),
        ([CANCELLED, AC], OrderStatus.AWAITING_COLLECTION),
        ([IN_TRANSIT, AS], OrderStatus.PARTIALLY_SHIPPING),
        ([AC, DELIVERED], OrderStatus.PARTIALLY_SHIPPING),
        ([IN_TRANSIT, DELIVERED, AC], OrderStatus.PARTIALLY_SHIPPING),
        ([IN_TRANSIT, CANCELLED, AS], OrderStatus.PARTIALLY_SHIPPING),
        ([IN_TRANSIT], OrderStatus.IN_TRANSIT),
        ([IN_TRANSIT, DELIVERED], OrderStatus.IN_TRANSIT),
        ([DELIVERED, IN_TRANSIT, CANCELLED], OrderStatus.IN_TRANSIT),
        ([DELIVERED], OrderStatus.DELIVERED),
        ([DELIVERED, DELIVERED], OrderStatus.DELIVERED),
        ([CANCELLED, DELIVERED], OrderStatus.DELIVERED),
    ],
)
def test_order_status_is_derived_from_package_statuses(
    packages: list[PackageStatus], expected: OrderStatus
) -> None:
    assert derive_order_status(packages) is expected


def test_order_status_accepts_any_iterable_of_package_statuses() -> None:
    assert derive_order_status(iter([AC, AS])) is OrderStatus.AWAITING_SHIPMENT


LIVE = [AS, AC, IN_TRANSIT, DELIVERED]


@pytest.mark.parametrize(
    "live",
    [list(c) for n in (1, 2, 3) for c in itertools.combinations_with_replacement(LIVE, n)],
    ids=str,
)
def test_cancelled_packages_never_change_the_status_of_the_live_ones(
    live: list[PackageStatus],
) -> None:
    without = derive_order_status(live)

    assert derive_order_status([CANCELLED, *live]) is without
    assert derive_order_status([*live, CANCELLED, CANCELLED]) is without
    assert without is not OrderStatus.CANCELLED


def test_an_order_reports_the_status_its_packages_give() -> None:
    assert split_order(AS, AC).status is OrderStatus.AWAITING_SHIPMENT
    assert split_order(AC, AC).status is OrderStatus.AWAITING_COLLECTION
    assert split_order(AS, IN_TRANSIT).status is OrderStatus.PARTIALLY_SHIPPING
    assert split_order(DELIVERED, IN_TRANSIT).status is OrderStatus.IN_TRANSIT
    assert split_order(DELIVERED, DELIVERED).status is OrderStatus.DELIVERED


def test_an_order_becomes_cancelled_once_every_package_is() -> None:
    first_gone = after(split_order(), package_request("PK1"))
    assert first_gone.status is OrderStatus.AWAITING_SHIPMENT

    both_gone = after(first_gone, package_request("PK2"))
    assert both_gone.status is OrderStatus.CANCELLED


def test_cancelling_the_only_awaiting_shipment_package_leaves_the_order_awaiting_collection() -> (
    None
):
    assert after(split_order(AS, AC), package_request("PK1")).status is (
        OrderStatus.AWAITING_COLLECTION
    )


def test_shipping_the_last_awaiting_shipment_package_moves_the_order_to_collection() -> None:
    one_shipped = ship_package(split_order(), "PK1", now=NOW)
    assert one_shipped.status is OrderStatus.AWAITING_SHIPMENT

    both_shipped = ship_package(one_shipped, "PK2", now=NOW)
    assert both_shipped.status is OrderStatus.AWAITING_COLLECTION


# -- line eligibility -----------------------------------------------------------------------


def test_a_line_awaiting_shipment_can_cancel_what_is_left_of_it() -> None:
    mugs = after(mug_order(), items_request(("L1", 1)))

    assert mugs.line_eligibility(mugs.line("L1")) == LineEligibility(2, True, None)


def test_a_fully_cancelled_line_is_not_item_cancellable() -> None:
    two_lines = after(split_order(), items_request(("L1", 3)))

    assert two_lines.line_eligibility(two_lines.line("L1")) == LineEligibility(
        0, False, IneligibleReason.FULLY_CANCELLED
    )
    assert two_lines.line_eligibility(two_lines.line("L2")) == LineEligibility(2, True, None)


def test_lines_of_a_cancelled_order_are_fully_cancelled_rather_than_order_not_awaiting() -> None:
    cancelled = after(mug_order(), order_request())

    assert cancelled.line_eligibility(cancelled.line("L1")) == LineEligibility(
        0, False, IneligibleReason.FULLY_CANCELLED
    )


@pytest.mark.parametrize(
    ("pk1", "pk2"),
    [(AC, AC), (AS, IN_TRANSIT), (IN_TRANSIT, DELIVERED), (DELIVERED, DELIVERED)],
)
def test_lines_of_an_order_not_awaiting_shipment_are_not_item_cancellable(
    pk1: PackageStatus, pk2: PackageStatus
) -> None:
    shipped = split_order(pk1, pk2)

    for line_id in ("L1", "L2"):
        assert shipped.line_eligibility(shipped.line(line_id)) == LineEligibility(
            0, False, IneligibleReason.ORDER_NOT_AWAITING_SHIPMENT
        )


def test_a_line_in_a_package_awaiting_collection_is_not_item_cancellable() -> None:
    split = split_order(AS, AC)

    assert split.line_eligibility(split.line("L1")) == LineEligibility(3, True, None)
    assert split.line_eligibility(split.line("L2")) == LineEligibility(
        0, False, IneligibleReason.PACKAGE_NOT_AWAITING_SHIPMENT
    )


# -- package eligibility --------------------------------------------------------------------


@pytest.mark.parametrize(("pk1", "pk2"), [(AS, AS), (AS, AC), (AC, AC)])
def test_packages_not_yet_shipped_of_a_whole_cancellable_order_are_cancellable(
    pk1: PackageStatus, pk2: PackageStatus
) -> None:
    split = split_order(pk1, pk2)

    for package_id in ("PK1", "PK2"):
        assert split.package_eligibility(split.package(package_id)) == PackageEligibility(
            True, None
        )


def test_a_cancelled_package_is_fully_cancelled() -> None:
    split = after(split_order(), package_request("PK1"))

    assert split.package_eligibility(split.package("PK1")) == PackageEligibility(
        False, IneligibleReason.FULLY_CANCELLED
    )
    assert split.package_eligibility(split.package("PK2")) == PackageEligibility(True, None)


@pytest.mark.parametrize(
    ("pk1", "pk2"),
    [(AS, IN_TRANSIT), (AC, DELIVERED), (IN_TRANSIT, IN_TRANSIT), (DELIVERED, DELIVERED)],
)
def test_no_package_of_a_partly_or_fully_shipped_order_is_cancellable(
    pk1: PackageStatus, pk2: PackageStatus
) -> None:
    shipped = split_order(pk1, pk2)

    for package_id in ("PK1", "PK2"):
        assert shipped.package_eligibility(shipped.package(package_id)) == PackageEligibility(
            False, IneligibleReason.PACKAGE_NOT_CANCELLABLE
        )


# -- actions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pk1", "pk2", "actions"),
    [
        (AS, AS, Actions(cancel_order=True, cancel_items=True)),
        (AS, AC, Actions(cancel_order=True, cancel_items=True)),
        (AC, AC, Actions(cancel_order=True, cancel_items=False)),
        (AS, IN_TRANSIT, Actions(cancel_order=False, cancel_items=False)),
        (IN_TRANSIT, IN_TRANSIT, Actions(cancel_order=False, cancel_items=False)),
        (DELIVERED, DELIVERED, Actions(cancel_order=False, cancel_items=False)),
    ],
)
def test_actions_follow_the_order_and_line_eligibility(
    pk1: PackageStatus, pk2: PackageStatus, actions: Actions
) -> None:
    assert split_order(pk1, pk2).actions == actions


def test_a_cancelled_order_offers_no_action() -> None:
    assert after(mug_order(), order_request()).actions == Actions(
        cancel_order=False, cancel_items=False
    )


def test_cancel_items_is_off_once_every_line_still_left_is_awaiting_collection() -> None:
    split = after(split_order(AS, AC), items_request(("L1", 3)))

    assert split.status is OrderStatus.AWAITING_COLLECTION
    assert split.actions == Actions(cancel_order=True, cancel_items=False)


def test_cancel_items_stays_on_while_one_line_is_still_item_cancellable() -> None:
    split = after(split_order(), items_request(("L1", 3)))

    assert split.actions == Actions(cancel_order=True, cancel_items=True)


# -- buyer, look-ups and totals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ana@example.com", "a***@example.com"),
        ("x@y.org", "x***@y.org"),
        ("Bob.Smith+shop@mail.example.co.uk", "B***@mail.example.co.uk"),
    ],
)
def test_the_buyer_email_is_masked_for_the_seller(email: str, masked: str) -> None:
    assert Buyer(name="Ana Ruiz", email=email).masked_email == masked


def test_look_ups_return_none_for_unknown_ids() -> None:
    split = split_order()

    assert split.package("PK9") is None
    assert split.line("L9") is None
    assert [line.line_id for line in split.lines_of("PK2")] == ["L2"]
    assert list(split.lines_of("PK9")) == []
    assert split.package_of(split.line("L2")) == split.package("PK2")


def test_product_ids_are_those_of_every_line() -> None:
    assert order(
        line("L1", product_id="P1"),
        line("L2", product_id="P2", package_id="PK2"),
        line("L3", product_id="P1", package_id="PK2"),
        packages=[package("PK1"), package("PK2")],
    ).product_ids == frozenset({"P1", "P2"})


def test_paid_is_every_line_total_plus_shipping() -> None:
    split = split_order()

    # L1: 3 * 10.00, 3.00, 1.50, 2.04; L2: 2 * 7.50, 0, 0.50, 1.20; shipping 5.99
    assert split.paid == Refund("USD", Components(3000 + 1500, 300, 150 + 50, 204 + 120), 599)
    assert split.paid.total == 3000 + 1500 - 300 - 200 + 324 + 599
    assert split.refunded == Refund("USD", Components(), 0)
    assert split.remaining_quantity == 5


def test_refunded_accumulates_cancellations_and_counts_shipping_once_refunded() -> None:
    partly = after(split_order(), package_request("PK2"))
    assert partly.refunded == Refund("USD", Components(1500, 0, 50, 120), 0)
    assert partly.remaining_quantity == 3

    whole = after(partly, package_request("PK1"))
    assert whole.refunded == whole.paid
    assert whole.remaining_quantity == 0
    assert whole.shipping_refunded is True
