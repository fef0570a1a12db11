"""The local stack serves the seller console as CloudFront does: its files at ``/`` with the
template's security headers, a local ``config.json``, and a token for the seller picker."""

from __future__ import annotations

import jwt
import pytest

from local_runtime.gateway.console_site import CONSOLE_DIR
from local_runtime.stack import LocalStack
from tests.integration.conftest import ApiClient, assert_problem

pytestmark = pytest.mark.integration


def test_the_page_is_served_at_the_root_with_the_templates_security_headers(
    api: ApiClient,
) -> None:
    response = api.get("/")

    assert response.status == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.body == (CONSOLE_DIR / "index.html").read_bytes()
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_scripts_are_served_as_javascript(api: ApiClient) -> None:
    response = api.get("/js/app.js")

    assert response.status == 200
    assert response.content_type.startswith("text/javascript")


def test_the_local_config_lists_the_demo_sellers_and_a_same_origin_api(api: ApiClient) -> None:
    config = api.get("/config.json").json()

    assert config["api_url"] == ""
    assert config["auth"]["mode"] == "local"
    assert config["auth"]["sellers"] == ["seller-acme", "seller-bolt", "seller-kumo"]


@pytest.mark.parametrize(
    "path",
    [
        "/test/money.test.js",
        "/package.json",
        "/README.md",
        "/../template.yaml",
        "/%2e%2e/template.yaml",
        "/js/../../template.yaml",
        "/no-such-file.js",
    ],
)
def test_what_is_not_part_of_the_site_is_not_found(api: ApiClient, path: str) -> None:
    response = api.raw("GET", path)

    assert_problem(response, 404, "NOT_FOUND")


def test_the_site_is_read_only(api: ApiClient) -> None:
    response = api.raw("POST", "/index.html")

    assert response.status in (404, 405)
    assert response.content_type == "application/problem+json"


def test_the_seller_picker_gets_a_seller_users_token(
    api: ApiClient, local_stack: LocalStack
) -> None:
    response = api.get("/_local/token?seller=seller-bolt")

    assert response.status == 200
    token = response.json()["token"]
    claims = jwt.decode(
        token,
        local_stack.jwt_secret,
        algorithms=["HS256"],
        audience=None,
        options={"verify_aud": False},
    )
    assert claims["seller_id"] == "seller-bolt"
    assert claims["scope"] == "orders.read orders.write"
    assert api.get("/orders", token=token).status == 200


@pytest.mark.parametrize("query", ["", "?seller=", "?seller=a%20b", "?seller=x&seller=y"])
def test_the_token_route_needs_one_seller_id(api: ApiClient, query: str) -> None:
    assert_problem(api.get(f"/_local/token{query}"), 400, "VALIDATION_ERROR")
