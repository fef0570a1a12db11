"""The local runtime itself: JWT checks, routing, the payload-2.0 events the handlers get,
DynamoDB Local built from the template, SES's outbox, and stopping without leftovers."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jwt
import pytest

from local_runtime import PROJECT_ROOT
from local_runtime.commands.token import main as tokens_main
from local_runtime.emulators.dynamodb_local import DynamoDBLocal
from local_runtime.functions.runtime import (
    FunctionCrashed,
    FunctionError,
    FunctionRuntime,
    FunctionTimedOut,
)
from local_runtime.gateway.auth import TokenVerifier
from local_runtime.gateway.server import Gateway
from local_runtime.gateway.tokens import mint_token
from local_runtime.stack import LocalStack, StackInfo
from local_runtime.template import SamTemplate, TemplateError
from tests.integration.conftest import ApiClient, RuntimeFactory, TokenFactory, function_spec

pytestmark = pytest.mark.integration

TEMPLATE = SamTemplate.load()
ANY_ROUTE = "/cancel-reasons"
READ_WRITE = ["orders.read", "orders.write"]
PROBLEM_KEYS = {"type", "title", "status", "code", "detail", "errors"}


def _assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status == status
    assert response.content_type == "application/problem+json"
    document = response.json()
    assert set(document) >= PROBLEM_KEYS
    assert document["type"] == "about:blank"
    assert document["status"] == status
    assert document["code"] == code
    assert document["title"]
    assert document["detail"]
    assert isinstance(document["errors"], list)


# --- health, authentication, routing --------------------------------------------------


def test_health_is_ok_once_the_stack_is_ready(api: ApiClient) -> None:
    response = api.get("/_local/health")

    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_a_request_without_a_token_is_401(api: ApiClient) -> None:
    _assert_problem(api.get(ANY_ROUTE), 401, "UNAUTHORIZED")


def test_a_token_signed_with_another_secret_is_401(api: ApiClient) -> None:
    forged = mint_token("seller-acme", READ_WRITE, secret="not-the-local-secret")

    _assert_problem(api.get(ANY_ROUTE, token=forged), 401, "UNAUTHORIZED")


def test_an_expired_token_is_401(api: ApiClient, mint_token: TokenFactory) -> None:
    expired = mint_token(
        "seller-acme",
        READ_WRITE,
        issued_at=datetime.now(UTC) - timedelta(hours=2),
        lifetime=timedelta(hours=1),
    )

    response = api.get(ANY_ROUTE, token=expired)

    _assert_problem(response, 401, "UNAUTHORIZED")
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "Basic dXNlcjpwYXNz", ""])
def test_a_malformed_token_is_401(api: ApiClient, garbage: str) -> None:
    response = api.get(ANY_ROUTE, headers=[("Authorization", f"Bearer {garbage}")])

    _assert_problem(response, 401, "UNAUTHORIZED")


def test_a_token_with_a_tampered_payload_is_401(api: ApiClient, mint_token: TokenFactory) -> None:
    header, _, signature = mint_token("seller-acme", ["orders.read"]).split(".")
    claims = {"sub": "u", "seller_id": "seller-other", "scope": "orders.admin", "iss": "local"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    _assert_problem(
        api.get(ANY_ROUTE, token=f"{header}.{payload}.{signature}"), 401, "UNAUTHORIZED"
    )


LOCAL_DEV_SECRET = "local-dev-secret"


def _contract_token(claims: dict[str, Any]) -> str:
    """A token made the way the API reference describes it, without the project's helpers."""
    return jwt.encode(claims, LOCAL_DEV_SECRET, algorithm="HS256")


def _contract_claims(**extra: Any) -> dict[str, Any]:
    return {
        "sub": "user-1",
        "seller_id": "seller-acme",
        "scope": "orders.read orders.write",
        "exp": int(time.time()) + 600,
        **extra,
    }


