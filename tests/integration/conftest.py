"""The local stack (DynamoDB Local, SES on moto, the gateway) for the integration tests.

It starts once, at the first test that asks for it, and stops after the last test of this
folder, before other folders' tests run with a clean ``os.environ``. Every test works with
sellers and ids of its own (``seller``, ``other_seller``, ``make_seller``, ``unique_id``),
so tests share the stack without seeing each other's orders.

For the seller API: ``SellerClient`` (every route as a method), builders of API.md's
objects (``order_input``, ``line``, ``package``, ``items_request``...), ``assert_problem``
and ``dynamodb_calls``, which records the DynamoDB calls of the API functions.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local_runtime.functions.runtime import AwsCall, FunctionRuntime
from local_runtime.stack import LocalStack
from local_runtime.template import FunctionSpec

INTEGRATION_DIR = Path(__file__).parent

TokenFactory = Callable[..., str]
IdFactory = Callable[..., str]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)
            # The contract's local secret is shorter than PyJWT likes; it guards nothing.
            item.add_marker(pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"))
            # Powertools says so after every request that recorded no metric.
            item.add_marker(
                pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
            )


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class ApiClient:
    """Plain HTTP to the local gateway; every status comes back as a response."""

    base_url: str

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> ApiResponse:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method)  # noqa: S310
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if json_body is not None:
            body = json.dumps(json_body).encode()
            request.add_header("Content-Type", "application/json")
        for name, value in headers:
            request.add_unredirected_header(name, value)
        try:
            with urllib.request.urlopen(request, data=body, timeout=30) as response:  # noqa: S310
                return _response(response.status, response.headers.items(), response.read())
        except urllib.error.HTTPError as error:
            return _response(error.code, error.headers.items(), error.read())

    def raw(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str | bytes]] = (),
    ) -> ApiResponse:
        """Exactly these bytes and headers, nothing added but Content-Length (a header value
        may be bytes, sent as they are)."""
        host, port = self.base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return _response(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, **kwargs)


def _response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> ApiResponse:
    header_list = list(headers)
    return ApiResponse(
        status=status,
        headers={name.lower(): value for name, value in header_list},
        body=body,
        header_list=header_list,
    )


@pytest.fixture(scope="package")
def local_stack() -> Iterator[LocalStack]:
    # SES's throttles (only ever injected here) are retried at once, not after a pause.
    stack = LocalStack(environment_overrides={"SES_RETRY_BASE_MILLISECONDS": "0"})
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def api(local_stack: LocalStack) -> ApiClient:
    return ApiClient(local_stack.base_url)


@pytest.fixture
def mint_token(local_stack: LocalStack) -> TokenFactory:
    """``mint_token(seller_id, scopes, sub=..., lifetime=..., issued_at=..., extra_claims=...)``."""
    return local_stack.mint_token


@pytest.fixture
def unique_id() -> IdFactory:
    """``unique_id("ORD")`` -> ``ORD-9F2C41D07B``: a fresh id on every call."""

    def make(prefix: str = "ID") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"

    return make


@pytest.fixture
def seller_id(unique_id: IdFactory) -> str:
    """A seller of this test alone, so that listings see only this test's orders."""
    return unique_id("seller").lower()


@pytest.fixture
def seller_token(mint_token: TokenFactory, seller_id: str) -> str:
    return mint_token(seller_id, ["orders.read", "orders.write"])


@pytest.fixture
def admin_token(mint_token: TokenFactory, seller_id: str) -> str:
    return mint_token(seller_id, ["orders.admin"])


# --- the seller API: orders, requests, sellers ------------------------------------------

READ_WRITE = ("orders.read", "orders.write")
PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}


