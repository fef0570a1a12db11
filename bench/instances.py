"""Function instances as Lambda runs them: each warm instance its own Python process, with
the function's code and layers on ``sys.path`` and its environment from the template, fed
one event at a time. Each reports, per invocation, its handler's time and the DynamoDB
calls it made (counted by botocore's event hooks on the process's default session)."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import random
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from bench.cold_import import peak_rss_kb
from local_runtime import PROJECT_ROOT
from local_runtime.template import FunctionSpec

_spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Fault:
    """A failure an AWS call meets in an instance, through botocore's documented events:
    ``error`` answers the call with that error code instead of making it; ``timeout_after``
    makes it, then loses the answer to a read timeout. Each happens on ``rate`` of calls."""

    service: str
    operation: str
    rate: float
    error: str | None = None
    timeout_after: bool = False
    seed: int = 7

    def install(self, events: Any) -> None:
        chance = random.Random(self.seed)  # noqa: S311 - which calls fail, not a secret
        target = f"{self.service}.{self.operation}"
        if self.error is not None:
            code = self.error

            def refuse(**_: Any) -> tuple[Any, dict[str, Any]] | None:
                if chance.random() >= self.rate:
                    return None
                response = AWSResponse("https://fault.invalid", 400, {}, None)
                parsed = {
                    "Error": {"Code": code, "Message": "injected by the bench"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                return response, parsed

            events.register(f"before-call.{target}", refuse)
        if self.timeout_after:

            def lose_answer(**_: Any) -> None:
                if chance.random() < self.rate:
                    raise ReadTimeoutError(endpoint_url="https://fault.invalid")

            events.register(f"after-call.{target}", lose_answer)


@dataclass(frozen=True)
class Invocation:
    result: Any
    error: str | None
    seconds: float
    calls: tuple[str, ...]
    items_read: int


@dataclass
class _Counters:
    calls: list[str] = field(default_factory=list)
    items_read: int = 0

    def count(self, model: Any, parsed: Mapping[str, Any], **_: Any) -> None:
        self.calls.append(model.name)
        if model.name in ("Query", "Scan"):
            self.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "BatchGetItem":
            self.items_read += sum(len(items) for items in parsed.get("Responses", {}).values())
        elif model.name == "GetItem":
            self.items_read += 1 if parsed.get("Item") else 0


def _serve(
    connection: Connection,
    spec: FunctionSpec,
    environment: Mapping[str, str],
    log_path: str,
    faults: Sequence[Fault],
) -> None:
    # What the function prints (its logs, and the metrics Powertools' single_metric prints
    # even when POWERTOOLS_METRICS_DISABLED is set) goes to the log, as to CloudWatch.
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(environment)
    os.environ["LAMBDA_TASK_ROOT"] = str(spec.code_dir)
    sys.path[:0] = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs)]
    # Imported once the function's environment and paths are in place, as in Lambda.
    import boto3  # noqa: PLC0415

    from local_runtime.lambda_runtime import LambdaContext  # noqa: PLC0415

    counters = _Counters()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", counters.count)
    for fault in faults:
        fault.install(boto3.DEFAULT_SESSION.events)
    started = time.perf_counter()
    handler = getattr(importlib.import_module(spec.module_name), spec.handler_name)
    connection.send(
        {
            "import_seconds": time.perf_counter() - started,
            "rss_kb": peak_rss_kb(),
        }
    )
    region = environment.get("AWS_REGION", "us-east-1")
    while (event := connection.recv()) is not None:
        counters.calls.clear()
        counters.items_read = 0
        context = LambdaContext.for_function(spec, region)
        error = None
        result = None
        started = time.perf_counter()
        try:
            result = handler(event, context)
        except Exception as raised:  # reported to the caller, as Lambda does
            error = f"{type(raised).__name__}: {raised}"
        elapsed = time.perf_counter() - started
        connection.send(
            Invocation(result, error, elapsed, tuple(counters.calls), counters.items_read)
        )


LOG_PATH = PROJECT_ROOT / ".local" / "bench-functions.log"


class FunctionInstance:
    def __init__(
        self, spec: FunctionSpec, environment: Mapping[str, str], faults: Sequence[Fault] = ()
    ) -> None:
        self.spec = spec
        self._connection, child = _spawn.Pipe()
        LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
        self._process = _spawn.Process(
            target=_serve,
            args=(child, spec, dict(environment), str(LOG_PATH), tuple(faults)),
            daemon=True,
        )
        self._process.start()
        child.close()
        ready = self._connection.recv()
        self.import_seconds: float = ready["import_seconds"]
        self.rss_kb: int = ready["rss_kb"]

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        self._connection.send(dict(event))
        invocation: Invocation = self._connection.recv()
        return invocation

    def close(self) -> None:
        with suppress(OSError):
            self._connection.send(None)
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
        self._connection.close()


class InstancePool:
    """Up to ``size`` instances per function, started on demand; one event each at a time."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        environment: Mapping[str, str],
        faults: Mapping[str, Sequence[Fault]] | None = None,
        environment_by_function: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._specs = specs
        self._environment = dict(environment)
        self._faults = dict(faults or {})
        self._environment_by_function = dict(environment_by_function or {})
        self._idle: dict[str, list[FunctionInstance]] = {name: [] for name in specs}
        self._all: list[FunctionInstance] = []
        self._lock = threading.Lock()
        self.invocations: list[tuple[str, Invocation]] = []

    def warm(self, function_id: str, count: int) -> None:
        """Start instances until ``count`` of the function are idle."""
        with self._lock:
            missing = count - len(self._idle[function_id])
        started = [self._start(function_id) for _ in range(missing)]
        with self._lock:
            self._idle[function_id].extend(started)

    def _start(self, function_id: str) -> FunctionInstance:
        instance = FunctionInstance(
            self._specs[function_id],
            {**self._environment, **self._environment_by_function.get(function_id, {})},
            self._faults.get(function_id, ()),
        )
        with self._lock:
            self._all.append(instance)
        return instance

    @contextmanager
    def instance(self, function_id: str) -> Iterator[FunctionInstance]:
        with self._lock:
            idle = self._idle[function_id]
            instance = idle.pop() if idle else None
        if instance is None:
            instance = self._start(function_id)
        try:
            yield instance
        finally:
            with self._lock:
                self._idle[function_id].append(instance)

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> Any:
        """The gateway's invoker: the handler's answer, or its error raised."""
        with self.instance(function_id) as instance:
            invocation = instance.invoke(event)
        with self._lock:
            self.invocations.append((function_id, invocation))
        if invocation.error is not None:
            raise RuntimeError(f"{function_id}: {invocation.error}")
        return invocation.result

    def take_invocations(self) -> list[tuple[str, Invocation]]:
        with self._lock:
            taken, self.invocations = self.invocations, []
        return taken

    def close(self) -> None:
        for instance in self._all:
            instance.close()
        self._all.clear()
