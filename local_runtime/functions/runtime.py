"""Warm instances of the template's functions, each a process of its own, as in Lambda.

Each function has a pool: an event goes to an idle instance, or to a new one (a cold
start, logged with its time) while the pool is below its maximum, or waits for one to be
free. An instance serves one event at a time. One idle for ``idle_seconds`` is stopped.
A handler that raises fails that invocation (``FunctionError``, the gateway's 502); an
instance that dies (``FunctionCrashed``, 502) or runs past the template's ``Timeout``
(``FunctionTimedOut``, 504; the instance is killed) is replaced by the next cold start.

Besides invoking, the runtime lets its user watch what the instances do, as CloudWatch
and X-Ray would (``watch``: every AWS call, with its parameters), and put faults in their
way (``intercept``: an AWS call answered with an error or an answer of the test's own, or
failing after it was made).
Instances are told per event what to report and what to put to the runtime, so neither
costs anything while unused.
"""

from __future__ import annotations

import itertools
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local_runtime.functions.worker import LambdaContext
from local_runtime.template import LOCAL_ACCOUNT_ID, FunctionSpec

logger = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("worker.py")
# Isolated (nothing of this process's path or PYTHON* variables), no bytecode written into
# the project's folders, and without Powertools' warning after each invocation that
# recorded no metric: in CloudWatch a line, here noise.
WORKER_OPTIONS = ("-I", "-B", "-W", "ignore:No application metrics to publish")
DEFAULT_MAX_INSTANCES = 4
DEFAULT_IDLE_SECONDS = 600.0
# Lambda gives a function's initialisation 10 s; this machine's first imports can be slow.
INIT_TIMEOUT_SECONDS = 60.0
# How long a stopping instance gets to exit before it is killed.
STOP_GRACE_SECONDS = 5.0


class FunctionError(Exception):
    """An invocation failed; ``error`` is what Lambda returns (errorType, errorMessage…)."""

    def __init__(self, function_id: str, error: Mapping[str, Any]) -> None:
        super().__init__(f"{function_id}: {error.get('errorType')}: {error.get('errorMessage')}")
        self.function_id = function_id
        self.error = dict(error)


class FunctionCrashed(FunctionError):
    """The instance's process ended while it held an event (or while it started)."""


class FunctionTimedOut(FunctionError):
    """The handler ran past the function's timeout; its instance was stopped."""


@dataclass(frozen=True)
class AwsCall:
    """An AWS call an instance made: its parameters, the items it read (DynamoDB), and its
    error code when it failed."""

    function_id: str
    service: str
    operation: str
    params: Mapping[str, Any]
    items_read: int = 0
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class InterceptedCall:
    function_id: str
    service: str
    operation: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class AwsError:
    """An AWS error answer: ``code`` and ``message``, and any other fields of the parsed
    error response (``CancellationReasons``, say)."""

    code: str
    message: str = "injected"
    status: int = 400
    fields: Mapping[str, Any] = field(default_factory=dict)

    def parsed(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
            **self.fields,
        }


@dataclass(frozen=True)
class AwsAnswer:
    """A successful AWS answer, given instead of making the call: a PutEvents that
    EventBridge took only in part, say (``FailedEntryCount`` and ``Entries``)."""

    fields: Mapping[str, Any]

    def parsed(self) -> dict[str, Any]:
        return {**self.fields, "ResponseMetadata": {"HTTPStatusCode": 200}}


# What an interception rule decides for one call: go ahead (None), answer with an AWS
# error or a successful answer instead of making it (before it is made only), or raise
# this exception there.
Verdict = AwsError | AwsAnswer | BaseException | None
Rule = Callable[[InterceptedCall], Verdict]


@dataclass(frozen=True)
class Invocation:
    """One event handled: the handler's answer or its error, its time, its AWS calls (when
    someone watched)."""

    function_id: str
    instance: int
    result: Any
    error: Mapping[str, Any] | None
    seconds: float
    calls: tuple[AwsCall, ...]
    # The instance's peak resident memory so far, as Lambda's REPORT line gives it.
    peak_rss_kb: int = 0


@dataclass
class _Interception:
    target: str
    before: Rule | None
    after: Rule | None


def context_arguments(spec: FunctionSpec, region: str) -> dict[str, Any]:
    return {
        "function_name": spec.logical_id,
        "memory_mb": spec.memory_mb,
        "function_arn": f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{spec.logical_id}",
        "timeout_seconds": spec.timeout_seconds,
    }


