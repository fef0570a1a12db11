"""The API functions in process, on moto's in-memory DynamoDB: fast, no network.

The table comes from ``template.yaml`` (``SamTemplate.table.create_table_kwargs()``), the
functions, their environment and their routes too, and the events are built by the local
gateway's own payload-2.0 builder, so template, gateway and tests cannot drift apart.

The handler modules create their boto3 client and read ``os.environ`` when imported, so
moto and the environment are in place before the import; afterwards the modules are
unloaded and the environment restored, because the integration tests import the same
modules against DynamoDB Local in the same pytest run.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runtime.functions.runtime import lambda_context
from local_runtime.gateway.http_api import HttpRequest, RouteTable, build_event, to_http_response
from local_runtime.template import SamTemplate

REGION = "us-east-1"
TEMPLATE = SamTemplate.load(region=REGION)
HANDLER_TESTS_DIR = Path(__file__).parent

# What the test process must not carry into the handlers: it would send boto3 elsewhere
# than moto, or turn on what the tests keep off.
_UNSET = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
    "AWS_ENDPOINT_URL_SES",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "POWERTOOLS_DEV",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_EVENT_HANDLER_DEBUG",
)

_NO_CLAIMS: Mapping[str, Any] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HANDLER_TESTS_DIR):
            # Powertools warns on every request that flushes no metric: noise here.
            item.add_marker(
                pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
            )


def handler_environment() -> dict[str, str]:
    """The functions' environment from the template, with AWS pointed at nothing real."""
    return {
        **TEMPLATE.runtime_environment(),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


@dataclass(frozen=True)
class Result:
    """A handler's answer, read the way API Gateway turns it into an HTTP response."""

    status: int
    headers: Mapping[str, str]
    text: str
    raw: Mapping[str, Any]

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass
class Api:
    """Calls the template's routes in process: path → route → function, like the gateway."""

    functions: Functions
    seller: str = "seller-acme"
    routes: RouteTable = field(default_factory=lambda: RouteTable(TEMPLATE.routes))

    def module(self, function: str) -> ModuleType:
        """The imported handler module of a function (logical id or folder name)."""
        return self.functions.module(TEMPLATE.function(function).logical_id)

    def event(
        self,
        method: str,
        target: str,
        *,
        claims: Mapping[str, Any] | None,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> tuple[str, dict[str, Any]]:
        request = HttpRequest(
            method=method,
            target=target,
            headers=[("host", "api.example.com"), *headers],
            body=body,
        )
        match = self.routes.match(method, request.raw_path)
        if match is None:
            raise AssertionError(f"template.yaml has no route for {method} {request.raw_path}")
        scopes = str(claims.get("scope", "")).split() if claims else None
        event = build_event(request, match, claims=claims or None, scopes=scopes)
        return match.route.function_id, event

    def call(
        self,
        method: str,
        target: str,
        *,
        claims: Mapping[str, Any] | None = _NO_CLAIMS,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Result:
        """``claims=None`` sends no authorizer context; by default those of ``seller``."""
        extra = list(headers)
        if json_body is not None:
            body = json.dumps(json_body).encode()
            extra.append(("content-type", "application/json"))
        chosen = self.claims() if claims is _NO_CLAIMS else claims
        function_id, event = self.event(
            method, target, claims=chosen, body=body or b"", headers=extra
        )
        raw = self.functions.invoke(function_id, event)
        # What API Gateway would make of it; raises if it could make nothing of it.
        response = to_http_response(raw)
        return Result(
            status=response.status,
            headers={name.lower(): value for name, value in response.headers},
            text=response.body.decode("utf-8"),
            raw=raw,
        )

    # --- identity ---

    def claims(self, seller: str | None = None, scope: str = "orders.read orders.write") -> dict:
        return {
            "iss": "local",
            "sub": "user-ana-ops",
            "seller_id": seller or self.seller,
            "scope": scope,
        }

    def admin_claims(self, seller: str | None = None) -> dict:
        return self.claims(seller, "orders.admin")

    # --- shortcuts ---

    def get(self, target: str, **kwargs: Any) -> Result:
        return self.call("GET", target, **kwargs)

    def post(self, target: str, **kwargs: Any) -> Result:
        return self.call("POST", target, **kwargs)

    def put(self, target: str, **kwargs: Any) -> Result:
        return self.call("PUT", target, **kwargs)

    def ingest(self, order: Mapping[str, Any]) -> Result:
        result = self.put(
            f"/orders/{order['order_id']}",
            json_body=order,
            claims=self.admin_claims(str(order["seller_id"])),
        )
        assert result.status == 201, result.text
        return result

    def submit(
        self,
        order_id: str,
        request: Mapping[str, Any],
        *,
        key: str | None = None,
        if_match: str | None = None,
        **kwargs: Any,
    ) -> Result:
        headers = [("idempotency-key", key or str(uuid.uuid4()))]
        if if_match is not None:
            headers.append(("if-match", if_match))
        return self.post(
            f"/orders/{order_id}/cancellations", json_body=request, headers=headers, **kwargs
        )


@pytest.fixture(scope="package")
def moto_aws() -> Iterator[None]:
    """The functions' environment and moto, for every test of this folder, then undone."""
    patch = pytest.MonkeyPatch()
    for name in _UNSET:
        patch.delenv(name, raising=False)
    for name, value in handler_environment().items():
        patch.setenv(name, value)
    mock = mock_aws()
    mock.start()
    try:
        for name in TEMPLATE.secrets.values():
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=name, SecretString=f"unit-test-key-of-{name}"
            )
        yield
    finally:
        mock.stop()
        patch.undo()


class Functions:
    """The template's functions imported into this process, as one warm instance each."""

    def __init__(self, modules: Mapping[str, ModuleType]) -> None:
        self._modules = dict(modules)

    def module(self, function_id: str) -> ModuleType:
        return self._modules[function_id]

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        spec = TEMPLATE.functions[function_id]
        handler = getattr(self._modules[function_id], spec.handler_name)
        return handler(event, lambda_context(spec, REGION))


def _top_level_names(folder: Path) -> set[str]:
    """The modules and packages a CodeUri folder puts on ``sys.path``."""
    return {
        entry.stem
        for entry in folder.iterdir()
        if (entry.suffix == ".py" or entry.is_dir())
        and entry.stem.isidentifier()
        and entry.name != "__pycache__"
    }


def _is_within(module: ModuleType, folders: Iterable[Path]) -> bool:
    location = getattr(module, "__file__", None)
    return location is not None and any(Path(location).is_relative_to(f) for f in folders)


@pytest.fixture(scope="package")
def functions(moto_aws: None) -> Iterator[Functions]:
    """Imports the API's functions (those with HttpApi events) as Lambda would (the CodeUri
    folder, then the layers, first on ``sys.path``) once for this folder, and forgets the
    imports afterwards."""
    specs = [
        spec
        for spec in TEMPLATE.functions.values()
        if any(event.type == "HttpApi" for event in spec.events)
    ]
    code_dirs = [spec.code_dir for spec in specs]
    names = Counter(name for folder in set(code_dirs) for name in _top_level_names(folder))
    shared = {name for name, count in names.items() if count > 1}
    assert not shared, f"modules {shared} are in several CodeUri folders: load them apart"
    folders = [*code_dirs, *dict.fromkeys(layer for spec in specs for layer in spec.layer_dirs)]
    modules_before = set(sys.modules)
    added = [str(folder) for folder in folders if str(folder) not in sys.path]
    sys.path[0:0] = added
    try:
        yield Functions(
            {spec.logical_id: importlib.import_module(spec.module_name) for spec in specs}
        )
    finally:
        for path in added:
            sys.path.remove(path)
        for name in set(sys.modules) - modules_before:
            if _is_within(sys.modules[name], folders):
                del sys.modules[name]
        # The next import of a handler (the integration tests') must start afresh.
        assert not {spec.module_name for spec in specs} & set(sys.modules)


@pytest.fixture
def table(moto_aws: None) -> Iterator[str]:
    """A fresh, empty table as the template defines it, for each test."""
    client = boto3.client("dynamodb", region_name=REGION)
    spec = TEMPLATE.table
    client.create_table(**spec.create_table_kwargs())
    ttl = spec.time_to_live_specification()
    if ttl:
        client.update_time_to_live(TableName=spec.table_name, TimeToLiveSpecification=ttl)
    try:
        yield spec.table_name
    finally:
        client.delete_table(TableName=spec.table_name)


@pytest.fixture
def api(functions: Functions, table: str) -> Api:
    assert os.environ["TABLE_NAME"] == table
    return Api(functions)
