"""The API against its own OpenAPI document: requests generated from ``docs/openapi.json``
(the document the stack serves, see test_openapi.py) by schemathesis, sent to the local
stack, and every answer checked against the document.

Each operation gets schemathesis' coverage cases (every boundary, each constraint broken in
turn) and ``FUZZED_CASES`` generated ones, valid and invalid, from a fixed seed. Every answer
must be documented: its status, its content type, its body's schema and its required
headers; no request gets a 5xx; a request the document calls valid is never a 400, and one
it calls invalid is never accepted; the same request without the token is a 401, and a
method the path does not serve a 405 with ``Allow``.

A generated id rarely names anything, so the path parameters and the lines of a
cancellation name, most of the time, the orders seeded for the test's seller, and a valid
listing's page token is one the API issued. What JSON
Schema cannot say is said in the document's descriptions, and a valid case is made to keep
it before it is sent: an order's cross-field rules (``OrderIn``), a line named once per
cancellation, and an integer written without a fraction (JSON Schema counts ``3.0`` as
one).
"""

from __future__ import annotations

import collections
import copy
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.core.parameters import ParameterLocation

from local_runtime.stack import LocalStack
from scripts.openapi import COMMITTED_DOCUMENT
from tests.integration.conftest import ApiClient, line, order_input, package, two_package_order

SEED = 20261120
# Generated cases per operation, on top of the coverage cases.
FUZZED_CASES = 25
SCOPES = ("orders.read", "orders.write", "orders.admin")
# What a valid request may still be answered, depending on the state of what it names: no
# such order (404), a rule of the order's state (409), a stale If-Match (412), an unknown
# line or package or a reason not allowed for items (422). Never 400.
STATE_DEPENDENT_STATUSES = ("2xx", "401", "403", "404", "409", "412", "422")
# The seller of a generated order until the test knows its own (see ``_as_seller``).
ANY_SELLER = "seller-of-the-token"
MAX_DISTINCT_PRODUCTS = 90
DECIMALS = {"JPY": 0, "KRW": 0, "VND": 0}


def _seeded_orders(seller_id: str) -> list[dict[str, Any]]:
    """Orders to name: awaiting shipment in USD and JPY, and one partly in transit."""
    jpy_line = line("L1", unit_price="1200", seller_discount="100", platform_discount="0", tax="96")
    return [
        *(two_package_order(f"CONF-{index}", seller_id) for index in range(6)),
        *(
            order_input(
                f"CONF-JPY-{index}", seller_id, currency="JPY", shipping_fee="500", lines=[jpy_line]
            )
            for index in range(2)
        ),
        order_input(
            "CONF-SHIPPED",
            seller_id,
            packages=[package("PK1", "IN_TRANSIT"), package("PK2")],
            lines=[line("L1", "PK1"), line("L2", "PK2", product_id="P-TOWEL")],
        ),
        # Named only by package status reports, which the cases of the cancellation
        # routes would otherwise leave with every package cancelled.
        *(two_package_order(order_id, seller_id) for order_id in REPORTED_ORDERS),
    ]


REPORTED_ORDERS = ("CONF-REPORTED-0", "CONF-REPORTED-1")
# The SKU stock-out cases name, in orders of their own (the stock-outs cancel its units).
STOCKOUT_SKU = "SKU-CONF-STOCKOUT"
STOCKOUT_ORDERS = ("CONF-STOCKOUT-0", "CONF-STOCKOUT-1")


def _stockout_orders(seller_id: str) -> list[dict[str, Any]]:
    return [
        order_input(order_id, seller_id, lines=[line("L1", quantity=50, sku_id=STOCKOUT_SKU)])
        for order_id in STOCKOUT_ORDERS
    ]


SEEDED_PACKAGES = {
    order["order_id"]: tuple(p["package_id"] for p in order["packages"])
    for order in _seeded_orders(ANY_SELLER)
}
SEEDED_LINES = {
    order["order_id"]: tuple(entry["line_id"] for entry in order["lines"])
    for order in _seeded_orders(ANY_SELLER)
}


@dataclass(frozen=True)
class Target:
    base_url: str
    seller_id: str
    token: str


@pytest.fixture(scope="module")
def target(local_stack: LocalStack) -> Iterator[Target]:
    """The stack, and a seller of this test's own with its orders."""
    seller_id = f"seller-conformance-{uuid.uuid4().hex[:8]}"
    token = local_stack.mint_token(seller_id, list(SCOPES))
    api = ApiClient(local_stack.base_url)
    for body in [*_seeded_orders(seller_id), *_stockout_orders(seller_id)]:
        response = api.put(f"/orders/{body['order_id']}", token=token, json_body=body)
        assert response.status == 201, response.body[:500]
    # A stock-out for the stock-out routes to name; it keeps all but one unit, so that the
    # cases' own stock-outs still find units to cancel.
    started = api.post(
        "/stockouts",
        token=token,
        json_body={"sku_id": STOCKOUT_SKU, "units_on_hand": 99},
        headers=[("Idempotency-Key", f"conformance-{seller_id}")],
    )
    assert started.status == 202, started.body[:500]
    STOCKOUTS.append(started.json()["stockout_id"])
    yield Target(local_stack.base_url, seller_id, token)


# The stock-out the fixture started, which stock-out paths name.
STOCKOUTS: list[str] = []


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # An order is a large document: most of what Hypothesis draws for one is too big.
            "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large"],
            "generation": {
                "mode": "all",
                "max-examples": FUZZED_CASES,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
                # The test's own token goes with every case; ignored_auth sends none or a bad one.
                "with-security-parameters": False,
            },
            "phases": {
                "examples": {"enabled": False},
                "stateful": {"enabled": False},
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": list(STATE_DEPENDENT_STATUSES)},
                # Schemathesis's list, with the gateway's own refusals of an over-long URL or
                # body (an over-long page token can make the request line too long).
                "negative_data_rejection": {
                    "expected-statuses": [
                        400,
                        401,
                        403,
                        404,
                        405,
                        406,
                        409,
                        413,
                        414,
                        415,
                        422,
                        428,
                        429,
                    ]
                },
            },
        }
    )


schema = schemathesis.openapi.from_path(COMMITTED_DOCUMENT, config=_config())


@schema.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Two cases in three name a seeded order (and one of its packages); a package status
    report always names one of the orders kept for reports."""
    generated = path_parameters or {}
    if context.operation is None or context.operation.method.upper() == "PUT":
        return st.just(path_parameters)
    if "stockout_id" in generated:
        named = st.sampled_from(STOCKOUTS).map(
            lambda stockout_id: {**generated, "stockout_id": stockout_id}
        )
        return st.one_of(st.just(path_parameters), named, named)
    if "order_id" not in generated:
        return st.just(path_parameters)

    def seeded(order_id: str) -> st.SearchStrategy[dict[str, Any]]:
        chosen = {**generated, "order_id": order_id}
        if "package_id" not in generated:
            return st.just(chosen)
        return st.sampled_from(SEEDED_PACKAGES[order_id]).map(
            lambda package_id: {**chosen, "package_id": package_id}
        )

    reported = context.operation.path.endswith("/status")
    named = REPORTED_ORDERS if reported else sorted(set(SEEDED_PACKAGES) - set(REPORTED_ORDERS))
    order_ids = st.sampled_from(named).flatmap(seeded)
    if reported:
        # Few of a report's cases are valid: each names a reported order.
        return order_ids
    return st.one_of(st.just(path_parameters), order_ids, order_ids)


@schema.hook
def map_case(context: HookContext, case: Case) -> Case:
    case.body = _without_whole_floats(case.body)
    if case.method.upper() == "PUT" and _conforms(case.body, "OrderIn"):
        _keep_the_order_rules(case)
    if case.path.endswith(("/cancellations", "/cancellations/preview")) and _conforms(
        case.body, "CancellationRequestIn"
    ):
        _name_seeded_lines(case)
    if case.path.startswith("/stockouts") and _conforms(case.body, "StockoutRequestIn"):
        # A generated SKU rarely names one: most valid cases name the seeded one.
        case.body = {**case.body, "sku_id": STOCKOUT_SKU}
    return case


DOCUMENT = json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8"))


def _conforms(body: Any, component: str) -> bool:
    """Whether ``body`` is valid by the document's schema ``component``."""
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": DOCUMENT["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return bool(validator.is_valid(body))


def _without_whole_floats(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _without_whole_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_whole_floats(item) for item in value]
    return value


def _name_seeded_lines(case: Case) -> None:
    """The first items of a valid cancellation of a seeded order name its lines, and each
    line is named once."""
    body = case.body
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return
    lines = SEEDED_LINES.get((case.path_parameters or {}).get("order_id", ""), ())
    for item, line_id in zip(items, lines, strict=False):
        if isinstance(item, dict) and "line_id" in item:
            item["line_id"] = line_id
    body["items"] = list({item["line_id"]: item for item in items}.values())


