"""Numbers for the seller API on the local stack (DynamoDB Local, in-process functions):

- read amplification of GET /orders: items DynamoDB read per order returned, unfiltered
  and with a product filter that selects 1% of the seller's orders;
- DynamoDB calls per request of each route;
- latency of each route through the local gateway (p50 / p95; local, so only relative).

Run with ``make bench``. It prints a report and changes nothing outside its own stack.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import threading
import time
import urllib.request
import uuid
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parents[1])]
warnings.filterwarnings("ignore", message="No application metrics to publish")

from local_runtime.stack import LocalStack  # noqa: E402

SELLER = "bench-seller"
ORDERS = 2000
RARE_EVERY = 100  # 1% of orders contain the rare product
PAGE_SIZE = 20
LATENCY_SAMPLES = 150


class DynamoDBReads:
    """Counts the functions' DynamoDB calls and the items each read (botocore hooks)."""

    def __init__(self, stack: LocalStack) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        self._lock = threading.Lock()
        self._clients = []
        for function_id in ("ListOrdersFunction", "CancelFunction"):
            for instance in stack.functions.instances(function_id):
                for value in vars(instance.module).values():
                    client = getattr(value, "_client", value)
                    if getattr(getattr(client, "meta", None), "service_model", None) is None:
                        continue
                    if client.meta.service_model.service_name == "dynamodb":
                        self._clients.append(client)
        for client in {id(c): c for c in self._clients}.values():
            client.meta.events.register("after-call.dynamodb", self._count)

    def _count(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        read = 0
        if model.name == "Query":
            read = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "BatchGetItem":
            read = sum(len(items) for items in parsed.get("Responses", {}).values())
        elif model.name == "GetItem":
            read = 1 if parsed.get("Item") else 0
        with self._lock:
            self.calls[model.name] += 1
            self.items += read

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.items = 0


def request(
    base: str, method: str, path: str, token: str, body: Any = None, headers: dict | None = None
) -> tuple[int, Any, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload = error.read()
        status = error.code
    elapsed = (time.perf_counter() - started) * 1000
    return status, json.loads(payload) if payload else None, elapsed


def order_body(number: int) -> dict[str, Any]:
    products = [f"P-{number % 37:02d}"]
    if number % RARE_EVERY == 0:
        products.append("P-RARE")
    return {
        "order_id": f"B-{number:05d}",
        "seller_id": SELLER,
        "currency": "USD",
        "created_at": f"2026-11-{1 + number % 25:02d}T{number % 24:02d}:{number % 60:02d}:00Z",
        "buyer": {"name": "Bench Buyer", "email": "bench@example.com", "locale": "en-US"},
        "shipping_fee": "4.99",
        "packages": [{"package_id": "PK1", "status": "AWAITING_SHIPMENT"}],
        "lines": [
            {
                "line_id": f"L{index}",
                "product_id": product,
                "sku_id": f"{product}-S",
                "product_name": f"Product {product}",
                "sku_name": "Default",
                "quantity": 3,
                "unit_price": "12.50",
                "seller_discount": "1.00",
                "platform_discount": "0.50",
                "tax": "2.97",
                "package_id": "PK1",
            }
            for index, product in enumerate(products, start=1)
        ],
    }


def walk(base: str, token: str, query: str) -> tuple[int, int]:
    """Every page of a listing: (orders returned, pages)."""
    returned = pages = 0
    token_param = ""
    while True:
        status, body, _ = request(base, "GET", f"/orders?{query}{token_param}", token)
        assert status == 200, body
        returned += len(body["orders"])
        pages += 1
        if not body["next_page_token"]:
            return returned, pages
        token_param = f"&page_token={body['next_page_token']}"


REPORT: list[str] = []


def report(line: str = "") -> None:
    """Kept for the end: the functions print their metrics to stdout meanwhile."""
    REPORT.append(line)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    # The report only: the functions' logs and metrics and the SES server's log stay quiet.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    with LocalStack(environment_overrides=quiet) as stack:
        base = stack.base_url
        admin = stack.mint_token(SELLER, ["orders.admin", "orders.read", "orders.write"])
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(
                pool.map(
                    lambda n: request(base, "PUT", f"/orders/B-{n:05d}", admin, order_body(n))[0],
                    range(ORDERS),
                )
            )
        assert set(statuses) == {201}, Counter(statuses)
        report(f"ingested {ORDERS} orders in {time.perf_counter() - started:.1f} s")
        reads = DynamoDBReads(stack)

        rows = []
        for label, query in (
            ("all awaiting shipment", f"page_size={PAGE_SIZE}"),
            ("product filter, 1% of orders", f"page_size={PAGE_SIZE}&product_id=P-RARE"),
            (
                "3 products (1% + 2 x 2.7%)",
                f"page_size={PAGE_SIZE}&product_id=P-RARE&product_id=P-01&product_id=P-02",
            ),
        ):
            reads.reset()
            returned, pages = walk(base, admin, query)
            rows.append((label, returned, pages, reads.items, dict(reads.calls)))

        report("\nGET /orders read amplification (items DynamoDB read per order returned)")
        report(f"  {'listing':32} {'orders':>7} {'pages':>6} {'read':>7} {'ratio':>6}  calls")
        for label, returned, pages, items, calls in rows:
            ratio = items / returned if returned else float("nan")
            report(f"  {label:32} {returned:7d} {pages:6d} {items:7d} {ratio:6.2f}  {calls}")

        latencies: dict[str, list[float]] = {}
        calls_per_request: dict[str, dict[str, float]] = {}

        def measure(name: str, call: Any, count: int = LATENCY_SAMPLES) -> None:
            reads.reset()
            samples = []
            for index in range(count):
                status, body, elapsed = call(index)
                assert status < 300, (name, status, body)
                samples.append(elapsed)
            latencies[name] = samples
            calls_per_request[name] = {op: n / count for op, n in reads.calls.items()}

        measure("GET /orders", lambda i: request(base, "GET", "/orders?page_size=20", admin))
        measure(
            "GET /orders?product_id",
            lambda i: request(base, "GET", "/orders?product_id=P-RARE", admin),
        )
        measure("GET /orders/{id}", lambda i: request(base, "GET", f"/orders/B-{i:05d}", admin))
        item_request = {
            "reason": "OUT_OF_STOCK",
            "scope": "ITEMS",
            "items": [{"line_id": "L1", "quantity": 1}],
        }
        measure(
            "POST preview",
            lambda i: request(
                base, "POST", f"/orders/B-{i:05d}/cancellations/preview", admin, item_request
            ),
        )
        measure(
            "POST cancellations",
            lambda i: request(
                base,
                "POST",
                f"/orders/B-{i + 200:05d}/cancellations",
                admin,
                item_request,
                {"Idempotency-Key": str(uuid.uuid4())},
            ),
        )
        measure(
            "POST ship",
            lambda i: request(base, "POST", f"/orders/B-{i + 400:05d}/packages/PK1/ship", admin),
        )

        report(f"\nRoute latency through the local gateway, {LATENCY_SAMPLES} sequential requests")
        report(f"  {'route':24} {'p50 ms':>7} {'p95 ms':>7}  DynamoDB calls per request")
        for name, samples in latencies.items():
            calls = ", ".join(f"{op} {n:g}" for op, n in sorted(calls_per_request[name].items()))
            report(
                f"  {name:24} {statistics.median(samples):7.1f} "
                f"{percentile(samples, 0.95):7.1f}  {calls}"
            )
    print("\n".join(REPORT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
