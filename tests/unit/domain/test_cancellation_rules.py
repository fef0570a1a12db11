from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from domain import errors
from domain.cancellation import (
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRequest,
    plan_cancellation,
)
from domain.errors import DomainError, FieldError, RequestInvalid
from domain.intake import new_order
from domain.limits import MAX_ITEMS
from domain.model import Order, OrderStatus, PackageStatus
from domain.shipping import ship_package
from tests.unit.domain.builders import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    CANCELLED,
    CREATED_AT,
    DELIVERED,
    IN_TRANSIT,
    NOW,
    after,
    apply,
    items_request,
    line,
    mug_order,
    order,
    order_fields,
    order_request,
    package,
    package_request,
    snapshot,
    split_order,
)

AS = AWAITING_SHIPMENT
AC = AWAITING_COLLECTION
OOS = CancelReason.OUT_OF_STOCK


def cancelled_order() -> Order:
    return after(mug_order(), order_request())


def pk1_cancelled() -> Order:
    """Split order whose PK1 (line L1) has been cancelled item by item; PK2 still awaiting."""
    return after(split_order(), items_request(("L1", 3)))


def pk1_cancelled_pk2_awaiting_collection() -> Order:
    return after(split_order(AS, AC), items_request(("L1", 3)))


def one_mug_cancelled() -> Order:
    return after(mug_order(), items_request(("L1", 1)))


# -- errors and their API codes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.Unauthorized, "UNAUTHORIZED"),
        (errors.Forbidden, "FORBIDDEN"),
        (errors.PayloadTooLarge, "PAYLOAD_TOO_LARGE"),
        (errors.RequestInvalid, "VALIDATION_ERROR"),
        (errors.IdempotencyKeyRequired, "IDEMPOTENCY_KEY_REQUIRED"),
        (errors.InvalidPageToken, "INVALID_PAGE_TOKEN"),
        (errors.OrderNotFound, "ORDER_NOT_FOUND"),
        (errors.OrderNotCancellable, "ORDER_NOT_CANCELLABLE"),
        (errors.PackageNotCancellable, "PACKAGE_NOT_CANCELLABLE"),
        (errors.ItemNotCancellable, "ITEM_NOT_CANCELLABLE"),
        (errors.QuantityExceedsCancellable, "QUANTITY_EXCEEDS_CANCELLABLE"),
        (errors.PackageNotShippable, "PACKAGE_NOT_SHIPPABLE"),
        (errors.IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"),
        (errors.OrderExists, "ORDER_EXISTS"),
        (errors.OrderVersionMismatch, "ORDER_VERSION_MISMATCH"),
        (errors.ReasonNotAllowedForItems, "REASON_NOT_ALLOWED_FOR_ITEMS"),
        (errors.UnknownLine, "UNKNOWN_LINE"),
        (errors.UnknownPackage, "UNKNOWN_PACKAGE"),
    ],
)
def test_every_domain_error_carries_its_api_code(error: type[DomainError], code: str) -> None:
    raised = error("something went wrong", (FieldError("f", "m"),))

    assert raised.code == code
    assert raised.detail == "something went wrong"
    assert str(raised) == "something went wrong"
    assert raised.errors == (FieldError("f", "m"),)
    assert isinstance(raised, DomainError)
    assert raised.title


def test_a_domain_error_has_no_field_errors_unless_given() -> None:
    assert errors.OrderNotFound("order O9").errors == ()


@pytest.mark.parametrize(
    ("reason", "label", "item_level_allowed"),
    [
        (CancelReason.OUT_OF_STOCK, "Out of stock", True),
        (CancelReason.PRICING_ERROR, "Pricing error", False),
        (CancelReason.UNABLE_TO_DELIVER, "Unable to deliver", False),
        (CancelReason.BUYER_REQUESTED, "Buyer requested", False),
    ],
)
def test_cancel_reasons_have_labels_and_only_out_of_stock_allows_items(
    reason: CancelReason, label: str, item_level_allowed: bool
) -> None:
    assert reason.label == label
    assert reason.item_level_allowed is item_level_allowed