def lambda_context(spec: FunctionSpec, region: str) -> LambdaContext:
    """The context an instance of ``spec`` passes its handler (for calling one directly)."""
    return LambdaContext(**context_arguments(spec, region))


class FunctionInstance:
    """One warm instance of a function: a worker process and its end of the socket pair."""

    def __init__(
        self,
        spec: FunctionSpec,
        number: int,
        environment: Mapping[str, str],
        region: str,
        stdout: int | None = None,
    ) -> None:
        self.spec = spec
        self.number = number
        ours, theirs = socket.socketpair()
        variables = {
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
        }
        started = time.perf_counter()
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 (this interpreter, our worker)  # nosec B603
                [
                    sys.executable,
                    *WORKER_OPTIONS,
                    str(WORKER),
                    str(theirs.fileno()),
                ],
                pass_fds=(theirs.fileno(),),
                env=variables,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                # Its own process group: a Ctrl-C at the terminal is the runtime's to act on.
                process_group=0,
            )
        self._connection = Connection(ours.detach())
        self.pid = self._process.pid
        self.last_used = time.monotonic()
        self._connection.send(
            {
                "code_dir": str(spec.code_dir),
                "layer_dirs": [str(layer) for layer in spec.layer_dirs],
                "module": spec.module_name,
                "handler": spec.handler_name,
                "context": context_arguments(spec, region),
            }
        )
        kind, facts = self._receive(INIT_TIMEOUT_SECONDS, "started")
        if kind != "ready":
            self.stop()
            raise FunctionCrashed(spec.logical_id, facts)
        self.import_seconds: float = facts["import_seconds"]
        self.rss_kb: int = facts["rss_kb"]
        self.start_seconds = time.perf_counter() - started

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def _receive(self, timeout: float, doing: str) -> Any:
        try:
            if not self._connection.poll(timeout):
                self.kill()
                raise FunctionTimedOut(
                    self.spec.logical_id,
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                    },
                )
            return self._connection.recv()
        except (EOFError, OSError) as error:
            code = self._process.wait(timeout=STOP_GRACE_SECONDS)
            raise FunctionCrashed(
                self.spec.logical_id,
                {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"the instance exited with {code} before it {doing}",
                },
            ) from error

    def invoke(
        self,
        event: Mapping[str, Any],
        *,
        report_calls: bool,
        interceptions: Mapping[str, _Interception],
    ) -> Invocation:
        function_id = self.spec.logical_id
        deadline = time.monotonic() + self.spec.timeout_seconds
        options = {"report_calls": report_calls, "intercept": sorted(interceptions)}
        try:
            self._connection.send((dict(event), options))
        except OSError as error:
            raise FunctionCrashed(
                function_id, {"errorType": "Runtime.ExitError", "errorMessage": str(error)}
            ) from error
        while True:
            message = self._receive(max(0.0, deadline - time.monotonic()), "answered")
            if message[0] != "intercept":
                break
            _, phase, service, operation, params = message
            interception = interceptions.get(f"{service}.{operation}")
            rule = None if interception is None else getattr(interception, phase)
            call = InterceptedCall(function_id, service, operation, params)
            self._connection.send(_verdict(rule(call) if rule else None, phase))
        self.last_used = time.monotonic()
        kind, value, seconds, calls, peak_rss_kb = message
        return Invocation(
            function_id=function_id,
            instance=self.number,
            result=value if kind == "result" else None,
            error=value if kind == "error" else None,
            seconds=seconds,
            peak_rss_kb=peak_rss_kb,
            calls=tuple(
                AwsCall(function_id, service, operation, params, read, error)
                for service, operation, params, read, error in calls
            ),
        )

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            self._process.kill()

    def stop(self) -> None:
        with suppress(OSError):
            self._connection.send(None)
        try:
            self._process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            self._process.wait()
        self._connection.close()


def _verdict(decided: Verdict, phase: str) -> tuple[str, Any] | None:
    if decided is None:
        return None
    if isinstance(decided, AwsError | AwsAnswer):
        if phase != "before":
            raise TypeError("an AWS answer stands for a call before it is made, not after")
        return ("answer", decided.parsed())
    return ("raise", decided)