def assert_problem(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    """The response is API.md's problem document for ``status`` and ``code``."""
    assert (response.status, _problem_code(response)) == (status, code), response.body[:500]
    assert response.content_type == PROBLEM_JSON
    document: dict[str, Any] = response.json()
    assert set(document) >= PROBLEM_KEYS
    assert document["type"] == "about:blank"
    assert document["status"] == status
    assert document["title"]
    assert document["detail"]
    return document


def _problem_code(response: ApiResponse) -> str | None:
    try:
        document = response.json()
    except ValueError:
        return None
    return document.get("code") if isinstance(document, dict) else None


def package(package_id: str = "PK1", status: str = "AWAITING_SHIPMENT") -> dict[str, Any]:
    return {"package_id": package_id, "status": status}


def line(
    line_id: str = "L1",
    package_id: str = "PK1",
    *,
    product_id: str = "P-MUG",
    quantity: int = 3,
    unit_price: str = "10.00",
    seller_discount: str = "3.00",
    platform_discount: str = "1.50",
    tax: str = "2.04",
    product_name: str = "Mug",
    sku_name: str = "Blue",
    sku_id: str | None = None,
) -> dict[str, Any]:
    """An ``OrderInput`` line; by default API.md's Mug (3 x 10.00, discounts 3.00 and 1.50,
    tax 2.04), its SKU ``SKU-<line_id>``."""
    return {
        "line_id": line_id,
        "product_id": product_id,
        "sku_id": sku_id or f"SKU-{line_id}",
        "product_name": product_name,
        "sku_name": sku_name,
        "quantity": quantity,
        "unit_price": unit_price,
        "seller_discount": seller_discount,
        "platform_discount": platform_discount,
        "tax": tax,
        "package_id": package_id,
    }


def order_input(
    order_id: str,
    seller_id: str,
    *,
    currency: str = "USD",
    created_at: str = "2026-11-20T10:00:00Z",
    shipping_fee: str = "5.99",
    packages: list[dict[str, Any]] | None = None,
    lines: list[dict[str, Any]] | None = None,
    email: str = "ana@example.com",
) -> dict[str, Any]:
    """API.md's ``OrderInput``: by default one package PK1 holding the Mug line L1."""
    return {
        "order_id": order_id,
        "seller_id": seller_id,
        "currency": currency,
        "created_at": created_at,
        "buyer": {"name": "Ana Ruiz", "email": email, "locale": "en-US"},
        "shipping_fee": shipping_fee,
        "packages": packages if packages is not None else [package("PK1")],
        "lines": lines if lines is not None else [line("L1", "PK1")],
    }


@pytest.fixture
def mug_order(seller: SellerClient, unique_id: IdFactory) -> str:
    """A new order of API.md's Mug: PK1 holds L1, 3 mugs; shipping 5.99; paid 33.53."""
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id))
    return order_id


def two_package_order(order_id: str, seller_id: str, **overrides: Any) -> dict[str, Any]:
    """PK1 holds the Mug (L1, 3 units), PK2 a towel (L2, 2 x 9.50, no discounts)."""
    return order_input(
        order_id,
        seller_id,
        packages=[package("PK1"), package("PK2")],
        lines=[
            line("L1", "PK1"),
            line(
                "L2",
                "PK2",
                product_id="P-TOWEL",
                product_name="Tea Towel",
                quantity=2,
                unit_price="9.50",
                seller_discount="0.00",
                platform_discount="0.00",
                tax="1.57",
            ),
        ],
        **overrides,
    )


def items_request(
    *items: tuple[str, int], reason: str = "OUT_OF_STOCK", **extra: Any
) -> dict[str, Any]:
    return {
        "reason": reason,
        "scope": "ITEMS",
        "items": [{"line_id": line_id, "quantity": quantity} for line_id, quantity in items],
        **extra,
    }


def package_request(package_id: str, reason: str = "BUYER_REQUESTED") -> dict[str, Any]:
    return {"reason": reason, "scope": "PACKAGE", "package_id": package_id}


def order_request(reason: str = "BUYER_REQUESTED") -> dict[str, Any]:
    return {"reason": reason, "scope": "ORDER"}


def without_notification(cancellation: Mapping[str, Any]) -> dict[str, Any]:
    """A cancellation but its ``notification``, which moves on once the buyer email goes out
    (the stream poller sends it in the background)."""
    return {key: value for key, value in cancellation.items() if key != "notification"}


def cancellation_key(seller_id: str, cancellation: Mapping[str, Any]) -> dict[str, Any]:
    """The table key of a cancellation the API returned, as DynamoDB writes it."""
    return {
        "pk": {"S": f"SELLER#{seller_id}#ORDER#{cancellation['order_id']}"},
        "sk": {
            "S": f"CANCELLATION#{cancellation['order_version']:010d}"
            f"#{cancellation['cancellation_id']}"
        },
    }


