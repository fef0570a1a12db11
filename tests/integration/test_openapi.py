"""``GET /_local/openapi.json``: the OpenAPI document generated from the handlers covers
exactly the template's routes."""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.template import SamTemplate
from tests.integration.conftest import ApiClient

pytestmark = pytest.mark.integration

TEMPLATE = SamTemplate.load()
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _template_operations() -> set[tuple[str, str]]:
    # API Gateway writes a greedy parameter {proxy+}; OpenAPI writes {proxy}.
    return {(route.method, route.path.replace("+}", "}")) for route in TEMPLATE.routes}


def _document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.fixture(scope="module")
def document(local_stack: Any) -> dict[str, Any]:
    response = ApiClient(local_stack.base_url).get("/_local/openapi.json")
    assert response.status == 200, response.body[:500]
    assert response.content_type.startswith("application/json")
    return response.json()


def test_the_document_describes_the_seller_api(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Seller order-cancellation API"
    schemes = document["components"]["securitySchemes"]
    ((name, scheme),) = schemes.items()
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert document["security"] == [{name: []}]


def test_its_operations_are_exactly_the_templates_routes(document: dict[str, Any]) -> None:
    assert _document_operations(document) == _template_operations()


def test_each_operation_requires_the_scopes_the_template_gives_its_route(
    document: dict[str, Any],
) -> None:
    ((scheme, _),) = document["components"]["securitySchemes"].items()
    for route in TEMPLATE.routes:
        operation = document["paths"][route.path.replace("+}", "}")][route.method.lower()]
        assert operation["security"] == [{scheme: list(route.authorization_scopes)}], route


def test_the_cancellation_request_body_names_the_contracts_fields(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/orders/{order_id}/cancellations"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        prefix = "#/components/schemas/"
        assert schema["$ref"].startswith(prefix)
        schema = document["components"]["schemas"][schema["$ref"][len(prefix) :]]

    assert set(schema["properties"]) == {"reason", "scope", "items", "package_id", "note"}
    assert set(schema["required"]) == {"reason", "scope"}
    assert schema.get("additionalProperties") is False
    assert operation["requestBody"]["required"] is True


def test_path_parameters_match_the_path_templates(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        in_path = {segment[1:-1] for segment in path.split("/") if segment.startswith("{")}
        for method, operation in item.items():
            declared = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "path"
            }
            assert declared == in_path, (method, path)


def test_the_document_is_served_the_same_each_time(
    api: ApiClient, document: dict[str, Any]
) -> None:
    again = api.get("/_local/openapi.json")

    assert again.status == 200
    assert again.json() == document


# --- What the handlers say of their responses and headers, against API.md ---------------


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_documented_success_statuses_are_the_contracts(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "201" in paths["/orders/{order_id}/cancellations"]["post"]["responses"]
    assert {"200", "201"} <= set(paths["/orders/{order_id}"]["put"]["responses"])


def test_documented_success_bodies_are_json_objects(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                schema = response["content"]["application/json"]["schema"]
                assert schema.get("type") != "string", (method, path, status)


def test_documented_errors_are_problem_json(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                assert set(response.get("content", {})) == {"application/problem+json"}, (
                    method,
                    path,
                    status,
                )
        assert "400" in operation["responses"], (method, path)


def test_the_submit_headers_are_documented(document: dict[str, Any]) -> None:
    operation = document["paths"]["/orders/{order_id}/cancellations"]["post"]
    headers = {
        parameter["name"].lower(): parameter
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    }
    assert headers["idempotency-key"]["required"] is True
    assert headers["if-match"].get("required", False) is False