def test_the_four_reason_codes_of_the_contract_exist() -> None:
    assert [r.value for r in CancelReason] == [
        "OUT_OF_STOCK",
        "PRICING_ERROR",
        "UNABLE_TO_DELIVER",
        "BUYER_REQUESTED",
    ]


# -- request shape: 400 VALIDATION_ERROR ----------------------------------------------------


def field_errors_of(build: Callable[[], object]) -> list[str]:
    with pytest.raises(RequestInvalid) as raised:
        build()
    assert raised.value.code == "VALIDATION_ERROR"
    return [e.field for e in raised.value.errors]


@pytest.mark.parametrize("scope", [CancelScope.ORDER, CancelScope.PACKAGE])
def test_items_are_only_allowed_with_scope_items(scope: CancelScope) -> None:
    assert field_errors_of(
        lambda: CancellationRequest(
            reason=OOS,
            scope=scope,
            items=(ItemRequest("L1", 1),),
            package_id="PK1" if scope is CancelScope.PACKAGE else None,
        )
    ) == ["items"]


@pytest.mark.parametrize("scope", [CancelScope.ORDER, CancelScope.ITEMS])
def test_a_package_id_is_only_allowed_with_scope_package(scope: CancelScope) -> None:
    items = (ItemRequest("L1", 1),) if scope is CancelScope.ITEMS else ()

    assert field_errors_of(
        lambda: CancellationRequest(reason=OOS, scope=scope, items=items, package_id="PK1")
    ) == ["package_id"]


@pytest.mark.parametrize("package_id", [None, ""])
def test_scope_package_needs_a_package_id(package_id: str | None) -> None:
    assert field_errors_of(
        lambda: CancellationRequest(reason=OOS, scope=CancelScope.PACKAGE, package_id=package_id)
    ) == ["package_id"]


@pytest.mark.parametrize("count", [0, MAX_ITEMS + 1])
def test_scope_items_needs_1_to_100_items(count: int) -> None:
    pairs = [(f"L{i}", 1) for i in range(count)]

    assert MAX_ITEMS == 100
    assert field_errors_of(lambda: items_request(*pairs)) == ["items"]


def test_exactly_100_distinct_items_are_a_valid_request() -> None:
    request = items_request(*[(f"L{i}", 1) for i in range(100)])

    assert len(request.items) == 100


def test_item_line_ids_must_be_distinct() -> None:
    assert field_errors_of(lambda: items_request(("L1", 1), ("L2", 1), ("L1", 2))) == [
        "items[2].line_id"
    ]


@pytest.mark.parametrize("quantity", [0, -1])
def test_item_quantities_must_be_at_least_1(quantity: int) -> None:
    assert field_errors_of(lambda: items_request(("L1", 1), ("L2", quantity))) == [
        "items[1].quantity"
    ]


def test_a_note_has_at_most_500_characters() -> None:
    assert items_request(("L1", 1), note="n" * 500).note == "n" * 500
    assert field_errors_of(lambda: items_request(("L1", 1), note="n" * 501)) == ["note"]


def test_every_shape_problem_is_listed_at_once() -> None:
    with pytest.raises(RequestInvalid) as raised:
        CancellationRequest(
            reason=OOS,
            scope=CancelScope.ITEMS,
            items=(ItemRequest("L1", 0), ItemRequest("L1", 1)),
            package_id="PK1",
            note="n" * 501,
        )

    assert raised.value.errors == (
        FieldError("items[0].quantity", "must be at least 1"),
        FieldError("items[1].line_id", "line L1 is repeated"),
        FieldError("package_id", "only allowed with scope PACKAGE"),
        FieldError("note", "at most 500 characters"),
    )
    assert raised.value.detail == (
        "items[0].quantity: must be at least 1; items[1].line_id: line L1 is repeated; "
        "package_id: only allowed with scope PACKAGE; note: at most 500 characters"
    )


