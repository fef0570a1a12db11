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
from domain.model import Components, Order, OrderStatus, PackageStatus, Refund
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

    # Every component divides evenly by 3: each Mug carries 1000, 100, 50, 68.
    # 1 of 3 takes unit 3: 1000, 100, 50, 68
    mugs, first = apply(mugs, items_request(("L1", 1)))
    assert first.refund == usd(1000, 100, 50, 68)
    assert first.refund.total == 918
    assert mugs.line("L1").cancelled_quantity == 1
    assert mugs.line("L1").refunded == Components(1000, 100, 50, 68)

    # 1 of the remaining 2 takes unit 2: the same shares, half of what is left
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


def test_cancelling_1_then_2_of_3_units_refunds_9_68_then_19_37() -> None:
    # 3 * 10.00, seller 2.00, platform 1.00, tax 2.05: 3000 - 200 - 100 + 205 = 2905 paid
    # seller 200 = 3 * 66 + 2 -> units 67, 67, 66 (the 2 extra to units 1 and 2)
    # platform 100 = 3 * 33 + 1 -> units 33, 33, 34 (the extra to unit 3)
    # tax 205 = 3 * 68 + 1 -> units 69, 68, 68 (the extra to unit 1)
    cups = order(
        line(
            quantity=3,
            unit_price="10.00",
            seller_discount="2.00",
            platform_discount="1.00",
            tax="2.05",
        )
    )

    # 1 unit takes unit 3: 1000 - 66 - 34 + 68 = 968
    cups, first = apply(cups, items_request(("L1", 1)))
    assert first.refund == usd(1000, 66, 34, 68)
    assert format_amount(first.refund.total, "USD") == "9.68"

    # the other 2 take units 1 and 2: 2000 - (67 + 67) - (33 + 33) + (69 + 68) = 1937
    cups, last = apply(cups, items_request(("L1", 2)))
    assert last.refund == usd(2000, 134, 66, 137)
    assert format_amount(last.refund.total, "USD") == "19.37"

    assert first.refund + last.refund == usd(3000, 200, 100, 205)
    assert cups.refunded == cups.paid
    assert first.refund.total + last.refund.total == cups.paid.total == 2905


def test_cancelling_the_same_line_unit_by_unit_refunds_each_unit_its_share() -> None:
    # The same line one unit at a time: units 3, 2 and 1 in that order.
    cups = order(
        line(
            quantity=3,
            unit_price="10.00",
            seller_discount="2.00",
            platform_discount="1.00",
            tax="2.05",
        )
    )

    cups, third = apply(cups, items_request(("L1", 1)))
    cups, second = apply(cups, items_request(("L1", 1)))
    cups, first = apply(cups, items_request(("L1", 1)))

    assert third.refund == usd(1000, 66, 34, 68)  # 9.68
    assert second.refund == usd(1000, 67, 33, 68)  # 9.68
    assert first.refund == usd(1000, 67, 33, 69)  # 9.69
    # units 1 and 2 together are what cancelling them at once refunded: 19.37
    assert second.refund + first.refund == usd(2000, 134, 66, 137)


def test_leftover_minor_units_go_to_the_first_units_except_the_platform_discounts() -> None:
    # 3 * 10.00, seller 3.01, platform 1.51, tax 2.05, shipping 5.99
    # seller 301 = 3 * 100 + 1 -> units 101, 100, 100
    # platform 151 = 3 * 50 + 1 -> units 50, 50, 51
    # tax 205 = 3 * 68 + 1 -> units 69, 68, 68
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

    # unit 3
    mugs, first = apply(mugs, items_request(("L1", 1)))
    assert first.refund == usd(1000, 100, 51, 68)

    # unit 2
    mugs, second = apply(mugs, items_request(("L1", 1)))
    assert second.refund == usd(1000, 100, 50, 68)

    # unit 1, the last: what is left, plus shipping
    mugs, last = apply(mugs, items_request(("L1", 1)))
    assert last.refund == usd(1000, 101, 50, 69, 599)

    assert first.refund + second.refund + last.refund == usd(3000, 301, 151, 205, 599)
    assert mugs.refunded == mugs.paid


def test_two_of_three_units_refund_the_shares_of_units_3_and_2() -> None:
    # The Mug's components divide evenly: 2 * (1000, 100, 50, 68)
    plan = plan_cancellation(mug_order(), items_request(("L1", 2)))

    assert plan.refund == usd(2000, 200, 100, 136)
    assert plan.items[0].quantity == 2


def test_an_odd_minor_unit_of_tax_goes_with_the_first_unit() -> None:
    # tax 0.05 over 2 units: 2 each and the extra 1 to unit 1 -> units 3, 2
    cups = order(line(quantity=2, unit_price="1.00", tax="0.05"))

    cups, first = apply(cups, items_request(("L1", 1)))
    assert first.refund.components.tax == 2

    cups, last = apply(cups, items_request(("L1", 1)))
    assert last.refund.components.tax == 3
    assert cups.refunded.components.tax == 5


