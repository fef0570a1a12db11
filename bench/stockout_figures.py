"""A stock-out of a SKU in every bench order: started through the API, planned by the
planner's own code in this process (so that its memory can be traced), its segments
cancelled by the stock-out worker's instances through the local stack's queue poller.

Figures: orders cancelled per second (absolute: for comparing runs), DynamoDB calls per
planned order (exact), and the planner's peak traced memory over the whole plan divided
by its peak over the plan's first segment alone, a baseline taken in the same run: a
planner whose memory is bounded stays near 1 however many orders there are.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.stockout_queue import SqsStockoutQueue, StockoutMessage
from adapters.stockout_store import DynamoDBStockoutStore
from bench.report import Metric
from bench.workload import STOCKOUT_SKU, Api
from domain import stockouts
from local_runtime.functions.runtime import AwsCall
from local_runtime.stack import LocalStack

PLANNER = "StockoutPlannerFunction"
WORKER = "StockoutWorkerFunction"
COMPLETION_TIMEOUT_SECONDS = 3600


class _CallCounter:
    """Counts the DynamoDB calls of a boto3 client, through botocore's event hooks."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb", self._one)

    def _one(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


def stockout(stack: LocalStack, api: Api, orders: int) -> list[Metric]:
    planner = stack.queue_poller(PLANNER)
    planner.pause()
    dynamodb = stack.client("dynamodb")
    planner_calls = _CallCounter(dynamodb)
    store = DynamoDBStockoutStore(dynamodb, stack.table_name)
    queues = stack.template.queues
    plan_url = queues["StockoutPlanQueue"].url
    sqs = stack.client("sqs")
    queue = SqsStockoutQueue(sqs, plan_url, queues["StockoutWorkQueue"].url)
    worker_calls: list[AwsCall] = []
    lock = threading.Lock()

    def keep(call: AwsCall) -> None:
        if call.service == "dynamodb" and call.function_id == WORKER:
            with lock:
                worker_calls.append(call)

    units_on_hand = orders // 10
    with stack.functions.watch(keep):
        started = time.perf_counter()
        answer = api.request(
            "POST",
            "/stockouts",
            {"sku_id": STOCKOUT_SKU, "units_on_hand": units_on_hand},
            headers=[("Idempotency-Key", f"bench-stockout-{orders}")],
        )
        assert answer.status == 202, answer
        stockout_id = str(answer.body["stockout_id"])
        first_segment, whole_plan = _plan(store, queue, sqs, plan_url, api.seller_id, stockout_id)
        planned = _completed(api, stockout_id)
        elapsed = time.perf_counter() - started
    planner.resume()
    orders_planned = int(planned["orders_planned"])
    assert orders_planned > 0, planned
    assert planned["orders_cancelled"] + planned["orders_skipped"] == orders_planned, planned
    calls_per_order = (planner_calls.count + len(worker_calls)) / orders_planned
    return [
        Metric(
            f"stock-out of {orders_planned:,} orders: orders decided per second",
            orders_planned / elapsed,
            "orders/s",
            note="absolute, on this machine, planning in the bench process: for comparing runs",
        ),
        Metric(
            "stock-out: DynamoDB calls per order (planner and workers)",
            calls_per_order,
            "calls",
            bound="max",
            target=3,
        ),
        Metric(
            "stock-out planner: peak memory over the whole plan ÷ over its first segment",
            whole_plan / first_segment,
            "ratio",
            bound="max",
            target=1.5,
        ),
    ]


def _plan(
    store: DynamoDBStockoutStore,
    queue: SqsStockoutQueue,
    sqs: Any,
    plan_url: str,
    seller_id: str,
    stockout_id: str,
) -> tuple[int, int]:
    """Runs the planning steps the queue asks for, in this process: the first one plans a
    single segment, the next plans the rest in one go. Returns each one's peak traced
    memory, in bytes."""
    peaks: list[int] = []
    while True:
        stockout = store.stockout(seller_id, stockout_id)
        assert stockout is not None
        if stockout.cursor.done:
            break
        received = sqs.receive_message(QueueUrl=plan_url, WaitTimeSeconds=1).get("Messages", [])
        for message in received:
            step = StockoutMessage.of(message["Body"])
            time_left = _one_segment() if not peaks else (lambda: 100.0)
            tracemalloc.start()
            tracemalloc.reset_peak()
            stockouts.plan_step(
                store,
                queue,
                seller_id=step.seller_id,
                stockout_id=step.stockout_id,
                segment=step.segment,
                clock=lambda: datetime.now(UTC),
                # The first step stops after one segment: the baseline.
                time_left=time_left,
            )
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            sqs.delete_message(QueueUrl=plan_url, ReceiptHandle=message["ReceiptHandle"])
    assert len(peaks) >= 2, peaks
    return peaks[0], max(peaks[1:])


def _one_segment() -> Callable[[], float]:
    """Time for one segment, then none."""
    checks = iter(range(1_000_000))
    return lambda: 100.0 if next(checks) == 0 else 0.0


def _completed(api: Api, stockout_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + COMPLETION_TIMEOUT_SECONDS
    while True:
        answer = api.request("GET", f"/stockouts/{stockout_id}")
        assert answer.status == 200, answer
        if answer.body["status"] == "COMPLETED":
            found: dict[str, Any] = answer.body
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"stock-out {stockout_id} did not complete: {answer.body}")
        time.sleep(0.5)
