"""API Gateway HTTP API, payload format 2.0: the event a handler gets and what its answer means.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local_runtime.template import LOCAL_ACCOUNT_ID, HttpRoute

logger = logging.getLogger(__name__)

LOCAL_API_ID = "local"
_TEXT_SUBTYPES = {"json", "xml", "javascript", "x-javascript", "ecmascript", "x-ndjson", "csv"}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def raw_query_string(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(
        cls, status: int, document: Any, content_type: str = "application/json"
    ) -> HttpResponse:
        return cls(
            status=status,
            headers=[("Content-Type", content_type)],
            body=json.dumps(document).encode(),
        )

    def problem_code(self) -> str | None:
        """The ``code`` of a problem+json body, for the request log."""
        content_type = next((v for k, v in self.headers if k.lower() == "content-type"), "")
        if not content_type.startswith("application/problem+json"):
            return None
        try:
            code = json.loads(self.body).get("code")
        except (ValueError, AttributeError):
            return None
        return code if isinstance(code, str) else None


class InvalidLambdaResponse(Exception):
    """The handler's answer is not something API Gateway can turn into an HTTP response."""


# --- Routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


def _route_pattern(path: str) -> re.Pattern[str]:
    pattern = ""
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            pattern += f"/(?P<{segment[1:-2]}>.+)"
        elif segment.startswith("{") and segment.endswith("}"):
            pattern += f"/(?P<{segment[1:-1]}>[^/]+)"
        elif segment:
            pattern += "/" + re.escape(segment)
    return re.compile((pattern or "/") + "$")


def _specificity(route: HttpRoute) -> tuple[int, int]:
    segments = route.path.strip("/").split("/")
    greedy = sum(segment.endswith("+}") for segment in segments)
    literal = sum(not segment.startswith("{") for segment in segments)
    return (-greedy, literal)


class RouteTable:
    """Finds the route of a request; the most specific path wins, as in API Gateway."""

    def __init__(self, routes: Sequence[HttpRoute]) -> None:
        ordered = sorted(routes, key=_specificity, reverse=True)
        self._routes = [(route, _route_pattern(route.path)) for route in ordered]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        for route, pattern in self._routes:
            found = pattern.match(raw_path)
            if found and route.method in (method, "ANY"):
                parameters = {name: unquote(value) for name, value in found.groupdict().items()}
                return RouteMatch(route=route, path_parameters=parameters)
        return None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The methods of the path's own resource: the most specific paths that match it
        (``/stockouts/preview``'s, not ``/stockouts/{stockout_id}``'s too)."""
        matching = [route for route, pattern in self._routes if pattern.match(raw_path)]
        if not matching:
            return []
        best = max(_specificity(route) for route in matching)
        return sorted({route.method for route in matching if _specificity(route) == best})


# --- The event -----------------------------------------------------------------------------


def _is_text(content_type: str | None, content_encoding: str | None) -> bool:
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return False
    if not content_type:
        return False
    media_type = content_type.split(";")[0].strip().lower()
    main_type, _, subtype = media_type.partition("/")
    return main_type == "text" or subtype in _TEXT_SUBTYPES or subtype.endswith(("+json", "+xml"))


def claim_as_string(value: Any) -> str:
    """A claim value as the JWT authorizer passes it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(claim_as_string(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = " ".join(f"{key}:{claim_as_string(item)}" for key, item in value.items())
        return f"map[{pairs}]"
    return str(value)


def _joined_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _query_parameters(raw_query_string: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    claims: Mapping[str, Any] | None,
    scopes: Sequence[str] | None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway sends for ``request`` on ``match.route``."""
    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    headers = _joined_headers([(k, v) for k, v in request.headers if k.lower() != "cookie"])
    domain_name, _, port = headers.get("host", "localhost").partition(":")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", port or "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault(
        "x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"
    )
    cookies = [
        cookie.strip()
        for name, value in request.headers
        if name.lower() == "cookie"
        for cookie in value.split(";")
        if cookie.strip()
    ]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query_string,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(request.raw_query_string)
    if query:
        event["queryStringParameters"] = query
    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {
                "claims": {name: claim_as_string(value) for name, value in claims.items()},
                "scopes": list(scopes) if scopes else None,
            }
        }
    event["requestContext"] = request_context
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        text = _utf8(request.body)
        if text is not None and _is_text(
            headers.get("content-type"), headers.get("content-encoding")
        ):
            event["body"] = text
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def _utf8(body: bytes) -> str | None:
    """The body as text, or None when it is not UTF-8 (then it travels base64-encoded)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- The answer ----------------------------------------------------------------------------


def to_http_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a handler's return value (payload 2.0)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Without a statusCode, API Gateway takes the whole result as a JSON body.
        return HttpResponse.json(200, result)
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidLambdaResponse(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), _header_value(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise InvalidLambdaResponse(f"body must be a string, not {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise InvalidLambdaResponse(f"body is not valid base64: {error}") from error
    else:
        payload = body.encode("utf-8")
    return HttpResponse(status=status, headers=headers, body=payload)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise InvalidLambdaResponse(f"header value {value!r} is not a string")
