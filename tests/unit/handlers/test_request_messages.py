"""What a 400 says: the field, and what its value must be, in words a seller's developer can
act on; each problem of a request once, and only the problems it has."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.handlers.conftest import Api, Result
from tests.unit.handlers.contract import MUG, assert_problem, order_input

ITEMS_REQUEST = {
    "reason": "OUT_OF_STOCK",
    "scope": "ITEMS",
    "items": [{"line_id": "L1", "quantity": 1}],
}
# What pydantic says when nobody gave it words: none of it should reach a client.
PYDANTIC_WORDS = re.compile(
    r"String should|Input should|should match pattern|Value error|after validation|"
    r"Unable to extract tag|discriminator|\[A-Z|\{0,|\^|\$'"
)


def errors_of(result: Result) -> list[tuple[str, str]]:
    document = assert_problem(result, 400, "VALIDATION_ERROR")
    return [(error["field"], error["message"]) for error in document["errors"]]


def ingest(api: Api, **changes: Any) -> Result:
    order = {**order_input("O2"), **changes}
    return api.put("/orders/O2", json_body=order, claims=api.admin_claims())


def with_line(**changes: Any) -> dict[str, Any]:
    return {"lines": [{**MUG, **changes}]}


def test_a_json_number_for_an_amount_is_told_amounts_are_decimal_strings(api: Api) -> None:
    result = ingest(api, **with_line(unit_price=12.3))

    assert errors_of(result) == [
        ("lines[0].unit_price", 'amounts are decimal strings, such as "12.30", never JSON numbers')
    ]


def test_a_bad_email_is_described_without_a_regular_expression(api: Api) -> None:
    result = ingest(api, buyer={"name": "Ana", "email": "ana.example.com"})

    assert errors_of(result) == [
        ("buyer.email", "must be a deliverable email address such as ana@example.com")
    ]


def test_too_many_decimals_is_the_only_problem_reported_of_the_amount(api: Api) -> None:
    result = ingest(api, **with_line(unit_price="10.505"))

    ((field, message),) = errors_of(result)
    assert field == "lines[0].unit_price"
    assert "at most 2 decimals" in message


def test_decimals_the_currency_does_not_have_do_not_also_fail_the_discount_check(
    api: Api,
) -> None:
    # 1000.50 JPY is not an amount: whether the 300 of discounts exceed it is not known.
    result = ingest(
        api,
        currency="JPY",
        shipping_fee="500",
        **with_line(unit_price="1000.50", seller_discount="200", platform_discount="100", tax="0"),
    )

    assert errors_of(result) == [("lines[0].unit_price", "JPY amounts have at most 0 decimals")]


def test_discounts_over_the_subtotal_say_what_the_subtotal_is(api: Api) -> None:
    result = ingest(api, **with_line(seller_discount="29.00", platform_discount="1.50"))

    assert errors_of(result) == [
        (
            "lines[0].seller_discount",
            "the two discounts together exceed the line's subtotal (30.00)",
        )
    ]


def test_a_float_quantity_is_not_an_integer(api: Api) -> None:
    api.ingest(order_input("O1"))

    preview = api.post(
        "/orders/O1/cancellations/preview",
        json_body={**ITEMS_REQUEST, "items": [{"line_id": "L1", "quantity": 843.0}]},
    )
    ingested = ingest(api, **with_line(quantity=3.0))

    integer = 'must be a JSON integer, such as 2 (not 2.0 or "2")'
    assert errors_of(preview) == [("items[0].quantity", integer)]
    assert errors_of(ingested) == [("lines[0].quantity", integer)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": []},
            [("items", "must have at least 1 entry")],
        ),
        ({"reason": "OUT_OF_STOCK", "scope": "ITEMS"}, [("items", "is required")]),
        ({"reason": "OUT_OF_STOCK"}, [("scope", "is required")]),
        (
            {"reason": "OUT_OF_STOCK", "scope": "ALL"},
            [("scope", "must be 'ORDER', 'PACKAGE', 'ITEMS'")],
        ),
        (
            {"reason": "BUYER_REQUESTED", "scope": "ORDER", "items": [ITEMS_REQUEST["items"][0]]},
            [("items", "only allowed with scope ITEMS")],
        ),
        (
            {"reason": "BUYER_REQUESTED", "scope": "ORDER", "package_id": "PK1"},
            [("package_id", "only allowed with scope PACKAGE")],
        ),
        ({"reason": "BUYER_REQUESTED", "scope": "PACKAGE"}, [("package_id", "is required")]),
        (
            {**ITEMS_REQUEST, "items": [{"line_id": "", "quantity": 0}]},
            [
                (
                    "items[0].line_id",
                    "must be 1 to 128 letters, digits and . _ : -, starting with a letter or digit",
                ),
                ("items[0].quantity", "must be at least 1"),
            ],
        ),
        ({**ITEMS_REQUEST, "note": "x" * 501}, [("note", "must have at most 500 characters")]),
        (
            {**ITEMS_REQUEST, "reason": "BORED"},
            [
                (
                    "reason",
                    "must be 'OUT_OF_STOCK', 'PRICING_ERROR', 'UNABLE_TO_DELIVER' or "
                    "'BUYER_REQUESTED'",
                )
            ],
        ),
        ({**ITEMS_REQUEST, "colour": "blue"}, [("colour", "is not a known field")]),
    ],
)
def test_each_scope_takes_its_own_fields(
    api: Api, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    api.ingest(order_input("O1"))

    assert errors_of(api.post("/orders/O1/cancellations/preview", json_body=body)) == expected


def test_the_fields_of_another_scope_may_be_null_or_empty(api: Api) -> None:
    api.ingest(order_input("O1"))

    for body in (
        {"reason": "BUYER_REQUESTED", "scope": "ORDER", "items": [], "package_id": None},
        {"reason": "BUYER_REQUESTED", "scope": "PACKAGE", "package_id": "PK1", "items": None},
        {**ITEMS_REQUEST, "package_id": None, "note": None},
    ):
        result = api.post("/orders/O1/cancellations/preview", json_body=body)
        assert result.status == 200, (body, result.text)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order_id": "-O2"}, "order_id"),
        ({"currency": "usd"}, "currency"),
        ({"created_at": "1999-12-31T23:00:00Z"}, "created_at"),
        ({"created_at": "2026-11-20T10:00:00"}, "created_at"),
        ({"buyer": {"name": "Ana", "email": "ana@example.com", "locale": "en US"}}, "buyer.locale"),
        ({"shipping_fee": "-1"}, "shipping_fee"),
        ({"packages": [{"package_id": "PK 1", "status": "AWAITING_SHIPMENT"}]}, "packages[0]"),
        ({"packages": [{"package_id": "PK1", "status": "LOST"}]}, "packages[0].status"),
        (with_line(line_id="L/1"), "lines[0].line_id"),
        (with_line(sku_name=None), "lines[0].sku_name"),
        (with_line(quantity=0), "lines[0].quantity"),
        ({"lines": []}, "lines"),
        ({"packages": "PK1"}, "packages"),
    ],
)
def test_no_message_is_pydantics_or_a_pattern(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    errors = errors_of(ingest(api, **changes))

    assert any(name.startswith(field) for name, _ in errors), errors
    for name, message in errors:
        assert not PYDANTIC_WORDS.search(message), (name, message)


def test_list_parameters_are_described_in_words(api: Api) -> None:
    for query in ("product_id=", "product_id=P%201", "page_size=ten", "status=SHIPPED"):
        for name, message in errors_of(api.get(f"/orders?{query}")):
            assert not PYDANTIC_WORDS.search(message), (query, name, message)


def test_an_empty_product_id_is_400(api: Api) -> None:
    assert errors_of(api.get("/orders?product_id=")) == [
        (
            "product_id[0]",
            "must be 1 to 128 letters, digits and . _ : -, starting with a letter or digit",
        )
    ]


def test_the_product_id_limit_counts_every_value_sent_repeats_too(api: Api) -> None:
    api.ingest(order_input("O1"))

    twenty = api.get("/orders?" + "&".join(["product_id=P1"] * 20))
    twenty_one = api.get("/orders?" + "&".join(["product_id=P1"] * 21))

    assert twenty.status == 200, twenty.text
    assert [o["order_id"] for o in twenty.json()["orders"]] == ["O1"]
    assert errors_of(twenty_one) == [("product_id", "must have at most 20 entries")]


def test_a_path_order_id_no_order_could_have_is_400_when_ingesting(api: Api) -> None:
    result = api.put("/orders/-O2", json_body=order_input("-O2"), claims=api.admin_claims())

    # The path's id and the body's are wrong alike: said once.
    assert errors_of(result) == [
        (
            "order_id",
            "must be 1 to 128 letters, digits and . _ : -, starting with a letter or digit",
        )
    ]


def test_an_empty_idempotency_key_is_a_missing_one(api: Api) -> None:
    api.ingest(order_input("O1"))

    for key in ("", "  "):
        result = api.post(
            "/orders/O1/cancellations",
            json_body=ITEMS_REQUEST,
            headers=[("idempotency-key", key)],
        )
        document = assert_problem(result, 400, "IDEMPOTENCY_KEY_REQUIRED")
        assert [e["field"] for e in document["errors"]] == ["Idempotency-Key"]


def test_the_spaces_around_an_idempotency_key_are_not_part_of_it(api: Api) -> None:
    api.ingest(order_input("O1"))

    first = api.submit("O1", ITEMS_REQUEST, key="key-1")
    again = api.submit("O1", ITEMS_REQUEST, key="key-1 \t")

    assert first.status == again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_an_idempotency_key_out_of_printable_ascii_is_described(api: Api) -> None:
    api.ingest(order_input("O1"))

    for key in ("k" * 129, "key\x7f"):
        assert errors_of(api.submit("O1", ITEMS_REQUEST, key=key)) == [
            (
                "Idempotency-Key",
                "must be 1 to 128 printable ASCII characters, not starting or ending with a space",
            )
        ]


@pytest.mark.parametrize("if_match", ['"1"', "1", " 1 ", "*", ""])
def test_if_match_takes_the_version_quoted_or_bare(api: Api, if_match: str) -> None:
    api.ingest(order_input("O1"))

    assert api.submit("O1", ITEMS_REQUEST, if_match=if_match).status == 201


@pytest.mark.parametrize("if_match", ['W/"1"', '"1", "2"', '"٣"', "1.0"])
def test_if_match_other_than_a_version_is_400(api: Api, if_match: str) -> None:
    api.ingest(order_input("O1"))

    assert errors_of(api.submit("O1", ITEMS_REQUEST, if_match=if_match)) == [
        ("If-Match", 'must be an order version from the ETag, such as "3"')
    ]


def test_a_lower_case_t_and_z_are_a_date_time_too(api: Api) -> None:
    result = ingest(api, created_at="2026-11-20t10:00:00z")

    assert result.status == 201, result.text
    assert result.json()["created_at"] == "2026-11-20T10:00:00Z"


def test_problem_bodies_are_json_a_client_can_parse(api: Api) -> None:
    result = ingest(api, **with_line(unit_price=12.3))

    assert json.loads(result.text)["errors"]
