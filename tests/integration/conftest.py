"""The local stack (DynamoDB Local, SES on moto, the gateway) for the integration tests.

It starts once, at the first test that asks for it, and stops after the last test of this
folder, before other folders' tests run with a clean ``os.environ``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local_runtime.stack import LocalStack

INTEGRATION_DIR = Path(__file__).parent

TokenFactory = Callable[..., str]
IdFactory = Callable[..., str]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)
            # The contract's local secret is shorter than PyJWT likes; it guards nothing.
            item.add_marker(pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"))


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
    stack = LocalStack()
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
