"""The local API Gateway: template routes, JWT checks, payload-2.0 events, handlers in process.

Besides the template's routes it serves the local-only routes under ``/_local/``;
``GET /_local/health`` is built in, the others are registered by name with
``Gateway.register_local_route`` (the stack registers ``/_local/outbox``; an
``/_local/openapi.json`` handler plugs in the same way).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_runtime.auth import Forbidden, TokenVerifier, Unauthorized
from local_runtime.http_api import (
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


class _Server(ThreadingHTTPServer):
    """One thread per connection; the listen backlog holds a burst of concurrent clients
    (the standard library's 5 would make the sixth wait for a SYN retry)."""

    request_queue_size = 128
    daemon_threads = True


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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def bind(self) -> ThreadingHTTPServer:
        """Takes the port now, so that a busy port fails before anything else starts."""
        if self._server is not None:
            return self._server
        gateway = self

        class RequestHandler(_RequestHandler):
            def respond_to(self, request: HttpRequest) -> HttpResponse:
                return gateway.handle(request)

        try:
            self._server = _Server(self._address, RequestHandler)
        except OSError as error:
            host, port = self._address
            raise OSError(
                f"cannot listen on {host}:{port} ({error.strerror}): is another local stack "
                "running? Stop it or choose another port with PORT=..."
            ) from error
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
        try:
            result = self._invoke(match.route.function_id, event)
            return to_http_response(result)
        except InvalidLambdaResponse:
            logger.exception("%s returned a response API Gateway rejects", match.route.function_id)
        except Exception:
            logger.exception("%s raised on %s", match.route.function_id, match.route.route_key)
        return _bad_gateway(match.route.function_id)

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


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-gateway"

    def respond_to(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as error:
            self._write(problem(400, "BAD_REQUEST", str(error)))
            self.close_connection = True
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        self._write(self.respond_to(request))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit():
            raise ValueError("Content-Length is not a number")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the standard library answers in HTML (a malformed request line, an over-long
        URL or header, an unknown method) is answered as a problem body instead."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            # A method the server has no handler for (TRACE, QUERY…) is routed like any
            # other: a 405 with Allow where the path exists, else a 404.
            self._serve()
            return
        status = HTTPStatus(code)
        response = problem(
            status,
            _PROTOCOL_PROBLEMS.get(status, "BAD_REQUEST"),
            message or status.description or status.phrase,
        )
        self.close_connection = True
        response.headers.append(("Connection", "close"))
        self._write(response)
        logger.info(
            "%s %s %s %s",
            self.command or "-",
            (self.path or "-")[:80],
            response.status,
            response.problem_code(),
        )

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve
