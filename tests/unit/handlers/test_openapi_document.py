"""``scripts.openapi`` on the functions loaded here: fast, without the local stack
(``tests/integration/test_openapi.py`` checks what the stack serves)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from local_runtime import PROJECT_ROOT
from scripts.openapi import (
    COMMITTED_DOCUMENT,
    TITLE,
    build_document,
    function_resolvers,
    render,
)
from tests.unit.handlers.conftest import TEMPLATE, Functions


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def _template_operations() -> set[tuple[str, str]]:
    return {(route.method, route.path.replace("+}", "}")) for route in TEMPLATE.routes}


def test_the_merged_document_has_every_route_of_the_template(functions: Functions) -> None:
    def load_handler(function_id: str) -> Any:
        return getattr(functions.module(function_id), TEMPLATE.functions[function_id].handler_name)

    found = function_resolvers(TEMPLATE, load_handler)
    document = build_document((f.resolver for f in found), TEMPLATE.routes)

    assert {f.function_id for f in found} == {route.function_id for route in TEMPLATE.routes}
    assert document["info"]["title"] == TITLE
    assert _operations(document) == _template_operations()
    for route in TEMPLATE.routes:
        operation = document["paths"][route.path.replace("+}", "}")][route.method.lower()]
        assert operation["security"] == [{"bearerAuth": list(route.authorization_scopes)}]


@pytest.fixture(scope="module")
def printed() -> str:
    """What ``python -m scripts.openapi`` prints, as ``make openapi`` runs it."""
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.openapi"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_command_prints_the_same_document_without_a_running_stack(printed: str) -> None:
    document = json.loads(printed)
    assert document["info"]["title"] == TITLE
    assert _operations(document) == _template_operations()


def test_the_committed_document_is_what_the_code_generates(printed: str) -> None:
    committed = (
        COMMITTED_DOCUMENT.read_text(encoding="utf-8") if COMMITTED_DOCUMENT.exists() else ""
    )

    assert committed == printed, (
        "docs/openapi.json is not the document the handlers generate: "
        "run `make openapi` and commit docs/openapi.json"
    )


def test_the_document_is_rendered_the_same_whatever_the_order_it_was_built_in(
    printed: str,
) -> None:
    document = json.loads(printed)
    shuffled = json.loads(json.dumps(document), object_pairs_hook=lambda pairs: dict(pairs[::-1]))

    assert render(shuffled) == render(document) == printed
    assert printed.endswith("}\n")