def _keep_the_order_rules(case: Case) -> None:
    """The generated order, made to keep what ``OrderIn``'s description states in words."""
    body = copy.deepcopy(case.body)
    if not isinstance(body, dict):
        return
    body["seller_id"] = ANY_SELLER
    # Hypothesis draws the same few short ids again and again: each order its own.
    body["order_id"] = f"{body['order_id'][:100]}-{next(_ORDER_NUMBERS)}"
    case.path_parameters = {**(case.path_parameters or {}), "order_id": body["order_id"]}
    packages = list({p["package_id"]: p for p in body["packages"]}.values())
    lines = list({entry["line_id"]: entry for entry in body["lines"]}.values())
    packages = packages[: len(lines)]
    decimals = DECIMALS.get(body["currency"], 2)
    products: list[str] = []
    for index, entry in enumerate(lines):
        entry["package_id"] = packages[index % len(packages)]["package_id"]
        for name in ("unit_price", "seller_discount", "platform_discount", "tax"):
            entry[name] = _with_decimals(entry[name], decimals)
        if entry["product_id"] not in products:
            if len(products) == MAX_DISTINCT_PRODUCTS:
                entry["product_id"] = products[0]
            else:
                products.append(entry["product_id"])
        discounts = _hundredths(entry["seller_discount"]) + _hundredths(entry["platform_discount"])
        if discounts > _hundredths(entry["unit_price"]) * entry["quantity"]:
            entry["seller_discount"] = entry["platform_discount"] = "0"
    body["shipping_fee"] = _with_decimals(body["shipping_fee"], decimals)
    body["packages"], body["lines"] = packages, lines
    case.body = body


_ORDER_NUMBERS = itertools.count(1)


def _with_decimals(amount: str, decimals: int) -> str:
    whole, _, fraction = amount.partition(".")
    return f"{whole}.{fraction[:decimals]}" if decimals and fraction else whole


def _hundredths(amount: str) -> int:
    whole, _, fraction = amount.partition(".")
    return int(whole) * 100 + int(fraction.ljust(2, "0"))


# The listings that take a page token: their path and the filters a token is bound to.
_LISTINGS = {
    "GET /orders": ("/orders", ("status", "product_id")),
    "GET /products": ("/products", ()),
    "GET /stockouts/{stockout_id}/orders": ("/stockouts/{stockout_id}/orders", ()),
}


def _with_a_real_page_token(case: Case, target: Target) -> None:
    """A page token the document allows is still only valid for its seller and filters:
    a valid listing goes on from a page the API itself issued for them."""
    query = dict(case.query or {})
    listing = _LISTINGS.get(case.operation.label)
    if listing is None or not query.get("page_token"):
        return
    meta = case.meta
    component = meta.components.get(ParameterLocation.QUERY) if meta is not None else None
    if component is None or component.mode != GenerationMode.POSITIVE:
        return
    path, filter_names = listing
    stockout_id = (case.path_parameters or {}).get("stockout_id")
    if stockout_id is not None:
        if stockout_id not in STOCKOUTS:
            return  # no such stock-out: 404 before the token is looked at
        path = path.format(stockout_id=stockout_id)
    filters = {name: value for name, value in query.items() if name in filter_names}
    first = requests.get(
        f"{target.base_url}{path}",
        params={**filters, "page_size": 1},
        headers={"Authorization": f"Bearer {target.token}"},
        timeout=30,
    )
    assert first.status_code == 200, first.text[:500]
    case.query = {**query, "page_token": first.json()["next_page_token"] or ""}


def _as_seller(case: Case, seller_id: str) -> None:
    """An order made valid is the test seller's (the seller is only known once it runs)."""
    if isinstance(case.body, dict) and case.body.get("seller_id") == ANY_SELLER:
        case.body = {**case.body, "seller_id": seller_id}


# The stack's background threads (the stream poller's retries, botocore's jitter) may draw
# from ``random`` while Hypothesis draws a case; that changes nothing the case is made of.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@schema.parametrize()
def test_every_answer_is_one_the_document_describes(case: Case, target: Target) -> None:
    _as_seller(case, target.seller_id)
    _with_a_real_page_token(case, target)
    response = case.call_and_validate(
        base_url=target.base_url, headers={"Authorization": f"Bearer {target.token}"}
    )
    ANSWERED[case.operation.label].add(response.status_code)


# The statuses each operation answered, to show the cases reached more than 4xx.
ANSWERED: dict[str, set[int]] = collections.defaultdict(set)


def test_every_operation_answered_a_case_with_success() -> None:
    operations = {result.ok().label for result in schema.get_all_operations()}
    if set(ANSWERED) != operations:
        pytest.skip("runs after the conformance cases of every operation")
    assert {
        label for label, statuses in ANSWERED.items() if not any(200 <= s < 300 for s in statuses)
    } == set()