class _Pool:
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.instances: list[FunctionInstance] = []
        self.idle: list[FunctionInstance] = []
        self.starting = 0
        self.changed = threading.Condition()
        self.numbers = itertools.count(1)


ColdStartListener = Callable[[FunctionInstance], None]


class FunctionRuntime:
    """The pools of the template's functions; ``invoke`` is what the gateway calls."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        region: str,
        environment: Mapping[str, str] | None = None,
        *,
        max_instances: int = DEFAULT_MAX_INSTANCES,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        on_cold_start: ColdStartListener | None = None,
        stdout: int | None = None,
    ) -> None:
        """``stdout``: a file descriptor for what the instances print on stdout (their
        logs, as Lambda's go to CloudWatch); they print on this process's by default."""
        if max_instances < 1:
            raise ValueError("a function needs at least one instance")
        self._functions = {spec.logical_id: spec for spec in functions}
        self._region = region
        self._environment = dict(environment or {})
        self._overrides: dict[str, dict[str, str]] = {}
        self._pools = {function_id: _Pool(max_instances) for function_id in self._functions}
        self._idle_seconds = idle_seconds
        self._on_cold_start = on_cold_start or _log_cold_start
        self._stdout = stdout
        self._lock = threading.Lock()
        self._watchers: dict[int, Callable[[AwsCall], None]] = {}
        self._interceptions: dict[str, _Interception] = {}
        self._ids = itertools.count()
        self._stopping = threading.Event()
        self._reaper: threading.Thread | None = None

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        return self._functions

    # --- lifecycle ---

    def start(self, environment: Mapping[str, str] | None = None) -> None:
        """Instances started from now on get ``environment``; idle ones get stopped."""
        if environment is not None:
            self._environment = dict(environment)
        self._stopping.clear()
        if self._reaper is None and self._idle_seconds > 0:
            self._reaper = threading.Thread(target=self._reap, name="instance-reaper", daemon=True)
            self._reaper.start()

    def stop(self) -> None:
        """Stops every instance; the runtime can be started again."""
        self._stopping.set()
        if self._reaper is not None:
            self._reaper.join()
            self._reaper = None
        for function_id in self._functions:
            self._stop_instances(function_id)

    def preload(self, count: int = 1) -> dict[str, BaseException]:
        """Starts ``count`` instances of every function, all at once, as cold starts would;
        returns what failed to start."""
        failures: dict[str, BaseException] = {}

        def warm(function_id: str) -> None:
            try:
                self.warm(function_id, count)
            except Exception as error:
                logger.error("%s failed to start: %s", function_id, error)
                failures[function_id] = error

        threads = [threading.Thread(target=warm, args=(f,)) for f in self._functions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return failures

    def warm(self, function_id: str, count: int) -> None:
        """Starts instances until the function has ``count`` (at most its maximum)."""
        pool = self._pools[function_id]
        while True:
            with pool.changed:
                if len(pool.instances) + pool.starting >= min(count, pool.maximum):
                    return
                pool.starting += 1
            self._start_instance(function_id)

    def instances(self, function_id: str) -> list[FunctionInstance]:
        """The function's live instances, the first started first."""
        pool = self._pools[function_id]
        with pool.changed:
            return list(pool.instances)

    @contextmanager
    def configured(self, function_id: str, variables: Mapping[str, str]) -> Iterator[None]:
        """While inside, the function runs with these variables added to its environment:
        as an update of a Lambda function's configuration does, it replaces the instances."""
        previous = self._overrides.get(function_id)
        self._overrides[function_id] = {**(previous or {}), **variables}
        self._stop_instances(function_id)
        try:
            yield
        finally:
            if previous is None:
                self._overrides.pop(function_id, None)
            else:
                self._overrides[function_id] = previous
            self._stop_instances(function_id)

    # --- invoking ---

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> Any:
        """The handler's answer; ``FunctionError`` (or a subclass) when it failed."""
        invocation = self.invocation(function_id, event)
        if invocation.error is not None:
            raise FunctionError(function_id, invocation.error)
        return invocation.result

    def invocation(self, function_id: str, event: Mapping[str, Any]) -> Invocation:
        """Everything about handling ``event``: its answer or error, its time, its calls."""
        instance = self._acquire(function_id)
        with self._lock:
            watchers = list(self._watchers.values())
            interceptions = dict(self._interceptions)
        healthy = False
        try:
            invocation = instance.invoke(
                event, report_calls=bool(watchers), interceptions=interceptions
            )
            healthy = True
        finally:
            self._release(instance, healthy)
        for call in invocation.calls:
            for watcher in watchers:
                watcher(call)
        return invocation

    # --- watching and intercepting ---

    @contextmanager
    def watch(self, watcher: Callable[[AwsCall], None]) -> Iterator[None]:
        """While inside, ``watcher`` gets every AWS call of every instance, once the
        invocation that made it has ended."""
        key = next(self._ids)
        with self._lock:
            self._watchers[key] = watcher
        try:
            yield
        finally:
            with self._lock:
                del self._watchers[key]

    @contextmanager
    def intercept(
        self, target: str, *, before: Rule | None = None, after: Rule | None = None
    ) -> Iterator[None]:
        """While inside, every ``service.Operation`` call (``ses.SendRawEmail``) of every
        instance is put to ``before`` (before it is made) and ``after`` (once it answered);
        what they return decides what the call does (``Verdict``)."""
        with self._lock:
            if target in self._interceptions:
                raise RuntimeError(f"{target} is intercepted already")
            self._interceptions[target] = _Interception(target, before, after)
        try:
            yield
        finally:
            with self._lock:
                del self._interceptions[target]

    # --- the pools ---

    def _environment_of(self, function_id: str) -> dict[str, str]:
        spec = self._functions[function_id]
        return {
            **self._environment,
            **spec.environment,
            **self._overrides.get(function_id, {}),
        }

    def _start_instance(self, function_id: str) -> FunctionInstance:
        """Starts an instance in a slot the caller reserved (``starting``), makes it idle."""
        pool = self._pools[function_id]
        instance: FunctionInstance | None = None
        try:
            with pool.changed:
                number = next(pool.numbers)
            instance = FunctionInstance(
                self._functions[function_id],
                number,
                self._environment_of(function_id),
                self._region,
                self._stdout,
            )
        finally:
            with pool.changed:
                pool.starting -= 1
                if instance is not None:
                    pool.instances.append(instance)
                    pool.idle.append(instance)
                pool.changed.notify_all()
        self._on_cold_start(instance)
        return instance

    def _acquire(self, function_id: str) -> FunctionInstance:
        pool = self._pools[function_id]
        while True:
            with pool.changed:
                while not pool.idle and len(pool.instances) + pool.starting >= pool.maximum:
                    pool.changed.wait()
                if pool.idle:
                    return pool.idle.pop()
                pool.starting += 1
            self._start_instance(function_id)

    def _release(self, instance: FunctionInstance, healthy: bool) -> None:
        pool = self._pools[instance.spec.logical_id]
        keep = healthy and instance.alive
        with pool.changed:
            if keep and instance in pool.instances:
                pool.idle.append(instance)
            elif instance in pool.instances:
                pool.instances.remove(instance)
                keep = False
            pool.changed.notify_all()
        if not keep:
            logger.warning(
                "%s instance %d is gone; the next event starts another",
                instance.spec.logical_id,
                instance.number,
            )
            instance.stop()

    def _stop_instances(self, function_id: str, *, idle_for: float | None = None) -> None:
        """Stops the idle instances (idle at least ``idle_for`` seconds, when given); with
        no ``idle_for``, waits for the busy ones to finish and stops them too."""
        pool = self._pools[function_id]
        now = time.monotonic()
        with pool.changed:
            if idle_for is None:
                while len(pool.idle) < len(pool.instances) or pool.starting:
                    pool.changed.wait()
            stopping = [
                instance
                for instance in pool.idle
                if idle_for is None or now - instance.last_used >= idle_for
            ]
            for instance in stopping:
                pool.idle.remove(instance)
                pool.instances.remove(instance)
        for instance in stopping:
            instance.stop()

    def _reap(self) -> None:
        interval = min(30.0, self._idle_seconds / 2)
        while not self._stopping.wait(interval):
            for function_id in self._functions:
                self._stop_instances(function_id, idle_for=self._idle_seconds)


def _log_cold_start(instance: FunctionInstance) -> None:
    logger.info(
        "%s: cold start of instance %d (pid %d) in %.2f s, its handler imported in %.2f s",
        instance.spec.logical_id,
        instance.number,
        instance.pid,
        instance.start_seconds,
        instance.import_seconds,
    )
