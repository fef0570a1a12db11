"""``GET /_local/openapi.json``: the OpenAPI document generated from the handlers covers
exactly the template's routes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_runtime.template import SamTemplate
from scripts.openapi import COMMITTED_DOCUMENT
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


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    while "$ref" in schema:
        assert schema["$ref"].startswith(prefix)
        schema = document["components"]["schemas"][schema["$ref"][len(prefix) :]]
    return schema


def test_the_cancellation_request_body_is_one_shape_per_scope(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/orders/{order_id}/cancellations"]["post"]
    schema = _resolved(document, operation["requestBody"]["content"]["application/json"]["schema"])
    variants = {
        name: _resolved(document, ref) for name, ref in _discriminated(schema, "scope").items()
    }

    assert set(variants) == {"ORDER", "PACKAGE", "ITEMS"}
    for scope, variant in variants.items():
        assert set(variant["properties"]) == {"reason", "scope", "items", "package_id", "note"}
        assert variant["properties"]["scope"]["const"] == scope
        assert variant.get("additionalProperties") is False
        assert variant["properties"]["note"]["anyOf"][0]["maxLength"] == 500
    assert set(variants["ORDER"]["required"]) == {"reason", "scope"}
    assert set(variants["PACKAGE"]["required"]) == {"reason", "scope", "package_id"}
    assert set(variants["ITEMS"]["required"]) == {"reason", "scope", "items"}
    items = variants["ITEMS"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 100)
    item = _resolved(document, items["items"])
    assert item["properties"]["quantity"]["type"] == "integer"
    assert item["properties"]["quantity"]["minimum"] == 1
    assert "pattern" in item["properties"]["line_id"]
    assert operation["requestBody"]["required"] is True


def _discriminated(schema: dict[str, Any], field: str) -> dict[str, dict[str, Any]]:
    assert schema["discriminator"]["propertyName"] == field
    assert len(schema["oneOf"]) == len(schema["discriminator"]["mapping"])
    return {tag: {"$ref": ref} for tag, ref in schema["discriminator"]["mapping"].items()}


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
    problem = {"$ref": "#/components/schemas/ProblemOut"}
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            content = response.get("content", {})
            assert content["application/problem+json"]["schema"] == problem, (method, path)
            # In AWS the JWT authorizer answers 401 and 403 itself, {"message": ...}.
            expected = {"application/problem+json"} | (
                {"application/json"} if status in ("401", "403") else set()
            )
            assert set(content) == expected, (method, path, status)
        assert {"400", "401", "403", "503"} <= set(operation["responses"]), (method, path)


def test_the_authorizers_own_answers_are_documented(document: dict[str, Any]) -> None:
    message = document["components"]["schemas"]["AuthorizerMessage"]
    assert message["required"] == ["message"]
    for method, path, operation in _operations(document):
        for status in ("401", "403"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/AuthorizerMessage"}, (
                method,
                path,
            )


def test_every_503_says_when_to_retry(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        retry_after = operation["responses"]["503"]["headers"]["Retry-After"]
        assert retry_after["required"] is True, (method, path)
        assert retry_after["schema"]["type"] == "integer", (method, path)


def test_every_route_that_takes_a_body_documents_413(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if method in ("POST", "PUT"):
            assert "413" in operation["responses"], (method, path)


def test_the_problem_schema_requires_every_field_the_contract_names(
    document: dict[str, Any],
) -> None:
    problem = document["components"]["schemas"]["ProblemOut"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail", "errors"}


def test_the_submit_headers_are_documented(document: dict[str, Any]) -> None:
    operation = document["paths"]["/orders/{order_id}/cancellations"]["post"]
    headers = {
        parameter["name"].lower(): parameter
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    }
    key = headers["idempotency-key"]
    assert key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 128)
    assert "pattern" in key["schema"]
    assert headers["if-match"].get("required", False) is False
    assert "pattern" in headers["if-match"]["schema"]


def test_the_product_filter_is_documented_with_its_limits(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/orders"]["get"]["parameters"]}
    product_id = parameters["product_id"]["schema"]
    assert product_id["type"] == "array"
    assert product_id["maxItems"] == 20
    assert "pattern" in product_id["items"]


def test_the_served_document_is_the_committed_one(document: dict[str, Any]) -> None:
    assert json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8")) == document, (
        "docs/openapi.json is not what the stack serves: run `make openapi`"
    )
