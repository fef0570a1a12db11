from dataclasses import replace

import pytest

from domain.cancellation import (
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRefund,
    NotificationStatus,
    line_refund,
    plan_cancellation,
)
from domain.model import Components, OrderStatus, PackageStatus, Refund
from domain.money import format_amount
from tests.unit.domain.builders import (
    ACTOR,
    AWAITING_COLLECTION,
    NOW,
    apply,
    items_request,
    line,
    mug_order,
    order,
    order_request,
    package_request,
    snapshot,
    split_order,
)


def usd(subtotal: int, seller: int, platform: int, tax: int, shipping: int = 0) -> Refund:
    return Refund("USD", Components(subtotal, seller, platform, tax), shipping)


def jpy(subtotal: int, seller: int, platform: int, tax: int, shipping: int = 0) -> Refund:
    return Refund("JPY", Components(subtotal, seller, platform, tax), shipping)


# -- the Refund object ----------------------------------------------------------------------


def test_refund_total_is_subtotal_minus_discounts_plus_tax_and_shipping() -> None:
    # API.md's Refund example: 20.00 - 2.00 - 1.00 + 1.36 + 0.00 = 18.36
    example = usd(2000, 200, 100, 136)

    assert example.components.total == 2000 - 200 - 100 + 136
    assert example.total == 1836
    assert format_amount(example.total, "USD") == "18.36"
    assert usd(2000, 200, 100, 136, 599).total == 1836 + 599


def test_refunds_add_per_component_within_one_currency() -> None:
    assert usd(1000, 100, 50, 68) + usd(1000, 100, 50, 68, 599) == usd(2000, 200, 100, 136, 599)
    assert Components.sum([]) == Components(0, 0, 0, 0)
    assert Components(5, 4, 3, 2) - Components(1, 1, 1, 1) == Components(4, 3, 2, 1)
    assert Components(5, 4, 3, 2).as_tuple() == (5, 4, 3, 2)


def test_refunds_in_different_currencies_cannot_be_added() -> None:
    with pytest.raises(ValueError, match="different currencies"):
        usd(1, 0, 0, 0) + jpy(1, 0, 0, 0)


# -- API.md's Mug example, one unit at a time -----------------------------------------------


