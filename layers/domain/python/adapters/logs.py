"""The functions' logger: Powertools' JSON lines, or one short line each under Text.

Lambda tells a function its log format in ``AWS_LAMBDA_LOG_FORMAT`` (the template asks
for JSON, which CloudWatch Logs Insights queries). The local runtime runs the functions
with ``Text``: the same records, each a line a developer can read beside the gateway's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

TEXT_FORMAT = "text"

# Shown at the front of the line, or not at all: the rest follow as key=value.
_LEADING = ("level", "function_name", "correlation_id", "message")
_OMITTED = frozenset(
    {
        "location",
        "timestamp",
        "service",
        "cold_start",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "sampling_rate",
        "stack_trace",
        "exception_name",
        "exception",
    }
)


def text_line(record: Mapping[str, Any]) -> str:
    """``INFO  CancelFunction 3f2a9c1e request rejected code=… detail=…``, then the
    exception's traceback, if any, on the lines below."""
    level = str(record.get("level", "")).ljust(5)
    function = record.get("function_name") or record.get("service") or "-"
    correlation = str(record.get("correlation_id") or "-")[:8]
    message = record.get("message")
    text = message if isinstance(message, str) else json.dumps(message, default=str)
    extras = " ".join(
        f"{key}={_value(value)}"
        for key, value in record.items()
        if key not in _LEADING and key not in _OMITTED
    )
    line = " ".join(part for part in (level, function, correlation, text, extras) if part)
    exception = record.get("exception")
    return f"{line}\n{exception}" if exception else line


def _value(value: Any) -> str:
    return value if isinstance(value, str) and " " not in value else json.dumps(value, default=str)


def service_logger() -> Logger:
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").lower() == TEXT_FORMAT:
        return Logger(logger_formatter=LambdaPowertoolsFormatter(json_serializer=text_line))
    return Logger()
