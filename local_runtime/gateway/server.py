"""The local API Gateway: template routes, JWT checks, payload-2.0 events to the functions.

Besides the template's routes it serves the local-only routes under ``/_local/``;
``GET /_local/health`` is built in, the others are registered by name with
``Gateway.register_local_route`` (the stack registers ``/_local/outbox``; an
``/_local/openapi.json`` handler plugs in the same way).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from local_runtime.functions.runtime import FunctionError, FunctionTimedOut
from local_runtime.gateway.auth import Forbidden, TokenVerifier, Unauthorized
from local_runtime.gateway.http_api import (
    HttpRequest,
    HttpResponse,
    InvalidLambdaResponse,
    RouteTable,
    build_event,
    to_http_response,
)
from local_runtime.template import HttpRoute

logger = logging.getLogger(__name__)

Invoker = Callable[[str, dict[str, Any]], Any]
LocalRouteHandler = Callable[[HttpRequest], HttpResponse]
# Static files for what no route serves (the console): a response, or None for a 404.
StaticSite = Callable[[HttpRequest], HttpResponse | None]

LOCAL_PREFIX = "/_local/"
HEALTH_PATH = "/_local/health"
# API Gateway's own limit; the API's 64 KiB limit is the handlers' to enforce.
MAX_BODY_BYTES = 10 * 1024 * 1024
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, code: str, detail: str) -> HttpResponse:
    """A problem body of the same shape as the functions' (``errors`` included)."""
    document = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "errors": [],
    }
    return HttpResponse.json(status, document, content_type=PROBLEM_CONTENT_TYPE)


# What the HTTP server itself refuses before a request is whole, as problem codes.
_PROTOCOL_PROBLEMS = {
    HTTPStatus.BAD_REQUEST: "BAD_REQUEST",
    HTTPStatus.REQUEST_URI_TOO_LONG: "URI_TOO_LONG",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "HEADERS_TOO_LARGE",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "HTTP_VERSION_NOT_SUPPORTED",
}


def _bad_gateway(function_id: str) -> HttpResponse:
    """API Gateway's 502 for a function that failed, as a problem body."""
    return problem(502, "BAD_GATEWAY", f"{function_id} failed; its error is in the log")


