"""The bench's function instances are the local runtime's (``local_runtime.functions``):
each warm instance a process of its own, as in Lambda. Here, what the bench adds: a
runtime whose instances log to ``.local/bench-functions.log`` and may be many at once,
and the faults the reliability checks put in the way of the instances' AWS calls."""

from __future__ import annotations

import dataclasses
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from botocore.exceptions import ReadTimeoutError

from local_runtime import PROJECT_ROOT
from local_runtime.functions.runtime import (
    AwsError,
    FunctionRuntime,
    InterceptedCall,
    Rule,
    Verdict,
)
from local_runtime.template import FunctionSpec

LOG_PATH = PROJECT_ROOT / ".local" / "bench-functions.log"
# The contention checks run 33 instances of the cancel function at once.
MAX_INSTANCES = 40


@contextmanager
def function_runtime(
    specs: Mapping[str, FunctionSpec],
    region: str,
    environment: Mapping[str, str],
    environment_by_function: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[FunctionRuntime]:
    """The functions' instances, each with ``environment``, then its own variables and
    its ``environment_by_function`` on top; what they print goes to the log, as to
    CloudWatch (their stderr, tracebacks included, stays this process's). All stopped on
    exit."""
    overrides = environment_by_function or {}
    functions = [
        dataclasses.replace(spec, environment={**spec.environment, **overrides[name]})
        if name in overrides
        else spec
        for name, spec in specs.items()
    ]
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    log = os.open(LOG_PATH, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        runtime = FunctionRuntime(
            functions,
            region,
            environment,
            max_instances=MAX_INSTANCES,
            idle_seconds=0,  # an instance lives as long as the bench needs it
            stdout=log,
        )
        runtime.start()
        try:
            yield runtime
        finally:
            runtime.stop()
    finally:
        os.close(log)


@dataclass(frozen=True)
class Fault:
    """A failure an AWS call meets: ``error`` answers the call with that error code
    instead of making it; ``timeout_after`` makes it, then loses the answer to a read
    timeout. Each happens on ``rate`` of a function's calls; which ones is drawn from
    ``seed``, per function, so that the same calls fail in every run."""

    service: str
    operation: str
    rate: float
    error: str | None = None
    timeout_after: bool = False
    seed: int = 7

    def __post_init__(self) -> None:
        if (self.error is None) == (not self.timeout_after):
            raise ValueError("a fault is an error or a timeout after the call, one of them")

    @property
    def target(self) -> str:
        return f"{self.service}.{self.operation}"

    def rule(self, function_id: str) -> Rule:
        """What the fault decides for each call of ``function_id``'s instances."""
        chance = random.Random(self.seed)  # noqa: S311 - which calls fail, not a secret

        def decide(call: InterceptedCall) -> Verdict:
            if call.function_id != function_id or chance.random() >= self.rate:
                return None
            if self.error is not None:
                return AwsError(self.error, "injected by the bench")
            lost: BaseException = ReadTimeoutError(endpoint_url="https://fault.invalid")
            return lost

        return decide


def _first(rules: list[Rule]) -> Rule | None:
    """The first verdict of ``rules`` that is not to go ahead, as botocore's handlers of
    one event decide."""
    if not rules:
        return None

    def decide(call: InterceptedCall) -> Verdict:
        for rule in rules:
            verdict = rule(call)
            if verdict is not None:
                return verdict
        return None

    return decide


@contextmanager
def injected(runtime: FunctionRuntime, faults: Mapping[str, Iterable[Fault]]) -> Iterator[None]:
    """While inside, each function's instances meet its ``faults``."""
    before: defaultdict[str, list[Rule]] = defaultdict(list)
    after: defaultdict[str, list[Rule]] = defaultdict(list)
    for function_id, function_faults in faults.items():
        for fault in function_faults:
            phase = after if fault.timeout_after else before
            phase[fault.target].append(fault.rule(function_id))
    with ExitStack() as stack:
        for target in dict.fromkeys([*before, *after]):
            stack.enter_context(
                runtime.intercept(
                    target, before=_first(before[target]), after=_first(after[target])
                )
            )
        yield