# -- plan_cancellation: 422 and 409, with their precedence ----------------------------------


def expect_rejection(
    given: Order, request: CancellationRequest, error: type[DomainError]
) -> DomainError:
    before = snapshot(given)
    with pytest.raises(error) as raised:
        plan_cancellation(given, request)
    assert given == before
    with pytest.raises(error):
        apply(given, request)
    assert given == before
    return raised.value


REJECTIONS = [
    # 422 REASON_NOT_ALLOWED_FOR_ITEMS
    *(
        pytest.param(
            mug_order,
            items_request(("L1", 1), reason=reason),
            errors.ReasonNotAllowedForItems,
            id=f"items with reason {reason}",
        )
        for reason in CancelReason
        if reason is not OOS
    ),
    # 422 UNKNOWN_LINE / UNKNOWN_PACKAGE
    pytest.param(
        mug_order, items_request(("L1", 1), ("L9", 1)), errors.UnknownLine, id="unknown line"
    ),
    pytest.param(mug_order, package_request("PK9"), errors.UnknownPackage, id="unknown package"),
    # 409 ORDER_NOT_CANCELLABLE, for each scope
    *(
        pytest.param(
            build, order_request(), errors.OrderNotCancellable, id=f"order scope on {name}"
        )
        for name, build in [
            ("partially shipping", lambda: split_order(AS, IN_TRANSIT)),
            ("in transit", lambda: mug_order(IN_TRANSIT)),
            ("delivered", lambda: mug_order(DELIVERED)),
            ("cancelled", cancelled_order),
        ]
    ),
    *(
        pytest.param(
            build,
            package_request("PK1"),
            errors.OrderNotCancellable,
            id=f"package scope on {name}",
        )
        for name, build in [
            ("partially shipping", lambda: split_order(AS, IN_TRANSIT)),
            ("partially shipping, collection", lambda: split_order(AC, DELIVERED)),
            ("in transit", lambda: mug_order(IN_TRANSIT)),
            ("delivered", lambda: mug_order(DELIVERED)),
            ("cancelled", cancelled_order),
        ]
    ),
    *(
        pytest.param(
            build,
            items_request(("L1", 1)),
            errors.OrderNotCancellable,
            id=f"items scope on {name}",
        )
        for name, build in [
            ("awaiting collection", lambda: mug_order(AC)),
            ("partially shipping", lambda: split_order(AS, IN_TRANSIT)),
            ("in transit", lambda: mug_order(IN_TRANSIT)),
            ("delivered", lambda: mug_order(DELIVERED)),
            ("cancelled", cancelled_order),
        ]
    ),
    # 409 PACKAGE_NOT_CANCELLABLE
    pytest.param(
        pk1_cancelled,
        package_request("PK1"),
        errors.PackageNotCancellable,
        id="cancelled package of a live order",
    ),
    # 409 ITEM_NOT_CANCELLABLE
    pytest.param(
        pk1_cancelled,
        items_request(("L1", 1)),
        errors.ItemNotCancellable,
        id="fully cancelled line",
    ),
    pytest.param(
        lambda: split_order(AS, AC),
        items_request(("L2", 1)),
        errors.ItemNotCancellable,
        id="line of a package awaiting collection",
    ),
    # 409 QUANTITY_EXCEEDS_CANCELLABLE
    pytest.param(
        one_mug_cancelled,
        items_request(("L1", 3)),
        errors.QuantityExceedsCancellable,
        id="more than is left",
    ),
    # precedence: 422 before 409, and within each
    pytest.param(
        cancelled_order,
        items_request(("L9", 1), reason=CancelReason.PRICING_ERROR),
        errors.ReasonNotAllowedForItems,
        id="reason before unknown line and order status",
    ),
    pytest.param(
        lambda: mug_order(AC),
        items_request(("L1", 1), ("L9", 1)),
        errors.UnknownLine,
        id="unknown line before order status",
    ),
    pytest.param(
        pk1_cancelled,
        items_request(("L1", 1), ("L9", 1), ("L2", 5)),
        errors.UnknownLine,
        id="unknown line before item and quantity",
    ),
    pytest.param(
        lambda: mug_order(IN_TRANSIT),
        package_request("PK9"),
        errors.UnknownPackage,
        id="unknown package before order status",
    ),
    pytest.param(
        cancelled_order,
        package_request("PK1"),
        errors.OrderNotCancellable,
        id="order status before cancelled package",
    ),
    pytest.param(
        pk1_cancelled_pk2_awaiting_collection,
        items_request(("L1", 1)),
        errors.OrderNotCancellable,
        id="order status before fully cancelled line",
    ),
    pytest.param(
        lambda: split_order(AC, AC),
        items_request(("L1", 9)),
        errors.OrderNotCancellable,
        id="order status before quantity",
    ),
    pytest.param(
        pk1_cancelled,
        items_request(("L2", 5), ("L1", 1)),
        errors.ItemNotCancellable,
        id="item before quantity",
    ),
]


