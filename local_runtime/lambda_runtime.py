"""Import and call Lambda handlers in this process, the way the Lambda Python runtime does.

Lambda gives each function its own process: ``/var/task`` (the CodeUri folder) first on
``sys.path``, then the layers. Here all functions share one process, so a module name
found in two CodeUri folders (``settings.py`` in both, say) would collide; such modules
are kept apart per function and swapped in, under a lock, while that function runs.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from local_runtime.template import LOCAL_ACCOUNT_ID, FunctionSpec

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The context object the Lambda Python runtime passes to a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(init=False, repr=False, default=0.0)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @classmethod
    def for_function(cls, spec: FunctionSpec, region: str) -> LambdaContext:
        return cls(
            function_name=spec.logical_id,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=(
                f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{spec.logical_id}"
            ),
            timeout_seconds=spec.timeout_seconds,
        )


def _top_level_module_names(code_dir: Path) -> set[str]:
    names: set[str] = set()
    for entry in code_dir.iterdir():
        if entry.is_file() and entry.suffix == ".py":
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and entry.name != "__pycache__":
            names.add(entry.name)
    return names


def _module_location(module: ModuleType) -> Path | None:
    location = getattr(module, "__file__", None)
    if location is None:
        search_path = list(getattr(module, "__path__", []))
        location = search_path[0] if search_path else None
    return Path(location).resolve() if location else None


def _is_within(path: Path | None, folder: Path) -> bool:
    return path is not None and path.is_relative_to(folder)


class FunctionRuntime:
    """Loads the functions of a template and invokes their handlers.

    Each function serves one request at a time, as one warm Lambda instance does: handler
    modules keep per-request state (Powertools' resolver keeps the current event).
    """

    def __init__(self, functions: Iterable[FunctionSpec], region: str) -> None:
        self._functions = {spec.logical_id: spec for spec in functions}
        self._region = region
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.RLock()
        self._instance_locks = {function_id: threading.Lock() for function_id in self._functions}
        self._code_dirs = sorted({spec.code_dir for spec in self._functions.values()})
        self._layer_dirs = sorted(
            {layer for spec in self._functions.values() for layer in spec.layer_dirs}
        )
        names_by_dir = {code_dir: _top_level_module_names(code_dir) for code_dir in self._code_dirs}
        self._shared_names = {
            name
            for code_dir, names in names_by_dir.items()
            for other_dir, other_names in names_by_dir.items()
            if other_dir != code_dir
            for name in names & other_names
        }
        self._parked: dict[Path, dict[str, ModuleType]] = {d: {} for d in self._code_dirs}
        self._added_paths: list[str] = []
        self._modules_before: set[str] | None = None

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        return self._functions

    def activate(self) -> None:
        """Puts the CodeUri folders, then the layers, first on ``sys.path``."""
        self._modules_before = set(sys.modules)
        wanted = [str(path) for path in (*self._code_dirs, *self._layer_dirs)]
        self._added_paths = [path for path in wanted if path not in sys.path]
        sys.path[0:0] = self._added_paths

    def deactivate(self) -> None:
        """Forgets what ``activate`` and the imports added, so later imports start afresh."""
        if self._modules_before is None:
            return
        for path in self._added_paths:
            while path in sys.path:
                sys.path.remove(path)
        self._added_paths = []
        folders = [*self._code_dirs, *self._layer_dirs]
        for name in set(sys.modules) - self._modules_before:
            location = _module_location(sys.modules[name])
            if any(_is_within(location, folder) for folder in folders):
                del sys.modules[name]
        self._modules_before = None
        self._handlers.clear()
        for parked in self._parked.values():
            parked.clear()

    def handler(self, function_id: str) -> Handler:
        handler = self._handlers.get(function_id)
        if handler is not None:
            return handler
        spec = self._functions[function_id]
        with self._lock, self._modules_of(spec):
            module = importlib.import_module(spec.module_name)
        candidate = getattr(module, spec.handler_name, None)
        if not callable(candidate):
            raise TypeError(f"{spec.handler} is not a function")
        handler = cast(Handler, candidate)
        self._handlers[function_id] = handler
        return handler

    def preload(self) -> dict[str, BaseException]:
        """Imports every function now, as a cold start would; returns what failed."""
        failures: dict[str, BaseException] = {}
        for function_id in self._functions:
            try:
                self.handler(function_id)
            except Exception as error:
                logger.exception("%s failed to import", function_id)
                failures[function_id] = error
        return failures

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        spec = self._functions[function_id]
        handler = self.handler(function_id)
        isolated = bool(self._shared_names & _top_level_module_names(spec.code_dir))
        with self._instance_locks[function_id]:
            context = LambdaContext.for_function(spec, self._region)
            started = time.monotonic()
            with self._lock if isolated else nullcontext(), self._modules_of(spec):
                result = handler(event, context)
            elapsed = time.monotonic() - started
        if elapsed > spec.timeout_seconds:
            logger.warning(
                "%s took %.1f s, over its %s s timeout: Lambda would have stopped it",
                function_id,
                elapsed,
                spec.timeout_seconds,
            )
        return result

    @contextmanager
    def _modules_of(self, spec: FunctionSpec) -> Iterator[None]:
        """While inside, module names shared between functions mean ``spec``'s modules."""
        own_names = self._shared_names & _top_level_module_names(spec.code_dir)
        if not own_names:
            yield
            return
        self._park_shared_modules()
        sys.modules.update(self._parked[spec.code_dir])
        code_dir = str(spec.code_dir)
        sys.path.insert(0, code_dir)
        try:
            yield
        finally:
            sys.path.remove(code_dir)
            self._park_shared_modules()

    def _park_shared_modules(self) -> None:
        for name in list(sys.modules):
            if name.partition(".")[0] not in self._shared_names:
                continue
            location = _module_location(sys.modules[name])
            owner = next((d for d in self._code_dirs if _is_within(location, d)), None)
            if owner is not None:
                self._parked[owner][name] = sys.modules.pop(name)