def test_discounts_of_the_whole_subtotal_never_refund_below_zero() -> None:
    # 2 * 0.01, seller 0.01, platform 0.01: each unit's discounts are 0.01, its price.
    # seller 1 = 2 * 0 + 1 -> units 1, 0; platform 1 = 2 * 0 + 1 -> units 0, 1
    cups = order(
        line(quantity=2, unit_price="0.01", seller_discount="0.01", platform_discount="0.01")
    )

    # unit 2: 1 - 0 - 1 + 0 = 0.00 (rounding each part of what is left would give -0.01)
    cups, first = apply(cups, items_request(("L1", 1)))
    assert first.refund == usd(1, 0, 1, 0)
    assert format_amount(first.refund.total, "USD") == "0.00"

    # unit 1: 1 - 1 - 0 + 0 = 0.00
    cups, last = apply(cups, items_request(("L1", 1)))
    assert last.refund == usd(1, 1, 0, 0)
    assert format_amount(last.refund.total, "USD") == "0.00"
    assert cups.refunded == cups.paid


def test_a_jpy_order_refunds_whole_yen_shares() -> None:
    # 3 * 1000 JPY, seller 100, platform 50, tax 299, shipping 500
    # seller 100 = 3 * 33 + 1 -> units 34, 33, 33
    # platform 50 = 3 * 16 + 2 -> units 16, 17, 17
    # tax 299 = 3 * 99 + 2 -> units 100, 100, 99
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

    # 2 of 3 take units 3 and 2: 2000, 33 + 33, 17 + 17, 99 + 100
    tea, first = apply(tea, items_request(("L1", 2)))
    assert first.refund == jpy(2000, 66, 34, 199)
    assert format_amount(first.refund.total, "JPY") == "2099"

    # the last one, unit 1: 1000, 34, 16, 100, plus shipping 500
    tea, last = apply(tea, items_request(("L1", 1)))
    assert last.refund == jpy(1000, 34, 16, 100, 500)
    assert format_amount(last.refund.total, "JPY") == "1550"

    assert first.refund.total + last.refund.total == 3649
    assert tea.refunded == tea.paid


def test_a_jpy_odd_yen_of_tax_goes_with_the_first_unit() -> None:
    # 2 * 500 JPY, tax 45 = 2 * 22 + 1 -> units 23, 22: cancelling 1 takes unit 2
    tea = order(line(quantity=2, unit_price="500", tax="45"), currency="JPY")

    tea, first = apply(tea, items_request(("L1", 1)))
    tea, last = apply(tea, items_request(("L1", 1)))

    assert first.refund == jpy(500, 0, 0, 22)
    assert last.refund == jpy(500, 0, 0, 23)
    assert first.refund.currency == last.refund.currency == "JPY"


def test_a_jpy_line_refunds_the_same_however_its_units_are_grouped() -> None:
    # 5 * 980 JPY, seller 7, platform 13, tax 392: 4900 - 7 - 13 + 392 = 5272 paid
    # seller 7 = 5 * 1 + 2 -> units 2, 2, 1, 1, 1
    # platform 13 = 5 * 2 + 3 -> units 2, 2, 3, 3, 3
    # tax 392 = 5 * 78 + 2 -> units 79, 79, 78, 78, 78
    # unit totals: 1055, 1055, 1054, 1054, 1054
    def tea() -> Order:
        return order(
            line(
                quantity=5,
                unit_price="980",
                seller_discount="7",
                platform_discount="13",
                tax="392",
            ),
            currency="JPY",
        )

    # 2 + 1 + 2: units 5 and 4, then 3, then 2 and 1
    grouped, two = apply(tea(), items_request(("L1", 2)))
    grouped, one = apply(grouped, items_request(("L1", 1)))
    grouped, rest = apply(grouped, items_request(("L1", 2)))
    assert two.refund == jpy(1960, 2, 6, 156)
    assert one.refund == jpy(980, 1, 3, 78)
    assert rest.refund == jpy(1960, 4, 4, 158)
    assert (two.refund.total, one.refund.total, rest.refund.total) == (2108, 1054, 2110)

    # 3 at once refunds what 2 + 1 did; then 1 + 1 what the last 2 did
    at_once = plan_cancellation(tea(), items_request(("L1", 3)))
    assert at_once.refund == two.refund + one.refund == jpy(2940, 3, 9, 234)
    singles, _ = apply(tea(), items_request(("L1", 3)))
    singles, second = apply(singles, items_request(("L1", 1)))
    singles, first = apply(singles, items_request(("L1", 1)))
    assert second.refund == jpy(980, 2, 2, 79)
    assert first.refund == jpy(980, 2, 2, 79)
    assert second.refund + first.refund == rest.refund

    assert two.refund.total + one.refund.total + rest.refund.total == 5272
    assert grouped.refunded == singles.refunded == grouped.paid