@pytest.mark.parametrize(("build", "request_", "error"), REJECTIONS)
def test_a_rejected_request_raises_its_error_and_changes_nothing(
    build: Callable[[], Order], request_: CancellationRequest, error: type[DomainError]
) -> None:
    expect_rejection(build(), request_, error)


def test_reason_not_allowed_for_items_points_at_the_reason() -> None:
    raised = expect_rejection(
        mug_order(),
        items_request(("L1", 1), reason=CancelReason.BUYER_REQUESTED),
        errors.ReasonNotAllowedForItems,
    )

    assert raised.code == "REASON_NOT_ALLOWED_FOR_ITEMS"
    assert [e.field for e in raised.errors] == ["reason"]


@pytest.mark.parametrize("reason", [r for r in CancelReason if r is not CancelReason.OUT_OF_STOCK])
def test_any_reason_may_cancel_a_package_or_the_whole_order(reason: CancelReason) -> None:
    assert plan_cancellation(split_order(), package_request("PK1", reason)).refund.total > 0
    assert plan_cancellation(split_order(), order_request(reason)).refund.total > 0


def test_unknown_line_lists_every_unknown_line_with_its_index() -> None:
    raised = expect_rejection(
        mug_order(), items_request(("L8", 1), ("L1", 1), ("L9", 1)), errors.UnknownLine
    )

    assert raised.code == "UNKNOWN_LINE"
    assert raised.detail == "order O1 has no line L8, L9"
    assert raised.errors == (
        FieldError("items[0].line_id", "unknown line L8"),
        FieldError("items[2].line_id", "unknown line L9"),
    )


def test_unknown_package_points_at_the_package_id() -> None:
    raised = expect_rejection(mug_order(), package_request("PK9"), errors.UnknownPackage)

    assert raised.code == "UNKNOWN_PACKAGE"
    assert raised.detail == "order O1 has no package PK9"
    assert raised.errors == (FieldError("package_id", "unknown package"),)


@pytest.mark.parametrize(
    "request_", [order_request(), package_request("PK1"), items_request(("L1", 1))]
)
def test_order_not_cancellable_names_the_order_status(request_: CancellationRequest) -> None:
    raised = expect_rejection(split_order(AS, IN_TRANSIT), request_, errors.OrderNotCancellable)

    assert raised.code == "ORDER_NOT_CANCELLABLE"
    assert raised.detail.startswith("order O1 is PARTIALLY_SHIPPING;")


def test_package_not_cancellable_names_the_package_status() -> None:
    raised = expect_rejection(pk1_cancelled(), package_request("PK1"), errors.PackageNotCancellable)

    assert raised.code == "PACKAGE_NOT_CANCELLABLE"
    assert raised.detail == "package PK1 is CANCELLED"
    assert raised.errors == (FieldError("package_id", "package is CANCELLED"),)


