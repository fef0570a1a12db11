"""Requests that race: the local runtime runs several warm instances of each function, as
Lambda does, so concurrent HTTP requests really meet in DynamoDB. Whatever the
interleaving, units are cancelled at most once, a key creates one cancellation, and a
package that left Awaiting Shipment gets no item cancelled."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local_runtime.functions.runtime import DEFAULT_MAX_INSTANCES, FunctionRuntime
from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    API_FUNCTIONS,
    ApiResponse,
    IdFactory,
    RuntimeFactory,
    SellerClient,
    SellerFactory,
    assert_problem,
    items_request,
    line,
    new_idempotency_key,
    order_input,
    order_request,
    package_request,
    two_package_order,
    without_notification,
)

pytestmark = pytest.mark.integration

BARRIER_TIMEOUT_SECONDS = 20
# A client that gets 503 (the order kept changing) tries again with the same key.
RETRIES_AFTER_503 = 10


def _all_at_once[T](count: int, work: Callable[[int], T]) -> list[T]:
    """Runs ``work(0..count-1)`` in ``count`` threads released together."""
    start = threading.Barrier(count, timeout=BARRIER_TIMEOUT_SECONDS)

    def run(index: int) -> T:
        start.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _submit(seller: SellerClient, order_id: str, request: Any, key: str) -> ApiResponse:
    """Submits like a well-behaved client: on 503 the same request with the same key again."""
    for _ in range(RETRIES_AFTER_503):
        response = seller.cancel(order_id, request, key=key)
        if response.status != 503:
            return response
        assert response.headers.get("retry-after")
    return response


def _money(amount: str) -> Decimal:
    return Decimal(amount)


# --- the runtime: several independent instances per function ---------------------------

# A barrier across processes: each caller leaves a file in SYNC_DIR and waits until PARTIES
# files are there; what it reports is how many it saw at most, its process and its state.
_BARRIER_MODULE = """
import os
import time
from pathlib import Path

SYNC_DIR = Path(os.environ["SYNC_DIR"])
PARTIES = int(os.environ["PARTIES"])
TIMEOUT_SECONDS = float(os.environ["BARRIER_TIMEOUT_SECONDS"])


def wait_for_the_others(name):
    mine = SYNC_DIR / f"{os.getpid()}-{name}"
    mine.touch()
    deadline, most = time.monotonic() + TIMEOUT_SECONDS, 0
    try:
        while True:
            inside = len(list(SYNC_DIR.iterdir()))
            most = max(most, inside)
            if inside >= PARTIES or time.monotonic() > deadline:
                return most
            time.sleep(0.01)
    finally:
        mine.unlink()
"""

_COUNTING_HANDLER = """
import os

from busy_barrier import wait_for_the_others

STATE = {}


def handler(event, context):
    most = wait_for_the_others(context.aws_request_id)
    return {"pid": os.getpid(), "state": id(STATE), "most": most}
"""


@pytest.fixture
def busy_runtime_of(runtime_of: RuntimeFactory, tmp_path: Path) -> Callable[..., FunctionRuntime]:
    """``busy_runtime_of({"name": "<handler module source>"}, instances=4, parties=2)``: a
    started runtime of functions whose handlers can import ``busy_barrier`` and wait there
    until ``parties`` callers are inside."""

    def make(
        sources: dict[str, str], instances: int = DEFAULT_MAX_INSTANCES, parties: int = 1
    ) -> FunctionRuntime:
        sync_dir = tmp_path / "inside"
        sync_dir.mkdir()
        return runtime_of(
            sources,
            modules={"busy_barrier": _BARRIER_MODULE},
            environment={
                "SYNC_DIR": str(sync_dir),
                "PARTIES": str(parties),
                "BARRIER_TIMEOUT_SECONDS": str(BARRIER_TIMEOUT_SECONDS),
            },
            max_instances=instances,
        )

    return make


def test_a_function_serves_as_many_requests_at_once_as_it_has_instances_and_no_more(
    busy_runtime_of: Callable[..., FunctionRuntime],
) -> None:
    pool_size = 3
    runtime = busy_runtime_of({"busy": _COUNTING_HANDLER}, instances=pool_size, parties=pool_size)
    runtime.warm("BusyFunction", pool_size)
    instances = runtime.instances("BusyFunction")

    results = _all_at_once(3 * pool_size, lambda _: runtime.invoke("BusyFunction", {}))

    assert len(instances) == pool_size
    assert len({instance.pid for instance in instances} - {os.getpid()}) == pool_size
    assert max(result["most"] for result in results) == pool_size
    assert {result["pid"] for result in results} == {instance.pid for instance in instances}
    assert len({(result["pid"], result["state"]) for result in results}) == pool_size
    assert runtime.instances("BusyFunction") == instances


def test_another_instance_starts_when_every_started_one_is_busy(
    busy_runtime_of: Callable[..., FunctionRuntime],
) -> None:
    runtime = busy_runtime_of({"busy": _COUNTING_HANDLER}, instances=2, parties=2)
    runtime.warm("BusyFunction", 1)
    before = runtime.instances("BusyFunction")

    results = _all_at_once(2, lambda _: runtime.invoke("BusyFunction", {}))

    assert len(before) == 1
    assert len(runtime.instances("BusyFunction")) == 2
    assert len({result["pid"] for result in results}) == 2


_RESOLVER_HANDLER = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from busy_barrier import wait_for_the_others

app = APIGatewayHttpResolver()


@app.get("/echo/<name>")
def echo(name):
    wait_for_the_others(name)
    return {
        "name": name,
        "path": app.current_event.path,
        "header": app.current_event.headers.get("x-caller"),
        "request_id": app.lambda_context.aws_request_id,
    }


def handler(event, context):
    return app.resolve(event, context)
"""


def _http_event(path: str, caller: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "GET /echo/{name}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"x-caller": caller},
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": caller,
        },
        "pathParameters": {"name": path.rsplit("/", 1)[1]},
        "isBase64Encoded": False,
    }


def test_requests_handled_at_once_by_powertools_resolvers_each_see_their_own_event(
    busy_runtime_of: Callable[..., FunctionRuntime],
) -> None:
    """Powertools keeps the current event on its BaseRouter class: each request, handled at
    the same time as the others by instances of two functions, still sees its own."""
    calls = [(function, f"caller-{index}") for index in range(3) for function in ("Left", "Right")]
    runtime = busy_runtime_of(
        {"left": _RESOLVER_HANDLER, "right": _RESOLVER_HANDLER}, parties=len(calls)
    )
    assert runtime.preload(3) == {}

    def call(index: int) -> dict[str, Any]:
        function, caller = calls[index]
        event = _http_event(f"/echo/{caller}", caller)
        return runtime.invoke(f"{function}Function", event)

    results = _all_at_once(len(calls), call)

    assert [r["statusCode"] for r in results] == [200] * len(calls)
    for (_function_name, caller), result in zip(calls, results, strict=True):
        body = json.loads(result["body"])
        assert (body["name"], body["path"], body["header"]) == (caller, f"/echo/{caller}", caller)
    request_ids = [json.loads(r["body"])["request_id"] for r in results]
    assert len(set(request_ids)) == len(calls)


def test_each_instance_of_the_local_stacks_api_functions_is_a_process_of_its_own(
    local_stack: LocalStack,
) -> None:
    assert DEFAULT_MAX_INSTANCES >= 2
    for function_id in API_FUNCTIONS:
        local_stack.functions.warm(function_id, DEFAULT_MAX_INSTANCES)
        instances = local_stack.functions.instances(function_id)
        assert len(instances) == DEFAULT_MAX_INSTANCES
        pids = {instance.pid for instance in instances}
        assert len(pids) == len(instances)
        assert os.getpid() not in pids
        assert all(instance.alive for instance in instances)


# --- races over HTTP -----------------------------------------------------------------------