@contextlib.contextmanager
def stream_consumers_down(stack: LocalStack) -> Iterator[None]:
    """The table's stream reaches none of its consumers while inside; then it resumes,
    delivering what was written meanwhile."""
    assert stack.stream_poller is not None
    stack.stream_poller.pause()
    try:
        yield
    finally:
        stack.stream_poller.resume()


def new_idempotency_key() -> str:
    return f"key-{uuid.uuid4()}"


@dataclass(frozen=True)
class SellerClient:
    """One seller talking to the API with its own tokens: every route as a method."""

    api: ApiClient
    seller_id: str
    token: str
    admin_token: str

    def put_order(self, body: Mapping[str, Any], order_id: str | None = None) -> ApiResponse:
        return self.api.put(
            f"/orders/{order_id or body['order_id']}", token=self.admin_token, json_body=body
        )

    def create_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self.put_order(body)
        assert response.status == 201, response.body[:500]
        created: dict[str, Any] = response.json()
        return created

    def get_order(self, order_id: str) -> ApiResponse:
        return self.api.get(f"/orders/{order_id}", token=self.token)

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.get_order(order_id)
        assert response.status == 200, response.body[:500]
        found: dict[str, Any] = response.json()
        return found

    def list_orders(self, **query: Any) -> ApiResponse:
        path = "/orders"
        pairs = [(k, v) for k, v in query.items() if v is not None]
        if pairs:
            path += "?" + urllib.parse.urlencode(pairs, doseq=True)
        return self.api.get(path, token=self.token)

    def preview(self, order_id: str, request: Any) -> ApiResponse:
        return self.api.post(
            f"/orders/{order_id}/cancellations/preview", token=self.token, json_body=request
        )

    def cancel(
        self,
        order_id: str,
        request: Any,
        *,
        key: str | None = None,
        if_match: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> ApiResponse:
        extra = [("Idempotency-Key", key or new_idempotency_key()), *headers]
        if if_match is not None:
            extra.append(("If-Match", if_match))
        return self.api.post(
            f"/orders/{order_id}/cancellations", token=self.token, json_body=request, headers=extra
        )

    def cancelled(self, order_id: str, request: Any, **kwargs: Any) -> dict[str, Any]:
        response = self.cancel(order_id, request, **kwargs)
        assert response.status == 201, response.body[:500]
        created: dict[str, Any] = response.json()
        return created

    def cancellations(self, order_id: str) -> ApiResponse:
        return self.api.get(f"/orders/{order_id}/cancellations", token=self.token)

    def cancellation_list(self, order_id: str) -> list[dict[str, Any]]:
        response = self.cancellations(order_id)
        assert response.status == 200, response.body[:500]
        found: list[dict[str, Any]] = response.json()["cancellations"]
        return found

    def ship(self, order_id: str, package_id: str) -> ApiResponse:
        return self.api.post(f"/orders/{order_id}/packages/{package_id}/ship", token=self.token)

    def report_status(
        self,
        order_id: str,
        package_id: str,
        status: str,
        occurred_at: str = "2026-11-21T08:00:00Z",
        *,
        token: str | None = None,
    ) -> ApiResponse:
        """The order system's report (admin token) that the package reached ``status``."""
        return self.api.post(
            f"/orders/{order_id}/packages/{package_id}/status",
            token=token or self.admin_token,
            json_body={"status": status, "occurred_at": occurred_at},
        )


SellerFactory = Callable[..., SellerClient]


@pytest.fixture
def make_seller(api: ApiClient, mint_token: TokenFactory, unique_id: IdFactory) -> SellerFactory:
    """``make_seller()``: a new seller of this test alone, with read/write and admin tokens."""

    def make(seller_id: str | None = None) -> SellerClient:
        chosen = seller_id or unique_id("seller").lower()
        return SellerClient(
            api=api,
            seller_id=chosen,
            token=mint_token(chosen, list(READ_WRITE)),
            admin_token=mint_token(chosen, ["orders.admin"]),
        )

    return make


@pytest.fixture
def seller(make_seller: SellerFactory, seller_id: str) -> SellerClient:
    return make_seller(seller_id)


@pytest.fixture
def other_seller(make_seller: SellerFactory) -> SellerClient:
    return make_seller()


# --- DynamoDB calls made by the API functions ---------------------------------------------

API_FUNCTIONS = ("ListOrdersFunction", "CancelFunction", "OrderSystemFunction")


@dataclass(frozen=True)
class DynamoDBCall:
    """One DynamoDB API call by a function instance: its parameters, how many items it
    read, whether it failed."""

    function_id: str
    operation: str
    items_read: int = 0
    failed: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)


