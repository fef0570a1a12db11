"""Money properties of the refund rule, over random lines and random cancellation sequences.

Every test here takes its number of examples from the Hypothesis profile (tests/conftest.py):
the default ``fast`` one, or ``thorough`` for 100,000 examples each.

Orders have amounts in minor units, given to ``new_order`` as decimal strings, in USD (2
decimals) and JPY (none); requests go through the real ``plan_cancellation`` and
``cancel``. ``unit_shares`` spells the rule out unit by unit, apart from the closed form
the product uses.

Hypothesis picks the currency and seeds a ``Random`` that draws the rest, with the edges
where refunds could go wrong (discounts that take the whole subtotal, prices of a few minor
units, no tax, single units) drawn often on purpose. Drawing every amount through
Hypothesis costs several times what the rest of an example does, which would make 100,000
examples take most of an hour; a failure still replays from the seed Hypothesis reports.
"""

from collections.abc import Callable
from dataclasses import replace
from random import Random

from hypothesis import event, given
from hypothesis import strategies as st

from domain.cancellation import Cancellation, CancellationRequest, plan_cancellation
from domain.intake import LineDraft
from domain.model import Components, Line, Order, OrderStatus
from domain.money import format_amount
from tests.unit.domain.builders import (
    apply,
    items_request,
    line,
    order,
    order_request,
    package,
    package_request,
)

CURRENCIES = ("USD", "JPY")
SEEDS = st.integers(0, 2**64 - 1)

# Called after every cancellation with the order before it, its record and the order after.
type StepCheck = Callable[[Order, Cancellation, Order], None]


def seeded(seed: int) -> Random:
    """Test data that replays from ``seed``."""
    return Random(seed)  # noqa: S311 - test data, not a secret


def random_line(rng: Random, number: int, package_id: str, currency: str) -> LineDraft:
    """Quantities 1-50, prices up to 200.00 (20000 JPY), discounts up to the subtotal."""
    quantity = rng.choice([1, 2, 3, rng.randint(1, 50), rng.randint(1, 50)])
    unit_price = rng.choice([rng.randint(0, 3), rng.randint(0, 20_000), rng.randint(0, 20_000)])
    subtotal = unit_price * quantity
    seller_discount = rng.choice([0, subtotal, rng.randint(0, subtotal), rng.randint(0, subtotal)])
    rest = subtotal - seller_discount
    # Half the lines have discounts that add up to the whole subtotal.
    platform_discount = rng.choice([rest, rest, 0, rng.randint(0, rest)])
    tax = rng.choice([0, rng.randint(0, 2 * quantity), rng.randint(0, 50_000)])
    return line(
        f"L{number}",
        package_id=package_id,
        quantity=quantity,
        unit_price=format_amount(unit_price, currency),
        seller_discount=format_amount(seller_discount, currency),
        platform_discount=format_amount(platform_discount, currency),
        tax=format_amount(tax, currency),
    )


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """1-3 lines over 1-3 packages awaiting shipment, dealt round, in USD or JPY."""
    currency = draw(st.sampled_from(CURRENCIES))
    event(currency)
    rng = seeded(draw(SEEDS))
    line_count = rng.randint(1, 3)
    package_count = rng.randint(1, line_count)
    drafts = [
        random_line(rng, number, f"PK{(number - 1) % package_count + 1}", currency)
        for number in range(1, line_count + 1)
    ]
    return order(
        *drafts,
        packages=[package(f"PK{n}") for n in range(1, package_count + 1)],
        currency=currency,
        shipping_fee=format_amount(rng.choice([0, rng.randint(0, 5_000)]), currency),
    )


