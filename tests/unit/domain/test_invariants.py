"""The reconciler's checks: a consistent history passes, every kind of tampering is named."""

from __future__ import annotations

from dataclasses import replace

from domain.cancellation import Cancellation
from domain.invariants import check_order
from domain.model import Components, Order, PackageStatus
from tests.unit.domain.builders import (
    apply,
    items_request,
    mug_order,
    order_request,
    package_request,
    split_order,
)


def history(order: Order, *requests) -> tuple[Order, list[Cancellation]]:  # type: ignore[no-untyped-def]
    records = []
    for number, request in enumerate(requests, start=1):
        order, record = apply(order, request, cancellation_id=f"C{number}")
        records.append(record)
    return order, records


def checks(
    order: Order, records: list[Cancellation], stored_status: str | None = None
) -> list[str]:
    return [m.check for m in check_order(order, records, stored_status)]


def test_a_consistent_partial_history_passes() -> None:
    order, records = history(split_order(), items_request(("L1", 1)), package_request("PK2"))
    assert checks(order, records, order.status.value) == []


def test_a_fully_cancelled_order_passes_with_shipping_refunded_once() -> None:
    order, records = history(mug_order(), items_request(("L1", 2)), order_request())
    assert order.status.value == "CANCELLED"
    assert checks(order, records, "CANCELLED") == []


def test_a_fresh_order_without_cancellations_passes() -> None:
    assert checks(mug_order(), [], "AWAITING_SHIPMENT") == []


def test_cancelled_quantity_tampered_upwards_is_reported() -> None:
    order, records = history(mug_order(), items_request(("L1", 1)))
    line = replace(order.lines[0], cancelled_quantity=5)
    tampered = replace(order, lines=(line,))

    found = check_order(tampered, records, tampered.status.value)

    assert {m.check for m in found} >= {
        "cancelled_within_ordered",
        "cancelled_matches_cancellations",
    }
    numbers = next(m.numbers for m in found if m.check == "cancelled_within_ordered")
    assert numbers == {"line_id": "L1", "cancelled": 5, "ordered": 3}


def test_a_refund_that_does_not_match_the_cancellations_is_reported() -> None:
    order, records = history(mug_order(), items_request(("L1", 1)))
    line = replace(order.lines[0], refunded=order.lines[0].refunded + Components(subtotal=1))
    tampered = replace(order, lines=(line,))

    found = check_order(tampered, records, tampered.status.value)

    assert [m.check for m in found] == [
        "refunded_matches_cancellations",
        "order_refund_matches_cancellations",
    ]
    line_mismatch = found[0]
    # 9.18 recorded by the cancellation; 9.19 claimed by the tampered line.
    assert line_mismatch.numbers == {"line_id": "L1", "recorded": 919, "from_cancellations": 918}


def test_refunding_beyond_what_was_charged_is_reported() -> None:
    order = mug_order()
    # 40.00 of items refunded; 30.00 were charged, 33.53 paid in all.
    line = replace(order.lines[0], refunded=Components(subtotal=4000))
    tampered = replace(order, lines=(line,))

    assert "refund_within_paid" in checks(tampered, [])
    assert "order_refund_within_paid" in checks(tampered, [])


def test_a_lost_cancellation_record_is_reported() -> None:
    order, records = history(mug_order(), items_request(("L1", 1)), items_request(("L1", 1)))

    assert set(checks(order, records[:1], order.status.value)) == {
        "cancelled_matches_cancellations",
        "refunded_matches_cancellations",
        "order_refund_matches_cancellations",
    }


def test_shipping_refunded_before_the_last_unit_is_reported() -> None:
    order, records = history(mug_order(), items_request(("L1", 1)))
    tampered = replace(order, shipping_refunded=True)

    assert "shipping_refunded_once_at_the_end" in checks(tampered, records)


def test_a_package_status_that_contradicts_its_units_is_reported() -> None:
    order, records = history(split_order(), package_request("PK2"))
    reopened = tuple(
        replace(p, status=PackageStatus.AWAITING_SHIPMENT) if p.package_id == "PK2" else p
        for p in order.packages
    )
    tampered = replace(order, packages=reopened)

    assert checks(tampered, records) == ["package_status"]


def test_a_stored_status_that_the_packages_do_not_give_is_reported() -> None:
    order, records = history(split_order(), package_request("PK2"))

    found = check_order(order, records, "DELIVERED")

    assert [m.check for m in found] == ["order_status"]
    assert found[0].numbers == {"stored": "DELIVERED", "derived": "AWAITING_SHIPMENT"}
