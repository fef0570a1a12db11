"""Every sample event in events/ does what it is for against a fresh ``make dev`` with the
demo data, run the way ``make invoke`` runs it: ``python -m local_runtime.commands.invoke <function>
<event>`` against the running stack.

Two fresh seeded stacks, each a ``python -m local_runtime`` of its own, side by side: one
takes the events in file order, the other, at the same time, in reverse order, each event
once. The events that change something work on orders of their own (``scripts.demo_data``),
so neither order may matter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_runtime import PROJECT_ROOT
from local_runtime.gateway.tokens import mint_token
from local_runtime.stack import EVENTS_PATH, OUTBOX_PATH, StackInfo
from local_runtime.template import SamTemplate
from scripts.demo_data import SAMPLE_CANCELLATION, demo_orders

pytestmark = pytest.mark.integration

EVENTS_DIR = PROJECT_ROOT / "events"
EVENT_FILES = sorted(path.name for path in EVENTS_DIR.glob("*.json"))
TEMPLATE = SamTemplate.load()
DEMO_ORDER_COUNT = sum(1 for _ in demo_orders())

# The events that do not come through the HTTP API, and the function each is for.
NON_HTTP_FUNCTIONS = {
    "notify_stream_batch.json": "NotifyFunction",
    "publish_stream_batch.json": "PublishFunction",
    "reconcile_schedule.json": "ReconcileFunction",
    "reconcile_window.json": "ReconcileFunction",
    "token_claims.json": "TokenClaimsFunction",
}

SAMPLE_BUYER = next(
    order.body["buyer"]["email"]
    for order in demo_orders()
    if order.body["order_id"] == SAMPLE_CANCELLATION.order_id
)
SAMPLE_SUBJECT = f"Your order {SAMPLE_CANCELLATION.order_id}: 2 items cancelled"
CREATE_SUBJECT = "Your order ACME-1035: 2 items cancelled"


def _event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return document


def function_for(name: str) -> str:
    """The template's function for an event: an HTTP event's by its route key."""
    route_key = _event(name).get("routeKey")
    if route_key is None:
        return NON_HTTP_FUNCTIONS[name]
    (function_id,) = [r.function_id for r in TEMPLATE.routes if r.route_key == route_key]
    return function_id


# --- running events against a stack --------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """What ``python -m local_runtime.commands.invoke`` printed: the response, then the logs."""

    returncode: int
    response: Any
    stderr: str

    @property
    def status(self) -> int:
        status: int = self.response["statusCode"]
        return status

    def body(self) -> Any:
        return json.loads(self.response["body"])

    def header(self, name: str) -> str | None:
        headers = self.response.get("headers") or {}
        return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


@dataclass
class DevStack:
    """A ``make dev`` (``python -m local_runtime``, default seed) on a port of its own."""

    process: subprocess.Popen[bytes]
    stack_file: Path
    log: Path
    info: StackInfo | None = None

    def invoke(self, name: str) -> Invocation:
        folder = TEMPLATE.function(function_for(name)).folder_name
        result = subprocess.run(  # noqa: S603 (this interpreter on the project's module)
            [sys.executable, "-m", "local_runtime.commands.invoke", folder, f"events/{name}"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "LOCAL_STACK_FILE": str(self.stack_file)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.stdout, f"{name}: no response\n{result.stderr[-3000:]}"
        return Invocation(result.returncode, json.loads(result.stdout), result.stderr)

    @property
    def base_url(self) -> str:
        assert self.info is not None
        return self.info.base_url

    def outbox(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base_url}{OUTBOX_PATH}", timeout=10) as response:  # noqa: S310 (the local stack)
            messages: list[dict[str, Any]] = json.loads(response.read())["messages"]
        return messages

    def emails(self, subject: str) -> list[dict[str, Any]]:
        return [message for message in self.outbox() if message["subject"] == subject]

    def get(self, path: str, seller_id: str = "seller-acme") -> Any:
        token = mint_token(seller_id, ["orders.read"])
        request = urllib.request.Request(  # noqa: S310 (the local stack)
            f"{self.base_url}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _dev_environment(stack_file: Path) -> dict[str, str]:
    # Not the endpoints of a stack this test process may run: the new stack sets its own.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_ENDPOINT_URL") and name not in ("SEED", "SELLER")
    }
    return {**inherited, "PORT": "0", "LOCAL_STACK_FILE": str(stack_file)}


def _start(directory: Path) -> DevStack:
    directory.mkdir(parents=True)
    stack_file, log = directory / "stack.json", directory / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime"],
            cwd=PROJECT_ROOT,
            env=_dev_environment(stack_file),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return DevStack(process, stack_file, log)


def _wait_until_ready(stack: DevStack, timeout_seconds: float = 180) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not stack.stack_file.exists():
        exited = stack.process.poll() is not None
        if exited or time.monotonic() > deadline:
            pytest.fail(f"make dev did not start:\n{stack.log.read_text()[-5000:]}")
        time.sleep(0.2)
    stack.info = StackInfo.read(stack.stack_file)


@dataclass(frozen=True)
class FreshStacks:
    forward: DevStack
    reverse: DevStack
    # Every event once in reverse file order on ``reverse``, running while the tests do.
    reverse_run: Future[dict[str, Invocation]]


@pytest.fixture(scope="module")
def fresh_stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshStacks]:
    """Two fresh ``make dev`` stacks with the default demo data, started side by side."""
    root = tmp_path_factory.mktemp("sample-events")
    started: list[DevStack] = []
    try:
        forward, reverse = (_start(root / name) for name in ("forward", "reverse"))
        started.extend((forward, reverse))
        for stack in started:
            _wait_until_ready(stack)
        with ThreadPoolExecutor(max_workers=1) as executor:
            reverse_run = executor.submit(_run_each_once, reverse, EVENT_FILES[::-1])
            yield FreshStacks(forward, reverse, reverse_run)
    finally:
        for stack in started:
            stack.stop()


def _wait_for(condition: Callable[[], bool], timeout_seconds: float = 15) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# --- what each event must do on a fresh stack -----------------------------------------------


def _cancel_reasons(run: Invocation, _: DevStack) -> None:
    assert run.status == 200
    reasons = {reason["code"]: reason for reason in run.body()["reasons"]}
    assert reasons["OUT_OF_STOCK"]["item_level_allowed"] is True


def _create_cancellation(run: Invocation, stack: DevStack) -> None:
    assert run.status == 201, run.response
    assert run.header("Idempotent-Replayed") is None
    assert run.header("ETag") == '"2"'
    cancellation = run.body()
    assert cancellation["order_id"] == "ACME-1035"
    assert [(i["line_id"], i["quantity"]) for i in cancellation["items"]] == [("L1", 2)]
    # 2 x 14.00 - 2.80 seller discount + 2.08 tax
    assert cancellation["refund"]["total"] == "27.28"
    assert cancellation["order_version"] == 2
    # The stream poller emails this buyer, once.
    assert _wait_for(lambda: len(stack.emails(CREATE_SUBJECT)) == 1), stack.outbox()


def _get_order(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    order = run.body()
    assert order["order_id"] == SAMPLE_CANCELLATION.order_id
    assert order["version"] == 2
    assert run.header("ETag") == '"2"'
    lines = {line["line_id"]: line for line in order["lines"]}
    assert lines["L1"]["cancelled_quantity"] == 2
    assert order["status"] == "AWAITING_SHIPMENT"


def _list_cancellations(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    cancellations = run.body()["cancellations"]
    assert [c["cancellation_id"] for c in cancellations] == [SAMPLE_CANCELLATION.cancellation_id]
    assert cancellations[0]["note"] == "Blue mugs sold out"


def _list_products(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    page = run.body()
    names = [product["product_name"] for product in page["products"]]
    # seller-acme's catalogue by name, five a page: the sixth, Stoneware Mug, comes next.
    assert names == [
        "Gooseneck Kettle",
        "Hand Coffee Grinder",
        "Linen Tea Towel",
        "Paper Filters x100",
        "Single Origin Beans 250 g",
    ]
    assert page["next_page_token"]
    towel = next(p for p in page["products"] if p["product_id"] == "P-TOWEL")
    assert {sku["sku_id"] for sku in towel["skus"]} == {"TWL-OAT", "TWL-SGE"}


def _list_orders(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    orders = run.body()["orders"]
    assert "ACME-1004" in {order["order_id"] for order in orders}
    for order in orders:
        assert order["status"] == "AWAITING_SHIPMENT"
        assert {line["product_id"] for line in order["lines"]} & {"P-MUG", "P-TOWEL"}


def _notify(run: Invocation, stack: DevStack) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.response == {"batchItemFailures": []}
    emails = stack.emails(SAMPLE_SUBJECT)
    assert [email["to"] for email in emails] == [[SAMPLE_BUYER]]
    assert f"to {SAMPLE_BUYER}: {SAMPLE_SUBJECT}" in run.stderr
    (cancellation,) = stack.get(f"/orders/{SAMPLE_CANCELLATION.order_id}/cancellations")[
        "cancellations"
    ]
    assert cancellation["notification"]["status"] == "SENT"


def _publish(run: Invocation, stack: DevStack) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.response == {"batchItemFailures": []}
    published = [
        event
        for event in stack.get(EVENTS_PATH)["events"]
        if event["detail"]["cancellation"]["cancellation_id"] == SAMPLE_CANCELLATION.cancellation_id
    ]
    # The seed's cancellation is made unseen by the stream's consumers: this is its event.
    assert len(published) == 1
    assert published[0]["detail"]["order"] == {
        "order_id": SAMPLE_CANCELLATION.order_id,
        "status": "AWAITING_SHIPMENT",
        "version": 2,
    }


def _preview(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    preview = run.body()
    assert preview["order_version"] == 1
    assert preview["refund"]["total"] == "27.28"
    assert [(i["line_id"], i["quantity"]) for i in preview["items"]] == [("L1", 2)]
    assert preview["resulting_order_status"] == "AWAITING_SHIPMENT"


def _put_order(run: Invocation, _: DevStack) -> None:
    assert run.status == 201, run.response
    assert run.header("ETag") == '"1"'
    assert run.body()["order_id"] == "ACME-1037"


def _reconcile_schedule(run: Invocation, _: DevStack) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    summary = run.response
    assert set(summary) == {
        "notifications",
        "orders_checked",
        "violations",
        "more",
        "checkpoint_advanced",
    }
    assert summary["violations"] == 0
    assert "ERROR" not in summary["notifications"]


def _reconcile_window(run: Invocation, _: DevStack) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    summary = run.response
    # Every demo order was ingested since the window's start.
    assert summary["orders_checked"] >= DEMO_ORDER_COUNT
    assert summary["violations"] == 0
    assert summary["more"] is False
    assert summary["next_after"] is None


def _ship(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    order = run.body()
    assert order["order_id"] == "ACME-1033"
    packages = {p["package_id"]: p["status"] for p in order["packages"]}
    assert packages == {"PK1": "AWAITING_COLLECTION", "PK2": "AWAITING_SHIPMENT"}


def _report_package_status(run: Invocation, _: DevStack) -> None:
    assert run.status == 200, run.response
    order = run.body()
    assert order["order_id"] == "ACME-1032"
    packages = {p["package_id"]: p["status"] for p in order["packages"]}
    assert packages == {"PK1": "IN_TRANSIT", "PK2": "AWAITING_SHIPMENT"}
    assert order["status"] == "PARTIALLY_SHIPPING"
    assert run.header("ETag") == '"2"'


def _token_claims(run: Invocation, _: DevStack) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    access = run.response["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access["claimsToAddOrOverride"] == {"seller_id": "seller-acme"}
    assert access["scopesToAdd"] == ["orders.read", "orders.write"]


EXPECTED: dict[str, Callable[[Invocation, DevStack], None]] = {
    "cancel_reasons.json": _cancel_reasons,
    "create_cancellation.json": _create_cancellation,
    "get_order.json": _get_order,
    "list_cancellations.json": _list_cancellations,
    "list_orders.json": _list_orders,
    "list_products.json": _list_products,
    "notify_stream_batch.json": _notify,
    "preview_cancellation.json": _preview,
    "publish_stream_batch.json": _publish,
    "put_order.json": _put_order,
    "reconcile_schedule.json": _reconcile_schedule,
    "report_package_status.json": _report_package_status,
    "reconcile_window.json": _reconcile_window,
    "ship_package.json": _ship,
    "token_claims.json": _token_claims,
}


# --- the tests -------------------------------------------------------------------------------


def test_every_event_file_is_checked_and_names_a_function_of_the_template() -> None:
    assert set(EXPECTED) == set(EVENT_FILES)
    for name in EVENT_FILES:
        spec = TEMPLATE.function(function_for(name))
        event = _event(name)
        if "routeKey" in event:
            route = next(r for r in TEMPLATE.routes if r.route_key == event["routeKey"])
            path = route.path
            for parameter, value in (event.get("pathParameters") or {}).items():
                path = path.replace(f"{{{parameter}}}", value)
            assert path == event["rawPath"] == event["requestContext"]["http"]["path"], name
            assert event["requestContext"]["routeKey"] == event["routeKey"], name
        elif spec.logical_id in ("NotifyFunction", "PublishFunction"):
            assert [source.type for source in spec.events] == ["DynamoDB"]
            assert all(r["eventSource"] == "aws:dynamodb" for r in event["Records"]), name
        elif spec.logical_id == "ReconcileFunction":
            assert [source.type for source in spec.events] == ["ScheduleV2"]
        else:
            assert event["triggerSource"].startswith("TokenGeneration_"), name


def _run_each_once(stack: DevStack, names: list[str]) -> dict[str, Invocation]:
    runs: dict[str, Invocation] = {}
    for name in names:
        runs[name] = run = stack.invoke(name)
        try:
            EXPECTED[name](run, stack)
        except AssertionError as error:
            raise AssertionError(f"{name} (after {list(runs)[:-1]}): {error}") from error
    return runs


def test_every_event_works_on_a_fresh_stack_in_file_order(fresh_stacks: FreshStacks) -> None:
    stack = fresh_stacks.forward

    first = _run_each_once(stack, EVENT_FILES)

    # Run again, the events that say what a second run does.
    replay = stack.invoke("create_cancellation.json")
    assert replay.status == 201, replay.response
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body() == first["create_cancellation.json"].body()

    again = stack.invoke("put_order.json")
    assert again.status == 200, again.response
    assert again.body() == first["put_order.json"].body()

    # The order system's report arrives twice: the second changes nothing.
    reported = stack.invoke("report_package_status.json")
    assert reported.status == 200, reported.response
    assert reported.body() == first["report_package_status.json"].body()

    resent = stack.invoke("notify_stream_batch.json")
    assert resent.returncode == 0
    assert resent.response == {"batchItemFailures": []}
    assert "DUPLICATE_SUPPRESSED" in resent.stderr
    assert len(stack.emails(SAMPLE_SUBJECT)) == 1
    assert len(stack.emails(CREATE_SUBJECT)) == 1


def test_every_event_works_on_a_fresh_stack_in_reverse_order(fresh_stacks: FreshStacks) -> None:
    stack = fresh_stacks.reverse

    runs = fresh_stacks.reverse_run.result(timeout=600)

    assert list(runs) == EVENT_FILES[::-1]

    assert len(stack.emails(SAMPLE_SUBJECT)) == 1
    assert len(stack.emails(CREATE_SUBJECT)) == 1
