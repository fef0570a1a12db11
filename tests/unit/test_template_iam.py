"""Least privilege in template.yaml: every function is granted exactly what its code calls.

``iam_problems`` reads the template as written (``!Ref``, ``!GetAtt`` and ``!Sub`` as their
long forms) and reports:
- an action with a wildcard, in any Allow statement of the template;
- ``NotAction`` or ``NotResource`` (they grant everything but what they name);
- a resource other than the table, its indexes and its stream, and the function's own
  queues, topics, secrets, event buses and log group (and the sender's SES identity, to send as it);
  ``"*"`` only for the actions that have no resource-level permissions (X-Ray's two);
- a grant of a function that ``NEEDS`` below does not list (broader than its routes need),
  and one that it lists but the template lacks (the call would be refused in AWS);
- what SAM attaches behind the template's back: with no ``Role`` of its own, a function
  gets AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess (with tracing) and, for a
  stream or queue event source, a managed execution role that reads every stream or queue
  of the account (``samtranslator.model.eventsources.pull``); SAM policy templates and
  managed policies, whose statements are not in the template, are refused;
- a role, or an IAM policy resource, that is not some function's own role.

``NEEDS`` was drawn from the code: every DynamoDB call is in
``layers/domain/python/adapters/dynamodb_repository.py`` and ``notification_store.py``,
SES in ``ses_mailer.py``, EventBridge in ``cancellation_events.py``, Secrets Manager in
``functions/list_orders``. A transaction
(``TransactWriteItems``) has no permission of its own: each of its actions needs its own
(``Put``: PutItem, ``Update``: UpdateItem). The tests at the bottom feed the checker
deliberately broken copies of the template, so that it is shown to catch each fault.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from local_runtime.template import load_template_document

DOCUMENT = load_template_document()

FUNCTION_TYPE = "AWS::Serverless::Function"
ROLE_TYPE = "AWS::IAM::Role"
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::UserPolicy")
SENDER_PARAMETER = "EmailSender"


# --- What a resource in a policy is -------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What a policy's resource stands for: ``Kind("index", "by_status")``, ``Kind("table")``."""

    kind: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()


TABLE = Kind("the table")
STREAM = Kind("the table's stream")
SENDER = Kind("the sender's SES identity")
OWN_LOG_GROUP = Kind("its own log group")
ANYTHING = Kind("'*'")


def index(name: str) -> Kind:
    return Kind("index", name)


def queue(logical_id: str) -> Kind:
    return Kind("queue", logical_id)


def secret(logical_id: str) -> Kind:
    return Kind("secret", logical_id)


def event_bus(logical_id: str) -> Kind:
    return Kind("event bus", logical_id)


# Actions without resource-level permissions: IAM takes only "*" for them.
NO_RESOURCE_LEVEL = frozenset({"xray:puttracesegments", "xray:puttelemetryrecords"})

# What SAM attaches to a role it generates for a function with such an event source.
SAM_EVENT_SOURCE_ROLES = {
    "DynamoDB": "AWSLambdaDynamoDBExecutionRole",
    "Kinesis": "AWSLambdaKinesisExecutionRole",
    "SQS": "AWSLambdaSQSQueueExecutionRole",
    "MSK": "AWSLambdaMSKExecutionRole",
    "MQ": "its Amazon MQ statements",
    "SelfManagedKafka": "its Kafka statements",
    "DocumentDB": "its DocumentDB statements",
}

# --- What each function needs, and why ----------------------------------------------------

