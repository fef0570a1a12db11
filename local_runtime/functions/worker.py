"""One function instance, as the Lambda Python runtime runs one: started with the
function's environment, its code folder (``CodeUri``) first on ``sys.path`` and its
layers after it, the handler imported once (the cold start), then one event at a time.

Run by ``FunctionInstance`` as ``python -I worker.py FD``: isolated, so that nothing of
the parent (its working directory, ``PYTHONPATH``) is on the path; FD is its end of a
socket pair that carries pickled messages:

- first the parent sends the start: code folder, layers, handler, name, memory, timeout;
  the worker answers ``("ready", facts)`` or ``("init_error", error)``;
- then, per event, ``(event, options)``; the worker answers
  ``("result", value, seconds, calls)`` or ``("error", error, seconds, calls)``;
- while an event runs, an AWS call the options name is first put to the parent,
  ``("intercept", phase, service, operation, params)``, and goes ahead as the answer says
  (``None``; ``("answer", parsed)``: that error instead of the call; ``("raise", error)``);
- ``None`` ends the worker.

AWS calls are seen through botocore's documented event hooks on boto3's default session,
which every client the handler creates belongs to. This file imports nothing of the
project: an instance holds what its function imports and no more.
"""

from __future__ import annotations

import copy
import importlib
import os
import resource
import sys
import threading
import time
import traceback
import uuid
from multiprocessing.connection import Connection
from typing import Any


class LambdaContext:
    """The context object the Lambda Python runtime passes to a handler."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(
        self, function_name: str, memory_mb: int, function_arn: str, timeout_seconds: float
    ) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = function_arn
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = (
            f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"
        )
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def error_document(error: BaseException) -> dict[str, Any]:
    """What Lambda returns for a function that raised."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error),
    }


def items_read(operation: str, parsed: dict[str, Any]) -> int:
    """The items a DynamoDB call read: a Query's or Scan's ScannedCount (before any
    filter), the items a BatchGetItem or GetItem returned."""
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "BatchGetItem":
        return sum(len(items) for items in (parsed.get("Responses") or {}).values())
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    return 0


class CallReporter:
    """Records the AWS calls of an invocation and puts the intercepted ones to the parent."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._asking = threading.Lock()
        self._recording = threading.Lock()
        self._params = threading.local()
        self._report = False
        self._intercepted: frozenset[str] = frozenset()
        self.calls: list[tuple[str, str, dict[str, Any], int, str | None]] = []

    def begin(self, options: dict[str, Any]) -> None:
        self._report = bool(options.get("report_calls"))
        self._intercepted = frozenset(options.get("intercept", ()))
        self.calls = []

    def end(self) -> list[tuple[str, str, dict[str, Any], int, str | None]]:
        calls, self.calls = self.calls, []
        return calls

    @staticmethod
    def _target(event_name: str) -> tuple[str, str]:
        _, service, operation = event_name.split(".", 2)
        return service, operation

    def remember_params(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        if self._report or self._intercepted:
            self._params.value = copy.deepcopy(params)

    def _ask(self, phase: str, service: str, operation: str) -> Any:
        if f"{service}.{operation}" not in self._intercepted:
            return None
        params = getattr(self._params, "value", {})
        with self._asking:
            self._connection.send(("intercept", phase, service, operation, params))
            return self._connection.recv()

    def before_call(self, event_name: str, **_: Any) -> Any:
        service, operation = self._target(event_name)
        verdict = self._ask("before", service, operation)
        if verdict is None:
            return None
        kind, value = verdict
        if kind == "raise":
            raise value
        from botocore.awsrequest import AWSResponse  # noqa: PLC0415 - boto3 is loaded by now

        status = value.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        return AWSResponse("https://intercepted.invalid", status, {}, None), value

    def after_call(self, event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        service, operation = self._target(event_name)
        if self._report:
            params = self._params.__dict__.pop("value", {})
            error = (parsed.get("Error") or {}).get("Code")
            read = items_read(operation, parsed) if service == "dynamodb" else 0
            with self._recording:
                self.calls.append((service, operation, params, read, error))
        verdict = self._ask("after", service, operation)
        if verdict is not None and verdict[0] == "raise":
            raise verdict[1]


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    connection = Connection(int(sys.argv[1]))
    try:
        start: dict[str, Any] = connection.recv()
    except EOFError:  # the runtime went away before this instance was needed
        return 0
    sys.path[:0] = [start["code_dir"], *start["layer_dirs"]]
    os.chdir(start["code_dir"])
    import boto3  # noqa: PLC0415 - after the paths, as the runtime's own boto3 would be

    reporter = CallReporter(connection)
    boto3.setup_default_session()
    events = boto3.DEFAULT_SESSION.events
    events.register("before-parameter-build", reporter.remember_params)
    events.register("before-call", reporter.before_call)
    events.register("after-call", reporter.after_call)
    started = time.perf_counter()
    try:
        module = importlib.import_module(start["module"])
        handler = getattr(module, start["handler"])
    except Exception as error:  # Lambda's Runtime.ImportModuleError / init error
        traceback.print_exc()
        connection.send(("init_error", error_document(error)))
        return 1
    connection.send(
        ("ready", {"import_seconds": time.perf_counter() - started, "rss_kb": peak_rss_kb()})
    )
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return 0
        if message is None:
            return 0
        event, options = message
        reporter.begin(options)
        context = LambdaContext(**start["context"])
        started = time.perf_counter()
        try:
            outcome: tuple[str, Any] = ("result", handler(event, context))
        except Exception as error:  # the invocation fails; the instance lives on
            traceback.print_exc()
            outcome = ("error", error_document(error))
        sys.stdout.flush()
        sys.stderr.flush()
        seconds = time.perf_counter() - started
        connection.send((*outcome, seconds, reporter.end(), peak_rss_kb()))


if __name__ == "__main__":
    sys.exit(main())
