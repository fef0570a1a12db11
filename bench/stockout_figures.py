"""A stock-out of a SKU in every bench order: started through the API, planned by the
planner's instance (one, handed its steps by the bench as its event source mapping
would), its segments cancelled by the worker's instances through the local stack's queue
poller.

Figures: orders decided per second (absolute: for comparing runs), DynamoDB calls per
planned order (exact), and the planner instance's peak resident memory after the whole
plan divided by its memory after its cold start, a baseline of the same process: a
planner whose memory is bounded stays near 1 however many orders there are.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from adapters.stockout_store import DynamoDBStockoutStore
from bench.report import Metric
from bench.workload import STOCKOUT_SKU, Api
from local_runtime.event_sources import lambda_sqs_record
from local_runtime.functions.runtime import AwsCall
from local_runtime.stack import LocalStack

PLANNER = "StockoutPlannerFunction"
WORKER = "StockoutWorkerFunction"
COMPLETION_TIMEOUT_SECONDS = 3600


def stockout(stack: LocalStack, api: Api, orders: int) -> list[Metric]:
    planner = stack.queue_poller(PLANNER)
    planner.pause()
    store = DynamoDBStockoutStore(stack.client("dynamodb"), stack.table_name)
    calls: list[AwsCall] = []
    lock = threading.Lock()

    def keep(call: AwsCall) -> None:
        if call.service == "dynamodb" and call.function_id in (PLANNER, WORKER):
            with lock:
                calls.append(call)

    with stack.functions.watch(keep):
        started = time.perf_counter()
        answer = api.request(
            "POST",
            "/stockouts",
            {"sku_id": STOCKOUT_SKU, "units_on_hand": orders // 10},
            headers=[("Idempotency-Key", f"bench-stockout-{orders}")],
        )
        assert answer.status == 202, answer
        stockout_id = str(answer.body["stockout_id"])
        cold, peak = _plan(stack, store, api.seller_id, stockout_id)
        planned = _completed(api, stockout_id)
        elapsed = time.perf_counter() - started
    planner.resume()
    orders_planned = int(planned["orders_planned"])
    assert orders_planned > 0, planned
    assert planned["orders_cancelled"] + planned["orders_skipped"] == orders_planned, planned
    return [
        Metric(
            f"stock-out of {orders_planned:,} orders: orders decided per second",
            orders_planned / elapsed,
            "orders/s",
            note="absolute, on this machine, 4 worker instances: for comparing runs",
        ),
        Metric(
            "stock-out: DynamoDB calls per order (planner and workers)",
            len(calls) / orders_planned,
            "calls",
            bound="max",
            target=3,
        ),
        Metric(
            "stock-out planner: peak RSS after the whole plan ÷ after its cold start",
            peak / cold,
            "ratio",
            bound="max",
            target=1.5,
        ),
    ]


def _plan(
    stack: LocalStack, store: DynamoDBStockoutStore, seller_id: str, stockout_id: str
) -> tuple[int, int]:
    """Hands the planner's instance the planning steps the queue asks for, as its event
    source mapping would, until the plan is complete. Returns the instance's resident
    memory after its cold start and its peak after the last step, in KiB."""
    sqs = stack.client("sqs")
    queue = stack.template.queues["StockoutPlanQueue"]
    stack.functions.warm(PLANNER, 1)
    (instance,) = stack.functions.instances(PLANNER)[:1]
    peak = instance.rss_kb
    while True:
        stockout = store.stockout(seller_id, stockout_id)
        assert stockout is not None
        if stockout.cursor.done:
            return instance.rss_kb, peak
        received = sqs.receive_message(QueueUrl=queue.url, WaitTimeSeconds=1).get("Messages", [])
        for message in received:
            record = lambda_sqs_record(message, queue.arn, stack.region)
            invocation = stack.functions.invocation(PLANNER, {"Records": [record]})
            assert invocation.error is None, invocation.error
            assert invocation.result == {"batchItemFailures": []}, invocation.result
            assert invocation.instance == instance.number, "one planner instance throughout"
            peak = max(peak, invocation.peak_rss_kb)
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])


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