LIST_ORDERS = {
    ("dynamodb:GetItem", TABLE): "GET /orders/{order_id}: the order, by its key",
    ("dynamodb:BatchGetItem", TABLE): (
        "GET /orders?product_id=: the orders the product index found, in one call"
    ),
    ("dynamodb:Query", TABLE): "GET /orders/{order_id}/cancellations: the order's partition",
    ("dynamodb:Query", index("by_status")): "GET /orders: a page of orders in one status",
    ("dynamodb:Query", index("by_product")): "GET /orders?product_id=: orders with a product",
    ("dynamodb:Query", index("by_product_name")): "GET /products: the catalogue, by name",
    ("secretsmanager:GetSecretValue", secret("PageTokenSecret")): (
        "the key that signs page tokens, read on a cold start's first listing"
    ),
}
CANCEL = {
    ("dynamodb:GetItem", TABLE): (
        "preview and ship read the order; a refused submit reads the idempotency record it "
        "collided with"
    ),
    ("dynamodb:BatchGetItem", TABLE): "submit reads the order and its idempotency record at once",
    ("dynamodb:PutItem", TABLE): (
        "the Put actions of the submit transaction (the cancellation, the idempotency record) "
        "and the per-product entries a submit or ship that changes the status rewrites"
    ),
    ("dynamodb:UpdateItem", TABLE): (
        "the order's version-checked Update, alone or in a transaction"
    ),
}
ORDER_SYSTEM = {
    ("dynamodb:GetItem", TABLE): (
        "PUT /orders/{order_id}: the stored order, when the refused Put did not return it; "
        "a package status report reads the order"
    ),
    ("dynamodb:PutItem", TABLE): (
        "PUT /orders/{order_id}: the Put actions of the ingestion transaction, the order and "
        "its per-product entries; those entries again when a status report moves the order"
    ),
    ("dynamodb:UpdateItem", TABLE): (
        "PUT /orders/{order_id}: the catalogue entries it names; a status report's "
        "version-checked Update of the order"
    ),
}
STREAM_READ = {
    (action, STREAM): "Lambda's event source mapping reads the table's stream with this role"
    for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
} | {
    # It has no resource-level permission, so on the stream's ARN it grants nothing: the
    # mapping works without it, and nothing broader is given in its place.
    ("dynamodb:ListStreams", STREAM): "what Lambda documents for a stream source (a no-op here)",
}
SEND_AS_SENDER = {
    ("ses:SendRawEmail", SENDER): "the buyer email, only from the sender's address",
}
OWN_ROLE_BASICS = {
    ("logs:CreateLogStream", OWN_LOG_GROUP): "its logs (SAM's basic role would allow any group)",
    ("logs:PutLogEvents", OWN_LOG_GROUP): "its logs (SAM's basic role would allow any group)",
    ("xray:PutTraceSegments", ANYTHING): "active tracing (no resource-level permission exists)",
    ("xray:PutTelemetryRecords", ANYTHING): "active tracing (no resource-level permission exists)",
}
NOTIFY = {
    **STREAM_READ,
    ("dynamodb:GetItem", TABLE): "the order, for an email whose cancellation does not carry it",
    ("dynamodb:UpdateItem", TABLE): "claims the notification, then records it sent or failed",
    **SEND_AS_SENDER,
    ("sqs:SendMessage", queue("NotifyFailures")): (
        "the event source mapping sends what it gives up on to its on-failure queue"
    ),
    **OWN_ROLE_BASICS,
}
PUBLISH = {
    **STREAM_READ,
    ("events:PutEvents", event_bus("CancellationEventBus")): (
        "the Cancellation Created events, on the stack's bus only"
    ),
    ("sqs:SendMessage", queue("PublishFailures")): (
        "the event source mapping sends what it gives up on to its on-failure queue"
    ),
    **OWN_ROLE_BASICS,
}
QUEUE_READ = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)
STOCKOUTS = {
    ("dynamodb:GetItem", TABLE): (
        "a start's key and the SKU's lock, and the stock-out a replayed start returns"
    ),
    ("dynamodb:BatchGetItem", TABLE): "the SKU's orders, by key, for the preview",
    ("dynamodb:Query", TABLE): "the catalogue's partition: the products that name the SKU",
    ("dynamodb:Query", index("by_product")): "the SKU's orders awaiting shipment, oldest first",
    ("dynamodb:PutItem", TABLE): "the start's transaction: the stock-out, its key, the lock",
    ("sqs:SendMessage", queue("StockoutPlanQueue")): "the new stock-out's first planning step",
}
STOCKOUT_PLANNER = {
    **{
        (action, queue("StockoutPlanQueue")): "its event source mapping reads its queue"
        for action in QUEUE_READ
    },
    ("sqs:SendMessage", queue("StockoutPlanQueue")): "the next planning step",
    ("sqs:SendMessage", queue("StockoutWorkQueue")): "each segment it commits, to the workers",
    ("dynamodb:GetItem", TABLE): "the stock-out and its cursor",
    ("dynamodb:BatchGetItem", TABLE): "the SKU's orders, by key",
    ("dynamodb:Query", TABLE): "the catalogue's partition: the products that name the SKU",
    ("dynamodb:Query", index("by_product")): "the SKU's orders awaiting shipment, oldest first",
    ("dynamodb:PutItem", TABLE): "a segment's planned orders, in its transaction",
    ("dynamodb:UpdateItem", TABLE): "the cursor and counters; completing the stock-out",
    ("dynamodb:DeleteItem", TABLE): "the SKU's lock, released when the stock-out completes",
    **OWN_ROLE_BASICS,
}
STOCKOUT_WORKER = {
    **{
        (action, queue("StockoutWorkQueue")): "its event source mapping reads its queue"
        for action in QUEUE_READ
    },
    ("dynamodb:GetItem", TABLE): "the stock-out, and each order when its turn comes",
    ("dynamodb:Query", TABLE): "a segment's planned orders (a key range of its partition)",
    ("dynamodb:PutItem", TABLE): (
        "a cancellation's Puts: the cancellation, and the product entries when the order's "
        "status changes"
    ),
    ("dynamodb:UpdateItem", TABLE): (
        "the order at its version, the order's outcome, the stock-out's counters; completing"
    ),
    ("dynamodb:DeleteItem", TABLE): "the SKU's lock, released when the stock-out completes",
    **OWN_ROLE_BASICS,
}
RECONCILE = {
    ("dynamodb:GetItem", TABLE): "its checkpoint, and the order of an email it resends",
    ("dynamodb:UpdateItem", TABLE): "claims and records the emails it resends; the checkpoint",
    ("dynamodb:Query", TABLE): "an order's partition: the order and its cancellations",
    ("dynamodb:Query", index("by_pending_notification")): "the emails that never went out",
    ("dynamodb:Query", index("by_update")): "the orders changed since its last run",
    **SEND_AS_SENDER,
}
NEEDS: dict[str, dict[tuple[str, Kind], str]] = {
    "ListOrdersFunction": LIST_ORDERS,
    "CancelFunction": CANCEL,
    "OrderSystemFunction": ORDER_SYSTEM,
    "NotifyFunction": NOTIFY,
    "PublishFunction": PUBLISH,
    "ReconcileFunction": RECONCILE,
    "StockoutsFunction": STOCKOUTS,
    "StockoutPlannerFunction": STOCKOUT_PLANNER,
    "StockoutWorkerFunction": STOCKOUT_WORKER,
    # Claims from the Cognito event alone: no AWS call.
    "TokenClaimsFunction": {},
}


