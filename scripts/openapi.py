"""The seller API's OpenAPI document, generated from the code.

Each function of ``template.yaml`` that serves HTTP API routes and exposes a Powertools
resolver as ``app`` contributes ``app.get_openapi_schema()``; ``OpenAPIMerge`` joins them
into one document. Nothing here lists a route: the resolvers say what each operation takes,
the template says who may call it (its ``AuthorizationScopes`` become the operation's
security requirement).

It imports every handler in this one process, with the template's environment (a region
and credentials that reach nothing; no call is made):

    python -m scripts.openapi                              # to stdout
    python -m scripts.openapi --output docs/openapi.json   # what make openapi does

The local stack serves its output at ``GET /_local/openapi.json``. Both write the same
bytes (``render``: sorted keys, a final newline), so the committed
``docs/openapi.json`` can be compared with what the code generates.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from local_runtime import PROJECT_ROOT
from local_runtime.template import FunctionSpec, HttpRoute, SamTemplate

COMMITTED_DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
TITLE = "Seller order-cancellation API"
API_VERSION = "1.0.0"
DESCRIPTION = (
    "Lists a seller's orders and cancels whole orders, packages or single units. "
    "The binding contract is API.md; this document is generated from the handlers."
)
SECURITY_SCHEME = "bearerAuth"
RESOLVER_ATTRIBUTE = "app"
_HTTP_EVENT = "HttpApi"


class OpenApiResolver(Protocol):
    def get_openapi_schema(self) -> Any: ...


HandlerLoader = Callable[[str], Callable[..., Any]]


@dataclass(frozen=True)
class FunctionResolver:
    function_id: str
    resolver: OpenApiResolver


def _serves_http(spec: FunctionSpec) -> bool:
    return any(event.type == _HTTP_EVENT for event in spec.events)


def _handler_module_globals(handler: Callable[..., Any]) -> Mapping[str, Any]:
    """The globals of the module that defines ``handler``, through Powertools' wrappers."""
    original = inspect.unwrap(handler)
    found = getattr(original, "__globals__", None)
    if isinstance(found, dict):
        return found
    module = sys.modules.get(getattr(handler, "__module__", "") or "")
    return vars(module) if module is not None else {}


def function_resolvers(
    template: SamTemplate, load_handler: HandlerLoader
) -> list[FunctionResolver]:
    """The ``app`` resolvers of the template's HTTP functions, in template order.

    ``load_handler`` imports a function by logical id and returns its handler.
    """
    found: list[FunctionResolver] = []
    for spec in template.functions.values():
        if not _serves_http(spec):
            continue
        candidate = _handler_module_globals(load_handler(spec.logical_id)).get(RESOLVER_ATTRIBUTE)
        if callable(getattr(candidate, "get_openapi_schema", None)):
            found.append(FunctionResolver(spec.logical_id, cast(OpenApiResolver, candidate)))
    return found


def openapi_path(template_path: str) -> str:
    """A template path as OpenAPI writes it: ``/files/{proxy+}`` is ``/files/{proxy}``."""
    return template_path.replace("+}", "}")


def _operation_security(route: HttpRoute) -> list[dict[str, list[str]]]:
    if not route.requires_auth:
        return []
    # OpenAPI 3.1: for schemes other than OAuth2/OIDC the list names the required roles.
    return [{SECURITY_SCHEME: list(route.authorization_scopes)}]


def build_document(
    resolvers: Iterable[OpenApiResolver], routes: Sequence[HttpRoute] = ()
) -> dict[str, Any]:
    """One OpenAPI document of all ``resolvers``; ``routes`` add each operation's scopes."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=API_VERSION,
        description=DESCRIPTION,
        security_schemes={
            SECURITY_SCHEME: HTTPBearer(
                bearerFormat="JWT",
                description=(
                    "A JWT whose claims carry the seller id and the scopes orders.read, "
                    "orders.write or orders.admin"
                ),
            )
        },
        security=[{SECURITY_SCHEME: []}],
        on_conflict="error",
    )
    for resolver in resolvers:
        merge.add_schema(resolver.get_openapi_schema())
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    paths: dict[str, Any] = document.get("paths", {})
    for route in routes:
        operation = paths.get(openapi_path(route.path), {}).get(route.method.lower())
        if operation is not None:
            operation["security"] = _operation_security(route)
    _drop_powertools_validation_responses(document)
    return document


_POWERTOOLS_VALIDATION_SCHEMAS = (
    "HTTPValidationError",
    "ResponseValidationError",
    "ValidationError",
)


def _drop_powertools_validation_responses(document: dict[str, Any]) -> None:
    """Powertools documents request validation as a 422 with its own body; the handlers
    answer it as a 400 problem (documented by each route), so its 422 is not ours."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            validation = responses.get("422", {}).get("content", {}).get("application/json")
            if validation and "HTTPValidationError" in json.dumps(validation):
                del responses["422"]
    if "HTTPValidationError" not in json.dumps(document.get("paths", {})):
        schemas = document.get("components", {}).get("schemas", {})
        for name in _POWERTOOLS_VALIDATION_SCHEMAS:
            schemas.pop(name, None)


def render(document: Mapping[str, Any]) -> str:
    """The document as JSON text that only changes when the document does."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print (or write) the document, importing the functions with the template's
    environment."""
    parser = argparse.ArgumentParser(prog="python -m scripts.openapi")
    parser.add_argument("--output", help="write the document to this file, not stdout")
    arguments = parser.parse_args(argv)
    template = SamTemplate.load()
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # Importing a handler reads its settings and creates its boto3 clients: give them the
    # template's environment, a region and credentials that reach nothing. No call is made.
    os.environ.update(
        {
            **template.runtime_environment(),
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    for spec in template.functions.values():
        for folder in (spec.code_dir, *spec.layer_dirs):
            if str(folder) not in sys.path:
                sys.path.append(str(folder))

    def load_handler(function_id: str) -> Callable[..., Any]:
        spec = template.functions[function_id]
        handler: Callable[..., Any] = getattr(
            importlib.import_module(spec.module_name), spec.handler_name
        )
        return handler

    resolvers = function_resolvers(template, load_handler)
    document = build_document((found.resolver for found in resolvers), template.routes)
    text = render(document)
    if arguments.output:
        # Written whole or not at all: a failed run leaves the previous file.
        target = Path(arguments.output)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
