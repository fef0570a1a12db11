"""Import and call Lambda handlers in this process, the way the Lambda Python runtime does.

Lambda gives each function its own process: ``/var/task`` (the CodeUri folder) first on
``sys.path``, then the layers. Here all functions share one process, so a module name
found in two CodeUri folders (``settings.py`` in both, say) would collide; such modules
are kept apart per function and swapped in, under a lock, while that function runs.

Lambda also runs many instances of a function side by side, each serving one request at
a time. Here each function has a small pool of warm instances: the handler module is
loaded once per instance under its own module name (``cancel_handler`` for the first,
``cancel_handler__CancelFunction_2`` and so on for the others), so every instance has
its own module globals (its own Powertools resolver, its own boto3 clients), and
requests to the same function run in parallel, one per instance, and really race in
DynamoDB. The modules the handler imports (the layers, the libraries) are shared by all
instances. Powertools keeps some per-request state in class attributes, which Lambda's
one process per instance keeps apart but one process shares: the event handler keeps the
current event and Lambda context on ``BaseRouter`` itself, and ``Metrics`` keep their
data in class attributes. While a runtime is active the former is per thread (a request
runs in one thread from start to end), and each instance's module-level ``Metrics`` get
a store of their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
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
from typing import Any, ClassVar, cast

from local_runtime.template import LOCAL_ACCOUNT_ID, FunctionSpec

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]

# How many warm instances of each function serve requests at the same time.
DEFAULT_INSTANCES_PER_FUNCTION = 4


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


def _give_metrics_their_own_store(module: ModuleType) -> None:
    """Powertools' ``Metrics`` keep their data in class attributes, shared by every instance
    in the process; in Lambda each function instance is a process of its own. Give each
    module-level ``Metrics`` its own store, so that one instance flushing its metrics cannot
    empty (or change, mid-serialisation) another's."""
    metrics_module = sys.modules.get("aws_lambda_powertools.metrics")
    metrics_type = getattr(metrics_module, "Metrics", None)
    if not isinstance(metrics_type, type):
        return
    for value in list(vars(module).values()):
        if not isinstance(value, metrics_type):
            continue
        store = {
            "metric_set": {},
            "dimension_set": dict(getattr(value, "dimension_set", {})),
            "metadata_set": {},
            "default_dimensions": dict(getattr(value, "default_dimensions", {})),
        }
        provider = getattr(value, "provider", None)
        for name, private in store.items():
            setattr(value, name, private)
            if provider is not None and hasattr(provider, name):
                setattr(provider, name, private)


_POWERTOOLS_ROUTER_MODULE = "aws_lambda_powertools.event_handler.api_gateway"
# BaseRouter's class attributes that ``resolve`` sets for the request being handled.
_PER_REQUEST_ROUTER_ATTRIBUTES = ("current_event", "lambda_context")


class _PerThreadValue:
    """A class attribute whose value is set and read per thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._local = threading.local()

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        try:
            return self._local.value
        except AttributeError:
            raise AttributeError(self._name) from None

    def __set__(self, instance: object, value: Any) -> None:
        self._local.value = value

    def __delete__(self, instance: object) -> None:
        self._local.__dict__.pop("value", None)


class _PerThreadRouterState:
    """Makes Powertools' ``BaseRouter.current_event`` and ``lambda_context`` per thread.

    ``resolve`` assigns them on the class (``BaseRouter.current_event = ...``) and every
    resolver reads them from there, so two requests handled at once in one process, by
    any two resolvers, would read each other's event: another request's headers, claims,
    path and body. A metaclass sends those class assignments to per-thread values, which
    a data descriptor on the class returns. Installed while any runtime is active.
    """

    _lock = threading.Lock()
    _users = 0
    _router: type | None = None
    _original_metaclass: type | None = None
    _original_values: ClassVar[dict[str, Any]] = {}

    @classmethod
    def acquire(cls) -> None:
        with cls._lock:
            cls._users += 1

    @classmethod
    def install_if_loaded(cls) -> None:
        """Installs it once Powertools' event handler has been imported (by a handler)."""
        module = sys.modules.get(_POWERTOOLS_ROUTER_MODULE)
        router = getattr(module, "BaseRouter", None)
        with cls._lock:
            if cls._users == 0 or cls._router is not None or not isinstance(router, type):
                return
            metaclass = type(router)

            class PerThreadRouterMeta(metaclass):  # type: ignore[misc,valid-type]
                def __setattr__(self, name: str, value: Any) -> None:
                    slot = self.__dict__.get(name)
                    if isinstance(slot, _PerThreadValue):
                        slot.__set__(None, value)
                    else:
                        super().__setattr__(name, value)

            originals = {
                name: router.__dict__[name]
                for name in _PER_REQUEST_ROUTER_ATTRIBUTES
                if name in router.__dict__
            }
            router.__class__ = PerThreadRouterMeta
            for name in _PER_REQUEST_ROUTER_ATTRIBUTES:
                type.__setattr__(router, name, _PerThreadValue(name))
            cls._router, cls._original_metaclass, cls._original_values = (
                router,
                metaclass,
                originals,
            )

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            router, metaclass = cls._router, cls._original_metaclass
            if cls._users or router is None or metaclass is None:
                return
            router.__class__ = metaclass
            for name in _PER_REQUEST_ROUTER_ATTRIBUTES:
                if name in cls._original_values:
                    type.__setattr__(router, name, cls._original_values[name])
                else:
                    type.__delattr__(router, name)
            cls._router, cls._original_metaclass, cls._original_values = None, None, {}


@dataclass(eq=False)
class FunctionInstance:
    """One warm instance of a function: its own copy of the handler module."""

    function_id: str
    number: int
    module: ModuleType
    handler: Handler