def test_a_token_with_only_the_contracts_claims_is_accepted(api: ApiClient) -> None:
    response = api.get(ANY_ROUTE, token=_contract_token(_contract_claims()))

    assert response.status == 200, response.body[:300]


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "local"},
        {"aud": "order-cancellations-local"},
        {"aud": ["another-client", "order-cancellations-local"]},
        {"iss": "local", "aud": "order-cancellations-local"},
    ],
)
def test_a_token_naming_the_local_issuer_or_audience_is_accepted(
    api: ApiClient, claims: dict[str, Any]
) -> None:
    response = api.get(ANY_ROUTE, token=_contract_token(_contract_claims(**claims)))

    assert response.status == 200, response.body[:300]


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"iss": "https://someone-else.example"}, "issuer"),
        ({"aud": "another-client"}, "audience"),
        ({"aud": ["another-client", "a-third-one"]}, "audience"),
    ],
)
def test_a_token_of_another_issuer_or_audience_is_401(
    api: ApiClient, claims: dict[str, Any], said: str
) -> None:
    response = api.get(ANY_ROUTE, token=_contract_token(_contract_claims(**claims)))

    _assert_problem(response, 401, "UNAUTHORIZED")
    assert said in response.json()["detail"]


def test_a_token_without_exp_or_signed_with_alg_none_is_401(api: ApiClient) -> None:
    claims = _contract_claims()
    del claims["exp"]
    unsigned = (
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        + "."
        + base64.urlsafe_b64encode(json.dumps(_contract_claims()).encode()).rstrip(b"=").decode()
        + "."
    )

    _assert_problem(api.get(ANY_ROUTE, token=_contract_token(claims)), 401, "UNAUTHORIZED")
    _assert_problem(api.get(ANY_ROUTE, token=unsigned), 401, "UNAUTHORIZED")


def test_the_local_helper_mints_tokens_with_and_without_an_issuer(api: ApiClient) -> None:
    with_issuer = mint_token("seller-acme", READ_WRITE)
    bare = mint_token("seller-acme", READ_WRITE, with_issuer=False)

    assert jwt.decode(with_issuer, options={"verify_signature": False})["iss"] == "local"
    assert set(jwt.decode(bare, options={"verify_signature": False})) == {
        "sub",
        "seller_id",
        "scope",
        "iat",
        "exp",
    }
    for token in (with_issuer, bare):
        assert api.get(ANY_ROUTE, token=token).status == 200


@pytest.mark.parametrize(
    ("method", "path", "scopes"),
    [
        ("GET", "/orders", ["orders.write", "orders.admin"]),
        ("POST", "/orders/ORD-1/cancellations/preview", ["orders.read"]),
        ("POST", "/orders/ORD-1/packages/PK1/ship", ["orders.read", "orders.admin"]),
        ("PUT", "/orders/ORD-1", ["orders.read", "orders.write"]),
    ],
)
def test_a_token_without_the_routes_scope_is_403(
    api: ApiClient, mint_token: TokenFactory, method: str, path: str, scopes: list[str]
) -> None:
    response = api.request(method, path, token=mint_token("seller-acme", scopes), json_body={})

    _assert_problem(response, 403, "FORBIDDEN")


def test_every_route_of_the_template_is_served_and_guarded(api: ApiClient) -> None:
    for route in TEMPLATE.routes:
        path = re.sub(r"\{[^}]+\}", "X1", route.path)

        response = api.request(route.method, path, json_body={} if route.method != "GET" else None)

        assert response.status == 401, route.route_key


def test_an_unknown_path_is_404(api: ApiClient, seller_token: str) -> None:
    _assert_problem(api.get("/nothing/here", token=seller_token), 404, "NOT_FOUND")
    _assert_problem(api.get("/orders/ORD-1/unknown"), 404, "NOT_FOUND")


def test_a_known_path_with_another_method_is_405(api: ApiClient, seller_token: str) -> None:
    response = api.request("DELETE", "/orders/ORD-1", token=seller_token)

    _assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT"}


# --- the payload-2.0 event (a fake handler stands in for the functions) ---------------


class RecordingHandler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.result: Any = {"statusCode": 200, "body": "{}"}

    def __call__(self, function_id: str, event: dict[str, Any]) -> Any:
        self.calls.append((function_id, event))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    @property
    def event(self) -> dict[str, Any]:
        return self.calls[-1][1]


@pytest.fixture
def recording_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def fake_gateway(recording_handler: RecordingHandler) -> Iterator[Gateway]:
    gateway = Gateway(TEMPLATE.routes, recording_handler, TokenVerifier("test-secret"), port=0)
    gateway.start()
    gateway.mark_ready()
    try:
        yield gateway
    finally:
        gateway.stop()


def _raw_request(
    gateway: Gateway,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
) -> tuple[int, list[tuple[str, str]], bytes]:
    host, port = gateway.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, target)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _test_token(scopes: str = "orders.read orders.write") -> str:
    return mint_token("seller-acme", scopes, sub="user-7", secret="test-secret")


