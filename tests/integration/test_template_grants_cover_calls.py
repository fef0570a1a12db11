"""The DynamoDB and EventBridge calls the functions really make are the ones template.yaml
grants them.

``tests/unit/test_template_iam.py`` holds the template's grants equal to ``NEEDS``, a table
drawn by reading the code; this test watches the code itself. Every route is driven, a
cancellation's email goes out through the stream, and the reconciler runs, while botocore's
event hooks in each function instance (a process of its own) report every call: each must
be in ``NEEDS`` for its function, on the stack's table (in AWS a call outside the policy is
AccessDenied, which no local run shows). The API functions' routes take every path, so
for them each granted DynamoDB permission must also be used: a grant no call needs is
broader than the function needs (ingestion's read of an order its transaction met is
driven by one injected TransactionConflict). The email and the reconciler's paths hang on timing (a
resend waits ten minutes), so for those two only the first half holds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_runtime.functions.runtime import AwsCall, AwsError, InterceptedCall
from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    SellerClient,
    items_request,
    two_package_order,
)
from tests.unit.test_template_iam import NEEDS, STREAM, TABLE, Kind, event_bus, index

pytestmark = pytest.mark.integration

WATCHED = (
    "ListOrdersFunction",
    "CancelFunction",
    "OrderSystemFunction",
    "NotifyFunction",
    "PublishFunction",
    "ReconcileFunction",
)
FULLY_DRIVEN = ("ListOrdersFunction", "CancelFunction", "OrderSystemFunction", "PublishFunction")
# A transaction needs, per action, the permission of the single-item call.
TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class GrantRecorder:
    """(function, IAM action, resource kind) of every DynamoDB call, and the tables named,
    as each function instance reports its calls to the local runtime."""

    def __init__(self, stack: LocalStack) -> None:
        self._runtime = stack.functions
        self._buses = {bus.name: bus.logical_id for bus in stack.template.event_buses.values()}
        self._watching = contextlib.ExitStack()
        self._lock = threading.Lock()
        self.used: dict[str, set[tuple[str, Kind]]] = {f: set() for f in WATCHED}
        self.tables: set[str] = set()

    def _record(self, call: AwsCall) -> None:
        if call.function_id not in self.used:
            return
        if call.service == "eventbridge":
            grants = _event_grants_of(call.operation, call.params, self._buses)
            with self._lock:
                self.used[call.function_id] |= grants
            return
        if call.service != "dynamodb":
            return
        grants, tables = _grants_of(call.operation, call.params)
        with self._lock:
            self.used[call.function_id] |= grants
            self.tables |= tables

    def __enter__(self) -> GrantRecorder:
        self._watching.enter_context(self._runtime.watch(self._record))
        return self

    def __exit__(self, *_: object) -> None:
        self._watching.close()


def _grants_of(operation: str, params: Mapping[str, Any]) -> tuple[set[tuple[str, Kind]], set[str]]:
    if operation == "TransactWriteItems":
        actions = [
            (kind, action) for item in params["TransactItems"] for kind, action in item.items()
        ]
        return (
            {(TRANSACT_ACTIONS[kind], TABLE) for kind, _ in actions},
            {action["TableName"] for _, action in actions},
        )
    if operation == "BatchGetItem":
        return {("dynamodb:BatchGetItem", TABLE)}, set(params["RequestItems"])
    where = index(params["IndexName"]) if "IndexName" in params else TABLE
    return {(f"dynamodb:{operation}", where)}, {params["TableName"]}


def _event_grants_of(
    operation: str, params: Mapping[str, Any], buses: Mapping[str, str]
) -> set[tuple[str, Kind]]:
    """PutEvents needs events:PutEvents on each bus its entries name (the default bus when
    they name none, which no function is granted)."""
    names = {entry.get("EventBusName", "default") for entry in params.get("Entries", [])}
    return {
        (f"events:{operation}", event_bus(buses[name]) if name in buses else Kind("bus", name))
        for name in names
    }


def _wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


@pytest.fixture
def recorder(local_stack: LocalStack) -> Iterator[GrantRecorder]:
    with GrantRecorder(local_stack) as recording:
        yield recording


@contextlib.contextmanager
def _one_transaction_conflict(stack: LocalStack, function_id: str) -> Iterator[list[str]]:
    """The function's next transaction meets another (DynamoDB's TransactionConflict, which
    returns no item): the one path to ingestion's GetItem that no single request takes, as
    DynamoDB returns the order a refused Put collided with."""
    lock, conflicts = threading.Lock(), []

    def conflict(call: InterceptedCall) -> AwsError | None:
        with lock:
            if call.function_id != function_id or conflicts:
                return None
            conflicts.append("TransactionConflict")
        return AwsError(
            "TransactionCanceledException",
            fields={"CancellationReasons": [{"Code": "TransactionConflict"}]},
        )

    with stack.functions.intercept("dynamodb.TransactWriteItems", before=conflict):
        yield conflicts


def _needed(function_id: str) -> set[tuple[str, Kind]]:
    """What the function's own code calls: not the stream reads of its event source
    mapping, which Lambda makes with the function's role."""
    return {
        (action, kind)
        for action, kind in NEEDS[function_id]
        if action.startswith(("dynamodb:", "events:")) and kind != STREAM
    }


def test_every_dynamodb_call_of_every_function_is_one_the_template_grants(
    local_stack: LocalStack, seller: SellerClient, recorder: GrantRecorder
) -> None:
    order_id = f"ORD-GRANTS-{seller.seller_id[-10:].upper()}"
    order = two_package_order(order_id, seller.seller_id)
    with _one_transaction_conflict(local_stack, "OrderSystemFunction") as conflicts:
        seller.create_order(order)
    assert conflicts == ["TransactionConflict"]
    assert seller.put_order(order).status == 200
    reads = [
        seller.list_orders(),
        seller.list_orders(product_id="P-MUG"),
        seller.api.get("/products", token=seller.token),
        seller.api.get("/cancel-reasons", token=seller.token),
        seller.get_order(order_id),
        seller.preview(order_id, items_request(("L1", 1))),
    ]
    created = seller.cancel(order_id, items_request(("L1", 1)))
    shipped = seller.ship(order_id, "PK2")
    reported = seller.report_status(order_id, "PK2", "IN_TRANSIT")
    listed = seller.cancellations(order_id)
    assert [r.status for r in [*reads, created, shipped, reported, listed]] == [200] * 6 + [
        201,
        200,
        200,
        200,
    ]
    assert _wait_for(
        lambda: seller.cancellation_list(order_id)[0]["notification"]["status"] == "SENT"
    )
    assert _wait_for(lambda: recorder.used["PublishFunction"])
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    reconciled = [
        local_stack.functions.invoke(
            "ReconcileFunction", {"window": {"from": hour_ago, "to": "2100-01-01T00:00:00Z"}}
        ),
        local_stack.run_scheduled(),
    ]

    assert all("error" not in str(result)[:200] for result in reconciled), reconciled
    assert recorder.tables == {local_stack.table_name}
    for function_id in WATCHED:
        beyond = recorder.used[function_id] - _needed(function_id)
        assert not beyond, f"{function_id} calls what template.yaml does not grant: {beyond}"
    for function_id in FULLY_DRIVEN:
        unused = _needed(function_id) - recorder.used[function_id]
        assert not unused, f"{function_id} is granted what no route of it calls: {unused}"