def test_racing_cancellations_of_the_same_units_cancel_each_unit_once(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    units, contenders = 4, 10
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id, lines=[line(quantity=units)]))
    keys = [new_idempotency_key() for _ in range(contenders)]

    responses = _all_at_once(
        contenders, lambda i: _submit(seller, order_id, items_request(("L1", 1)), keys[i])
    )

    statuses = Counter(response.status for response in responses)
    assert statuses == {201: units, 409: contenders - units}, statuses
    created = [r.json() for r in responses if r.status == 201]
    assert all("idempotent-replayed" not in r.headers for r in responses if r.status == 201)
    for refused in (r for r in responses if r.status == 409):
        assert refused.json()["code"] in {"ORDER_NOT_CANCELLABLE", "ITEM_NOT_CANCELLABLE"}
    stored = seller.cancellation_list(order_id)
    assert sorted(c["cancellation_id"] for c in stored) == sorted(
        c["cancellation_id"] for c in created
    )
    assert sum(item["quantity"] for c in stored for item in c["items"]) == units
    assert len({c["order_version"] for c in stored}) == units
    order = seller.order(order_id)
    assert order["lines"][0]["cancelled_quantity"] == units
    assert order["status"] == "CANCELLED"
    assert order["refunded_total"] == order["paid_total"]
    assert sum(_money(c["refund"]["total"]) for c in stored) == _money(order["paid_total"])
    assert sum(_money(c["refund"]["shipping_fee"]) for c in stored) == _money("5.99")


def test_racing_cancellations_of_every_scope_never_refund_more_than_was_paid(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    requests = [
        items_request(("L1", 1)),
        items_request(("L1", 2)),
        items_request(("L1", 1), ("L2", 1)),
        items_request(("L2", 2)),
        package_request("PK1"),
        package_request("PK2"),
        order_request(),
        items_request(("L1", 1)),
    ]

    responses = _all_at_once(
        len(requests),
        lambda i: _submit(seller, order_id, requests[i], new_idempotency_key()),
    )

    assert {r.status for r in responses} <= {201, 409}, [r.body[:200] for r in responses]
    stored = seller.cancellation_list(order_id)
    assert len(stored) == sum(r.status == 201 for r in responses)
    cancelled: Counter[str] = Counter()
    for cancellation in stored:
        for item in cancellation["items"]:
            cancelled[item["line_id"]] += item["quantity"]
    order = seller.order(order_id)
    # The ORDER request either won or found nothing left: either way all is cancelled.
    assert cancelled == {"L1": 3, "L2": 2}
    assert {ln["line_id"]: ln["cancelled_quantity"] for ln in order["lines"]} == cancelled
    assert order["status"] == "CANCELLED"
    assert order["refunded_total"] == order["paid_total"]
    assert sum(_money(c["refund"]["total"]) for c in stored) == _money(order["paid_total"])
    assert [c["order_version"] for c in stored] == sorted({c["order_version"] for c in stored})


def test_the_same_key_submitted_at_once_creates_one_cancellation(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))
    key, request, contenders = new_idempotency_key(), items_request(("L1", 1)), 8

    responses = _all_at_once(contenders, lambda _: _submit(seller, order_id, request, key))

    assert [r.status for r in responses] == [201] * contenders, [r.body for r in responses]
    assert len({json.dumps(without_notification(r.json())) for r in responses}) == 1
    originals = [r for r in responses if r.headers.get("idempotent-replayed") != "true"]
    assert len(originals) == 1
    stored = seller.cancellation_list(order_id)
    assert [c["cancellation_id"] for c in stored] == [responses[0].json()["cancellation_id"]]
    assert seller.order(order_id)["lines"][0]["cancelled_quantity"] == 1