def test_the_event_is_api_gateways_payload_2_0(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    before_ms = int(time.time() * 1000)

    status, headers, _ = _raw_request(
        fake_gateway,
        "GET",
        "/orders/ORD%201001?status=AWAITING_SHIPMENT&product_id=P1&product_id=P2&empty=",
        [
            ("Authorization", f"Bearer {_test_token()}"),
            ("User-Agent", "integration-test/1"),
            ("X-Repeated", "a"),
            ("X-Repeated", "b"),
            ("Cookie", "theme=dark; lang=en"),
        ],
    )

    assert status == 200
    function_id, event = recording_handler.calls[-1]
    assert function_id == "ListOrdersFunction"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /orders/{order_id}"
    assert event["rawPath"] == "/orders/ORD%201001"
    assert event["rawQueryString"] == (
        "status=AWAITING_SHIPMENT&product_id=P1&product_id=P2&empty="
    )
    assert event["queryStringParameters"] == {
        "status": "AWAITING_SHIPMENT",
        "product_id": "P1,P2",
        "empty": "",
    }
    assert event["pathParameters"] == {"order_id": "ORD 1001"}
    assert event["cookies"] == ["theme=dark", "lang=en"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-repeated"] == "a,b"
    assert event["headers"]["user-agent"] == "integration-test/1"
    assert all(name == name.lower() for name in event["headers"])
    assert event["isBase64Encoded"] is False
    assert "body" not in event

    context = event["requestContext"]
    assert context["routeKey"] == "GET /orders/{order_id}"
    assert context["stage"] == "$default"
    assert context["accountId"] and context["apiId"] and context["domainName"]
    assert context["http"] == {
        "method": "GET",
        "path": "/orders/ORD%201001",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "integration-test/1",
    }
    assert str(uuid.UUID(context["requestId"])) == context["requestId"]
    assert dict(headers)["apigw-requestid"] == context["requestId"]
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    assert before_ms <= context["timeEpoch"] <= int(time.time() * 1000)


def test_the_event_carries_the_tokens_claims_as_strings(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    token = mint_token(
        "seller-acme",
        "orders.read orders.write",
        sub="user-7",
        secret="test-secret",
        extra_claims={"email_verified": True, "groups": ["ops", "admins"]},
    )

    _raw_request(fake_gateway, "GET", "/orders", [("Authorization", f"Bearer {token}")])

    jwt_context = recording_handler.event["requestContext"]["authorizer"]["jwt"]
    claims = jwt_context["claims"]
    assert claims["sub"] == "user-7"
    assert claims["seller_id"] == "seller-acme"
    assert claims["scope"] == "orders.read orders.write"
    assert claims["iss"] == "local"
    assert claims["email_verified"] == "true"
    assert claims["groups"] == "[ops admins]"
    assert re.fullmatch(r"\d{10}", claims["iat"])
    assert int(claims["exp"]) - int(claims["iat"]) == 12 * 3600
    assert all(isinstance(value, str) for value in claims.values())
    assert jwt_context["scopes"] == ["orders.read", "orders.write"]


def test_a_json_body_arrives_as_text_and_a_binary_one_as_base64(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    authorization = ("Authorization", f"Bearer {_test_token()}")
    document = b'{"reason": "OUT_OF_STOCK", "note": "caf\xc3\xa9"}'
    binary = bytes(range(256))

    _raw_request(
        fake_gateway,
        "POST",
        "/orders/ORD-1/cancellations/preview",
        [authorization, ("Content-Type", "application/json; charset=utf-8")],
        document,
    )
    text_event = recording_handler.event
    _raw_request(
        fake_gateway,
        "POST",
        "/orders/ORD-1/cancellations",
        [authorization, ("Content-Type", "application/octet-stream"), ("Idempotency-Key", "k1")],
        binary,
    )
    binary_event = recording_handler.event

    assert text_event["isBase64Encoded"] is False
    assert text_event["body"] == document.decode()
    assert text_event["routeKey"] == "POST /orders/{order_id}/cancellations/preview"
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == binary
    assert binary_event["headers"]["idempotency-key"] == "k1"


def test_the_handlers_response_becomes_the_http_response(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    recording_handler.result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "ETag": '"4"'},
        "multiValueHeaders": {"Vary": ["Authorization", "Accept"]},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": '{"cancellation_id": "C1"}',
        "isBase64Encoded": False,
    }

    status, headers, body = _raw_request(
        fake_gateway,
        "POST",
        "/orders/ORD-1/cancellations",
        [("Authorization", f"Bearer {_test_token()}")],
    )

    assert status == 201
    assert body == b'{"cancellation_id": "C1"}'
    assert ("ETag", '"4"') in headers
    assert [value for name, value in headers if name == "Set-Cookie"] == ["a=1; Path=/", "b=2"]
    assert [value for name, value in headers if name == "Vary"] == ["Authorization", "Accept"]


def test_a_base64_response_is_decoded(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    recording_handler.result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(b"\x89PNG\r\n").decode(),
        "isBase64Encoded": True,
    }

    _, _, body = _raw_request(
        fake_gateway, "GET", "/cancel-reasons", [("Authorization", f"Bearer {_test_token()}")]
    )

    assert body == b"\x89PNG\r\n"


def test_a_result_without_status_code_is_a_200_json_body(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    recording_handler.result = {"reasons": []}

    status, headers, body = _raw_request(
        fake_gateway, "GET", "/cancel-reasons", [("Authorization", f"Bearer {_test_token()}")]
    )

    assert status == 200
    assert dict(headers)["Content-Type"] == "application/json"
    assert json.loads(body) == {"reasons": []}


@pytest.mark.parametrize(
    "result",
    [
        RuntimeError("boom"),
        FunctionError("ListOrdersFunction", {"errorType": "KeyError", "errorMessage": "'x'"}),
        FunctionCrashed("ListOrdersFunction", {"errorType": "Runtime.ExitError"}),
        {"statusCode": "teapot"},
        {"statusCode": 200, "body": {"a": 1}},
    ],
)
def test_a_failing_handler_is_a_502_like_api_gateway(
    fake_gateway: Gateway, recording_handler: RecordingHandler, result: Any
) -> None:
    recording_handler.result = result

    status, headers, body = _raw_request(
        fake_gateway, "GET", "/cancel-reasons", [("Authorization", f"Bearer {_test_token()}")]
    )

    assert status == 502
    assert dict(headers)["Content-Type"] == "application/problem+json"
    document = json.loads(body)
    assert document["code"] == "BAD_GATEWAY"
    assert document["errors"] == []
    assert "ListOrdersFunction" in document["detail"]


def test_a_handler_that_timed_out_is_a_504_like_api_gateway(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    recording_handler.result = FunctionTimedOut(
        "ListOrdersFunction", {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}
    )

    status, headers, body = _raw_request(
        fake_gateway, "GET", "/cancel-reasons", [("Authorization", f"Bearer {_test_token()}")]
    )

    assert status == 504
    assert dict(headers)["Content-Type"] == "application/problem+json"
    document = json.loads(body)
    assert (document["code"], document["errors"]) == ("GATEWAY_TIMEOUT", [])
    assert "ListOrdersFunction" in document["detail"]


@pytest.mark.parametrize(
    ("method", "target", "headers", "status", "code"),
    [
        ("TRACE", "/orders", [], 405, "METHOD_NOT_ALLOWED"),
        ("BREW", "/cancel-reasons", [], 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/orders?" + "a" * 70_000, [], 414, "URI_TOO_LONG"),
        ("GET", "/orders", [("X-Long", "b" * 70_000)], 431, "HEADERS_TOO_LARGE"),
        ("GET", "/orders", [(f"X-H{n}", "1") for n in range(120)], 431, "HEADERS_TOO_LARGE"),
    ],
)
def test_what_the_http_server_refuses_is_a_problem_body_too(
    fake_gateway: Gateway,
    recording_handler: RecordingHandler,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    status: int,
    code: str,
) -> None:
    answered, answer_headers, body = _raw_request(fake_gateway, method, target, headers)

    assert answered == status
    assert dict(answer_headers)["Content-Type"] == "application/problem+json"
    document = json.loads(body)
    assert document["status"] == status
    assert document["code"] == code
    assert document["errors"] == []
    assert recording_handler.calls == []
    if status == 405:
        assert dict(answer_headers)["Allow"] == "GET"


def test_each_request_is_one_readable_log_line(
    fake_gateway: Gateway, recording_handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    recording_handler.result = {
        "statusCode": 409,
        "headers": {"Content-Type": "application/problem+json"},
        "body": json.dumps({"code": "ITEM_NOT_CANCELLABLE", "errors": []}),
    }
    caplog.set_level("INFO", logger="local_runtime.gateway.server")

    _, headers, _ = _raw_request(
        fake_gateway, "GET", "/cancel-reasons?x=1", [("Authorization", f"Bearer {_test_token()}")]
    )
    _raw_request(fake_gateway, "GET", "/cancel-reasons", [])

    request_id = dict(headers)["apigw-requestid"]
    lines = [r.getMessage() for r in caplog.records if r.name == "local_runtime.gateway.server"]
    assert re.fullmatch(
        rf"GET /cancel-reasons\?x=1 409 ITEM_NOT_CANCELLABLE \d+ ms id={request_id}", lines[-2]
    )
    assert re.fullmatch(r"GET /cancel-reasons 401 UNAUTHORIZED \d+ ms id=[0-9a-f-]{36}", lines[-1])


def test_a_rejected_request_never_reaches_the_handler(
    fake_gateway: Gateway, recording_handler: RecordingHandler
) -> None:
    _raw_request(fake_gateway, "GET", "/orders", [])
    _raw_request(fake_gateway, "PUT", "/orders/O1", [("Authorization", f"Bearer {_test_token()}")])
    _raw_request(fake_gateway, "GET", "/unknown", [])

    assert recording_handler.calls == []


def test_health_is_503_until_the_stack_is_ready(recording_handler: RecordingHandler) -> None:
    gateway = Gateway(TEMPLATE.routes, recording_handler, TokenVerifier("s"), port=0)
    gateway.start()
    try:
        starting, _, _ = _raw_request(gateway, "GET", "/_local/health", [])
        gateway.mark_ready()
        ready, _, _ = _raw_request(gateway, "GET", "/_local/health", [])
    finally:
        gateway.stop()

    assert (starting, ready) == (503, 200)


# --- what the stack set up -------------------------------------------------------------


def test_dynamodb_local_has_the_templates_table(local_stack: LocalStack) -> None:
    definition = TEMPLATE.table.properties

    table = local_stack.client("dynamodb").describe_table(TableName=local_stack.table_name)["Table"]

    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == definition["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    for expected in definition["GlobalSecondaryIndexes"]:
        index = indexes.pop(expected["IndexName"])
        assert index["KeySchema"] == expected["KeySchema"]
        assert index["Projection"]["ProjectionType"] == expected["Projection"]["ProjectionType"]
        assert index["IndexStatus"] == "ACTIVE"
    assert indexes == {}
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": definition["StreamSpecification"]["StreamViewType"],
    }
    stream = local_stack.client("dynamodbstreams").describe_stream(
        StreamArn=table["LatestStreamArn"]
    )
    assert stream["StreamDescription"]["StreamStatus"] == "ENABLED"


def test_dynamodb_local_is_the_real_engine_on_loopback(local_stack: LocalStack) -> None:
    client = local_stack.client("dynamodb")
    key = {"pk": {"S": f"TEST#{uuid.uuid4()}"}, "sk": {"S": "A"}}
    client.put_item(TableName=local_stack.table_name, Item=key)

    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=local_stack.table_name,
            Item=key,
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert local_stack.dynamodb_endpoint.startswith("http://127.0.0.1:")
    assert local_stack.dynamodb.java_pid is not None


def test_the_outbox_lists_sent_emails_oldest_first(
    local_stack: LocalStack, api: ApiClient, unique_id: Any
) -> None:
    sender = "orders@shop.example.com"
    local_stack.ses.verify_identities([sender])
    first, second = f"{unique_id('a').lower()}@example.com", f"{unique_id('b').lower()}@example.com"
    mime = EmailMessage()
    mime["From"], mime["To"], mime["Subject"] = sender, first, "Items cancelled"
    mime.set_content("2 x Mug cancelled")
    mime.add_alternative("<p>2 x Mug cancelled</p>", subtype="html")
    local_stack.client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [first]},
        Content={"Raw": {"Data": mime.as_bytes()}},
    )
    local_stack.client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [second]},
        Message={"Subject": {"Data": "Plain"}, "Body": {"Text": {"Data": "Just text"}}},
    )

    response = api.get("/_local/outbox")

    assert response.status == 200
    mine = [m for m in response.json()["messages"] if set(m["to"]) & {first, second}]
    assert mine == [
        {
            "to": [first],
            "subject": "Items cancelled",
            "text": "2 x Mug cancelled\n",
            "html": "<p>2 x Mug cancelled</p>\n",
        },
        {"to": [second], "subject": "Plain", "text": "Just text", "html": None},
    ]


def test_only_one_stack_runs_per_process(local_stack: LocalStack) -> None:
    with pytest.raises(RuntimeError, match="another LocalStack"):
        LocalStack().start()

    assert local_stack.client("dynamodb").list_tables()["TableNames"]


# --- commands ----------------------------------------------------------------------------


def test_the_token_command_prints_a_token_the_gateway_accepts(
    capsys: pytest.CaptureFixture[str], local_stack: LocalStack
) -> None:
    assert tokens_main(["--seller", "S1", "--scopes", "orders.read orders.admin"]) == 0
    token = capsys.readouterr().out.strip()

    identity = TokenVerifier(local_stack.jwt_secret).authenticate(f"Bearer {token}")

    assert identity.claims["seller_id"] == "S1"
    assert identity.claims["sub"] == "user-S1"
    assert identity.scopes == ("orders.read", "orders.admin")


def test_invoke_without_a_running_stack_says_to_start_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local_runtime.commands.invoke",
            "list_orders",
            "events/list_orders.json",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STACK_FILE": str(tmp_path / "absent.json")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "make dev" in result.stderr


def test_invoke_runs_the_function_on_a_sample_event(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    stack_file = tmp_path / "stack.json"
    local_stack.info().write(stack_file)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local_runtime.commands.invoke",
            "list_orders",
            "events/cancel_reasons.json",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STACK_FILE": str(stack_file)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    output = json.loads(result.stdout)
    if result.returncode == 0:
        assert isinstance(output["statusCode"], int)
    else:
        assert result.returncode == 1
        assert "list_orders_handler.py" in "".join(output["stackTrace"])


# --- stopping --------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Running, and not a zombie left for its parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_until(condition: Any, timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def _port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_make_dev_stops_everything_on_sigterm(tmp_path: Path) -> None:
    stack_file = tmp_path / "stack.json"
    with (tmp_path / "dev.log").open("wb") as log:
        dev = subprocess.Popen(
            [sys.executable, "-m", "local_runtime"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PORT": "0", "SEED": "0", "LOCAL_STACK_FILE": str(stack_file)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert _wait_until(stack_file.exists, 90), (tmp_path / "dev.log").read_text()
        info = StackInfo.read(stack_file)
        with urllib.request.urlopen(f"{info.base_url}/_local/health", timeout=5) as health:  # noqa: S310
            assert health.status == 200
        assert info.dynamodb_pid is not None
        assert _alive(info.dynamodb_pid)

        dev.send_signal(signal.SIGTERM)

        assert dev.wait(timeout=30) == 0
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
    assert not _alive(info.dynamodb_pid)
    assert not stack_file.exists()
    assert not _port_open(info.base_url)
    assert not _port_open(info.dynamodb_endpoint)
    assert "Authorization: Bearer $TOKEN" in (tmp_path / "dev.log").read_text()


def test_dynamodb_local_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from local_runtime.emulators.dynamodb_local import DynamoDBLocal\n"
        "server = DynamoDBLocal()\n"
        "server.start()\n"
        "print(server.java_pid, server.process_group_id, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(  # noqa: S603 (this interpreter on a fixed script)
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        java_pid, process_group = (int(value) for value in parent.stdout.readline().split())
        assert _alive(java_pid)

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)

        assert _wait_until(lambda: not _alive(java_pid), 15)
        assert _wait_until(lambda: not _group_exists(process_group), 15)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _group_exists(process_group: int) -> bool:
    try:
        os.killpg(process_group, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_leaves_no_java_process() -> None:
    server = DynamoDBLocal()
    server.start()
    java_pid, process_group = server.java_pid, server.process_group_id
    assert java_pid is not None and process_group is not None
    assert _alive(java_pid)

    server.stop()

    assert not _alive(java_pid)
    assert not _group_exists(process_group)


# --- function instances, each a process ------------------------------------------------


def test_functions_with_same_named_modules_each_get_their_own(tmp_path: Path) -> None:
    specs = []
    for name in ("alpha", "beta"):
        code_dir = tmp_path / name
        code_dir.mkdir()
        (code_dir / "settings.py").write_text(f"NAME = {name!r}\n")
        (code_dir / "helpers.py").write_text(f"def describe():\n    return 'helper of {name}'\n")
        (code_dir / f"{name}_handler.py").write_text(
            "import settings\n"
            "def handler(event, context):\n"
            "    import helpers\n"
            "    return {'settings': settings.NAME, 'helper': helpers.describe(),\n"
            "            'function': context.function_name,\n"
            "            'remaining': context.get_remaining_time_in_millis()}\n"
        )
        specs.append(function_spec(code_dir, f"{name}_handler.handler", timeout_seconds=3))
    runtime = FunctionRuntime(specs, "us-east-1")
    path_before = list(sys.path)
    runtime.start()
    try:
        results = [runtime.invoke(spec.logical_id, {}) for spec in (*specs, *specs)]
    finally:
        runtime.stop()

    assert [(r["settings"], r["helper"]) for r in results] == [
        ("alpha", "helper of alpha"),
        ("beta", "helper of beta"),
    ] * 2
    assert results[0]["function"] == "AlphaFunction"
    assert 0 < results[0]["remaining"] <= 3000
    assert sys.path == path_before
    assert not {"settings", "helpers", "alpha_handler", "beta_handler"} & set(sys.modules)


_FRAGILE_HANDLER = """
import os
import time


def handler(event, context):
    if event.get("exit"):
        os._exit(3)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"pid": os.getpid()}
"""


def test_an_instance_that_dies_fails_its_invocation_and_is_replaced(
    runtime_of: RuntimeFactory,
) -> None:
    runtime = runtime_of({"fragile": _FRAGILE_HANDLER})
    first = runtime.invoke("FragileFunction", {})["pid"]

    with pytest.raises(FunctionCrashed, match="exited with 3"):
        runtime.invoke("FragileFunction", {"exit": True})
    after = runtime.invoke("FragileFunction", {})["pid"]

    assert after != first
    assert [instance.pid for instance in runtime.instances("FragileFunction")] == [after]


def test_a_handler_past_its_timeout_is_stopped_and_its_instance_replaced(
    runtime_of: RuntimeFactory,
) -> None:
    runtime = runtime_of({"fragile": _FRAGILE_HANDLER}, timeout_seconds=1)
    first = runtime.invoke("FragileFunction", {})["pid"]

    started = time.monotonic()
    with pytest.raises(FunctionTimedOut, match=r"timed out after 1\.00 seconds"):
        runtime.invoke("FragileFunction", {"sleep": 30})
    waited = time.monotonic() - started
    after = runtime.invoke("FragileFunction", {})["pid"]

    assert waited < 10
    assert after != first
    assert not _alive(first)


def test_a_handler_that_raises_fails_the_invocation_and_its_instance_serves_on(
    runtime_of: RuntimeFactory,
) -> None:
    runtime = runtime_of({"fragile": _FRAGILE_HANDLER})
    first = runtime.invoke("FragileFunction", {})["pid"]

    with pytest.raises(FunctionError) as raised:
        runtime.invoke("FragileFunction", {"raise": "no such order"})

    assert raised.value.error["errorType"] == "ValueError"
    assert raised.value.error["errorMessage"] == "no such order"
    assert any("no such order" in line for line in raised.value.error["stackTrace"])
    assert runtime.invoke("FragileFunction", {})["pid"] == first


def test_each_cold_start_is_logged_once_with_its_time(
    runtime_of: RuntimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="local_runtime.functions.runtime")
    runtime = runtime_of({"fragile": _FRAGILE_HANDLER})

    for _ in range(3):
        runtime.invoke("FragileFunction", {})

    (line,) = [r.getMessage() for r in caplog.records if "cold start" in r.getMessage()]
    (instance,) = runtime.instances("FragileFunction")
    assert re.fullmatch(
        rf"FragileFunction: cold start of instance 1 \(pid {instance.pid}\) in [0-9.]+ s, "
        r"its handler imported in [0-9.]+ s",
        line,
    )


def test_instances_idle_for_longer_than_the_limit_are_stopped(
    runtime_of: RuntimeFactory,
) -> None:
    runtime = runtime_of({"fragile": _FRAGILE_HANDLER}, idle_seconds=0.5)
    pid = runtime.invoke("FragileFunction", {})["pid"]

    assert _wait_until(lambda: not _alive(pid), timeout_seconds=10)
    assert runtime.instances("FragileFunction") == []
    assert runtime.invoke("FragileFunction", {})["pid"] != pid


_ENVIRONMENT_PROBE = """
import os


def handler(event, context):
    return dict(os.environ)
"""


def test_the_functions_see_the_local_environment(local_stack: LocalStack, tmp_path: Path) -> None:
    """An instance started as the stack starts ListOrdersFunction's, with a probe for a
    handler: the template's variables for that function, and boto3 aimed at the stack."""
    (tmp_path / "probe.py").write_text(_ENVIRONMENT_PROBE)
    spec = dataclasses.replace(
        local_stack.template.function("ListOrdersFunction"),
        code_dir=tmp_path,
        handler="probe.handler",
    )
    runtime = FunctionRuntime([spec], local_stack.region)
    runtime.start(local_stack.info().environment)
    try:
        seen = runtime.invoke(spec.logical_id, {})
    finally:
        runtime.stop()

    assert seen["TABLE_NAME"] == local_stack.table_name
    assert seen["AWS_ENDPOINT_URL_DYNAMODB"] == local_stack.dynamodb_endpoint
    assert seen["AWS_ENDPOINT_URL_SESV2"] == local_stack.ses_endpoint
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "ListOrdersFunction"
    assert seen["LAMBDA_TASK_ROOT"] == str(tmp_path)
    secret_name = seen["PAGE_TOKEN_SECRET_ARN"]
    assert secret_name == "order-cancellations-local/PageTokenSecret"
    secret = local_stack.client("secretsmanager").get_secret_value(SecretId=secret_name)
    assert len(secret["SecretString"]) >= 32
    assert seen["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert seen["POWERTOOLS_METRICS_NAMESPACE"] == "OrderCancellations"
    assert "IDEMPOTENCY_TTL_HOURS" not in seen, "only the cancel function's setting"
    assert "TABLE_NAME" not in os.environ, "the stack's own process is left as it was"


# --- reading the template ----------------------------------------------------------------

_SMALL_TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Retention: {Type: Number, Default: 7}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Timeout: 5
    Environment:
      Variables:
        TABLE: !Ref Table
        STAGE: !Ref Stage
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: Jwt}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Environment:
        Variables:
          TABLE_ARN: !GetAtt Table.Arn
          MODE: !If [IsProd, strict, relaxed]
          DAYS: !Ref Retention
          KEY: !Sub "{{resolve:secretsmanager:${Secret}:SecretString}}"
          URL: !Sub "https://${AWS::Region}.example.com/${Stage}"
      Events:
        Open:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /open, Method: get, Auth: {Authorizer: NONE}}
        Closed:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /items/{id}
            Method: POST
            Auth: {AuthorizationScopes: [items.write]}
"""


def _small_template(tmp_path: Path) -> Path:
    (tmp_path / "fn").mkdir()
    path = tmp_path / "template.yaml"
    path.write_text(_SMALL_TEMPLATE)
    return path


def test_the_template_gives_functions_routes_and_tables(tmp_path: Path) -> None:
    template = SamTemplate.load(_small_template(tmp_path), region="eu-west-1")

    function = template.function("fn")
    assert function.logical_id == "Fn"
    assert function.timeout_seconds == 5
    assert dict(function.environment) == {
        "TABLE": "Table",
        "STAGE": "dev",
        "TABLE_ARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/Table",
        "MODE": "relaxed",
        "DAYS": "7",
        "KEY": "local-key",
        "URL": "https://eu-west-1.example.com/dev",
    }
    assert [(r.route_key, r.requires_auth, r.authorization_scopes) for r in template.routes] == [
        ("GET /open", False, ()),
        ("POST /items/{id}", True, ("items.write",)),
    ]
    assert template.table.create_table_kwargs()["BillingMode"] == "PAY_PER_REQUEST"


def test_parameter_and_environment_overrides_win(tmp_path: Path) -> None:
    template = SamTemplate.load(
        _small_template(tmp_path),
        parameter_overrides={"Stage": "prod"},
        environment_overrides={"DAYS": "1"},
    )

    environment = template.function("Fn").environment
    assert (environment["MODE"], environment["STAGE"], environment["DAYS"]) == (
        "strict",
        "prod",
        "1",
    )


def test_a_value_only_a_deployment_knows_is_a_clear_error(tmp_path: Path) -> None:
    path = _small_template(tmp_path)
    path.write_text(_SMALL_TEMPLATE.replace("!Ref Retention", "!GetAtt Api.ApiEndpoint"))

    with pytest.raises(TemplateError, match=r"Fn: environment variable DAYS: .*Api\.ApiEndpoint"):
        SamTemplate.load(path)