def test_item_not_cancellable_for_a_fully_cancelled_line() -> None:
    raised = expect_rejection(pk1_cancelled(), items_request(("L1", 1)), errors.ItemNotCancellable)

    assert raised.code == "ITEM_NOT_CANCELLABLE"
    assert raised.detail == "line L1 is fully cancelled"
    assert raised.errors == (FieldError("items[0].line_id", "line L1 is fully cancelled"),)


def test_item_not_cancellable_for_a_line_awaiting_collection_in_an_awaiting_shipment_order() -> (
    None
):
    split = split_order(AS, AC)
    assert split.status is OrderStatus.AWAITING_SHIPMENT

    raised = expect_rejection(split, items_request(("L1", 1), ("L2", 1)), errors.ItemNotCancellable)

    assert raised.code == "ITEM_NOT_CANCELLABLE"
    assert raised.detail == "line L2 is in package PK2, which is AWAITING_COLLECTION"
    assert [e.field for e in raised.errors] == ["items[1].line_id"]


def test_item_not_cancellable_wins_over_an_excess_quantity_in_the_same_request() -> None:
    split = after(split_order(AS, AS), items_request(("L1", 3)))

    raised = expect_rejection(split, items_request(("L2", 5), ("L1", 1)), errors.ItemNotCancellable)

    assert raised.errors == (FieldError("items[1].line_id", "line L1 is fully cancelled"),)


def test_item_not_cancellable_lists_each_line_that_cannot_be_cancelled() -> None:
    three = order(
        line("L1", package_id="PK1", quantity=2),
        line("L2", package_id="PK2"),
        line("L3", package_id="PK3"),
        packages=[package("PK1"), package("PK2", AC), package("PK3")],
    )
    three = after(three, items_request(("L1", 2)))

    raised = expect_rejection(
        three, items_request(("L3", 1), ("L1", 1), ("L2", 1)), errors.ItemNotCancellable
    )

    assert raised.detail == (
        "line L1 is fully cancelled; line L2 is in package PK2, which is AWAITING_COLLECTION"
    )
    assert [e.field for e in raised.errors] == ["items[1].line_id", "items[2].line_id"]


def test_quantity_exceeds_cancellable_says_how_many_are_left() -> None:
    raised = expect_rejection(
        one_mug_cancelled(), items_request(("L1", 3)), errors.QuantityExceedsCancellable
    )

    assert raised.code == "QUANTITY_EXCEEDS_CANCELLABLE"
    assert raised.detail == "line L1: 3 requested, 2 cancellable"
    assert raised.errors == (FieldError("items[0].quantity", "at most 2 cancellable"),)


def test_quantity_exceeds_cancellable_lists_every_line_asking_too_much() -> None:
    raised = expect_rejection(
        split_order(), items_request(("L2", 3), ("L1", 4)), errors.QuantityExceedsCancellable
    )

    assert raised.detail == (
        "line L2: 3 requested, 2 cancellable; line L1: 4 requested, 3 cancellable"
    )
    assert raised.errors == (
        FieldError("items[0].quantity", "at most 2 cancellable"),
        FieldError("items[1].quantity", "at most 3 cancellable"),
    )


def test_cancelling_exactly_what_is_left_is_allowed() -> None:
    plan = plan_cancellation(one_mug_cancelled(), items_request(("L1", 2)))

    assert [(item.line_id, item.quantity) for item in plan.items] == [("L1", 2)]


def test_a_package_awaiting_collection_can_be_cancelled_with_its_order_awaiting_shipment() -> None:
    plan = plan_cancellation(split_order(AS, AC), package_request("PK2"))

    assert [(item.line_id, item.quantity) for item in plan.items] == [("L2", 2)]
    assert plan.resulting_order.package("PK2").status is PackageStatus.CANCELLED


def test_a_whole_order_awaiting_collection_can_be_cancelled() -> None:
    plan = plan_cancellation(split_order(AC, AC), order_request())

    assert plan.resulting_order_status is OrderStatus.CANCELLED