def unit_shares(ln: Line) -> list[Components]:
    """Each unit's share of the line's components, unit 1 first, one unit at a time.

    Of a component ``C`` over ``q`` units each unit has ``C // q``; the ``C % q`` left over
    go one each to units 1, 2, ... for the seller discount and the tax and to units q,
    q - 1, ... for the platform discount. The subtotal is ``unit_price`` a unit.
    """
    q = ln.quantity

    def spread(amount: int, *, extras_to_first: bool) -> list[int]:
        each, extra = divmod(amount, q)
        with_extra = range(1, extra + 1) if extras_to_first else range(q - extra + 1, q + 1)
        return [each + (1 if unit in with_extra else 0) for unit in range(1, q + 1)]

    return [
        Components(*parts)
        for parts in zip(
            [ln.unit_price] * q,
            spread(ln.seller_discount, extras_to_first=True),
            spread(ln.platform_discount, extras_to_first=False),
            spread(ln.tax, extras_to_first=True),
            strict=True,
        )
    ]


def non_negative(components: Components) -> bool:
    return all(part >= 0 for part in components.as_tuple())


def at_most(small: Components, large: Components) -> bool:
    return all(a <= b for a, b in zip(small.as_tuple(), large.as_tuple(), strict=True))


def some_units(rng: Random, left: int) -> int:
    """One of ``left`` units a third of the time, all of them a sixth, else any number."""
    roll = rng.random()
    if roll < 1 / 3:
        return 1
    if roll < 1 / 2:
        return left
    return rng.randint(1, left)


def random_request(rng: Random, current: Order) -> CancellationRequest:
    """Some of what is left: of 1 or 2 lines (most often), a package, or the whole order."""
    live = [ln for ln in current.lines if ln.remaining_quantity]
    kind = rng.choices(["items", "package", "order"], weights=[8, 1, 1])[0]
    if kind == "order":
        return order_request()
    if kind == "package":
        return package_request(rng.choice(live).package_id)
    chosen = rng.sample(live, rng.randint(1, min(2, len(live))))
    return items_request(*((ln.line_id, some_units(rng, ln.remaining_quantity)) for ln in chosen))


def finishing_request(rng: Random, current: Order) -> CancellationRequest:
    """All that is left: the order, the next package, or every line's units left."""
    live = [ln for ln in current.lines if ln.remaining_quantity]
    finish = rng.choice(["order", "package", "items"])
    if finish == "order":
        return order_request()
    if finish == "package":
        return package_request(live[0].package_id)
    return items_request(*((ln.line_id, ln.remaining_quantity) for ln in live))


def cancel_everything(
    rng: Random, start: Order, check: StepCheck | None = None
) -> tuple[Order, list[Cancellation]]:
    """1-6 random requests while units are left, then requests for all that is left."""
    current, records = start, []

    def run(request: CancellationRequest) -> Order:
        # Preview, then submit: the two must agree to the minor unit.
        plan = plan_cancellation(current, request)
        resulting, record = apply(current, request, cancellation_id=f"C{len(records) + 1}")
        assert record.items == plan.items
        assert record.refund == plan.refund
        assert resulting.lines == plan.resulting_order.lines
        records.append(record)
        if check is not None:
            check(current, record, resulting)
        return resulting

    for _ in range(rng.randint(1, 6)):
        if not current.remaining_quantity:
            break
        current = run(random_request(rng, current))
    while current.remaining_quantity:
        current = run(finishing_request(rng, current))
    event(f"cancellations: {len(records)}")
    return current, records


@given(start=orders(), seed=SEEDS)
def test_every_step_refunds_the_shares_of_the_units_it_takes_and_nothing_is_negative(
    start: Order, seed: int
) -> None:
    rng = seeded(seed)
    shares = {ln.line_id: unit_shares(ln) for ln in start.lines}

    def check(before: Order, record: Cancellation, _after: Order) -> None:
        for item in record.items:
            ln = before.line(item.line_id)
            assert ln is not None
            # The units taken are the highest-numbered ones left: left - quantity + 1 to left.
            left = ln.remaining_quantity
            assert item.refund.components == Components.sum(
                shares[ln.line_id][left - item.quantity : left]
            )
            assert non_negative(item.refund.components)
            assert item.refund.total >= 0
            assert at_most(item.refund.components, ln.left_to_refund)
        assert non_negative(record.refund.components)
        assert record.refund.shipping_fee >= 0
        assert record.refund.components.total >= 0

    cancel_everything(rng, start, check)