class Gateway:
    def __init__(
        self,
        routes: Sequence[HttpRoute],
        invoke: Invoker,
        verifier: TokenVerifier,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
    ) -> None:
        self._routes = RouteTable(routes)
        self._invoke = invoke
        self._verifier = verifier
        self._address = (host, port)
        self._local_routes: dict[str, LocalRouteHandler] = {HEALTH_PATH: self._health}
        self._site: StaticSite | None = None
        self._ready = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def bind(self) -> BaseWSGIServer:
        """Takes the port now, so that a busy port fails before anything else starts."""
        if self._server is not None:
            return self._server
        host, port = self._address
        try:
            # Bound here, not by werkzeug, which exits the process when a port is taken.
            listening = socket.create_server((host, port), backlog=LISTEN_QUEUE)
        except OSError as error:
            raise OSError(
                f"cannot listen on {host}:{port} ({error.strerror}): is another local stack "
                "running? Stop it or choose another port with PORT=..."
            ) from error
        with listening:
            self._server = make_server(
                host,
                port,
                self._wsgi,
                threaded=True,
                request_handler=_RequestHandler,
                fd=listening.fileno(),
            )
        return self._server

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the gateway is not bound")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        server = self.bind()
        self._thread = threading.Thread(
            target=server.serve_forever, name="local-gateway", daemon=True
        )
        self._thread.start()
        logger.info("gateway listening on %s", self.base_url)

    def mark_ready(self) -> None:
        self._ready.set()

    def stop(self) -> None:
        self._ready.clear()
        server, self._server = self._server, None
        if server is None:
            return
        if self._thread is not None:
            server.shutdown()
            self._thread.join()
            self._thread = None
        server.server_close()

    def register_local_route(self, path: str, handler: LocalRouteHandler) -> None:
        """Serves ``GET path`` (under ``/_local/``) with ``handler``, without authentication."""
        if not path.startswith(LOCAL_PREFIX):
            raise ValueError(f"local routes live under {LOCAL_PREFIX}, not {path}")
        self._local_routes[path] = handler

    def serve_site(self, site: StaticSite) -> None:
        """Serves ``site``'s files, without authentication, where no route matches."""
        self._site = site

    # --- requests ---

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        incoming = Request(environ)
        try:
            body = incoming.get_data()
        except (OSError, ValueError) as error:  # a malformed chunked body
            response = problem(400, "BAD_REQUEST", str(error))
        else:
            response = self.handle(
                HttpRequest(
                    method=incoming.method,
                    target=environ.get("REQUEST_URI") or incoming.full_path,
                    headers=list(incoming.headers.items()),
                    body=body,
                    source_ip=incoming.remote_addr or "127.0.0.1",
                    protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                )
            )
        status = HTTPStatus(response.status)
        start_response(
            f"{status.value} {status.phrase}",
            [*response.headers, ("Content-Length", str(len(response.body)))],
        )
        return [b"" if incoming.method == "HEAD" else response.body]

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        response = self._respond(request, request_id)
        response.headers.append(("apigw-requestid", request_id))
        logger.info(
            "%s %s %s %s %.0f ms id=%s",
            request.method,
            request.target,
            response.status,
            response.problem_code() or "-",
            (time.monotonic() - started) * 1000,
            request_id,
        )
        return response

    def _respond(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if request.raw_path.startswith(LOCAL_PREFIX):
            return self._local(request)
        match = self._routes.match(request.method, request.raw_path)
        if match is None and self._site is not None:
            page = self._site(request)
            if page is not None:
                return page
        if match is None:
            allowed = self._routes.allowed_methods(request.raw_path)
            if allowed:
                response = problem(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"{request.method} is not served on {request.raw_path}",
                )
                response.headers.append(("Allow", ", ".join(allowed)))
                return response
            return problem(404, "NOT_FOUND", f"no route for {request.method} {request.raw_path}")
        if len(request.body) > MAX_BODY_BYTES:
            return problem(413, "PAYLOAD_TOO_LARGE", "the body is over API Gateway's 10 MB")
        claims, scopes = None, None
        if match.route.requires_auth:
            try:
                identity = self._verifier.authenticate(request.header("authorization"))
                self._verifier.authorize(identity, match.route.authorization_scopes)
            except Unauthorized as error:
                response = problem(401, "UNAUTHORIZED", str(error))
                response.headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
                return response
            except Forbidden as error:
                return problem(403, "FORBIDDEN", str(error))
            claims, scopes = identity.claims, identity.scopes
        event = build_event(request, match, claims=claims, scopes=scopes, request_id=request_id)
        function_id = match.route.function_id
        try:
            result = self._invoke(function_id, event)
            return to_http_response(result)
        except InvalidLambdaResponse:
            logger.exception("%s returned a response API Gateway rejects", function_id)
        except FunctionTimedOut as error:
            logger.error("%s on %s: %s", function_id, match.route.route_key, error)
            return problem(504, "GATEWAY_TIMEOUT", f"{function_id} timed out")
        except FunctionError as error:
            # The instance printed the handler's traceback itself, as it would to CloudWatch.
            logger.error("%s failed on %s: %s", function_id, match.route.route_key, error)
        except Exception:
            logger.exception("invoking %s on %s failed", function_id, match.route.route_key)
        return _bad_gateway(function_id)

    def _local(self, request: HttpRequest) -> HttpResponse:
        handler = self._local_routes.get(request.raw_path)
        if handler is None:
            return problem(404, "NOT_FOUND", f"no local route {request.raw_path}")
        if request.method != "GET":
            response = problem(405, "METHOD_NOT_ALLOWED", f"{request.raw_path} only serves GET")
            response.headers.append(("Allow", "GET"))
            return response
        try:
            return handler(request)
        except Exception:
            logger.exception("local route %s failed", request.raw_path)
            return problem(500, "LOCAL_RUNTIME_ERROR", f"{request.raw_path} failed; see the log")

    def _health(self, _: HttpRequest) -> HttpResponse:
        if self._ready.is_set():
            return HttpResponse.json(200, {"status": "ok"})
        return HttpResponse.json(503, {"status": "starting"})


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's, but what it refuses before a request is whole (a malformed request
    line, an over-long URL or header) is answered as a problem body, not HTML, and the
    gateway logs requests itself."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        status = HTTPStatus(code)
        response = problem(
            status,
            _PROTOCOL_PROBLEMS.get(status, "BAD_REQUEST"),
            message or status.description or status.phrase,
        )
        self.close_connection = True
        self.send_response(response.status)
        for name, value in [*response.headers, ("Connection", "close")]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        logger.info(
            "%s %s %s %s",
            self.command or "-",
            (self.path or "-")[:80],
            response.status,
            response.problem_code(),
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