@pytest.mark.parametrize("packages", ["one package", "two packages"])
def test_a_cancellation_racing_a_shipment_never_cancels_items_of_a_shipped_package(
    seller: SellerClient, unique_id: IdFactory, packages: str
) -> None:
    for _round in range(4):
        order_id = unique_id("ORD")
        body = (
            order_input(order_id, seller.seller_id)
            if packages == "one package"
            else two_package_order(order_id, seller.seller_id)
        )
        seller.create_order(body)

        def race(index: int, order_id: str = order_id) -> ApiResponse:
            if index == 0:
                return seller.ship(order_id, "PK1")
            return _submit(seller, order_id, items_request(("L1", 1)), new_idempotency_key())

        ship, *cancels = _all_at_once(3, race)

        assert ship.status == 200, ship.body
        shipped_version = ship.json()["version"]
        order = seller.order(order_id)
        assert order["packages"][0]["status"] == "AWAITING_COLLECTION"
        items_cancellations = [
            c for c in seller.cancellation_list(order_id) if c["scope"] == "ITEMS"
        ]
        assert all(c["order_version"] < shipped_version for c in items_cancellations)
        assert len(items_cancellations) == sum(r.status == 201 for r in cancels)
        assert order["lines"][0]["cancelled_quantity"] == len(items_cancellations)
        for refused in (r for r in cancels if r.status != 201):
            assert_problem(
                refused,
                409,
                "ORDER_NOT_CANCELLABLE" if packages == "one package" else "ITEM_NOT_CANCELLABLE",
            )


def test_the_same_order_ingested_at_once_is_created_once(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id, contenders = unique_id("ORD"), 6
    same = order_input(order_id, seller.seller_id)
    different = order_input(order_id, seller.seller_id, shipping_fee="0.00")

    responses = _all_at_once(contenders, lambda i: seller.put_order(same if i % 2 else different))

    statuses = sorted(r.status for r in responses)
    assert statuses.count(201) == 1, statuses
    winner = next(r for r in responses if r.status == 201).json()
    winning_body = same if winner["shipping_fee"] == "5.99" else different
    for body, response in zip(
        [different if i % 2 == 0 else same for i in range(contenders)], responses, strict=True
    ):
        if response.status != 201:
            expected = 200 if body is winning_body else 409
            assert response.status == expected, response.body
    assert seller.order(order_id)["shipping_fee"] == winner["shipping_fee"]


def test_concurrent_requests_of_two_sellers_each_see_only_their_own(
    make_seller: SellerFactory, unique_id: IdFactory
) -> None:
    sellers = [make_seller(), make_seller()]
    unit_prices = ["10.00", "20.00"]
    orders = []
    for seller, unit_price in zip(sellers, unit_prices, strict=True):
        order_id = unique_id("ORD")
        seller.create_order(
            order_input(order_id, seller.seller_id, lines=[line(unit_price=unit_price)])
        )
        orders.append(order_id)

    def work(index: int) -> tuple[int, ApiResponse]:
        owner = index % 2
        seller, order_id = sellers[owner], orders[owner]
        kind = (index // 2) % 3
        if kind == 0:
            return owner, seller.get_order(order_id)
        if kind == 1:
            return owner, seller.preview(order_id, items_request(("L1", 1)))
        return owner, seller.list_orders()

    results = _all_at_once(24, work)

    for owner, response in results:
        assert response.status == 200, response.body
        document = response.json()
        if "orders" in document:
            assert [o["order_id"] for o in document["orders"]] == [orders[owner]]
        elif "order_id" in document:
            assert document["order_id"] == orders[owner]
        else:
            assert document["refund"]["subtotal"] == unit_prices[owner]


def test_two_submits_with_the_same_if_match_at_once_one_wins_and_the_other_is_412(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    for _round in range(3):
        order_id = unique_id("ORD")
        seller.create_order(order_input(order_id, seller.seller_id))
        etag = seller.get_order(order_id).headers["etag"]

        responses = _all_at_once(
            2,
            lambda _, order_id=order_id, etag=etag: seller.cancel(
                order_id, items_request(("L1", 1)), if_match=etag
            ),
        )

        assert sorted(r.status for r in responses) == [201, 412], [r.body for r in responses]
        assert len(seller.cancellation_list(order_id)) == 1


def test_a_package_shipped_twice_at_once_is_shipped_once(
    seller: SellerClient, unique_id: IdFactory
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(two_package_order(order_id, seller.seller_id))
    version = seller.order(order_id)["version"]

    responses = _all_at_once(4, lambda _: seller.ship(order_id, "PK1"))

    assert sorted(r.status for r in responses) == [200, 409, 409, 409]
    for refused in (r for r in responses if r.status == 409):
        assert_problem(refused, 409, "PACKAGE_NOT_SHIPPABLE")
    assert seller.order(order_id)["version"] == version + 1