def test_the_mug_example_cancelled_one_unit_at_a_time_refunds_exactly_what_was_paid() -> None:
    # 3 Mugs at 10.00: subtotal 3000, seller 300, platform 150, tax 204; shipping 599
    mugs = mug_order()
    paid = mugs.paid
    assert paid == usd(3000, 300, 150, 204, 599)
    assert paid.total == 3000 - 300 - 150 + 204 + 599 == 3353

    # 1 of 3: round_half_up(3000*1/3)=1000, (300*1/3)=100, (150*1/3)=50, (204*1/3=68.0)=68
    mugs, first = apply(mugs, items_request(("L1", 1)))
    assert first.refund == usd(1000, 100, 50, 68)
    assert first.refund.total == 918
    assert mugs.line("L1").cancelled_quantity == 1
    assert mugs.line("L1").refunded == Components(1000, 100, 50, 68)

    # 1 of the remaining 2: left 2000, 200, 100, 136 -> half of each
    mugs, second = apply(mugs, items_request(("L1", 1)))
    assert second.refund == usd(2000 // 2, 200 // 2, 100 // 2, 136 // 2)
    assert mugs.status is OrderStatus.AWAITING_SHIPMENT

    # the last one: exactly what is left (1000, 100, 50, 68) plus the shipping fee 599
    mugs, last = apply(mugs, items_request(("L1", 1)))
    assert last.refund == usd(3000 - 2000, 300 - 200, 150 - 100, 204 - 136, 599)
    assert last.refund.total == 1517

    assert first.refund + second.refund + last.refund == paid
    assert first.refund.total + second.refund.total + last.refund.total == 3353
    assert mugs.refunded == paid
    assert mugs.status is OrderStatus.CANCELLED
    assert mugs.package("PK1").status is PackageStatus.CANCELLED
    assert mugs.version == 4
    assert (first.order_version, second.order_version, last.order_version) == (2, 3, 4)
    assert last.resulting_order_status is OrderStatus.CANCELLED


def test_half_of_what_is_left_rounds_half_up_per_component() -> None:
    # 3 * 10.00, seller 3.01, platform 1.51, tax 2.05, shipping 5.99
    mugs = order(
        line(
            quantity=3,
            unit_price="10.00",
            seller_discount="3.01",
            platform_discount="1.51",
            tax="2.05",
        ),
        shipping_fee="5.99",
    )

    # 1 of 3: 3000/3=1000, 301/3=100.33->100, 151/3=50.33->50, 205/3=68.33->68
    mugs, first = apply(mugs, items_request(("L1", 1)))
    assert first.refund == usd(1000, 100, 50, 68)

    # 1 of 2: left 2000, 201, 101, 137 -> 1000, 100.5->101, 50.5->51, 68.5->69
    mugs, second = apply(mugs, items_request(("L1", 1)))
    assert second.refund == usd(1000, 101, 51, 69)

    # last: 3000-2000, 301-201, 151-101, 205-137, plus shipping
    mugs, last = apply(mugs, items_request(("L1", 1)))
    assert last.refund == usd(1000, 100, 50, 68, 599)

    assert first.refund + second.refund + last.refund == usd(3000, 301, 151, 205, 599)
    assert mugs.refunded == mugs.paid


def test_two_of_three_units_refund_two_thirds_rounded_half_up() -> None:
    # 2 of 3: 3000*2/3=2000, 300*2/3=200, 150*2/3=100, 204*2/3=136
    plan = plan_cancellation(mug_order(), items_request(("L1", 2)))

    assert plan.refund == usd(2000, 200, 100, 136)
    assert plan.items[0].quantity == 2


def test_round_half_up_matters_when_five_minor_units_are_left_for_one_of_two_units() -> None:
    # tax 0.05 over 2 units: round_half_up(5*1/2=2.5)=3, half-to-even would give 2
    cups = order(line(quantity=2, unit_price="1.00", tax="0.05"))

    cups, first = apply(cups, items_request(("L1", 1)))
    assert first.refund.components.tax == 3

    cups, last = apply(cups, items_request(("L1", 1)))
    assert last.refund.components.tax == 5 - 3
    assert cups.refunded.components.tax == 5


def test_a_jpy_order_rounds_to_whole_yen() -> None:
    # 3 * 1000 JPY, seller 100, platform 50, tax 299, shipping 500
    tea = order(
        line(
            quantity=3,
            unit_price="1000",
            seller_discount="100",
            platform_discount="50",
            tax="299",
        ),
        currency="JPY",
        shipping_fee="500",
    )
    assert tea.paid.total == 3000 - 100 - 50 + 299 + 500 == 3649

    # 2 of 3: 3000*2/3=2000, 100*2/3=66.67->67, 50*2/3=33.33->33, 299*2/3=199.33->199
    tea, first = apply(tea, items_request(("L1", 2)))
    assert first.refund == jpy(2000, 67, 33, 199)
    assert format_amount(first.refund.total, "JPY") == "2099"

    # the last one: 1000, 100-67, 50-33, 299-199, plus shipping 500
    tea, last = apply(tea, items_request(("L1", 1)))
    assert last.refund == jpy(1000, 33, 17, 100, 500)
    assert format_amount(last.refund.total, "JPY") == "1550"

    assert first.refund.total + last.refund.total == 3649
    assert tea.refunded == tea.paid


def test_a_jpy_half_yen_rounds_up() -> None:
    # 2 * 500 JPY, tax 45: 1 of 2 -> 45/2=22.5 -> 23, then 22
    tea = order(line(quantity=2, unit_price="500", tax="45"), currency="JPY")

    tea, first = apply(tea, items_request(("L1", 1)))
    tea, last = apply(tea, items_request(("L1", 1)))

    assert first.refund == jpy(500, 0, 0, 23)
    assert last.refund == jpy(500, 0, 0, 22)
    assert first.refund.currency == last.refund.currency == "JPY"


# -- line_refund ----------------------------------------------------------------------------


def test_line_refund_gives_everything_left_when_the_last_units_go() -> None:
    mug = mug_order().line("L1")

    assert line_refund(mug, 3) == Components(3000, 300, 150, 204)
    assert line_refund(mug, 1) == Components(1000, 100, 50, 68)


@pytest.mark.parametrize("quantity", [0, -1, 4])
def test_line_refund_refuses_quantities_outside_what_is_left(quantity: int) -> None:
    with pytest.raises(ValueError, match="of 3 remaining units"):
        line_refund(mug_order().line("L1"), quantity)


# -- scopes ---------------------------------------------------------------------------------


def test_order_scope_refunds_everything_left_and_the_shipping_fee() -> None:
    # split order: L1 = 3 * 10.00 (3.00, 1.50, 2.04) in PK1, L2 = 2 * 7.50 (0, 0.50, 1.20) in PK2
    split, first = apply(split_order(), items_request(("L1", 1)))
    assert first.refund == usd(1000, 100, 50, 68)

    split, whole = apply(split, order_request())

    assert [(item.line_id, item.quantity) for item in whole.items] == [("L1", 2), ("L2", 2)]
    assert whole.items[0].refund == usd(2000, 200, 100, 136)
    assert whole.items[1].refund == usd(1500, 0, 50, 120)
    # 2000+1500 - 200 - (100+50) + (136+120) + 599
    assert whole.refund == usd(3500, 200, 150, 256, 599)
    assert whole.refund.total == 4005
    assert first.refund.total + whole.refund.total == split.paid.total == 4923
    assert split.refunded == split.paid
    assert split.status is OrderStatus.CANCELLED
    assert {p.package_id: p.status for p in split.packages} == {
        "PK1": PackageStatus.CANCELLED,
        "PK2": PackageStatus.CANCELLED,
    }
    assert [(ln.cancelled_quantity, ln.quantity) for ln in split.lines] == [(3, 3), (2, 2)]
    assert whole.resulting_order_status is OrderStatus.CANCELLED


def test_order_scope_skips_lines_already_fully_cancelled() -> None:
    split, _ = apply(split_order(), items_request(("L1", 3)))

    plan = plan_cancellation(split, order_request())

    assert [item.line_id for item in plan.items] == ["L2"]
    assert plan.refund == usd(1500, 0, 50, 120, 599)


def test_package_scope_on_a_split_order_refunds_shipping_only_with_the_last_package() -> None:
    split, first = apply(split_order(), package_request("PK1"))

    assert first.refund == usd(3000, 300, 150, 204, 0)
    assert first.refund.total == 2754
    assert split.package("PK1").status is PackageStatus.CANCELLED
    assert split.package("PK2").status is PackageStatus.AWAITING_SHIPMENT
    assert split.status is OrderStatus.AWAITING_SHIPMENT
    assert first.resulting_order_status is OrderStatus.AWAITING_SHIPMENT
    assert split.version == 2
    assert split.shipping_refunded is False

    split, last = apply(split, package_request("PK2"))

    assert last.refund == usd(1500, 0, 50, 120, 599)
    assert last.refund.total == 2169
    assert first.refund.total + last.refund.total == 4923
    assert split.status is OrderStatus.CANCELLED
    assert split.version == 3
    assert split.shipping_refunded is True


def test_package_scope_refunds_only_what_is_left_of_its_lines() -> None:
    split, _ = apply(split_order(), items_request(("L1", 1)))

    plan = plan_cancellation(split, package_request("PK1"))

    assert [(item.line_id, item.quantity) for item in plan.items] == [("L1", 2)]
    assert plan.refund == usd(2000, 200, 100, 136)


def test_cancelling_the_package_awaiting_shipment_leaves_the_order_awaiting_collection() -> None:
    plan = plan_cancellation(split_order(pk2=AWAITING_COLLECTION), package_request("PK1"))

    assert plan.resulting_order_status is OrderStatus.AWAITING_COLLECTION
    assert plan.refund.shipping_fee == 0


def test_items_that_empty_a_package_cancel_it_but_not_the_order() -> None:
    split, record = apply(split_order(), items_request(("L2", 2)))

    assert record.refund == usd(1500, 0, 50, 120)
    assert split.package("PK2").status is PackageStatus.CANCELLED
    assert split.package("PK1").status is PackageStatus.AWAITING_SHIPMENT
    assert split.status is OrderStatus.AWAITING_SHIPMENT


def test_items_that_take_every_unit_left_refund_the_shipping_fee() -> None:
    split, record = apply(split_order(), items_request(("L1", 3), ("L2", 2)))

    assert record.refund == usd(4500, 300, 200, 324, 599)
    assert split.status is OrderStatus.CANCELLED
    assert split.refunded == split.paid


def test_a_free_shipping_order_refunds_no_shipping() -> None:
    free, record = apply(order(line(quantity=2)), order_request())

    assert record.refund == usd(2000, 0, 0, 0, 0)
    assert free.shipping_refunded is True
    assert free.refunded == free.paid


# -- preview == apply -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        items_request(("L1", 1), note="out of blue mugs"),
        items_request(("L2", 2), ("L1", 3)),
        package_request("PK2", CancelReason.UNABLE_TO_DELIVER),
        order_request(CancelReason.PRICING_ERROR),
    ],
    ids=["one item", "every item", "package", "order"],
)
def test_cancel_applies_exactly_the_plan_it_previews(request_: CancellationRequest) -> None:
    split = split_order()
    before = snapshot(split)

    plan = plan_cancellation(split, request_)
    assert split == before
    assert plan.order_version == split.version == 1

    resulting, record = apply(split, request_, cancellation_id="C-42")

    assert split == before
    assert resulting == replace(plan.resulting_order, updated_at=NOW)
    assert resulting.version == split.version + 1 == 2
    assert record.cancellation_id == "C-42"
    assert (record.order_id, record.seller_id) == ("O1", "S1")
    assert record.scope is request_.scope
    assert record.reason is request_.reason
    assert record.package_id == request_.package_id
    assert record.note == request_.note
    assert record.items == plan.items
    assert record.refund == plan.refund
    assert record.resulting_order_status is plan.resulting_order_status is resulting.status
    assert record.order_version == plan.resulting_order.version == resulting.version
    assert record.created_at == NOW
    assert record.created_by == ACTOR
    assert record.notification_status is NotificationStatus.PENDING
    assert record.notification_sent_at is None


def test_a_cancellation_item_names_the_line_it_refunds() -> None:
    _, record = apply(split_order(), items_request(("L2", 1)))

    assert record.items == (
        ItemRefund(
            line_id="L2",
            sku_id="K-L2",
            product_name="Plate",
            sku_name="White",
            quantity=1,
            refund=usd(750, 0, 25, 60),
        ),
    )
    assert record.scope is CancelScope.ITEMS
    assert record.package_id is None


def test_the_plan_keeps_the_request_and_the_refund_is_the_sum_of_its_items() -> None:
    request_ = items_request(("L1", 1), ("L2", 1))

    plan = plan_cancellation(split_order(), request_)

    assert plan.request == request_
    # L1: 1000, 100, 50, 68; L2 1 of 2: 750, 0, 25, 60
    assert plan.refund == usd(1000 + 750, 100, 50 + 25, 68 + 60)
    assert plan.refund == plan.items[0].refund + plan.items[1].refund