class DynamoDBCallRecorder:
    """Records the DynamoDB calls of the given functions, as every instance of them (each a
    process) reports them to the local runtime.

    ``items_read``: for a Query its ScannedCount (what DynamoDB read, before any filter),
    for BatchGetItem and GetItem the items returned.
    """

    def __init__(self, stack: LocalStack, function_ids: Iterable[str] = API_FUNCTIONS) -> None:
        self._runtime = stack.functions
        self._function_ids = frozenset(function_ids)
        assert self._function_ids <= set(self._runtime.functions), "functions of the template"
        self._lock = threading.Lock()
        self._watching: contextlib.ExitStack | None = None
        self.calls: list[DynamoDBCall] = []

    def start(self) -> None:
        self._watching = contextlib.ExitStack()
        self._watching.enter_context(self._runtime.watch(self._record))

    def stop(self) -> None:
        if self._watching is not None:
            self._watching.close()
            self._watching = None

    def _record(self, call: AwsCall) -> None:
        if call.service != "dynamodb" or call.function_id not in self._function_ids:
            return
        recorded = DynamoDBCall(
            function_id=call.function_id,
            operation=call.operation,
            items_read=call.items_read,
            failed=call.failed,
            params=call.params,
        )
        with self._lock:
            self.calls.append(recorded)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def operations(self, function_id: str | None = None) -> list[str]:
        with self._lock:
            return [
                call.operation
                for call in self.calls
                if function_id is None or call.function_id == function_id
            ]

    def items_read(self) -> int:
        with self._lock:
            return sum(call.items_read for call in self.calls)


@pytest.fixture
def dynamodb_calls(local_stack: LocalStack) -> Iterator[DynamoDBCallRecorder]:
    """Records the API functions' DynamoDB calls from now until the end of the test;
    ``dynamodb_calls.clear()`` starts afresh (after the test's setup requests, say)."""
    recorder = DynamoDBCallRecorder(local_stack)
    recorder.start()
    try:
        yield recorder
    finally:
        recorder.stop()


# --- functions of the test's own, on the local runtime -------------------------------------


def function_spec(
    code_dir: Path,
    handler: str,
    *,
    environment: Mapping[str, str] | None = None,
    timeout_seconds: int = 30,
) -> FunctionSpec:
    """A function ``<Folder>Function`` of the code in ``code_dir``, with no layer."""
    return FunctionSpec(
        logical_id=f"{code_dir.name.title()}Function",
        code_dir=code_dir,
        handler=handler,
        runtime="python3.13",
        memory_mb=256,
        timeout_seconds=timeout_seconds,
        layer_dirs=(),
        environment=dict(environment or {}),
        events=(),
    )


RuntimeFactory = Callable[..., FunctionRuntime]


@pytest.fixture
def runtime_of(tmp_path: Path) -> Iterator[RuntimeFactory]:
    """``runtime_of({"name": "<handler module source>"}, modules={"helper": "<source>"},
    environment={...}, timeout_seconds=30, max_instances=4, idle_seconds=600)``: a started
    runtime of functions ``NameFunction`` whose handler is ``<name>_handler.handler``, each
    folder holding ``modules`` too; stopped after the test."""
    runtimes: list[FunctionRuntime] = []

    def make(
        sources: Mapping[str, str],
        *,
        modules: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        **options: Any,
    ) -> FunctionRuntime:
        specs = []
        for name, source in sources.items():
            code_dir = tmp_path / name
            code_dir.mkdir()
            (code_dir / f"{name}_handler.py").write_text(source)
            for module, module_source in (modules or {}).items():
                (code_dir / f"{module}.py").write_text(module_source)
            specs.append(
                function_spec(
                    code_dir,
                    f"{name}_handler.handler",
                    environment=environment,
                    timeout_seconds=timeout_seconds,
                )
            )
        runtime = FunctionRuntime(specs, "us-east-1", **options)
        runtime.start()
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.stop()
