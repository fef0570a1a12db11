"""``make bench``: prints one table and writes ``bench/results.json``.

Every timing is a ratio against a baseline measured interleaved with it in the same run,
so that a busy, shared machine slows both alike; counts are exact.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import sys
import time
import warnings
from datetime import UTC, datetime

from local_runtime import PROJECT_ROOT

# The bench reads the table's keys from the layer's table_keys module, their one home.
sys.path.insert(0, str(PROJECT_ROOT / "layers" / "domain" / "python"))

from bench import cold_start, report, stockout_figures
from bench.api_figures import Figures
from bench.instances import function_runtime
from bench.workload import Api
from local_runtime.stack import LocalStack

SELLER = "bench-seller"
ORDERS = 20_000
QUIET = {
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_LAMBDA_LOG_LEVEL": "WARN",
}


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                model,
            )
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--orders", type=int, default=ORDERS, help="orders to list over")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated steps to run (imports, ingestion, listing, calls, submit, "
        "contention, emails, stockout); results.json is written only by a full run",
    )
    return parser.parse_args()


def main() -> int:
    options = arguments()
    only = {step for step in options.only.split(",") if step}
    # A stopped bench stops its servers too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    started = time.perf_counter()
    metrics: list[report.Metric] = []
    with LocalStack(environment_overrides=QUIET) as stack:
        if stack.stream_poller is not None:
            # The bench feeds the notify function itself; nothing else may send meanwhile.
            stack.stream_poller.pause()
        environment = {**stack.info().environment, **QUIET}
        functions = dict(stack.template.functions)
        if not only or "imports" in only:
            print("cold imports ...", flush=True)
            metrics += cold_start.measure(functions, environment)
            print(report.table(metrics), flush=True)
        with function_runtime(functions, stack.region, environment) as runtime:
            figures = Figures(stack, runtime, Api(stack, runtime, SELLER), options.orders)
            for name, label, step in (
                ("ingestion", f"ingesting {options.orders:,} orders", figures.ingestion),
                ("listing", "listing", figures.listing),
                ("calls", "DynamoDB calls per request", figures.calls_per_request),
                ("submit", "warm submit", figures.warm_submit),
                ("contention", "contention", figures.contention),
                ("emails", "buyer emails", figures.notify),
                # Last: it cancels a unit of every order.
                (
                    "stockout",
                    "stock-out",
                    lambda: stockout_figures.stockout(stack, figures.api, options.orders),
                ),
            ):
                needs_orders = name == "ingestion" and only & {"listing", "stockout"}
                if only and name not in only and not needs_orders:
                    continue
                print(f"{label} ...", flush=True)
                figures_of_step = step()
                print(report.table(figures_of_step), flush=True)
                metrics += figures_of_step
    print()
    print(report.table(metrics))
    full_run = not only and options.orders == ORDERS
    if full_run:
        report.write(metrics, {**machine(), "seconds": round(time.perf_counter() - started)})
    missed = [metric.name.strip() for metric in metrics if metric.ok is False]
    written = f"; written to {report.RESULTS_PATH.relative_to(PROJECT_ROOT)}" if full_run else ""
    print(f"\n{len(metrics)} figures in {time.perf_counter() - started:.0f} s{written}")
    if missed:
        print("missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