def test_jpy_discounts_of_the_whole_subtotal_never_refund_below_zero() -> None:
    # 3 * 1 JPY, seller 2, platform 1: seller units 1, 1, 0; platform units 0, 0, 1
    tea = order(
        line(quantity=3, unit_price="1", seller_discount="2", platform_discount="1"),
        currency="JPY",
    )

    tea, third = apply(tea, items_request(("L1", 1)))
    tea, rest = apply(tea, items_request(("L1", 2)))

    assert third.refund == jpy(1, 0, 1, 0)
    assert rest.refund == jpy(2, 2, 0, 0)
    assert third.refund.total == rest.refund.total == 0


# -- orders stored with refunds made by the earlier rule -------------------------------------


def test_a_line_partly_refunded_by_the_earlier_rule_refunds_all_that_is_left_at_the_end() -> None:
    # 3 * 10.00, seller 3.01, platform 1.51, tax 2.05, shipping 5.99. The earlier rule
    # refunded round_half_up(left * 1 / 3) of each component for 1 unit:
    # 1000, 100.33 -> 100, 50.33 -> 50, 68.33 -> 68 (unit shares would give platform 51).
    fresh = order(
        line(
            quantity=3,
            unit_price="10.00",
            seller_discount="3.01",
            platform_discount="1.51",
            tax="2.05",
        ),
        shipping_fee="5.99",
    )
    stored = replace(
        fresh,
        lines=(
            replace(fresh.lines[0], cancelled_quantity=1, refunded=Components(1000, 100, 50, 68)),
        ),
        version=2,
    )

    # the last 2: exactly what is left, 2000, 201, 101, 137, plus shipping
    plan = plan_cancellation(stored, items_request(("L1", 2)))
    assert plan.refund == usd(2000, 201, 101, 137, 599)

    done, record = apply(stored, items_request(("L1", 2)))
    assert record.refund == plan.refund
    assert done.refunded == done.paid == usd(3000, 301, 151, 205, 599)


def test_a_line_partly_refunded_by_the_earlier_rule_shares_out_what_is_left() -> None:
    # 3 * 0.01, seller 0.01, platform 0.01. The earlier rule refunded 1 unit as
    # round_half_up of a third of each: 0.01, 0.00, 0.00, 0.00. Left: 0.02, 0.01, 0.01 over
    # 2 units, which unit shares spread as seller 1, 0 and platform 0, 1.
    fresh = order(
        line(quantity=3, unit_price="0.01", seller_discount="0.01", platform_discount="0.01")
    )
    stored = replace(
        fresh,
        lines=(replace(fresh.lines[0], cancelled_quantity=1, refunded=Components(1, 0, 0, 0)),),
        version=2,
    )

    # unit 2: 1 - 0 - 1 = 0.00. Taking the new order's unit 2 shares (seller 0, platform 0)
    # would refund 0.01 here and leave -0.01 for the last unit.
    stored, second = apply(stored, items_request(("L1", 1)))
    assert second.refund == usd(1, 0, 1, 0)
    assert second.refund.total == 0

    # unit 1, the last: all that is left, 1 - 1 - 0 = 0.00
    stored, last = apply(stored, items_request(("L1", 1)))
    assert last.refund == usd(1, 1, 0, 0)
    assert last.refund.total == 0
    assert stored.refunded == stored.paid


# -- line_refund ----------------------------------------------------------------------------


def test_line_refund_gives_everything_left_when_the_last_units_go() -> None:
    mug = mug_order().line("L1")

    assert line_refund(mug, 3) == Components(3000, 300, 150, 204)
    assert line_refund(mug, 1) == Components(1000, 100, 50, 68)


def test_line_refund_sums_the_shares_of_the_units_taken() -> None:
    # 50 units at 1.00, seller 0.49 (units 1-49 get 0.01), platform 0.49 (units 2-50 get
    # 0.01), tax 1.23 = 50 * 2 + 23 (units 1-23 get 0.03, the rest 0.02)
    many = order(
        line(
            quantity=50,
            unit_price="1.00",
            seller_discount="0.49",
            platform_discount="0.49",
            tax="1.23",
        )
    ).line("L1")

    assert line_refund(many, 1) == Components(100, 0, 1, 2)  # unit 50
    assert line_refund(many, 27) == Components(2700, 26, 27, 54)  # units 24-50
    assert line_refund(many, 28) == Components(2800, 27, 28, 57)  # units 23-50
    assert line_refund(many, 49) == Components(4900, 48, 49, 120)  # units 2-50
    assert line_refund(many, 50) == Components(5000, 49, 49, 123)


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
