"""The functions' log lines: JSON in AWS, one readable line each under Lambda's Text format."""

from __future__ import annotations

import json
import uuid

import pytest

from adapters.logs import service_logger, text_line


def test_a_record_becomes_one_line_with_its_own_fields_as_key_value() -> None:
    record = {
        "level": "INFO",
        "location": "_domain:120",
        "message": "request rejected",
        "timestamp": "2026-12-01 09:00:00,123+0000",
        "service": "order-cancellations",
        "cold_start": False,
        "function_name": "CancelFunction",
        "function_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbe07",
        "correlation_id": "3f2a9c1e-1111-2222-3333-444455556666",
        "xray_trace_id": "1-abc",
        "code": "QUANTITY_EXCEEDS_CANCELLABLE",
        "detail": "line L1: 3 requested, 2 cancellable",
        "attempt": 2,
    }

    assert text_line(record) == (
        "INFO  CancelFunction 3f2a9c1e request rejected code=QUANTITY_EXCEEDS_CANCELLABLE "
        'detail="line L1: 3 requested, 2 cancellable" attempt=2'
    )


def test_an_exception_follows_its_line() -> None:
    record = {
        "level": "ERROR",
        "message": "unexpected error",
        "service": "order-cancellations",
        "exception": "Traceback (most recent call last):\n  ...\nRuntimeError: boom",
        "exception_name": "RuntimeError",
        "stack_trace": {"type": "RuntimeError"},
    }

    first, *rest = text_line(record).splitlines()

    assert first == "ERROR order-cancellations - unexpected error"
    assert rest[-1] == "RuntimeError: boom"


@pytest.mark.parametrize(("log_format", "is_json"), [("Text", False), ("JSON", True), ("", True)])
def test_the_logger_follows_lambdas_log_format(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    log_format: str,
    is_json: bool,
) -> None:
    # A service name of its own: Powertools keeps one configured logger per service.
    service = f"logs-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", log_format)

    service_logger().info("request rejected", extra={"code": "VALIDATION_ERROR"})

    (line,) = capsys.readouterr().out.splitlines()
    if is_json:
        document = json.loads(line)
        assert document["message"] == "request rejected"
        assert document["code"] == "VALIDATION_ERROR"
    else:
        assert line == f"INFO  {service} - request rejected code=VALIDATION_ERROR"
