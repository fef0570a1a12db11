"""What the functions tell operators: CloudWatch metrics (EMF on stdout) and JSON logs.

Metrics follow Powertools' documented testing approach: metrics on for the one test,
stored metrics cleared first, the EMF documents read from stdout with ``capsys``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime.template import load_template_document
from tests.unit.handlers.conftest import REGION, TEMPLATE, Api
from tests.unit.handlers.contract import order_input

BUYER_EMAIL = "ana@example.com"
TWO_MUGS = {"reason": "OUT_OF_STOCK", "scope": "ITEMS", "items": [{"line_id": "L1", "quantity": 2}]}


def _emf_documents(stdout: str) -> list[dict[str, Any]]:
    documents = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def _metric(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The EMF documents that carry metric ``name``."""
    return [
        document
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        if name in {metric["Name"] for metric in directive["Metrics"]}
    ]


def _values(document: dict[str, Any], name: str) -> list[float]:
    """A metric's values in an EMF document: one number, or a list of them."""
    value = document[name]
    return value if isinstance(value, list) else [value]


def _dimension_names(document: dict[str, Any]) -> set[str]:
    return {
        name
        for directive in document["_aws"]["CloudWatchMetrics"]
        for dimension_set in directive["Dimensions"]
        for name in dimension_set
    }


@pytest.fixture
def metrics_on(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    module = api.module("CancelFunction")
    module.api.metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    yield
    module.api.metrics.clear_metrics()


def test_a_cancellation_emits_its_count_by_scope_and_reason_and_its_refund(
    api: Api, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    api.ingest(order_input("O1"))
    key = str(uuid.uuid4())
    capsys.readouterr()

    assert api.submit("O1", TWO_MUGS, key=key).status == 201
    documents = _emf_documents(capsys.readouterr().out)

    namespace = TEMPLATE.runtime_environment()["POWERTOOLS_METRICS_NAMESPACE"]
    (count,) = _metric(documents, "Cancellations")
    assert count["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
    assert {"scope", "reason"} <= _dimension_names(count)
    assert (count["scope"], count["reason"]) == ("ITEMS", "OUT_OF_STOCK")
    assert _values(count, "Cancellations") == [1.0]
    assert count["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Count"
    (refunded,) = _metric(documents, "RefundedMinorUnits")
    assert refunded["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
    assert _values(refunded, "RefundedMinorUnits") == [1836.0]  # 18.36 USD
    assert "currency" in _dimension_names(refunded)
    assert refunded["currency"] == "USD"

    # A replay cancels nothing, so it counts nothing.
    assert api.submit("O1", TWO_MUGS, key=key).headers["idempotent-replayed"] == "true"
    replay_documents = _emf_documents(capsys.readouterr().out)
    assert _metric(replay_documents, "Cancellations") == []
    assert _metric(replay_documents, "RefundedMinorUnits") == []


def test_a_rejected_cancellation_counts_as_a_conflict_not_a_cancellation(
    api: Api, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    api.ingest(order_input("O1"))
    capsys.readouterr()

    too_many = {**TWO_MUGS, "items": [{"line_id": "L1", "quantity": 9}]}
    assert api.submit("O1", too_many).status == 409
    documents = _emf_documents(capsys.readouterr().out)

    assert _metric(documents, "Cancellations") == []
    (conflicts,) = _metric(documents, "Conflicts")
    assert _values(conflicts, "Conflicts") == [1.0]


@pytest.fixture
def function_logs() -> Iterator[io.StringIO]:
    """Everything the functions' Powertools loggers write, for the test's duration."""
    service = TEMPLATE.runtime_environment()["POWERTOOLS_SERVICE_NAME"]
    handlers = [
        h for h in logging.getLogger(service).handlers if isinstance(h, logging.StreamHandler)
    ]
    assert handlers, f"no log handler on the {service!r} logger"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def test_logs_never_carry_the_buyers_email(
    api: Api,
    function_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    order = order_input("O1")
    assert order["buyer"]["email"] == BUYER_EMAIL

    api.ingest(order)
    api.put("/orders/O1", json_body=order, claims=api.admin_claims())  # identical: 200
    changed = {**order, "shipping_fee": "1.00"}
    assert api.put("/orders/O1", json_body=changed, claims=api.admin_claims()).status == 409
    api.post("/orders/O1/cancellations/preview", json_body=TWO_MUGS)
    key = str(uuid.uuid4())
    assert api.submit("O1", TWO_MUGS, key=key).status == 201
    assert api.submit("O1", TWO_MUGS, key=key).status == 201
    assert api.get("/orders/O1").status == 200

    logged = function_logs.getvalue()
    records = [json.loads(line) for line in logged.splitlines()]
    messages = {record["message"] for record in records}
    assert "cancellation created" in messages  # the capture did see the functions' logs
    assert BUYER_EMAIL not in logged
    assert "ana@" not in logged
    assert BUYER_EMAIL not in caplog.text
    captured = capsys.readouterr()
    assert BUYER_EMAIL not in captured.out
    assert BUYER_EMAIL not in captured.err


def test_a_rejected_request_is_not_logged_as_an_error(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api.ingest(order_input("O1"))
    caplog.set_level(logging.INFO)

    assert api.get("/orders/O-MISSING").status == 404
    too_many = {**TWO_MUGS, "items": [{"line_id": "L1", "quantity": 9}]}
    assert api.submit("O1", too_many).status == 409

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [(r.name, r.getMessage()) for r in errors]


def test_tracing_is_lambdas_own_and_no_function_loads_an_xray_sdk() -> None:
    """Lambda's active tracing records every invocation without code in the function;
    an SDK in the function would add its import to every cold start and could put
    response bodies (buyer names, order lines) into trace segments."""
    assert load_template_document()["Globals"]["Function"]["Tracing"] == "Active"
    for spec in TEMPLATE.functions.values():
        probe = (
            "import importlib, sys;"
            f"sys.path[:0] = {[str(spec.code_dir), *map(str, spec.layer_dirs)]!r};"
            f"importlib.import_module({spec.module_name!r});"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_xray_sdk', 'requests'}))"
        )
        loaded = subprocess.run(  # noqa: S603 - our interpreter on our own code
            [sys.executable, "-c", probe],
            env={
                **os.environ,
                "AWS_DEFAULT_REGION": REGION,
                **spec.environment,
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert loaded == "[]", f"{spec.logical_id} loads {loaded}"