# --- The checker --------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _references(value: Any) -> Iterator[str]:
    """Logical ids a value names through Ref, GetAtt or Sub."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                yield str(_as_list(item)[0]).split(".")[0]
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                yield from (name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(item, list):
                    yield from _references(item[1:])
            else:
                yield from _references(item)


@dataclass(frozen=True)
class _Function:
    logical_id: str
    properties: Mapping[str, Any]


class _Checker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self._resources: Mapping[str, Any] = document["Resources"]
        self._globals: Mapping[str, Any] = document.get("Globals", {}).get("Function", {})
        tables = self._of_type("AWS::DynamoDB::Table")
        assert len(tables) == 1, "one table"
        self._table = tables[0]
        self._indexes = {
            i["IndexName"]
            for i in self._resources[self._table]["Properties"].get("GlobalSecondaryIndexes", [])
        }
        self._sender_arns = self._ses_identity_forms()
        self.problems: list[str] = []

    def _of_type(self, resource_type: str) -> list[str]:
        return [k for k, v in self._resources.items() if v.get("Type") == resource_type]

    def _type(self, logical_id: str) -> str | None:
        resource = self._resources.get(logical_id)
        return resource.get("Type") if isinstance(resource, dict) else None

    def _ses_identity_forms(self) -> list[Any]:
        prefix = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
        domain = {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": SENDER_PARAMETER}]}]}
        return [
            {"Fn::Sub": prefix + "${" + SENDER_PARAMETER + "}"},
            {"Fn::Sub": [prefix + "${Domain}", {"Domain": domain}]},
        ]

    def _function(self, logical_id: str) -> _Function:
        properties = dict(self._resources[logical_id].get("Properties", {}))
        merged = {**self._globals, **properties}
        merged["LoggingConfig"] = {
            **self._globals.get("LoggingConfig", {}),
            **properties.get("LoggingConfig", {}),
        }
        return _Function(logical_id, merged)

    # -- the whole template -------------------------------------------------------------
    def check(self) -> list[str]:
        self._no_wildcard_actions(self._resources, "template")
        functions = self._of_type(FUNCTION_TYPE)
        own_roles: set[str] = set()
        for logical_id in functions:
            own_roles |= self._check_function(self._function(logical_id))
        for logical_id in self._of_type(ROLE_TYPE):
            if logical_id not in own_roles:
                self.problems.append(f"{logical_id}: a role that is no function's own")
        for policy_type in POLICY_TYPES:
            for logical_id in self._of_type(policy_type):
                self.problems.append(
                    f"{logical_id}: a separate {policy_type} escapes the per-function check"
                )
        for name in sorted(set(NEEDS) - set(functions)):
            self.problems.append(f"NEEDS names {name}, which the template does not declare")
        return self.problems

    def _no_wildcard_actions(self, value: Any, where: str) -> None:
        if isinstance(value, list):
            for item in value:
                self._no_wildcard_actions(item, where)
        elif isinstance(value, dict):
            if value.get("Effect") == "Allow" and "Action" in value:
                for action in _as_list(value["Action"]):
                    if not isinstance(action, str) or "*" in action or "?" in action:
                        self.problems.append(f"{where}: wildcard action {action!r}")
            for key, item in value.items():
                self._no_wildcard_actions(item, key if where == "template" else where)

    # -- one function -------------------------------------------------------------------
    def _check_function(self, function: _Function) -> set[str]:
        name = function.logical_id
        if name not in NEEDS:
            self.problems.append(f"{name}: no entry in NEEDS says what it may call")
        statements, own_roles = self._statements(function)
        own = set(
            _references(
                {k: v for k, v in function.properties.items() if k not in ("Policies", "Role")}
            )
        )
        log_group = function.properties["LoggingConfig"].get("LogGroup")
        granted: set[tuple[str, Kind]] = set()
        for statement in statements:
            granted |= self._grants(name, statement, own, log_group)
        needed = {(action.lower(), kind) for action, kind in NEEDS.get(name, {})}
        for action, kind in sorted(granted - needed, key=str):
            self.problems.append(f"{name}: broader than it needs: {action} on {kind}")
        for action, kind in sorted(needed - granted, key=str):
            self.problems.append(f"{name}: lacks {action} on {kind}, which NEEDS says it uses")
        return own_roles

    def _statements(self, function: _Function) -> tuple[list[dict[str, Any]], set[str]]:
        name, properties = function.logical_id, function.properties
        role = properties.get("Role")
        if role is None:
            for event_name, event in properties.get("Events", {}).items():
                attached = SAM_EVENT_SOURCE_ROLES.get(event.get("Type"))
                if attached:
                    self.problems.append(
                        f"{name}: its {event['Type']} event {event_name} makes SAM attach "
                        f"{attached} to the role it generates (every such source in the "
                        "account): give the function a Role of its own"
                    )
            return self._sam_policies(name, properties.get("Policies", [])), set()
        if "Policies" in properties:
            self.problems.append(f"{name}: Policies beside a Role are ignored by SAM")
        role_id = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
        if self._type(role_id or "") != ROLE_TYPE:
            self.problems.append(f"{name}: its Role {role!r} is not a role of this template")
            return [], set()
        assert role_id is not None
        role_properties = self._resources[role_id]["Properties"]
        for arn in role_properties.get("ManagedPolicyArns", []):
            self.problems.append(f"{name}: managed policy {arn!r}: its statements are elsewhere")
        trust = role_properties["AssumeRolePolicyDocument"]["Statement"]
        if [s.get("Principal") for s in trust] != [{"Service": "lambda.amazonaws.com"}]:
            self.problems.append(f"{name}: its role may be assumed by others than Lambda")
        statements: list[dict[str, Any]] = []
        for policy in role_properties.get("Policies", []):
            statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
        return statements, {role_id}

    def _sam_policies(self, name: str, policies: Any) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        for policy in _as_list(policies):
            if isinstance(policy, dict) and "Statement" in policy:
                statements.extend(_as_list(policy["Statement"]))
            elif isinstance(policy, dict):
                self.problems.append(
                    f"{name}: SAM policy template {sorted(policy)}: its statements are not in "
                    "the template (SQSSendMessagePolicy, say, grants sqs:SendMessage*)"
                )
            else:
                self.problems.append(
                    f"{name}: managed policy {policy!r}: its statements are elsewhere"
                )
        return statements

    def _grants(
        self, name: str, statement: Mapping[str, Any], own: set[str], log_group: Any
    ) -> set[tuple[str, Kind]]:
        for inverted in ("NotAction", "NotResource", "NotPrincipal"):
            if inverted in statement:
                self.problems.append(f"{name}: {inverted} grants all that it does not name")
        if statement.get("Effect") != "Allow":
            return set()
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        kinds: list[Kind] = []
        for resource in _as_list(statement.get("Resource", [])):
            kind = self._kind(resource, own, log_group)
            if kind is None:
                self.problems.append(
                    f"{name}: resource {resource!r} is beyond the table, its indexes and "
                    "stream, and the function's own queues, topics, secrets, buses and log group"
                )
            elif kind == ANYTHING and not set(actions) <= NO_RESOURCE_LEVEL:
                wide = sorted(set(actions) - NO_RESOURCE_LEVEL)
                self.problems.append(f"{name}: Resource '*' for {wide}")
            else:
                kinds.append(kind)
        if any(a.startswith("ses:") for a in actions):
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if condition.get("ses:FromAddress") != {"Ref": SENDER_PARAMETER}:
                self.problems.append(f"{name}: SES without the ses:FromAddress condition")
        return set(itertools.product(actions, kinds))

    def _kind(self, resource: Any, own: set[str], log_group: Any) -> Kind | None:
        if resource == "*":
            return ANYTHING
        if resource in self._sender_arns:
            return SENDER
        if not isinstance(resource, dict) or len(resource) != 1:
            return None
        ((function, argument),) = resource.items()
        if function == "Fn::GetAtt":
            target, attribute = [*_as_list(argument), ""][:2]
            if target == self._table:
                return {"Arn": TABLE, "StreamArn": STREAM}.get(attribute)
            if attribute == "Arn" and target in own:
                if self._type(target) == "AWS::SQS::Queue":
                    return queue(target)
                if self._type(target) == "AWS::Logs::LogGroup" and log_group == {"Ref": target}:
                    return OWN_LOG_GROUP
                if self._type(target) == "AWS::Events::EventBus":
                    return event_bus(target)
            return None
        if function == "Ref" and argument in own:
            # A secret's and a topic's Ref is their ARN.
            if self._type(argument) == "AWS::SecretsManager::Secret":
                return secret(argument)
            if self._type(argument) == "AWS::SNS::Topic":
                return Kind("topic", argument)
            return None
        if function == "Fn::Sub" and isinstance(argument, str):
            found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/([A-Za-z0-9_.-]+)", argument)
            if found and found[1] == self._table and found[2] in self._indexes:
                return index(found[2])
        return None


def iam_problems(document: Mapping[str, Any]) -> list[str]:
    return _Checker(document).check()


# --- The template as it is ----------------------------------------------------------------


def test_every_function_is_granted_exactly_what_its_code_calls() -> None:
    assert iam_problems(DOCUMENT) == []


def test_needs_has_an_entry_for_every_function_of_the_template() -> None:
    functions = {k for k, v in DOCUMENT["Resources"].items() if v["Type"] == FUNCTION_TYPE}

    assert set(NEEDS) == functions


def test_the_read_only_function_can_only_read() -> None:
    reads = {"dynamodb:getitem", "dynamodb:batchgetitem", "dynamodb:query"}
    actions = {action.lower() for action, _ in NEEDS["ListOrdersFunction"]}

    assert actions == reads | {"secretsmanager:getsecretvalue"}


def test_the_order_system_function_adds_orders_and_reads_only_what_collided() -> None:
    actions = {action.lower() for action, _ in NEEDS["OrderSystemFunction"]}

    assert actions == {"dynamodb:getitem", "dynamodb:putitem", "dynamodb:updateitem"}


def test_the_order_system_scope_is_served_by_the_order_system_function_alone() -> None:
    scoped = {
        (function, name): "orders.admin" in event["Properties"]["Auth"]["AuthorizationScopes"]
        for function, resource in DOCUMENT["Resources"].items()
        if resource["Type"] == FUNCTION_TYPE
        for name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] == "HttpApi"
    }

    assert {function for (function, _), admin in scoped.items() if admin} == {"OrderSystemFunction"}
    assert all(
        admin for (function, _), admin in scoped.items() if function == "OrderSystemFunction"
    )


def test_the_stream_consumer_reads_only_the_tables_stream_not_every_stream() -> None:
    notify = DOCUMENT["Resources"]["NotifyFunction"]["Properties"]
    role = DOCUMENT["Resources"][notify["Role"]["Fn::GetAtt"][0]]["Properties"]
    (stream,) = [
        s
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if any(str(a).startswith("dynamodb:GetRecords") for a in _as_list(s["Action"]))
    ]

    assert stream["Resource"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in notify


# --- The checker catches what it is there to catch ----------------------------------------


def _function_statements(document: dict[str, Any], function: str) -> list[dict[str, Any]]:
    properties = document["Resources"][function]["Properties"]
    if "Role" in properties:
        role = document["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        statements: list[dict[str, Any]] = role["Policies"][0]["PolicyDocument"]["Statement"]
        return statements
    first: list[dict[str, Any]] = properties["Policies"][0]["Statement"]
    return first


def _statement_with(document: dict[str, Any], function: str, action: str) -> dict[str, Any]:
    return next(
        s for s in _function_statements(document, function) if action in _as_list(s["Action"])
    )


def _add_action(function: str, action: str, to: str) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        statement = _statement_with(document, function, to)
        statement["Action"] = [*_as_list(statement["Action"]), action]

    return mutate


def _set_resource(function: str, action: str, resource: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        _statement_with(document, function, action)["Resource"] = resource

    return mutate


def _add_statement(function: str, statement: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        _function_statements(document, function).append(statement)

    return mutate


def _sam_stream_role(document: dict[str, Any]) -> None:
    """NotifyFunction back on a role SAM generates, with its statements as Policies."""
    properties = document["Resources"]["NotifyFunction"]["Properties"]
    statements = _function_statements(document, "NotifyFunction")
    del properties["Role"]
    properties["Policies"] = [{"Version": "2012-10-17", "Statement": statements}]


def _remove_action(function: str, action: str) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        statement = _statement_with(document, function, action)
        statement["Action"] = [a for a in _as_list(statement["Action"]) if a != action]

    return mutate


def _replace_policies(function: str, policies: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        document["Resources"][function]["Properties"]["Policies"] = policies

    return mutate


def _remove_ses_condition(document: dict[str, Any]) -> None:
    del _statement_with(document, "ReconcileFunction", "ses:SendRawEmail")["Condition"]


def _stray_role(document: dict[str, Any]) -> None:
    document["Resources"]["SpareRole"] = {
        "Type": ROLE_TYPE,
        "Properties": {
            "AssumeRolePolicyDocument": {"Statement": []},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
        },
    }


def _wildcard_in_bucket_policy(document: dict[str, Any]) -> None:
    policy = document["Resources"]["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]
    policy["Statement"][0]["Action"] = "s3:*"


def _new_function(document: dict[str, Any]) -> None:
    document["Resources"]["RefundFunction"] = copy.deepcopy(document["Resources"]["CancelFunction"])


def _not_action(document: dict[str, Any]) -> None:
    statement = _statement_with(document, "CancelFunction", "dynamodb:PutItem")
    statement["NotAction"] = statement.pop("Action")


TABLE_ARN = {"Fn::GetAtt": ["OrdersTable", "Arn"]}
BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "dynamodb:* for the list function": (
        _add_action("ListOrdersFunction", "dynamodb:*", "dynamodb:GetItem"),
        "wildcard action 'dynamodb:*'",
    ),
    "dynamodb:Get* for the cancel function": (
        _add_action("CancelFunction", "dynamodb:Get*", "dynamodb:GetItem"),
        "wildcard action 'dynamodb:Get*'",
    ),
    "Resource '*' on the table's reads": (
        _set_resource("ListOrdersFunction", "dynamodb:GetItem", "*"),
        "ListOrdersFunction: Resource '*' for ['dynamodb:batchgetitem'",
    ),
    "a write for the read-only function": (
        _add_action("ListOrdersFunction", "dynamodb:PutItem", "dynamodb:GetItem"),
        "ListOrdersFunction: broader than it needs: dynamodb:putitem on the table",
    ),
    "DeleteItem for the cancel function": (
        _add_action("CancelFunction", "dynamodb:DeleteItem", "dynamodb:PutItem"),
        "CancelFunction: broader than it needs: dynamodb:deleteitem on the table",
    ),
    "a Query the cancel function never makes": (
        _add_action("CancelFunction", "dynamodb:Query", "dynamodb:PutItem"),
        "CancelFunction: broader than it needs: dynamodb:query on the table",
    ),
    "a batch read for the order system's function": (
        _add_action("OrderSystemFunction", "dynamodb:BatchGetItem", "dynamodb:PutItem"),
        "OrderSystemFunction: broader than it needs: dynamodb:batchgetitem on the table",
    ),
    "an index the order system's function does not query": (
        _add_statement(
            "OrderSystemFunction",
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "${OrdersTable.Arn}/index/by_product"},
            },
        ),
        "OrderSystemFunction: broader than it needs: dynamodb:query on index by_product",
    ),
    "the catalogue's write, missing for the order system's function": (
        _remove_action("OrderSystemFunction", "dynamodb:UpdateItem"),
        "OrderSystemFunction: lacks dynamodb:updateitem on the table",
    ),
    "another table": (
        _set_resource(
            "CancelFunction",
            "dynamodb:PutItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/payments",
        ),
        "resource 'arn:aws:dynamodb:us-east-1:123456789012:table/payments' is beyond",
    ),
    "every index of the table": (
        _add_statement(
            "ReconcileFunction",
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "${OrdersTable.Arn}/index/*"},
            },
        ),
        "'${OrdersTable.Arn}/index/*'}",
    ),
    "an index the table does not have": (
        _add_statement(
            "ReconcileFunction",
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "${OrdersTable.Arn}/index/by_buyer"},
            },
        ),
        "by_buyer'} is beyond",
    ),
    "an index the function does not query": (
        _add_statement(
            "ReconcileFunction",
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "${OrdersTable.Arn}/index/by_status"},
            },
        ),
        "ReconcileFunction: broader than it needs: dynamodb:query on index by_status",
    ),
    "every stream of the account": (
        _set_resource(
            "NotifyFunction",
            "dynamodb:GetRecords",
            "arn:aws:dynamodb:*:*:table/*/stream/*",
        ),
        "'arn:aws:dynamodb:*:*:table/*/stream/*' is beyond",
    ),
    "SAM's own role for the stream consumer": (
        _sam_stream_role,
        "makes SAM attach AWSLambdaDynamoDBExecutionRole",
    ),
    "a managed policy on the stream consumer's role": (
        lambda document: document["Resources"]["NotifyFunctionRole"]["Properties"].update(
            ManagedPolicyArns=[
                "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
            ]
        ),
        "NotifyFunction: managed policy 'arn:aws:iam::aws:policy/service-role/AWSLambda",
    ),
    "another function's secret": (
        _add_statement(
            "ReconcileFunction",
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": {"Ref": "PageTokenSecret"},
            },
        ),
        "resource {'Ref': 'PageTokenSecret'} is beyond",
    ),
    "another function's queue": (
        _add_statement(
            "CancelFunction",
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["NotifyFailures", "Arn"]},
            },
        ),
        "resource {'Fn::GetAtt': ['NotifyFailures', 'Arn']} is beyond",
    ),
    "any SES identity": (
        _set_resource(
            "ReconcileFunction",
            "ses:SendRawEmail",
            {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"},
        ),
        "identity/*'} is beyond",
    ),
    "SES from any address": (
        _remove_ses_condition,
        "ReconcileFunction: SES without the ses:FromAddress condition",
    ),
    "X-Ray's '*' stretched to the table": (
        _add_action("NotifyFunction", "dynamodb:GetItem", "xray:PutTraceSegments"),
        "NotifyFunction: Resource '*' for ['dynamodb:getitem']",
    ),
    "a SAM policy template": (
        _replace_policies(
            "CancelFunction", [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "OrdersTable"}}}]
        ),
        "CancelFunction: SAM policy template ['DynamoDBCrudPolicy']",
    ),
    "a managed policy by name": (
        _replace_policies("ListOrdersFunction", ["AmazonDynamoDBReadOnlyAccess"]),
        "ListOrdersFunction: managed policy 'AmazonDynamoDBReadOnlyAccess'",
    ),
    "a permission the code needs, missing": (
        _remove_action("CancelFunction", "dynamodb:UpdateItem"),
        "CancelFunction: lacks dynamodb:updateitem on the table",
    ),
    "NotAction": (_not_action, "CancelFunction: NotAction grants all that it does not name"),
    "a role no function uses": (_stray_role, "SpareRole: a role that is no function's own"),
    "a wildcard in a resource policy": (_wildcard_in_bucket_policy, "wildcard action 's3:*'"),
    "a function nobody listed in NEEDS": (
        _new_function,
        "RefundFunction: no entry in NEEDS says what it may call",
    ),
}


@pytest.mark.parametrize("fault", list(BROKEN))
def test_the_checker_reports_a_deliberately_too_broad_or_wrong_policy(fault: str) -> None:
    mutate, expected = BROKEN[fault]
    document = copy.deepcopy(DOCUMENT)
    mutate(document)

    problems = iam_problems(document)

    assert any(expected in problem for problem in problems), problems
