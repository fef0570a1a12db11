"""Properties of the cancellation rules over random orders and histories.

Random histories mix every scope with shipments and requests the rules reject, and check
each step against what the order advertises; the refund figures themselves are proven in
test_refund_properties.py.
"""

from dataclasses import dataclass, field, replace

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.cancellation import (
    Cancellation,
    CancellationPlan,
    CancellationRequest,
    CancelReason,
    plan_cancellation,
)
from domain.errors import DomainError
from domain.model import (
    WHOLE_CANCEL_ORDER_STATUSES,
    Components,
    Order,
    OrderStatus,
    PackageStatus,
    Refund,
)
from domain.money import format_amount
from domain.shipping import ship_package
from tests.unit.domain.builders import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    DELIVERED,
    IN_TRANSIT,
    NOW,
    apply,
    items_request,
    line,
    order,
    order_request,
    package,
    package_request,
    snapshot,
)

MOSTLY_NOT_SHIPPED = [AWAITING_SHIPMENT] * 4 + [AWAITING_COLLECTION] * 3 + [IN_TRANSIT, DELIVERED]
# Each example checks eligibility against every scope after every step, so these run the
# fast profile's number of examples even when a thorough profile runs the refund properties.
PROPERTY_SETTINGS = settings(settings.get_profile("fast"))


@st.composite
def orders(draw: st.DrawFn, statuses: st.SearchStrategy[PackageStatus]) -> Order:
    """1-6 lines over 1-3 packages, each package with at least one line, in USD or JPY."""
    currency = draw(st.sampled_from(["USD", "JPY"]))
    package_count = draw(st.integers(1, 3))
    line_count = draw(st.integers(package_count, 6))
    package_ids = [f"PK{n}" for n in range(1, package_count + 1)]
    owners = package_ids + [
        draw(st.sampled_from(package_ids)) for _ in range(line_count - package_count)
    ]
    drafts = []
    for number, package_id in enumerate(owners, start=1):
        quantity = draw(st.integers(1, 50))
        unit_price = draw(st.integers(0, 20_000))
        subtotal = unit_price * quantity
        seller_discount = draw(st.integers(0, subtotal))
        platform_discount = draw(st.integers(0, subtotal - seller_discount))
        tax = draw(st.integers(0, 50_000))
        drafts.append(
            line(
                f"L{number}",
                package_id=package_id,
                quantity=quantity,
                unit_price=format_amount(unit_price, currency),
                seller_discount=format_amount(seller_discount, currency),
                platform_discount=format_amount(platform_discount, currency),
                tax=format_amount(tax, currency),
            )
        )
    return order(
        *drafts,
        packages=[package(package_id, draw(statuses)) for package_id in package_ids],
        currency=currency,
        shipping_fee=format_amount(draw(st.integers(0, 5_000)), currency),
    )


@dataclass
class History:
    start: Order
    records: list[Cancellation] = field(default_factory=list)
    shipments: int = 0

    @property
    def refunded(self) -> Refund:
        total = Refund(self.start.currency)
        for record in self.records:
            total = total + record.refund
        return total


def non_negative(components: Components) -> bool:
    return all(part >= 0 for part in components.as_tuple())


def at_most(small: Components, large: Components) -> bool:
    return all(a <= b for a, b in zip(small.as_tuple(), large.as_tuple(), strict=True))


def assert_order_invariants(current: Order) -> None:
    for ln in current.lines:
        assert 0 <= ln.cancelled_quantity <= ln.quantity
        assert non_negative(ln.refunded)
        assert at_most(ln.refunded, ln.charged)
        if ln.remaining_quantity == 0:
            assert ln.refunded == ln.charged
        if ln.cancelled_quantity == 0:
            assert ln.refunded == Components()
    for pkg in current.packages:
        emptied = all(ln.remaining_quantity == 0 for ln in current.lines_of(pkg.package_id))
        assert (pkg.status is PackageStatus.CANCELLED) is emptied
    assert (current.status is OrderStatus.CANCELLED) is (current.remaining_quantity == 0)
    assert current.shipping_refunded is (current.remaining_quantity == 0)
    refunded = current.refunded
    assert non_negative(refunded.components)
    assert at_most(refunded.components, current.paid.components)
    assert refunded.shipping_fee == (current.shipping_fee if current.shipping_refunded else 0)


def outcome(current: Order, request: CancellationRequest) -> CancellationPlan | None:
    try:
        return plan_cancellation(current, request)
    except DomainError:
        return None


def assert_eligibility_matches_the_rules(current: Order) -> None:
    """What GET /orders/{id} advertises is exactly what a request would be allowed to do."""
    for ln in current.lines:
        eligibility = current.line_eligibility(ln)
        one_unit = outcome(current, items_request((ln.line_id, 1)))
        assert eligibility.item_cancellable is (one_unit is not None)
        assert eligibility.item_cancellable is (eligibility.ineligible_reason is None)
        expected_quantity = ln.remaining_quantity if eligibility.item_cancellable else 0
        assert eligibility.cancellable_quantity == expected_quantity
    for pkg in current.packages:
        eligibility = current.package_eligibility(pkg)
        allowed = outcome(current, package_request(pkg.package_id)) is not None
        assert eligibility.cancellable is allowed
        assert eligibility.cancellable is (eligibility.ineligible_reason is None)
    actions = current.actions
    assert actions.cancel_order is (outcome(current, order_request()) is not None)
    assert actions.cancel_items is any(
        current.line_eligibility(ln).item_cancellable for ln in current.lines
    )