# -- ship_package ---------------------------------------------------------------------------


def test_shipping_a_package_moves_it_to_awaiting_collection_and_bumps_the_version() -> None:
    split = split_order()
    before = snapshot(split)

    shipped = ship_package(split, "PK2", now=NOW)

    assert split == before
    assert shipped.package("PK2").status is PackageStatus.AWAITING_COLLECTION
    assert shipped.package("PK1").status is PackageStatus.AWAITING_SHIPMENT
    assert shipped.status is OrderStatus.AWAITING_SHIPMENT
    assert shipped.version == split.version + 1 == 2
    assert shipped.updated_at == NOW
    assert shipped.lines == split.lines
    assert shipped.line_eligibility(shipped.line("L2")).ineligible_reason == (
        "PACKAGE_NOT_AWAITING_SHIPMENT"
    )


def test_shipping_the_only_package_makes_the_order_awaiting_collection() -> None:
    shipped = ship_package(mug_order(), "PK1", now=NOW)

    assert shipped.status is OrderStatus.AWAITING_COLLECTION
    assert shipped.version == 2
    assert shipped.actions.cancel_items is False
    assert shipped.actions.cancel_order is True


def test_a_package_awaiting_shipment_of_a_partially_shipping_order_can_be_shipped() -> None:
    shipped = ship_package(split_order(AS, IN_TRANSIT), "PK1", now=NOW)

    assert shipped.package("PK1").status is PackageStatus.AWAITING_COLLECTION
    assert shipped.status is OrderStatus.PARTIALLY_SHIPPING


@pytest.mark.parametrize(
    ("build", "package_id"),
    [
        (lambda: mug_order(AC), "PK1"),
        (lambda: mug_order(IN_TRANSIT), "PK1"),
        (lambda: mug_order(DELIVERED), "PK1"),
        (pk1_cancelled, "PK1"),
    ],
    ids=["awaiting collection", "in transit", "delivered", "cancelled"],
)
def test_only_a_package_awaiting_shipment_can_be_shipped(
    build: Callable[[], Order], package_id: str
) -> None:
    given = build()
    before = snapshot(given)

    with pytest.raises(errors.PackageNotShippable) as raised:
        ship_package(given, package_id, now=NOW)

    assert raised.value.code == "PACKAGE_NOT_SHIPPABLE"
    assert raised.value.detail.startswith(f"package {package_id} is ")
    assert given == before


def test_shipping_an_unknown_package_is_unknown_package() -> None:
    given = mug_order()
    before = snapshot(given)

    with pytest.raises(errors.UnknownPackage) as raised:
        ship_package(given, "PK9", now=NOW)

    assert raised.value.code == "UNKNOWN_PACKAGE"
    assert raised.value.errors == (FieldError("package_id", "unknown package"),)
    assert given == before


# -- new_order ------------------------------------------------------------------------------


def test_a_new_order_is_version_1_with_amounts_in_minor_units() -> None:
    mugs = mug_order()

    assert mugs.version == 1
    assert mugs.created_at == CREATED_AT
    assert mugs.updated_at == CREATED_AT
    assert mugs.shipping_fee == 599
    assert mugs.shipping_refunded is False
    (mug,) = mugs.lines
    assert (mug.quantity, mug.unit_price, mug.seller_discount, mug.platform_discount, mug.tax) == (
        3,
        1000,
        300,
        150,
        204,
    )
    assert mug.cancelled_quantity == 0
    assert mugs.status is OrderStatus.AWAITING_SHIPMENT


def test_a_new_jpy_order_reads_amounts_without_decimals() -> None:
    yen = new_order(
        **order_fields(
            line(unit_price="1500", tax="150", seller_discount="100"),
            currency="JPY",
            shipping_fee="500",
        )
    )

    assert (yen.lines[0].unit_price, yen.lines[0].tax, yen.shipping_fee) == (1500, 150, 500)


