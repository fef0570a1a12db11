"""Figures of the seller API on DynamoDB Local and moto's SES, each function instance a
process of its own: ingestion, listing read amplification, DynamoDB calls per request,
warm submit against raw boto3, contention on one line, and the buyer emails."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from adapters import table_keys as keys
from bench.report import Metric, Summary, percentile
from bench.workload import (
    PRODUCTS,
    RARE_PRODUCT,
    Api,
    one_unit,
    order_body,
    order_id,
)
from local_runtime.event_sources import StreamPoller, stream_subscriptions
from local_runtime.functions.runtime import AwsCall, FunctionRuntime, Invocation
from local_runtime.stack import LocalStack

PAGE_SIZE = 20
K_PRODUCTS = 20
LATENCY_SAMPLES = 300
CONTENDERS = 32
CONTENTION_ROUNDS = 3
NOTIFY_BATCH = 100
NOTIFY_ROUNDS = 5


def function_of(stack: LocalStack, method: str, path: str) -> str:
    for route in stack.template.routes:
        if route.method == method and route.path == path:
            return route.function_id
    raise LookupError(f"no route {method} {path}")


class Figures:
    def __init__(
        self, stack: LocalStack, functions: FunctionRuntime, api: Api, orders: int
    ) -> None:
        self.stack = stack
        self.functions = functions
        self.api = api
        self.orders = orders
        self.reader = function_of(stack, "GET", "/orders")
        self.writer = function_of(stack, "POST", "/orders/{order_id}/cancellations")
        self.ingester = function_of(stack, "PUT", "/orders/{order_id}")
        self._next_order = orders
        self.write_attempts: list[int] = []

    def fresh_order(self, quantity: int = 3) -> str:
        """An order created for one measurement, newer than the listing's."""
        self._next_order += 1
        body = order_body(self.api.seller_id, self._next_order, quantity)
        answer = self.api.request("PUT", f"/orders/{body['order_id']}", body)
        assert answer.status == 201, answer
        return str(body["order_id"])

    @contextmanager
    def counting_dynamodb_calls(self) -> Iterator[list[AwsCall]]:
        """While inside, the list gets the instances' DynamoDB calls, each once the
        invocation that made it has ended; ``Invocation.calls`` gets their AWS calls."""
        calls: list[AwsCall] = []

        def keep(call: AwsCall) -> None:
            if call.service == "dynamodb":
                calls.append(call)

        with self.functions.watch(keep):
            yield calls

    # -- ingestion ----------------------------------------------------------------------
    def ingestion(self, workers: int = 8) -> list[Metric]:
        self.functions.warm(self.ingester, workers)

        def put(number: int) -> int:
            body = order_body(self.api.seller_id, number)
            return self.api.request("PUT", f"/orders/{order_id(number)}", body).status

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as executor:
            statuses = Counter(executor.map(put, range(self.orders)))
        elapsed = time.perf_counter() - started
        assert statuses == {201: self.orders}, statuses
        return [
            Metric(
                f"ingestion of {self.orders:,} orders, {workers} instances",
                self.orders / elapsed,
                "orders/s",
                note="absolute, on this machine: for comparing runs, not a target",
            )
        ]

    # -- listing --------------------------------------------------------------------------
    def _walk(self, query: str) -> tuple[int, list[list[AwsCall]]]:
        """The orders returned, and each page's DynamoDB calls."""
        returned = 0
        pages: list[list[AwsCall]] = []
        token = ""
        while True:
            with self.counting_dynamodb_calls() as calls:
                answer = self.api.request("GET", f"/orders?page_size={PAGE_SIZE}{query}{token}")
            assert answer.status == 200, answer
            returned += len(answer.body["orders"])
            assert {call.function_id for call in calls} == {self.reader}, calls
            pages.append(calls)
            if not answer.body["next_page_token"]:
                break
            token = f"&page_token={answer.body['next_page_token']}"
        return returned, pages

    def listing(self) -> list[Metric]:
        products = "".join(f"&product_id=P-{n:02d}" for n in range(K_PRODUCTS))
        metrics: list[Metric] = []
        for label, query, target, calls_target in (
            ("GET /orders", "", None, 1),
            (
                f"GET /orders, 1 product at 1% of {self.orders:,}",
                f"&product_id={RARE_PRODUCT}",
                2.0,
                2,
            ),
            (
                f"GET /orders, {K_PRODUCTS} products ({K_PRODUCTS}/{PRODUCTS} of orders)",
                products,
                2 + K_PRODUCTS / PAGE_SIZE,
                K_PRODUCTS + 1,
            ),
        ):
            returned, pages = self._walk(query)
            read = sum(call.items_read for page in pages for call in page)
            per_page = [len(page) for page in pages]
            metrics.append(
                Metric(
                    f"{label}: items read per order returned",
                    read / returned,
                    "items/order",
                    "max" if target else None,
                    target,
                    note=f"{returned} orders in {len(pages)} pages of {PAGE_SIZE}",
                )
            )
            metrics.append(
                Metric(
                    f"{label}: DynamoDB calls per page (worst page)",
                    max(per_page),
                    "calls",
                    "max",
                    calls_target,
                    Summary.of(per_page),
                )
            )
        return metrics

    # -- DynamoDB calls per request -----------------------------------------------------
    def calls_per_request(self) -> list[Metric]:
        shipped = self.fresh_order()
        previewed = self.fresh_order()
        cancelled = self.fresh_order()
        requests: Sequence[tuple[str, int, Callable[[], Any]]] = (
            ("GET /orders/{id}", 1, lambda: self.api.request("GET", f"/orders/{previewed}")),
            (
                "POST preview",
                1,
                lambda: self.api.request(
                    "POST", f"/orders/{previewed}/cancellations/preview", one_unit()
                ),
            ),
            (
                "POST cancellations",
                2,
                lambda: self.api.request(
                    "POST",
                    f"/orders/{cancelled}/cancellations",
                    one_unit(),
                    [("idempotency-key", str(uuid.uuid4()))],
                ),
            ),
            (
                "POST ship",
                2,
                lambda: self.api.request("POST", f"/orders/{shipped}/packages/PK1/ship"),
            ),
        )
        metrics = []
        for label, target, call in requests:
            with self.counting_dynamodb_calls() as calls:
                answer = call()
            assert answer.status < 300, (label, answer)
            assert len({call.function_id for call in calls}) == 1, calls
            metrics.append(
                Metric(
                    f"{label}: DynamoDB calls",
                    len(calls),
                    "calls",
                    "max",
                    target,
                    note=" ".join(call.operation for call in calls),
                )
            )
        return metrics

    # -- warm submit --------------------------------------------------------------------
    def warm_submit(self) -> list[Metric]:
        """The submit route through one warm instance ÷ the two DynamoDB calls it makes,
        done by hand with a client configured like the function's, on copies of its items."""
        client = self.stack.client("dynamodb")
        table = self.stack.table_name
        template_order = self.fresh_order()
        orders = [self.fresh_order() for _ in range(LATENCY_SAMPLES)]
        # One after another, every submit goes to the instance the last one left idle.
        self._submit(template_order)
        order_items = client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(self.api.seller_id, template_order)}
            },
            ConsistentRead=True,
        )["Items"]
        order_item = next(i for i in order_items if i["sk"]["S"] == "ORDER")
        cancellation_item = next(i for i in order_items if i["sk"]["S"].startswith("CANCELLATION"))
        handler_ms: list[float] = []
        raw_ms: list[float] = []
        instances = set()
        for index, order in enumerate(orders):
            invocation = self._submit(order)
            instances.add(invocation.instance)
            handler_ms.append(invocation.seconds * 1000)
            raw_ms.append(self._raw_submit(client, table, order_item, cancellation_item, index))
        assert len(instances) == 1, instances
        ratios = {
            "p50": percentile(handler_ms, 0.5) / percentile(raw_ms, 0.5),
            "p99": percentile(handler_ms, 0.99) / percentile(raw_ms, 0.99),
        }
        return [
            Metric(
                f"warm submit through the handler ÷ its two raw boto3 calls, {name}",
                ratio,
                "ratio",
                "max",
                1.3,
                note=(
                    f"handler {percentile(handler_ms, float(name[1:]) / 100):.1f} ms, "
                    f"raw {percentile(raw_ms, float(name[1:]) / 100):.1f} ms"
                ),
            )
            for name, ratio in ratios.items()
        ]

    def _submit(self, order: str) -> Invocation:
        event = self.api.event(
            "POST",
            f"/orders/{order}/cancellations",
            one_unit(),
            [("idempotency-key", str(uuid.uuid4()))],
        )
        invocation = self.functions.invocation(self.writer, event)
        assert invocation.error is None and invocation.result["statusCode"] == 201, invocation
        return invocation

    @staticmethod
    def _raw_submit(
        client: Any,
        table: str,
        order_item: dict[str, Any],
        cancellation_item: dict[str, Any],
        index: int,
    ) -> float:
        order_pk = {"S": f"{order_item['pk']['S']}-RAW-{index}"}
        key = str(uuid.uuid4())
        idempotency_pk = {"S": f"BENCH#IDEMPOTENCY#{key}"}
        started = time.perf_counter()
        client.batch_get_item(
            RequestItems={
                table: {
                    "Keys": [
                        {"pk": order_pk, "sk": {"S": "ORDER"}},
                        {"pk": idempotency_pk, "sk": {"S": "IDEMPOTENCY"}},
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        attributes = {k: v for k, v in order_item.items() if k not in ("pk", "sk")}
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":a{i}": value for i, value in enumerate(attributes.values())}
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": order_pk, "sk": {"S": "ORDER"}},
                        "UpdateExpression": "SET "
                        + ", ".join(f"#a{i} = :a{i}" for i in range(len(names))),
                        "ConditionExpression": "attribute_not_exists(pk) OR #version = :v",
                        "ExpressionAttributeNames": {**names, "#version": "version"},
                        "ExpressionAttributeValues": {**values, ":v": order_item["version"]},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**cancellation_item, "pk": order_pk},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": idempotency_pk,
                            "sk": {"S": "IDEMPOTENCY"},
                            "cancellation": cancellation_item.get("cancellation", {"NULL": True}),
                            "fingerprint": {"S": key},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
        return (time.perf_counter() - started) * 1000

    # -- contention ---------------------------------------------------------------------
    def contention(self) -> list[Metric]:
        """32 one-unit cancellations of one line, one instance each, all at once ÷ the same
        32 one after another on one instance; rounds interleaved."""
        self.functions.warm(self.writer, CONTENDERS)
        ratios: list[float] = []
        unavailable: list[int] = []
        over_cancelled = 0
        failures: Counter[int] = Counter()
        for _ in range(CONTENTION_ROUNDS):
            with self.counting_dynamodb_calls():
                sequential = self._contention_round(concurrent=False)
                concurrent = self._contention_round(concurrent=True)
            for statuses, _seconds, over in (sequential, concurrent):
                over_cancelled += over
                failures.update(s for s in statuses.elements() if s != 201)
            unavailable.append(concurrent[0][503])
            rate = concurrent[0][201] / concurrent[1]
            ratios.append(rate / (sequential[0][201] / sequential[1]))
        rate_summary = Summary.of(ratios)
        return [
            Metric(
                f"{CONTENDERS} concurrent one-unit cancellations of one line: 503s",
                max(unavailable),
                "responses",
                "max",
                0,
                Summary.of(unavailable),
                note=f"answers other than 201: {dict(failures) or 'none'}",
            ),
            Metric(
                "  successes/s concurrent ÷ sequential",
                rate_summary.median,
                "ratio",
                "min",
                0.5,
                rate_summary,
            ),
            Metric("  units over-cancelled", over_cancelled, "units", "max", 0),
            Metric(
                "  conditional writes per cancellation, both modes",
                sum(self.write_attempts) / max(1, len(self.write_attempts)),
                "writes",
                summary=Summary.of(self.write_attempts),
            ),
        ]

    def _contention_round(self, *, concurrent: bool) -> tuple[Counter[int], float, int]:
        quantity = CONTENDERS + 8
        order = self.fresh_order(quantity)
        events = [
            self.api.event(
                "POST",
                f"/orders/{order}/cancellations",
                one_unit(),
                [("idempotency-key", str(uuid.uuid4()))],
            )
            for _ in range(CONTENDERS)
        ]
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        writes: list[int] = []

        def status_of(event: dict[str, Any]) -> int:
            invocation = self.functions.invocation(self.writer, event)
            writes.append(sum(c.operation == "TransactWriteItems" for c in invocation.calls))
            return 502 if invocation.error else int(invocation.result["statusCode"])

        if concurrent:
            barrier = threading.Barrier(CONTENDERS + 1)

            def contend(event: dict[str, Any]) -> None:
                barrier.wait()
                status = status_of(event)
                with lock:
                    statuses[status] += 1

            threads = [threading.Thread(target=contend, args=(event,)) for event in events]
            for thread in threads:
                thread.start()
            barrier.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        else:
            started = time.perf_counter()
            for event in events:
                statuses[status_of(event)] += 1
            elapsed = time.perf_counter() - started
        line = self.api.request("GET", f"/orders/{order}").body["lines"][0]
        over = max(0, line["cancelled_quantity"] - statuses[201]) + max(
            0, line["cancelled_quantity"] - quantity
        )
        self.write_attempts.extend(writes)
        return statuses, elapsed, over

    # -- buyer emails -------------------------------------------------------------------
    def notify(self) -> list[Metric]:
        """A batch of 100 new cancellations through the notify function ÷ a bare loop of the
        same number of SES sends of the same size; rounds interleaved."""
        notifier = next(
            s.function_id for s in stream_subscriptions(self.stack.template.functions.values())
        )
        self.functions.warm(notifier, 1)
        if self.stack.stream_poller is not None:
            self.stack.stream_poller.pause()
        batches: list[list[dict[str, Any]]] = []
        stream_arn = self.stack.table_description["LatestStreamArn"]
        subscriptions = [
            s
            for s in stream_subscriptions(self.stack.template.functions.values())
            if s.function_id == notifier
        ]
        for subscription in subscriptions:
            subscription.batch_size = 10_000

        def capture(_function_id: str, event: dict[str, Any]) -> dict[str, Any]:
            batches.append(event["Records"])
            return {"batchItemFailures": []}

        stream = StreamPoller(
            self.stack.client("dynamodbstreams"), stream_arn, subscriptions, capture
        )
        while stream.poll_once():
            batches.clear()
        ses = self.stack.client("ses")
        ratios: list[float] = []
        calls_per_email: list[float] = []
        sent_before = len(self.stack.outbox())
        # The first round warms the function's code paths and gives the baseline a real email.
        for round_number in range(-1, NOTIFY_ROUNDS):
            batches.clear()
            for _ in range(NOTIFY_BATCH):
                self._submit(self.fresh_order())
            while stream.poll_once():
                pass
            records = [record for batch in batches for record in batch]
            assert len(records) == NOTIFY_BATCH, len(records)
            raw = self._raw_email()
            sender = self.stack.template.function(notifier).environment["EMAIL_SENDER"]

            def bare_loop(raw: bytes = raw, sender: str = sender) -> float:
                started = time.perf_counter()
                for _ in range(NOTIFY_BATCH):
                    ses.send_raw_email(
                        Source=sender, Destinations=["bench@example.com"], RawMessage={"Data": raw}
                    )
                return time.perf_counter() - started

            def through_handler(records: list[dict[str, Any]] = records) -> Invocation:
                with self.counting_dynamodb_calls():
                    invocation = self.functions.invocation(notifier, {"Records": records})
                assert invocation.error is None, invocation.error
                assert not invocation.result["batchItemFailures"], invocation.result
                return invocation

            if round_number % 2:
                invocation = through_handler()
                baseline = bare_loop()
            else:
                baseline = bare_loop()
                invocation = through_handler()
            if round_number >= 0:
                ratios.append(invocation.seconds / baseline)
                dynamodb = sum(call.service == "dynamodb" for call in invocation.calls)
                calls_per_email.append(dynamodb / NOTIFY_BATCH)
        emails = len(self.stack.outbox()) - sent_before
        expected = (NOTIFY_ROUNDS + 1) * NOTIFY_BATCH * 2
        assert emails == expected, (emails, expected)
        summary = Summary.of(ratios)
        calls = Summary.of(calls_per_email)
        return [
            Metric(
                f"notify: time per email, batch of {NOTIFY_BATCH} ÷ bare SES sends",
                summary.median,
                "ratio",
                "max",
                2.0,
                summary,
            ),
            Metric("  DynamoDB calls per email", calls.maximum, "calls", "max", 2, calls),
        ]

    def _raw_email(self) -> bytes:
        """A message the size of a buyer email: the last one the notify function sent."""
        outbox = self.stack.outbox()
        sent = outbox[-1] if outbox else None
        message = EmailMessage()
        message["Subject"] = sent.subject if sent else "Your order was partly cancelled"
        message["From"] = "bench@example.com"
        message["To"] = "bench@example.com"
        message.set_content(sent.text if sent and sent.text else "Cancelled.")
        message.add_alternative(
            sent.html if sent and sent.html else "<p>Cancelled.</p>", subtype="html"
        )
        return message.as_bytes()
