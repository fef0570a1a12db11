"""What both API functions share: problem responses, the one map from error classes to HTTP
statuses, identity from the JWT claims, and the checks that come before routing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import ValidationException

from adapters.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    IDENTIFIER_PATTERN,
    IF_MATCH_PATTERN,
    SCOPE_TAGS,
    pattern_message,
)
from domain.errors import (
    DomainError,
    FieldError,
    Forbidden,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidPageToken,
    ItemNotCancellable,
    NothingToCancel,
    OrderExists,
    OrderNotCancellable,
    OrderNotFound,
    OrderVersionMismatch,
    PackageCancelled,
    PackageNotCancellable,
    PackageNotShippable,
    PayloadTooLarge,
    QuantityExceedsCancellable,
    ReasonNotAllowedForItems,
    RequestInvalid,
    StockoutInProgress,
    StockoutNotFound,
    Unauthorized,
    UnknownLine,
    UnknownPackage,
)
from domain.limits import MAX_BODY_BYTES
from domain.ports import StorageUnavailable

RETRY_AFTER_SECONDS = 1
PROBLEM_JSON = "application/problem+json"
JSON = "application/json"

# The HTTP status of every domain error, by class: tests/unit/adapters/test_http_api.py
# fails on an error class without one.
STATUS_BY_ERROR: Mapping[type[DomainError], int] = {
    RequestInvalid: 400,
    IdempotencyKeyRequired: 400,
    InvalidPageToken: 400,
    Unauthorized: 401,
    Forbidden: 403,
    OrderNotFound: 404,
    StockoutNotFound: 404,
    OrderNotCancellable: 409,
    PackageNotCancellable: 409,
    ItemNotCancellable: 409,
    QuantityExceedsCancellable: 409,
    PackageNotShippable: 409,
    PackageCancelled: 409,
    IdempotencyKeyReused: 409,
    OrderExists: 409,
    StockoutInProgress: 409,
    NothingToCancel: 409,
    OrderVersionMismatch: 412,
    PayloadTooLarge: 413,
    ReasonNotAllowedForItems: 422,
    UnknownLine: 422,
    UnknownPackage: 422,
}
# The problems that are not domain errors: no route, the store busy, a bug.
NO_ROUTE = ("NOT_FOUND", 404)
UNAVAILABLE = ("SERVICE_UNAVAILABLE", 503)
INTERNAL = ("INTERNAL_ERROR", 500)


def status_of(error: DomainError) -> int:
    return STATUS_BY_ERROR[type(error)]


_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_SELLER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$")
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
# The spaces and tabs HTTP allows around a header value, which are not part of it.
_OPTIONAL_WHITESPACE = " \t"


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers=dict(headers or {}),
    )


def problem(
    code_and_status: tuple[str, int],
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    code, status = code_and_status
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=_problem_body(code, status, title, detail, errors),
        headers=dict(headers or {}),
    )


def _problem_body(
    code: str, status: int, title: str, detail: str, errors: Sequence[FieldError]
) -> str:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def domain_problem(error: DomainError) -> Response[str]:
    return problem((error.code, status_of(error)), error.title, error.detail, error.errors)


def install_error_handlers(
    app: APIGatewayHttpResolver,
    logger: Logger,
    on_rejected: Callable[[DomainError], None] | None = None,
) -> None:
    """Map every failure to a problem response, in one place for both functions."""

    def rejected(error: DomainError) -> Response[str]:
        logger.info("request rejected", extra={"code": error.code, "detail": error.detail})
        if on_rejected is not None:
            on_rejected(error)
        return domain_problem(error)

    app.exception_handler(DomainError)(rejected)

    @app.exception_handler(ValidationException)
    def _validation(error: ValidationException) -> Response[str]:
        # A missing key alone has its own code; with other problems, the body comes first.
        if error.errors() and all(_is_missing_idempotency_key(e) for e in error.errors()):
            return rejected(
                IdempotencyKeyRequired(
                    "this request needs an Idempotency-Key header",
                    (FieldError("Idempotency-Key", "required"),),
                )
            )
        # The path's order id and the body's may be wrong alike: each problem once.
        errors = tuple(dict.fromkeys(_field_error(e) for e in error.errors()))
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
        return rejected(RequestInvalid(detail, errors))

    @app.exception_handler(StorageUnavailable)
    def _unavailable(error: StorageUnavailable) -> Response[str]:
        logger.warning("storage unavailable", extra={"cause": str(error)})
        return problem(
            UNAVAILABLE,
            "Temporarily unavailable",
            "the order store is busy; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unexpected error")
        return problem(INTERNAL, "Internal error", "an unexpected error occurred")

    @app.not_found
    def _no_route(_error: Exception) -> Response[str]:
        return problem(NO_ROUTE, "Not found", "no such route")


def _is_missing_idempotency_key(error: Mapping[str, Any]) -> bool:
    location = tuple(str(part).lower() for part in error.get("loc", ()))
    return error.get("type") == "missing" and location == ("header", "idempotency-key")


_LOCATIONS = ("body", "query", "path", "header")

# Pydantic's words for a failed check, in the API's: what the value must be.
_MESSAGES: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": 'must be a JSON integer, such as 2 (not 2.0 or "2")',
    "int_parsing": "must be an integer, such as 2",
    "int_from_float": 'must be a JSON integer, such as 2 (not 2.0 or "2")',
    "bool_type": "must be true or false",
    "list_type": "must be a JSON array",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "none_required": "must be null or absent",
    "union_tag_not_found": "is required",
}
_TEMPLATES: Mapping[str, str] = {
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "too_short": "must have at least {min_length} {min_length_entries}",
    "too_long": "must have at most {max_length} {max_length_entries}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "enum": "must be {expected}",
    "literal_error": "must be {expected}",
    "union_tag_invalid": "must be {expected_tags}",
}


def _field_error(error: Mapping[str, Any]) -> FieldError:
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return FieldError("body", "is not valid JSON")
    if kind == "unsupported_content_type":
        return FieldError("body", "must be application/json")
    if _is_missing_idempotency_key(error):
        return FieldError("Idempotency-Key", "required")
    context: Mapping[str, Any] = error.get("ctx") or {}
    return FieldError(_field_path(error, context), _message(kind, error, context))


def _field_path(error: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """``items[0].quantity``: where in the request the error is, as a client wrote it."""
    location = list(error.get("loc", ()))
    if location and location[0] in _LOCATIONS:
        location = location[1:]
    # A variant of a request body chosen by its discriminator (the cancellation's scope)
    # is named first, by its tag: the client's field comes after it.
    if location and location[0] in SCOPE_TAGS:
        location = location[1:]
    if str(error.get("type", "")).startswith("union_tag_"):
        location.append(str(context.get("discriminator", "")).strip("'\""))
    field = ""
    for part in location:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += f".{part}" if field else str(part)
    return field or "body"


def _entries(count: object) -> str:
    return "entry" if count == 1 else "entries"


def _message(kind: str, error: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    if kind == "string_pattern_mismatch":
        return pattern_message(str(context.get("pattern", "")))
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in _TEMPLATES:
        counted = {f"{name}_entries": _entries(value) for name, value in context.items()}
        try:
            return _TEMPLATES[kind].format(**context, **counted)
        except (KeyError, IndexError, ValueError):
            pass
    message = str(error.get("msg") or "is not valid")
    return message.removeprefix("Value error, ")


def resolve(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: Any,
    seller_id_claim: str,
    logger: Logger,
) -> dict[str, Any]:
    """Run the route, after what API.md says comes first: 401/403, then 413, then a body
    that is not JSON at all (400). The body reaches the route as plain, valid JSON text.
    """
    try:
        _check_identity(event, seller_id_claim)
        event = _with_json_body(event)
    except DomainError as error:
        logger.info("request rejected", extra={"code": error.code, "detail": error.detail})
        return {
            "statusCode": status_of(error),
            "headers": {"Content-Type": PROBLEM_JSON},
            "body": _problem_body(
                error.code, status_of(error), error.title, error.detail, error.errors
            ),
            "isBase64Encoded": False,
        }
    result: dict[str, Any] = app.resolve(event, context)
    return result


def _event_claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    found = (authorizer.get("jwt") or {}).get("claims") or {}
    return found if isinstance(found, Mapping) else {}


def _check_identity(event: Mapping[str, Any], seller_id_claim: str) -> None:
    found = _event_claims(event)
    if not found:
        raise Unauthorized("no verified token came with the request")
    seller = found.get(seller_id_claim)
    if not isinstance(seller, str) or not _SELLER_ID.fullmatch(seller):
        raise Forbidden(f"the token carries no usable {seller_id_claim} claim")


def _with_json_body(event: dict[str, Any]) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", ""))
    body = event.get("body")
    if method not in _METHODS_WITH_BODY or not body:
        return event
    if not isinstance(body, str):
        raise RequestInvalid("the body is not text", (FieldError("body", "must be JSON"),))
    raw = body.encode("utf-8", errors="surrogatepass")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestInvalid(
                "the body is not valid base64", (FieldError("body", "must be JSON"),)
            ) from None
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted"
        )
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("", "application/json") and not media_type.endswith("+json"):
        raise RequestInvalid(
            f"the body must be application/json, not {media_type}",
            (FieldError("Content-Type", "must be application/json"),),
        )
    try:
        parsed = json.loads(raw.decode("utf-8"))
        text = json.dumps(parsed, ensure_ascii=False)
        text.encode("utf-8")
    except (ValueError, RecursionError, UnicodeError):
        raise RequestInvalid(
            "the body is not valid JSON", (FieldError("body", "is not valid JSON"),)
        ) from None
    if not isinstance(parsed, dict):
        raise RequestInvalid(
            "the body must be a JSON object", (FieldError("body", "must be a JSON object"),)
        )
    headers["content-type"] = "application/json"
    return {**event, "body": text, "isBase64Encoded": False, "headers": headers}


def claims(app: APIGatewayHttpResolver) -> Mapping[str, Any]:
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    found = jwt.get("claims") or {}
    return found if isinstance(found, Mapping) else {}


def seller_id(app: APIGatewayHttpResolver, claim_name: str) -> str:
    value = claims(app).get(claim_name)
    if not isinstance(value, str) or not value:
        raise Forbidden(f"the token carries no {claim_name} claim")
    return value


def actor(app: APIGatewayHttpResolver) -> str:
    value = claims(app).get("sub")
    return value if isinstance(value, str) and value else "unknown"


def header(app: APIGatewayHttpResolver, name: str) -> str | None:
    headers = app.current_event.raw_event.get("headers") or {}
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return str(value)
    return None


def is_identifier(value: str) -> bool:
    """An order, product, line or package id as ingestion accepts them."""
    return _IDENTIFIER.fullmatch(value) is not None


def order_id(value: str) -> str:
    """An order id from the path; one that no order could have is simply not found."""
    if not is_identifier(value):
        raise OrderNotFound(f"order {value[:64]} not found")
    return value


def stockout_id(value: str) -> str:
    """A stock-out id from the path; one that no stock-out could have is not found."""
    if not is_identifier(value):
        raise StockoutNotFound(f"stock-out {value[:64]} not found")
    return value


def idempotency_key(app: APIGatewayHttpResolver) -> str:
    value = (header(app, "Idempotency-Key") or "").strip(_OPTIONAL_WHITESPACE)
    if value == "":
        raise IdempotencyKeyRequired(
            "this request needs an Idempotency-Key header",
            (FieldError("Idempotency-Key", "required"),),
        )
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise RequestInvalid(
            "the Idempotency-Key must be 1 to 128 printable ASCII characters",
            (FieldError("Idempotency-Key", pattern_message(IDEMPOTENCY_KEY_PATTERN)),),
        )
    return value


def if_match_version(app: APIGatewayHttpResolver) -> int | None:
    """The version of ``If-Match: "3"`` (or ``3``); none for ``*`` or an empty value."""
    value = header(app, "If-Match")
    if value is None:
        return None
    if not _IF_MATCH.fullmatch(value):
        raise RequestInvalid(
            'If-Match must be an order version such as "3"',
            (FieldError("If-Match", pattern_message(IF_MATCH_PATTERN)),),
        )
    version = value.strip(_OPTIONAL_WHITESPACE).strip('"')
    return int(version) if version not in ("", "*") else None


def fingerprint(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def etag(version: int) -> str:
    return f'"{version}"'