def assert_cancellation_is_consistent(
    before: Order, plan: CancellationPlan, resulting: Order, record: Cancellation
) -> None:
    assert resulting == replace(plan.resulting_order, updated_at=NOW)
    assert record.items == plan.items
    assert record.refund == plan.refund
    assert record.resulting_order_status is plan.resulting_order_status is resulting.status
    assert plan.order_version == before.version
    assert record.order_version == resulting.version == before.version + 1
    assert record.refund.currency == before.currency

    assert record.items
    for item in record.items:
        assert item.quantity >= 1
        assert non_negative(item.refund.components)
        assert item.refund.shipping_fee == 0
        assert item.refund.currency == before.currency
    assert non_negative(record.refund.components)
    assert record.refund.components == Components.sum(i.refund.components for i in record.items)
    assert resulting.refunded.components - before.refunded.components == record.refund.components
    cancelled_units = sum(item.quantity for item in record.items)
    assert cancelled_units == before.remaining_quantity - resulting.remaining_quantity

    emptied_the_order = before.remaining_quantity > 0 and resulting.remaining_quantity == 0
    assert record.refund.shipping_fee == (before.shipping_fee if emptied_the_order else 0)


def attempt_cancellation(
    current: Order, request: CancellationRequest, history: History, *, must_succeed: bool = False
) -> Order:
    unchanged = snapshot(current)
    try:
        plan = plan_cancellation(current, request)
    except DomainError as error:
        assert not must_succeed, error
        assert current == unchanged
        event(f"rejected: {error.code}")
        return current
    resulting, record = apply(current, request, cancellation_id=f"C{len(history.records) + 1}")
    assert current == unchanged
    assert_cancellation_is_consistent(current, plan, resulting, record)
    history.records.append(record)
    event(f"applied: {request.scope}")
    return resulting


def attempt_shipment(current: Order, package_id: str, history: History) -> Order:
    unchanged = snapshot(current)
    try:
        shipped = ship_package(current, package_id, now=NOW)
    except DomainError as error:
        assert current == unchanged
        assert error.code == "PACKAGE_NOT_SHIPPABLE"
        return current
    assert current == unchanged
    assert shipped.version == current.version + 1
    assert shipped.package(package_id).status is PackageStatus.AWAITING_COLLECTION
    assert shipped.lines == current.lines
    assert shipped.updated_at == NOW
    history.shipments += 1
    assert shipped.status is current.status or {current.status, shipped.status} == {
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.AWAITING_COLLECTION,
    }
    return shipped


def item_reasons() -> st.SearchStrategy[CancelReason]:
    return st.sampled_from([CancelReason.OUT_OF_STOCK] * 6 + list(CancelReason))


def random_step(data: st.DataObject, current: Order, history: History) -> Order:
    kind = data.draw(st.sampled_from(["items"] * 5 + ["package", "package", "ship", "order"]))
    package_ids = [p.package_id for p in current.packages]
    if kind == "ship":
        return attempt_shipment(current, data.draw(st.sampled_from(package_ids)), history)
    if kind == "package":
        request = package_request(
            data.draw(st.sampled_from(package_ids)), data.draw(st.sampled_from(CancelReason))
        )
        return attempt_cancellation(current, request, history)
    if kind == "order":
        return attempt_cancellation(
            current, order_request(data.draw(st.sampled_from(CancelReason))), history
        )
    eligible = [ln.line_id for ln in current.lines if current.line_eligibility(ln).item_cancellable]
    prefer_eligible = bool(eligible) and data.draw(st.integers(0, 3)) > 0
    pool = eligible if prefer_eligible else [ln.line_id for ln in current.lines]
    line_ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    pairs = []
    for line_id in line_ids:
        left = current.line(line_id).remaining_quantity
        quantity = data.draw(st.integers(1, max(left, 1)))
        if data.draw(st.integers(0, 5)) == 0:
            quantity = left + 1
        pairs.append((line_id, quantity))
    request = items_request(*pairs, reason=data.draw(item_reasons()))
    return attempt_cancellation(current, request, history)


def assert_refunds_add_up(current: Order, history: History) -> None:
    refunded = history.refunded
    assert refunded == current.refunded
    paid = current.paid
    assert at_most(refunded.components, paid.components)
    shipping_refunds = [r for r in history.records if r.refund.shipping_fee > 0]
    if current.remaining_quantity == 0:
        event("everything cancelled")
        assert refunded == paid
        assert refunded.components.as_tuple() == paid.components.as_tuple()
        assert refunded.shipping_fee == paid.shipping_fee
        assert refunded.total == paid.total
        assert len(shipping_refunds) == (1 if current.shipping_fee else 0)
        assert history.records[-1].refund.shipping_fee == current.shipping_fee
    else:
        assert refunded.shipping_fee == 0
        assert shipping_refunds == []
        assert refunded.total <= paid.total


def run_history(data: st.DataObject, start: Order, steps: int) -> tuple[Order, History]:
    history = History(start)
    current = start
    assert_order_invariants(current)
    assert_eligibility_matches_the_rules(current)
    for _ in range(steps):
        current = random_step(data, current, history)
        assert_order_invariants(current)
        assert_eligibility_matches_the_rules(current)
    return current, history


@PROPERTY_SETTINGS
@given(start=orders(st.sampled_from(MOSTLY_NOT_SHIPPED)), steps=st.integers(0, 8), data=st.data())
def test_random_histories_never_refund_more_than_was_paid(
    start: Order, steps: int, data: st.DataObject
) -> None:
    current, history = run_history(data, start, steps)

    if current.status in WHOLE_CANCEL_ORDER_STATUSES:
        current = attempt_cancellation(current, order_request(), history, must_succeed=True)
        assert_order_invariants(current)
    else:
        event(f"not whole-cancellable at the end: {current.status}")

    assert_refunds_add_up(current, history)
    assert current.version == start.version + len(history.records) + history.shipments