@given(start=orders(), seed=SEEDS)
def test_how_units_are_grouped_never_changes_what_they_refund(start: Order, seed: int) -> None:
    rng = seeded(seed)

    # After any sequence of cancellations, each line has refunded, component by component,
    # exactly what cancelling as many of its units at once on the new order refunds:
    # 1 + 1 + 1, 1 + 2, 2 + 1 and 3 all refund the same, whatever else the requests took.
    def check(_before: Order, record: Cancellation, after: Order) -> None:
        for item in record.items:
            ln = after.line(item.line_id)
            assert ln is not None
            at_once = plan_cancellation(start, items_request((ln.line_id, ln.cancelled_quantity)))
            assert ln.refunded == at_once.items[0].refund.components

    cancel_everything(rng, start, check)


@given(start=orders(), seed=SEEDS)
def test_cancelling_everything_in_any_sequence_refunds_exactly_what_was_paid(
    start: Order, seed: int
) -> None:
    rng = seeded(seed)
    paid = start.paid
    end, records = cancel_everything(rng, start)

    refunded = records[0].refund
    for record in records[1:]:
        refunded = refunded + record.refund
    assert refunded == paid
    assert refunded.total == paid.total
    assert end.refunded == paid
    assert all(ln.refunded == ln.charged for ln in end.lines)
    assert end.status is OrderStatus.CANCELLED
    assert end.shipping_refunded is True
    # The shipping fee goes back once, with the cancellation that leaves no unit.
    assert [r.refund.shipping_fee for r in records] == [0] * (len(records) - 1) + [
        start.shipping_fee
    ]


def earlier_rule_refund(ln: Line, quantity: int) -> Components:
    """What the earlier rule refunded: everything left with the last units, otherwise
    ``round_half_up(left * quantity / remaining)`` of each component, in minor units."""
    remaining = ln.remaining_quantity
    left = ln.left_to_refund
    if quantity == remaining:
        return left
    return Components(
        *((2 * part * quantity + remaining) // (2 * remaining) for part in left.as_tuple())
    )


@given(start=orders(), seed=SEEDS)
def test_lines_partly_refunded_by_the_earlier_rule_finish_with_exactly_what_is_left(
    start: Order, seed: int
) -> None:
    rng = seeded(seed)
    # Stored orders may carry up to 3 partial refunds a line made by the earlier rule, each
    # leaving at least one unit of the line.
    lines = []
    for ln in start.lines:
        partly = ln
        for _ in range(rng.randint(0, 3)):
            if partly.remaining_quantity < 2:
                break
            quantity = some_units(rng, partly.remaining_quantity - 1)
            partly = replace(
                partly,
                cancelled_quantity=partly.cancelled_quantity + quantity,
                refunded=partly.refunded + earlier_rule_refund(partly, quantity),
            )
        lines.append(partly)
    stored = replace(start, lines=tuple(lines), version=start.version + 1)

    def check(before: Order, record: Cancellation, _after: Order) -> None:
        for item in record.items:
            ln = before.line(item.line_id)
            assert ln is not None
            assert non_negative(item.refund.components)
            assert at_most(item.refund.components, ln.left_to_refund)
            assert item.refund.total >= 0
            if item.quantity == ln.remaining_quantity:
                assert item.refund.components == ln.left_to_refund

    end, records = cancel_everything(rng, stored, check)

    refunded = stored.refunded
    for record in records:
        refunded = refunded + record.refund
    assert refunded == end.refunded == start.paid
    assert all(ln.refunded == ln.charged for ln in end.lines)
