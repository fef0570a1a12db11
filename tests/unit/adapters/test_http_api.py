"""The map from domain errors to HTTP statuses is complete and says what docs/api.md says."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from adapters import http_api
from domain import errors

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def _error_classes() -> list[type[errors.DomainError]]:
    return [
        value
        for _, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, errors.DomainError) and value is not errors.DomainError
    ]


def _documented_statuses() -> dict[str, int]:
    """Each code of the error table in docs/api.md, with its row's status."""
    documented: dict[str, int] = {}
    for row in re.findall(r"^\| (\d{3}) \| (.+) \|$", API_DOC.read_text(), re.MULTILINE):
        status, codes = row
        for code in re.findall(r"`([A-Z_]+)`", codes):
            documented[code] = int(status)
    return documented


def test_every_domain_error_has_a_status() -> None:
    unmapped = [c.__name__ for c in _error_classes() if c not in http_api.STATUS_BY_ERROR]
    assert not unmapped


def test_every_status_is_the_one_the_api_document_gives_its_code() -> None:
    documented = _documented_statuses()
    assert documented, "the error table of docs/api.md was not found"
    mapped = {error.code: status for error, status in http_api.STATUS_BY_ERROR.items()}
    mapped[http_api.UNAVAILABLE[0]] = http_api.UNAVAILABLE[1]
    assert {code: documented.get(code) for code in mapped} == mapped


def test_each_error_class_has_a_code_of_its_own() -> None:
    codes = [error.code for error in _error_classes()]
    assert len(codes) == len(set(codes))
    assert errors.DomainError.code not in codes
