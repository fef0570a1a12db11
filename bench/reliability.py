"""``make reliability``: what must hold when requests repeat, messages come again and AWS
calls fail. Each check writes its figures to ``bench/reliability.json``; any miss fails.

- replay: every submit sent 10 times with its Idempotency-Key, one after another and all
  at once: one cancellation per key, the same body every time;
- redelivery and faults: each notify batch delivered 3 times while SES throttles 30% of
  sends, then one reconcile run: one email per cancellation, none twice, none lost;
- DynamoDB faults on the transactional write (throttled; timed out after it was written):
  the client sees 503 or the replayed 201, and no order is ever half-written;
- contention with the ship racing: nothing over-cancelled, nothing cancelled after the ship;
- money: the refund properties at 100,000 random cancellation sequences each.

Functions run as in Lambda, in the local runtime (``local_runtime.functions``): a process
per instance; the faults are put in the way of their AWS calls by its interceptions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.instances import Fault, function_runtime, injected
from bench.report import Metric, table
from bench.workload import Answer, Api, one_unit, order_body
from local_runtime import PROJECT_ROOT
from local_runtime.event_sources import StreamPoller, scheduled_functions, stream_subscriptions
from local_runtime.functions.runtime import Invocation
from local_runtime.stack import LocalStack

RESULTS_PATH = PROJECT_ROOT / "bench" / "reliability.json"
SELLER = "reliability-seller"
REPEATS = 10
ORDERS_PER_CHECK = 20
EMAILS = 60
DELIVERIES = 3
SES_THROTTLED = 0.3
CONTENDERS = 32
MONEY_EXAMPLES = 100_000


@dataclass
class Check:
    name: str
    metrics: list[Metric]


class Harness:
    """The template's functions with their ``faults``, and an API in front of them;
    ``close`` stops their instances."""

    def __init__(
        self, stack: LocalStack, faults: Mapping[str, Sequence[Fault]] | None = None
    ) -> None:
        environment = {
            **stack.info().environment,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        functions = stack.template.functions
        self.reconciler = scheduled_functions(functions.values())[0]
        with ExitStack() as running:
            self.functions = running.enter_context(
                function_runtime(
                    functions,
                    stack.region,
                    environment,
                    # Everything pending is the reconciler's at once, not after ten minutes.
                    {self.reconciler: {"PENDING_NOTIFICATION_MINUTES": "0"}},
                )
            )
            running.enter_context(injected(self.functions, faults or {}))
            self.stack = stack
            self.api = Api(stack, self.functions, f"{SELLER}-{uuid.uuid4().hex[:8]}")
            self._running = running.pop_all()
        self.writer = _route_function(stack, "POST", "/orders/{order_id}/cancellations")
        self._numbers = iter(range(1, 10**9))

    def order(self, quantity: int = 3, buyer_email: str | None = None) -> str:
        number = next(self._numbers)
        email = buyer_email or f"buyer-{number}@example.com"
        body = order_body(self.api.seller_id, number, quantity, email)
        # The order system retries an ingestion it got no answer to, as the contract asks.
        for _ in range(20):
            answer = self.api.request("PUT", f"/orders/{body['order_id']}", body)
            if answer.status != 503:
                break
        assert answer.status in (200, 201), answer
        return str(body["order_id"])

    def submit(self, order: str, key: str | None = None) -> Answer:
        """A one-unit cancellation; with a key of its own unless given one."""
        key = key or str(uuid.uuid4())
        return self.api.request(
            "POST", f"/orders/{order}/cancellations", one_unit(), [("idempotency-key", key)]
        )

    def cancellations(self, order: str) -> list[dict[str, Any]]:
        answer = self.api.request("GET", f"/orders/{order}/cancellations")
        assert answer.status == 200, answer
        return list(answer.body["cancellations"])

    def cancelled_units(self, order: str) -> int:
        return int(
            self.api.request("GET", f"/orders/{order}").body["lines"][0]["cancelled_quantity"]
        )

    def close(self) -> None:
        self._running.close()


def _route_function(stack: LocalStack, method: str, path: str) -> str:
    return next(
        r.function_id for r in stack.template.routes if (r.method, r.path) == (method, path)
    )


def _in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# -- checks ---------------------------------------------------------------------------------
def replay(stack: LocalStack) -> Check:
    harness = Harness(stack)
    try:
        harness.functions.warm(harness.writer, REPEATS)
        cancellations_per_key: list[int] = []
        bodies_per_key: list[int] = []
        statuses: Counter[int] = Counter()
        for concurrent in (False, True):
            for _ in range(ORDERS_PER_CHECK // 2):
                order = harness.order()
                key = str(uuid.uuid4())
                if concurrent:
                    answers = _in_parallel([partial(harness.submit, order, key)] * REPEATS)
                else:
                    answers = [harness.submit(order, key) for _ in range(REPEATS)]
                statuses.update(a.status for a in answers)
                bodies_per_key.append(len({json.dumps(a.body, sort_keys=True) for a in answers}))
                cancellations_per_key.append(len(harness.cancellations(order)))
                cancellations_per_key[-1] = max(
                    cancellations_per_key[-1], harness.cancelled_units(order)
                )
    finally:
        harness.close()
    return Check(
        "replay",
        [
            Metric(
                "cancellations per Idempotency-Key (max)",
                max(cancellations_per_key),
                "cancellations",
                "max",
                1,
            ),
            Metric(
                "distinct bodies per Idempotency-Key (max)", max(bodies_per_key), "bodies", "max", 1
            ),
            Metric(
                "answers other than 201",
                sum(n for s, n in statuses.items() if s != 201),
                "answers",
                "max",
                0,
                note=str(dict(statuses)),
            ),
        ],
    )


def redelivery(stack: LocalStack) -> Check:
    notifier = stream_subscriptions(stack.template.functions.values())[0].function_id
    throttled = Fault("ses", "SendRawEmail", SES_THROTTLED, error="Throttling")
    harness = Harness(stack, {notifier: [throttled]})
    try:
        batches: list[list[dict[str, Any]]] = []
        subscriptions = [
            s
            for s in stream_subscriptions(stack.template.functions.values())
            if s.function_id == notifier
        ]

        def capture(_function_id: str, event: dict[str, Any]) -> dict[str, Any]:
            batches.append(event["Records"])
            return {"batchItemFailures": []}

        stream = StreamPoller(
            stack.client("dynamodbstreams"),
            stack.table_description["LatestStreamArn"],
            subscriptions,
            capture,
        )
        while stream.poll_once():
            batches.clear()
        recipients = {}
        for _ in range(EMAILS):
            email = f"redelivery-{uuid.uuid4().hex[:10]}@example.com"
            order = harness.order(buyer_email=email)
            answer = harness.submit(order, str(uuid.uuid4()))
            assert answer.status == 201, answer
            recipients[email] = order
        while stream.poll_once():
            pass
        harness.functions.warm(notifier, DELIVERIES)
        failures = 0
        for batch in batches:
            # The same batch three times over, two of them at once.
            deliveries = _in_parallel(
                [partial(_deliver, harness, notifier, batch)] * (DELIVERIES - 1)
            )
            deliveries.append(_deliver(harness, notifier, batch))
            failures += sum(1 for d in deliveries if d.error)
        reconciled = _deliver(
            harness, harness.reconciler, {"source": "aws.events", "detail-type": "Scheduled Event"}
        )
        sent = Counter(to for message in stack.outbox() for to in message.to if to in recipients)
    finally:
        harness.close()
    return Check(
        "redelivery and faults",
        [
            Metric("cancellations", len(recipients), "cancellations"),
            Metric("emails lost", sum(1 for r in recipients if sent[r] == 0), "emails", "max", 0),
            Metric(
                "emails sent twice", sum(1 for r in recipients if sent[r] > 1), "emails", "max", 0
            ),
            Metric(
                "notify invocations that failed",
                failures,
                "invocations",
                note=f"reconcile: {_error_of(reconciled) or 'ok'}",
            ),
        ],
    )


def _deliver(harness: Harness, function_id: str, event: Any) -> Invocation:
    return harness.functions.invocation(
        function_id, {"Records": event} if isinstance(event, list) else event
    )


def _error_of(invocation: Invocation) -> str | None:
    error = invocation.error
    return None if error is None else f"{error.get('errorType')}: {error.get('errorMessage')}"


def dynamodb_faults(stack: LocalStack) -> Check:
    writer = _route_function(stack, "POST", "/orders/{order_id}/cancellations")
    faults = [
        Fault("dynamodb", "TransactWriteItems", 0.3, error="ThrottlingException", seed=3),
        Fault("dynamodb", "TransactWriteItems", 0.3, timeout_after=True, seed=5),
    ]
    # Ingestion meets them too (the order system's own function): it retries on a 503.
    ingester = _route_function(stack, "PUT", "/orders/{order_id}")
    harness = Harness(stack, {writer: faults, ingester: faults})
    statuses: Counter[int] = Counter()
    half_written = unfinished = 0
    try:
        for _ in range(ORDERS_PER_CHECK):
            order = harness.order()
            key = str(uuid.uuid4())
            for _attempt in range(20):
                answer = harness.submit(order, key)
                statuses[answer.status] += 1
                if answer.status != 503:
                    break
            else:
                unfinished += 1
            listed = harness.cancellations(order)
            units = harness.cancelled_units(order)
            if len(listed) != units or units > 1:
                half_written += 1
    finally:
        harness.close()
    unexpected = sum(n for status, n in statuses.items() if status not in (201, 503))
    return Check(
        "DynamoDB faults on the transactional write",
        [
            Metric(
                "answers other than 201 or 503",
                unexpected,
                "answers",
                "max",
                0,
                note=str(dict(statuses)),
            ),
            Metric("orders half-written", half_written, "orders", "max", 0),
            Metric("submits never answered 201", unfinished, "orders", "max", 0),
        ],
    )


def contention_with_ship(stack: LocalStack) -> Check:
    harness = Harness(stack)
    over = after_ship = 0
    statuses: Counter[int] = Counter()
    try:
        harness.functions.warm(harness.writer, CONTENDERS + 1)
        for _round in range(3):
            order = harness.order(quantity=CONTENDERS + 8)
            calls: list[Callable[[], Any]] = [partial(harness.submit, order)] * CONTENDERS
            calls.insert(
                CONTENDERS // 2,
                partial(harness.api.request, "POST", f"/orders/{order}/packages/PK1/ship"),
            )
            answers = _in_parallel(calls)
            ship = answers[CONTENDERS // 2]
            assert ship.status == 200, ship
            shipped_at = int(ship.headers["etag"].strip('"'))
            cancelled = [a for i, a in enumerate(answers) if i != CONTENDERS // 2]
            statuses.update(a.status for a in cancelled)
            created = [a.body for a in cancelled if a.status == 201]
            after_ship += sum(1 for c in created if c["order_version"] > shipped_at)
            over += abs(harness.cancelled_units(order) - len(created))
    finally:
        harness.close()
    return Check(
        "contention with the ship racing",
        [
            Metric("units over-cancelled", over, "units", "max", 0),
            Metric(
                "cancellations after the ship",
                after_ship,
                "cancellations",
                "max",
                0,
                note=str(dict(statuses)),
            ),
        ],
    )


def money() -> Check:
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            "tests/unit/domain/test_refund_properties.py",
            "-k",
            "nothing_is_negative or refunds_exactly_what_was_paid",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HYPOTHESIS_PROFILE": "thorough"},
        capture_output=True,
        text=True,
        check=False,
    )
    examples = []
    for block in completed.stdout.split("::test_")[1:]:
        examples.append(sum(int(n) for n in re.findall(r"(\d+) passing, \d+ failing", block)))
    failed = completed.returncode != 0
    return Check(
        "money",
        [
            Metric(
                "random cancellation sequences per property (min)",
                min(examples or [0]),
                "sequences",
                "min",
                MONEY_EXAMPLES,
                note=f"{len(examples)} properties in {time.perf_counter() - started:.0f} s",
            ),
            Metric(
                "properties failing (drift or a negative refund)",
                1 if failed or not examples else 0,
                "properties",
                "max",
                0,
            ),
        ],
    )


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    checks: list[Check] = []
    with LocalStack(environment_overrides={"POWERTOOLS_LOG_LEVEL": "WARNING"}) as stack:
        if stack.stream_poller is not None:
            stack.stream_poller.pause()
        for check in (replay, redelivery, dynamodb_faults, contention_with_ship):
            print(f"{check.__name__} ...", flush=True)
            checks.append(check(stack))
            print(table(checks[-1].metrics), flush=True)
    print("money ...", flush=True)
    checks.append(money())
    print(table(checks[-1].metrics), flush=True)
    document = {
        check.name: {
            m.name: {
                "value": m.value,
                "target": m.target,
                "unit": m.unit,
                "ok": m.ok,
                **({"note": m.note} if m.note else {}),
            }
            for m in check.metrics
        }
        for check in checks
    }
    RESULTS_PATH.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    missed = [f"{c.name}: {m.name}" for c in checks for m in c.metrics if m.ok is False]
    print(
        f"\n{sum(len(c.metrics) for c in checks)} figures in "
        f"{time.perf_counter() - started:.0f} s; written to bench/reliability.json"
    )
    if missed:
        print("missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