class _InstancePool:
    """The warm instances of one function; each serves one request at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.instances: list[FunctionInstance] = []
        self.idle: list[FunctionInstance] = []
        self.starting = 0
        self.changed = threading.Condition()
        self._numbers = itertools.count(1)

    def reserve(self) -> int | None:
        """The number of an instance to start, or None when the pool is full (hold
        ``changed``)."""
        if len(self.instances) + self.starting >= self.size:
            return None
        self.starting += 1
        return next(self._numbers)

    def clear(self) -> None:
        with self.changed:
            self.instances.clear()
            self.idle.clear()
            self._numbers = itertools.count(1)


class FunctionRuntime:
    """Loads the functions of a template and invokes their handlers.

    Each function has up to ``instances_per_function`` warm instances. An instance serves
    one request at a time, as a Lambda instance does (a handler module may keep
    per-request state in its globals); a request that finds every instance busy starts
    another one (a cold start) while the pool is not full, and otherwise waits for one to
    be free. ``preload`` warms the whole pool.
    """

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        region: str,
        *,
        instances_per_function: int = DEFAULT_INSTANCES_PER_FUNCTION,
    ) -> None:
        if instances_per_function < 1:
            raise ValueError("a function needs at least one instance")
        self._functions = {spec.logical_id: spec for spec in functions}
        self._region = region
        self._lock = threading.RLock()
        self._pools = {
            function_id: _InstancePool(instances_per_function) for function_id in self._functions
        }
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
        _PerThreadRouterState.acquire()
        _PerThreadRouterState.install_if_loaded()

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
        for pool in self._pools.values():
            pool.clear()
        for parked in self._parked.values():
            parked.clear()
        _PerThreadRouterState.release()

    def instances(self, function_id: str) -> list[FunctionInstance]:
        """The instances of the function started so far, the first one first."""
        pool = self._pools[function_id]
        with pool.changed:
            return list(pool.instances)

    def handler(self, function_id: str) -> Handler:
        """The handler of the function's first instance, which this starts if need be."""
        pool = self._pools[function_id]
        with pool.changed:
            while not pool.instances:
                number = pool.reserve()
                if number is not None:
                    break
                pool.changed.wait()
            else:
                return pool.instances[0].handler
        return self._start_instance(function_id, number).handler

    def preload(self) -> dict[str, BaseException]:
        """Starts every instance of every function now, as cold starts would; returns what
        failed."""
        failures: dict[str, BaseException] = {}
        for function_id, pool in self._pools.items():
            try:
                while True:
                    with pool.changed:
                        number = pool.reserve()
                    if number is None:
                        break
                    self._start_instance(function_id, number)
            except Exception as error:
                logger.exception("%s failed to import", function_id)
                failures[function_id] = error
        return failures

    def _start_instance(self, function_id: str, number: int) -> FunctionInstance:
        """Loads the instance ``number`` that the caller reserved, and makes it idle."""
        pool = self._pools[function_id]
        instance: FunctionInstance | None = None
        try:
            instance = self._load_instance(function_id, number)
        finally:
            with pool.changed:
                pool.starting -= 1
                if instance is not None:
                    pool.instances.append(instance)
                    pool.instances.sort(key=lambda started: started.number)
                    pool.idle.append(instance)
                pool.changed.notify_all()
        return instance

    def _load_instance(self, function_id: str, number: int) -> FunctionInstance:
        spec = self._functions[function_id]
        with self._lock, self._modules_of(spec):
            first = importlib.import_module(spec.module_name)
            module = first if number == 1 else _load_copy(first, spec, number)
        candidate = getattr(module, spec.handler_name, None)
        if not callable(candidate):
            raise TypeError(f"{spec.handler} is not a function")
        _give_metrics_their_own_store(module)
        _PerThreadRouterState.install_if_loaded()
        return FunctionInstance(function_id, number, module, cast(Handler, candidate))

    def _acquire(self, function_id: str) -> FunctionInstance:
        """An idle instance, after starting one if all are busy and the pool is not full."""
        pool = self._pools[function_id]
        while True:
            with pool.changed:
                while True:
                    if pool.idle:
                        return pool.idle.pop()
                    number = pool.reserve()
                    if number is not None:
                        break
                    pool.changed.wait()
            self._start_instance(function_id, number)

    def _release(self, instance: FunctionInstance) -> None:
        pool = self._pools[instance.function_id]
        with pool.changed:
            if any(known is instance for known in pool.instances):
                pool.idle.append(instance)
                pool.changed.notify_all()

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        spec = self._functions[function_id]
        isolated = bool(self._shared_names & _top_level_module_names(spec.code_dir))
        instance = self._acquire(function_id)
        try:
            context = LambdaContext.for_function(spec, self._region)
            started = time.monotonic()
            with self._lock if isolated else nullcontext(), self._modules_of(spec):
                result = instance.handler(event, context)
            elapsed = time.monotonic() - started
        finally:
            self._release(instance)
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


def _load_copy(first: ModuleType, spec: FunctionSpec, number: int) -> ModuleType:
    """Executes the handler module's file again as a module of its own name."""
    parent, _, leaf = spec.module_name.rpartition(".")
    leaf = f"{leaf}__{spec.logical_id}_{number}"
    name = f"{parent}.{leaf}" if parent else leaf
    location = getattr(first, "__file__", None)
    if location is None:
        raise ImportError(f"{spec.module_name} has no file to load another instance from")
    search_locations = getattr(first, "__path__", None)
    module_spec = importlib.util.spec_from_file_location(
        name, location, submodule_search_locations=search_locations
    )
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {location} as {name}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