def new_order_field_errors(**fields: object) -> list[str]:
    return field_errors_of(lambda: new_order(**fields))


def test_new_order_rejects_an_unknown_currency_before_anything_else() -> None:
    assert new_order_field_errors(
        **order_fields(line(unit_price="x"), currency="XXX", shipping_fee="bad")
    ) == ["currency"]


NAIVE = datetime(2026, 11, 20, 10, 0)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(order_fields(line(), created_at=NAIVE), ["created_at"], id="naive created_at"),
        pytest.param(
            {**order_fields(line()), "buyer": replace(mug_order().buyer, email="ana.example.com")},
            ["buyer.email"],
            id="email without @",
        ),
        pytest.param(
            order_fields(line(), shipping_fee="5.999"), ["shipping_fee"], id="shipping decimals"
        ),
        pytest.param(
            order_fields(line(), shipping_fee=5.99), ["shipping_fee"], id="shipping as float"
        ),
        pytest.param(
            order_fields(line(unit_price="10.5"), currency="JPY"),
            ["lines[0].unit_price"],
            id="JPY price with decimals",
        ),
        pytest.param(
            order_fields(line(unit_price="-1.00")), ["lines[0].unit_price"], id="negative price"
        ),
        pytest.param(
            order_fields(line(seller_discount="1e2")),
            ["lines[0].seller_discount"],
            id="exponent",
        ),
        pytest.param(
            order_fields(line(platform_discount="0.001")),
            ["lines[0].platform_discount"],
            id="platform discount decimals",
        ),
        pytest.param(order_fields(line(tax="")), ["lines[0].tax"], id="empty tax"),
        pytest.param(
            {**order_fields(line()), "packages": [], "lines": []},
            ["packages", "lines"],
            id="no packages, no lines",
        ),
        pytest.param(
            order_fields(line(), packages=[package("PK1"), package("PK1")]),
            ["packages[1].package_id"],
            id="repeated package",
        ),
        pytest.param(
            order_fields(line(), packages=[package("PK1", CANCELLED)]),
            ["packages[0].status"],
            id="cancelled package",
        ),
        pytest.param(
            order_fields(line("L1"), line("L1")), ["lines[1].line_id"], id="repeated line"
        ),
        pytest.param(
            order_fields(line(package_id="PK9"), packages=[package("PK1")]),
            ["lines[0].package_id", "packages[0]"],
            id="line in unknown package, package without lines",
        ),
        pytest.param(order_fields(line(quantity=0)), ["lines[0].quantity"], id="quantity 0"),
        pytest.param(
            order_fields(
                line(
                    quantity=2, unit_price="1.00", seller_discount="1.50", platform_discount="0.51"
                )
            ),
            ["lines[0].seller_discount"],
            id="discounts above the subtotal",
        ),
        pytest.param(
            order_fields(line(), packages=[package("PK1"), package("PK2")]),
            ["packages[1]"],
            id="package without lines",
        ),
    ],
)
def test_new_order_rejects_an_invalid_order_input(
    fields: dict[str, object], expected: list[str]
) -> None:
    assert new_order_field_errors(**fields) == expected


def test_discounts_may_add_up_to_exactly_the_subtotal() -> None:
    free = new_order(
        **order_fields(
            line(quantity=2, unit_price="1.00", seller_discount="1.50", platform_discount="0.50")
        )
    )

    assert free.paid.components.total == 0


def test_new_order_lists_every_problem_at_once() -> None:
    with pytest.raises(RequestInvalid) as raised:
        new_order(
            **order_fields(
                line("L1", quantity=0, tax="1.234"),
                line("L1"),
                created_at=NAIVE,
                shipping_fee="-1",
            )
        )

    assert [e.field for e in raised.value.errors] == [
        "created_at",
        "shipping_fee",
        "lines[0].quantity",
        "lines[0].tax",
        "lines[1].line_id",
    ]
    assert raised.value.detail.startswith("created_at: must carry a time zone; shipping_fee: ")
