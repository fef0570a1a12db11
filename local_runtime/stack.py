"""The whole local stack as one object: ``make dev`` runs it, the integration tests use it.

with LocalStack() as stack:
    token = stack.mint_token("seller-acme", ["orders.read"])
    urllib.request.urlopen(f"{stack.base_url}/_local/health")
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

import boto3

from local_runtime import PROJECT_ROOT
from local_runtime.emulators.dynamodb_local import DynamoDBLocal, DynamoDBLocalError
from local_runtime.emulators.event_bus import LocalEventBuses, ReceivedEvent
from local_runtime.emulators.ses import LocalSes, SentEmail
from local_runtime.event_sources import (
    QueuePoller,
    Scheduler,
    StreamPoller,
    queue_subscriptions,
    scheduled_functions,
    stream_subscriptions,
)
from local_runtime.functions.runtime import DEFAULT_MAX_INSTANCES, FunctionRuntime
from local_runtime.gateway.auth import TokenVerifier
from local_runtime.gateway.console_site import ConsoleSite, local_config
from local_runtime.gateway.http_api import HttpRequest, HttpResponse
from local_runtime.gateway.server import Gateway, problem
from local_runtime.gateway.tokens import DEFAULT_SELLER_ID_CLAIM, jwt_secret, mint_token
from local_runtime.template import DEFAULT_TEMPLATE, SamTemplate

logger = logging.getLogger(__name__)

DEMO_SELLER = "seller-acme"
DEFAULT_STACK_FILE = PROJECT_ROOT / ".local" / "stack.json"
SEED_MODULE = "scripts.demo_data"
OUTBOX_PATH = "/_local/outbox"
EVENTS_PATH = "/_local/events"
OPENAPI_PATH = "/_local/openapi.json"
OPENAPI_WRITER = "scripts.openapi"
TOKEN_PATH = "/_local/token"  # noqa: S105 (a path)
# What the console's seller picker signs in with: a seller user's scopes.
CONSOLE_SCOPES = ("orders.read", "orders.write")
_SELLER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$")
# The seed ingests orders (orders.admin) and arranges shipment of some (orders.write).
SEED_SCOPES = ("orders.read", "orders.write", "orders.admin")
_EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def demo_sellers() -> list[str]:
    """The sellers of the demo data (``scripts.demo_data``'s ``SELLERS``), if it exists."""
    if importlib.util.find_spec(SEED_MODULE) is None:
        return [DEMO_SELLER]
    sellers = getattr(importlib.import_module(SEED_MODULE), "SELLERS", ())
    return [seller.seller_id for seller in sellers] or [DEMO_SELLER]


def stack_file_path() -> Path:
    """Where the running stack describes itself: ``LOCAL_STACK_FILE`` or .local/stack.json."""
    configured = os.environ.get("LOCAL_STACK_FILE")
    return Path(configured) if configured else DEFAULT_STACK_FILE


@dataclass(frozen=True)
class StackInfo:
    """What ``.local/stack.json`` tells other commands about the running stack."""

    base_url: str
    dynamodb_endpoint: str
    ses_endpoint: str
    region: str
    table_name: str
    pid: int
    dynamodb_pid: int | None
    environment: Mapping[str, str]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def read(cls, path: Path) -> StackInfo:
        document = json.loads(path.read_text(encoding="utf-8"))
        return cls(**document)


def runtime_environment(
    *,
    dynamodb_endpoint: str,
    ses_endpoint: str,
    region: str,
    log_format: str = "JSON",
) -> dict[str, str]:
    """What every function instance finds in ``os.environ`` besides its own variables:
    what Lambda sets, boto3 aimed at the local servers with credentials that cannot reach
    AWS, and Lambda's log format (JSON as in AWS; ``make dev`` asks for Text, one readable
    line per record)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_LOG_FORMAT": log_format,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SES": ses_endpoint,
        "AWS_ENDPOINT_URL_SESV2": ses_endpoint,
        # Any other service goes to moto rather than to AWS.
        "AWS_ENDPOINT_URL": ses_endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _email_addresses(environment: Mapping[str, str]) -> set[str]:
    """The addresses among the functions' settings (``SENDER: Shop <orders@example.com>``):
    the senders SES must know."""
    addresses = (parseaddr(value)[1] for value in environment.values())
    return {address for address in addresses if _EMAIL_ADDRESS.match(address)}


class OpenApiRoute:
    """``GET /_local/openapi.json``: what ``python -m scripts.openapi`` writes (it imports
    every handler in a process of its own), run on the first request and kept."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._lock = threading.Lock()
        self._body: bytes | None = None

    def __call__(self, _: HttpRequest) -> HttpResponse:
        with self._lock:
            if self._body is None:
                written = subprocess.run(  # noqa: S603 (this interpreter, our module)  # nosec B603
                    [sys.executable, "-m", OPENAPI_WRITER],
                    cwd=PROJECT_ROOT,
                    env={**os.environ, "AWS_DEFAULT_REGION": self._region},
                    capture_output=True,
                    check=True,
                    timeout=120,
                )
                self._body = written.stdout
        return HttpResponse(
            status=200, headers=[("Content-Type", "application/json")], body=self._body
        )


class LocalStack:
    """DynamoDB Local, SES and the event buses on moto, and the gateway with the
    template's functions, each function instance a process of its own.

    One at a time per process: the gateway's port, the stack file and the seed are the
    stack's own.
    """

    _running: LocalStack | None = None

    def __init__(
        self,
        *,
        port: int = 0,
        region: str | None = None,
        template_path: Path = DEFAULT_TEMPLATE,
        parameter_overrides: Mapping[str, str] | None = None,
        environment_overrides: Mapping[str, str] | None = None,
        jwt_secret_value: str | None = None,
        ses_identities: Iterable[str] = (),
        seed: bool = False,
        stack_file: Path | None = None,
        schedule_interval_seconds: float = 0,
        log_format: str = "JSON",
        max_instances: int = DEFAULT_MAX_INSTANCES,
    ) -> None:
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.template = SamTemplate.load(
            template_path,
            region=self.region,
            parameter_overrides=parameter_overrides,
            environment_overrides=environment_overrides,
        )
        function_variables = [spec.environment for spec in self.template.functions.values()]
        self.jwt_secret = jwt_secret_value or jwt_secret()
        self.seller_id_claim = next(
            (v["SELLER_ID_CLAIM"] for v in function_variables if "SELLER_ID_CLAIM" in v),
            DEFAULT_SELLER_ID_CLAIM,
        )
        self._ses_identities = {
            *ses_identities,
            *(address for v in function_variables for address in _email_addresses(v)),
        }
        self._seed = seed
        self._stack_file = stack_file
        self.dynamodb = DynamoDBLocal()
        self.ses = LocalSes(self.region)
        self.event_buses = LocalEventBuses(
            self.template.event_buses.values(), self.client, self.region
        )
        self.functions = FunctionRuntime(
            self.template.functions.values(), self.region, max_instances=max_instances
        )
        self.gateway = Gateway(
            self.template.routes,
            self.functions.invoke,
            TokenVerifier(self.jwt_secret),
            port=port,
        )
        self._schedule_interval = schedule_interval_seconds
        self._log_format = log_format
        self.stream_poller: StreamPoller | None = None
        self.queue_pollers: list[QueuePoller] = []
        self.scheduler = Scheduler(
            scheduled_functions(self.template.functions.values()),
            self.functions.invoke,
            self.region,
            schedule_interval_seconds,
        )
        self._applied_environment: dict[str, str] = {}
        self.table_description: dict[str, Any] = {}
        self.startup_seconds: float | None = None
        self._started = False

    @classmethod
    def running(cls) -> LocalStack | None:
        """The stack started in this process, if one runs (the seed runs inside it)."""
        return cls._running

    # --- where things are ---

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def dynamodb_endpoint(self) -> str:
        return self.dynamodb.endpoint_url

    @property
    def ses_endpoint(self) -> str:
        return self.ses.endpoint_url

    @property
    def table_name(self) -> str:
        return self.template.table.table_name

    def client(self, service: str) -> Any:
        """A boto3 client of the local DynamoDB (``dynamodb``, ``dynamodbstreams``), or of
        moto for the other services (``ses``, ``secretsmanager``, ``events``, ``logs``)."""
        endpoint = self.dynamodb_endpoint if service.startswith("dynamodb") else self.ses_endpoint
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=self.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 (the local servers check none)
        )

    def mint_token(self, seller_id: str, scopes: Iterable[str] | str, **claims: Any) -> str:
        """A token the gateway accepts; ``sub``, ``lifetime``, ``issued_at`` and
        ``extra_claims`` as in ``local_runtime.gateway.tokens.mint_token``."""
        return mint_token(
            seller_id, scopes, secret=self.jwt_secret, seller_claim=self.seller_id_claim, **claims
        )

    def outbox(self) -> list[SentEmail]:
        return self.ses.outbox()

    def events(self) -> list[ReceivedEvent]:
        """What the stack's event buses received, oldest first."""
        return self.event_buses.received()

    # --- lifecycle ---

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        if LocalStack._running is not None:
            raise RuntimeError("another LocalStack runs in this process; stop it first")
        started = time.monotonic()
        LocalStack._running = self
        self._started = True
        try:
            self.gateway.bind()
            self.dynamodb.launch()
            self.ses.start()
            self._wait_for_dynamodb()
            self.table_description = self.dynamodb.create_table(self.template.table, self.region)
            self.ses.verify_identities(sorted(self._ses_identities))
            self._create_secrets()
            self.event_buses.create()
            self._create_queues()
            self._applied_environment = runtime_environment(
                dynamodb_endpoint=self.dynamodb_endpoint,
                ses_endpoint=self.ses_endpoint,
                region=self.region,
                log_format=self._log_format,
            )
            self.functions.start(self._applied_environment)
            self.functions.preload()
            self.gateway.register_local_route(OUTBOX_PATH, self._outbox_route)
            self.gateway.register_local_route(EVENTS_PATH, self._events_route)
            self.gateway.register_local_route(TOKEN_PATH, self._token_route)
            self.gateway.serve_site(
                ConsoleSite(local_config(demo_sellers()), self.template.site_headers)
            )
            self.gateway.register_local_route(OPENAPI_PATH, OpenApiRoute(self.region))
            self.gateway.start()
            self._start_event_sources()
            if self._seed:
                self._run_seed()
            self.gateway.mark_ready()
            if self._stack_file is not None:
                self.info().write(self._stack_file)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _create_secrets(self) -> None:
        """What CloudFormation does for the template's secrets: a random value each, in
        moto's Secrets Manager, under the name ``!Ref`` gives them locally."""
        client = self.client("secretsmanager")
        for name in self.template.secrets.values():
            client.create_secret(Name=name, SecretString=secrets.token_urlsafe(36))

    def _create_queues(self) -> None:
        """The template's queues on moto, dead-letter queues first (a redrive policy names
        its queue's)."""
        client = self.client("sqs")
        queues = sorted(
            self.template.queues.values(), key=lambda queue: "RedrivePolicy" in queue.attributes
        )
        for queue in queues:
            client.create_queue(QueueName=queue.name, Attributes=dict(queue.attributes))

    def _wait_for_dynamodb(self) -> None:
        try:
            self.dynamodb.wait_until_ready()
        except DynamoDBLocalError:
            logger.warning("DynamoDB Local did not start on its first port, retrying")
            self.dynamodb.stop()
            self.dynamodb.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        LocalStack._running = None
        steps = (
            self.scheduler.stop,
            self._stop_queue_pollers,
            self._stop_stream_poller,
            self.gateway.stop,
            self.functions.stop,
            self.ses.stop,
            self.dynamodb.stop,
            self._remove_stack_file,
        )
        for step in steps:
            try:
                step()
            except Exception:
                logger.exception("stopping the local stack: %s failed", step.__qualname__)

    def _start_event_sources(self) -> None:
        """What Lambda's event source mappings and EventBridge do in AWS."""
        stream_arn = self.table_description.get("LatestStreamArn")
        subscriptions = stream_subscriptions(self.template.functions.values())
        if stream_arn and subscriptions:
            self.stream_poller = StreamPoller(
                self.client("dynamodbstreams"), stream_arn, subscriptions, self.functions.invoke
            )
            self.stream_poller.start()
        queues = self.template.queues
        for subscription in queue_subscriptions(
            self.template.functions.values(), self.template.parameter_value
        ):
            queue = queues[subscription.queue_id]
            poller = QueuePoller(
                self.client("sqs"),
                subscription,
                queue.url,
                queue.arn,
                self.region,
                self.functions.invoke,
            )
            poller.start()
            self.queue_pollers.append(poller)
        self.scheduler.start()

    def _stop_stream_poller(self) -> None:
        if self.stream_poller is not None:
            self.stream_poller.stop()

    def _stop_queue_pollers(self) -> None:
        for poller in self.queue_pollers:
            poller.stop()
        self.queue_pollers = []

    def queue_poller(self, function_id: str) -> QueuePoller:
        (poller,) = [p for p in self.queue_pollers if p.subscription.function_id == function_id]
        return poller

    def run_scheduled(self) -> dict[str, Any]:
        """Run the schedule-driven functions once, now (``make reconcile`` in process)."""
        return self.scheduler.run_once()

    def _remove_stack_file(self) -> None:
        if self._stack_file is None or not self._stack_file.exists():
            return
        if StackInfo.read(self._stack_file).pid == os.getpid():
            self._stack_file.unlink()

    def info(self) -> StackInfo:
        return StackInfo(
            base_url=self.base_url,
            dynamodb_endpoint=self.dynamodb_endpoint,
            ses_endpoint=self.ses_endpoint,
            region=self.region,
            table_name=self.table_name,
            pid=os.getpid(),
            dynamodb_pid=self.dynamodb.java_pid,
            environment=self._applied_environment,
        )

    def _run_seed(self) -> None:
        if importlib.util.find_spec(SEED_MODULE) is None:
            logger.info("no %s module: the table starts empty", SEED_MODULE)
            return
        load = getattr(importlib.import_module(SEED_MODULE), "load", None)
        if load is None:
            logger.warning("%s has no load(base_url, admin_token_for): nothing seeded", SEED_MODULE)
            return

        def admin_token_for(seller_id: str) -> str:
            return self.mint_token(seller_id, SEED_SCOPES, sub="local-seed")

        started = time.monotonic()
        try:
            loaded = load(self.base_url, admin_token_for)
        except Exception:
            logger.exception("seeding failed: the stack runs on with what was loaded")
            return
        logger.info("seeded %s orders in %.1f s", loaded, time.monotonic() - started)

    def _token_route(self, request: HttpRequest) -> HttpResponse:
        """``GET /_local/token?seller=…``: a seller user's token, for the console's picker."""
        sellers = parse_qs(request.raw_query_string).get("seller", [])
        if len(sellers) != 1 or not _SELLER_ID.match(sellers[0]):
            return problem(400, "VALIDATION_ERROR", "give one seller id: ?seller=seller-acme")
        return HttpResponse.json(200, {"token": self.mint_token(sellers[0], CONSOLE_SCOPES)})

    def _events_route(self, _: HttpRequest) -> HttpResponse:
        return HttpResponse.json(200, {"events": [event.as_json() for event in self.events()]})

    def _outbox_route(self, _: HttpRequest) -> HttpResponse:
        return HttpResponse.json(
            200, {"messages": [message.as_json() for message in self.outbox()]}
        )
