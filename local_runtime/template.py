"""What the local runtime needs from ``template.yaml``: functions, HTTP routes, tables and
event buses.

The template is the single source of truth: nothing here lists a route or a function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from cfnlint.decode.cfn_yaml import CfnParseError

from local_runtime import PROJECT_ROOT

DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_STACK_NAME = "order-cancellations-local"

_FUNCTION_TYPE = "AWS::Serverless::Function"
_LAYER_TYPE = "AWS::Serverless::LayerVersion"
_TABLE_TYPE = "AWS::DynamoDB::Table"
_SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
_HEADERS_POLICY_TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
_EVENT_BUS_TYPE = "AWS::Events::EventBus"
_ARCHIVE_TYPE = "AWS::Events::Archive"
_QUEUE_TYPE = "AWS::SQS::Queue"
# CreateQueue attributes the local queues take from the template.
_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
_SECRET_REFERENCE = "{{resolve:secretsmanager:"  # noqa: S105 (a syntax, not a secret)
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(Exception):
    """The template uses something the local runtime cannot reproduce."""


class UnresolvableValue(TemplateError):
    """An intrinsic function whose value only exists in a deployed stack."""


# --- Loading --------------------------------------------------------------------------


def load_template_document(path: Path = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """The template, its short tags in their long forms (``!Ref x`` is ``{"Ref": "x"}``),
    read by cfn-lint's loader, the one ``make security`` checks the template with."""
    try:
        document = cfn_yaml.load(str(path))
    except (OSError, CfnParseError) as error:
        raise TemplateError(f"{path} cannot be read: {error}") from error
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    plain: dict[str, Any] = _plain(document)
    return plain


def _plain(value: Any) -> Any:
    """cfn-lint's values as the built-in types they extend (its own types, which carry
    their line numbers, do not pickle: the function instances get them)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


# --- Intrinsic functions -----------------------------------------------------------------


@dataclass(frozen=True)
class LocalNames:
    """Values that stand in, locally, for what a deployment would create."""

    region: str
    account_id: str = LOCAL_ACCOUNT_ID
    stack_name: str = LOCAL_STACK_NAME
    resource_ids: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[tuple[str, str], str] = field(default_factory=dict)


class IntrinsicResolver:
    """Evaluates the intrinsic functions whose values are known before deployment."""

    def __init__(
        self,
        document: Mapping[str, Any],
        names: LocalNames,
        parameter_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._document = document
        self._names = names
        self._parameters = self._parameter_values(parameter_overrides or {})

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, definition in self._document.get("Parameters", {}).items():
            raw = overrides.get(name, definition.get("Default"))
            if raw is None:
                continue
            if definition.get("Type") == "CommaDelimitedList" and isinstance(raw, str):
                values[name] = raw.split(",")
            else:
                values[name] = raw
        unknown = set(overrides) - set(values)
        if unknown:
            raise TemplateError(f"parameter overrides for unknown parameters: {sorted(unknown)}")
        return values

    @property
    def parameters(self) -> Mapping[str, Any]:
        return dict(self._parameters)

    def _pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self._names.region,
            "AWS::AccountId": self._names.account_id,
            "AWS::StackName": self._names.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((function, argument),) = value.items()
        evaluate = self._functions().get(function)
        if evaluate is None:
            return {function: self.resolve(argument)}
        return evaluate(argument)

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda argument: not self._truth(argument[0]),
            "Fn::And": lambda argument: all(self._truth(item) for item in argument),
            "Fn::Or": lambda argument: any(self._truth(item) for item in argument),
            "Condition": self.condition,
        }

    def _ref(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        pseudo = self._pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self._names.resource_ids:
            return self._names.resource_ids[name]
        raise UnresolvableValue(f"!Ref {name} has no local value")

    def _get_att(self, argument: Sequence[str]) -> str:
        resource, attribute = argument
        try:
            return self._names.attributes[(resource, attribute)]
        except KeyError:
            raise UnresolvableValue(f"!GetAtt {resource}.{attribute} has no local value") from None

    def _sub(self, argument: str | Sequence[Any]) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self._get_att([resource, attribute])
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _join(self, argument: Sequence[Any]) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _if(self, argument: Sequence[Any]) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.condition(condition) else when_false)

    def _equals(self, argument: Sequence[Any]) -> bool:
        left, right = self.resolve(argument)
        return bool(left == right)

    def _truth(self, value: Any) -> bool:
        return bool(self.resolve(value))

    def condition(self, name: str) -> bool:
        try:
            definition = self._document["Conditions"][name]
        except KeyError:
            raise TemplateError(f"unknown condition {name}") from None
        return bool(self.resolve(definition))


# --- The parts of the template the local runtime uses -------------------------------------


@dataclass(frozen=True)
class EventSource:
    name: str
    type: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, str]
    events: tuple[EventSource, ...]

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def folder_name(self) -> str:
        return self.code_dir.name


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function_id: str
    event_name: str
    authorization_scopes: tuple[str, ...]
    requires_auth: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    table_name: str
    properties: Mapping[str, Any]

    @property
    def stream_view_type(self) -> str | None:
        stream = self.properties.get("StreamSpecification")
        return stream.get("StreamViewType") if stream else None

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(
            index["IndexName"] for index in self.properties.get("GlobalSecondaryIndexes", [])
        )

    def create_table_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "AttributeDefinitions": list(self.properties["AttributeDefinitions"]),
            "KeySchema": list(self.properties["KeySchema"]),
            "BillingMode": "PAY_PER_REQUEST",
        }
        for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if optional in self.properties:
                kwargs[optional] = [
                    {key: value for key, value in index.items() if key != "ProvisionedThroughput"}
                    for index in self.properties[optional]
                ]
        if self.stream_view_type:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": self.stream_view_type,
            }
        return kwargs

    def time_to_live_specification(self) -> dict[str, Any] | None:
        specification = self.properties.get("TimeToLiveSpecification")
        if not specification or not specification.get("Enabled"):
            return None
        return {"AttributeName": specification["AttributeName"], "Enabled": True}


@dataclass(frozen=True)
class ArchiveSpec:
    logical_id: str
    retention_days: int
    event_pattern: Mapping[str, Any] | None


@dataclass(frozen=True)
class EventBusSpec:
    logical_id: str
    name: str
    arn: str
    archives: tuple[ArchiveSpec, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    url: str
    arn: str
    # CreateQueue's attributes, as the template gives them (the redrive policy as JSON).
    attributes: Mapping[str, str] = field(default_factory=dict)


def local_secret_value(variable_name: str) -> str:
    """What a ``{{resolve:secretsmanager:...}}`` environment variable holds locally."""
    return "local-" + variable_name.lower().replace("_", "-")


@dataclass(frozen=True)
class SamTemplate:
    path: Path
    functions: Mapping[str, FunctionSpec]
    routes: tuple[HttpRoute, ...]
    tables: Mapping[str, TableSpec]
    # Secrets Manager secrets: logical id -> the name that ``!Ref`` gives locally.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # What CloudFront adds to the console's responses, as a local server can send it.
    site_headers: tuple[tuple[str, str], ...] = ()
    event_buses: Mapping[str, EventBusSpec] = field(default_factory=dict)
    queues: Mapping[str, QueueSpec] = field(default_factory=dict)
    # The parameters' values (defaults and overrides), for what is read only when used.
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def parameter_value(self, value: Any) -> Any:
        """``value``, or the parameter's value when it is a ``!Ref`` of a parameter."""
        if isinstance(value, Mapping) and set(value) == {"Ref"} and value["Ref"] in self.parameters:
            return self.parameters[value["Ref"]]
        return value

    @classmethod
    def load(
        cls,
        path: Path = DEFAULT_TEMPLATE,
        *,
        region: str = "us-east-1",
        parameter_overrides: Mapping[str, str] | None = None,
        environment_overrides: Mapping[str, str] | None = None,
        table_names: Mapping[str, str] | None = None,
    ) -> SamTemplate:
        return _TemplateReader(
            path,
            region=region,
            parameter_overrides=parameter_overrides or {},
            environment_overrides=environment_overrides or {},
            table_names=table_names or {},
        ).read()

    @property
    def table(self) -> TableSpec:
        if len(self.tables) != 1:
            raise TemplateError(f"expected one DynamoDB table, found {sorted(self.tables)}")
        return next(iter(self.tables.values()))

    def function(self, name: str) -> FunctionSpec:
        """A function by its logical id (``ListOrdersFunction``) or folder (``list_orders``)."""
        if name in self.functions:
            return self.functions[name]
        by_folder = [spec for spec in self.functions.values() if spec.folder_name == name]
        if len(by_folder) == 1:
            return by_folder[0]
        known = ", ".join(
            f"{spec.logical_id} ({spec.folder_name})" for spec in self.functions.values()
        )
        raise TemplateError(f"no function {name!r} in {self.path.name}; known: {known}")

    def runtime_environment(self) -> dict[str, str]:
        """Every function's environment in one mapping, for importing them all in one
        process (the handler unit tests, the OpenAPI writer)."""
        merged: dict[str, str] = {}
        owners: dict[str, str] = {}
        for spec in self.functions.values():
            for name, value in spec.environment.items():
                if name in merged and merged[name] != value:
                    raise TemplateError(
                        f"{name} is {merged[name]!r} for {owners[name]} but {value!r} for "
                        f"{spec.logical_id}: functions sharing one process need one value"
                    )
                merged[name] = value
                owners[name] = spec.logical_id
        return merged


class _TemplateReader:
    def __init__(
        self,
        path: Path,
        *,
        region: str,
        parameter_overrides: Mapping[str, str],
        environment_overrides: Mapping[str, str],
        table_names: Mapping[str, str],
    ) -> None:
        self._path = path
        self._base_dir = path.parent
        self._document = load_template_document(path)
        self._resources: dict[str, Any] = self._document["Resources"]
        self._environment_overrides = environment_overrides
        self._table_names = {
            logical_id: table_names.get(logical_id, logical_id)
            for logical_id in self._logical_ids_of_type(_TABLE_TYPE)
        }
        self._secret_names = {
            logical_id: f"{LOCAL_STACK_NAME}/{logical_id}"
            for logical_id in self._logical_ids_of_type(_SECRET_TYPE)
        }
        # A bus's name may only use parameters and pseudo parameters (the stack's name).
        names_only = IntrinsicResolver(self._document, LocalNames(region), parameter_overrides)
        self._bus_names = {
            logical_id: str(
                names_only.resolve(
                    self._resources[logical_id]["Properties"].get("Name", logical_id)
                )
            )
            for logical_id in self._logical_ids_of_type(_EVENT_BUS_TYPE)
        }
        self._bus_arns = {
            logical_id: f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:event-bus/{name}"
            for logical_id, name in self._bus_names.items()
        }
        self._queue_names = {
            logical_id: str(
                names_only.resolve(
                    self._resources[logical_id]
                    .get("Properties", {})
                    .get("QueueName", f"{LOCAL_STACK_NAME}-{logical_id}")
                )
            )
            for logical_id in self._logical_ids_of_type(_QUEUE_TYPE)
        }
        queue_urls = {
            logical_id: f"https://sqs.{region}.amazonaws.com/{LOCAL_ACCOUNT_ID}/{name}"
            for logical_id, name in self._queue_names.items()
        }
        self._queue_arns = {
            logical_id: f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{name}"
            for logical_id, name in self._queue_names.items()
        }
        self._names = LocalNames(
            region=region,
            resource_ids={
                **self._table_names,
                **self._secret_names,
                **self._bus_names,
                # A queue's Ref is its URL.
                **queue_urls,
            },
            attributes={
                **{(logical_id, "Arn"): arn for logical_id, arn in self._queue_arns.items()},
                **{(logical_id, "QueueName"): n for logical_id, n in self._queue_names.items()},
                **{
                    (
                        logical_id,
                        "Arn",
                    ): f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT_ID}:table/{name}"
                    for logical_id, name in self._table_names.items()
                },
                **{(logical_id, "Arn"): arn for logical_id, arn in self._bus_arns.items()},
                **{(logical_id, "Name"): name for logical_id, name in self._bus_names.items()},
            },
        )
        self._resolver = IntrinsicResolver(self._document, self._names, parameter_overrides)
        self._function_globals: dict[str, Any] = self._document.get("Globals", {}).get(
            "Function", {}
        )

    def _logical_ids_of_type(self, resource_type: str) -> list[str]:
        return [
            logical_id
            for logical_id, resource in self._resources.items()
            if resource.get("Type") == resource_type
        ]

    def read(self) -> SamTemplate:
        functions = {
            logical_id: self._function(logical_id)
            for logical_id in self._logical_ids_of_type(_FUNCTION_TYPE)
        }
        return SamTemplate(
            path=self._path,
            functions=functions,
            routes=self._routes(functions),
            tables={
                logical_id: TableSpec(
                    logical_id=logical_id,
                    table_name=name,
                    properties=self._resources[logical_id]["Properties"],
                )
                for logical_id, name in self._table_names.items()
            },
            secrets=self._secret_names,
            site_headers=self._site_headers(),
            event_buses=self._event_buses(),
            queues=self._queues(),
            parameters=self._resolver.parameters,
        )

    def _queues(self) -> dict[str, QueueSpec]:
        queues = {}
        for logical_id, name in self._queue_names.items():
            properties = self._resources[logical_id].get("Properties", {})
            attributes = {
                key: str(self._resolver.resolve(properties[key]))
                for key in _QUEUE_ATTRIBUTES
                if key in properties
            }
            if "RedrivePolicy" in properties:
                attributes["RedrivePolicy"] = json.dumps(
                    self._resolver.resolve(properties["RedrivePolicy"])
                )
            queues[logical_id] = QueueSpec(
                logical_id=logical_id,
                name=name,
                url=self._names.resource_ids[logical_id],
                arn=self._queue_arns[logical_id],
                attributes=attributes,
            )
        return queues

    def _event_buses(self) -> dict[str, EventBusSpec]:
        archives: dict[str, list[ArchiveSpec]] = {logical_id: [] for logical_id in self._bus_names}
        for logical_id in self._logical_ids_of_type(_ARCHIVE_TYPE):
            properties = self._resources[logical_id]["Properties"]
            source = self._resolver.resolve(properties["SourceArn"])
            bus = next((b for b, arn in self._bus_arns.items() if arn == source), None)
            if bus is None:
                raise TemplateError(f"{logical_id} archives {source}, not a bus of the template")
            pattern = properties.get("EventPattern")
            archives[bus].append(
                ArchiveSpec(
                    logical_id=logical_id,
                    retention_days=int(self._resolver.resolve(properties.get("RetentionDays", 0))),
                    event_pattern=self._resolver.resolve(pattern) if pattern else None,
                )
            )
        return {
            logical_id: EventBusSpec(
                logical_id, name, self._bus_arns[logical_id], tuple(archives[logical_id])
            )
            for logical_id, name in self._bus_names.items()
        }

    def _site_headers(self) -> tuple[tuple[str, str], ...]:
        """The security headers of the template's CloudFront policy, for plain HTTP on
        this machine: no HSTS, and the Content-Security-Policy without the AWS origins its
        ``!Sub`` adds (locally the API is the page's own origin)."""
        policies = self._logical_ids_of_type(_HEADERS_POLICY_TYPE)
        if not policies:
            return ()
        if len(policies) > 1:
            raise TemplateError(f"expected one response headers policy, found {policies}")
        config = self._resources[policies[0]]["Properties"]["ResponseHeadersPolicyConfig"]
        security = config.get("SecurityHeadersConfig", {})
        headers: list[tuple[str, str]] = []
        policy = security.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy")
        if policy is not None:
            text = policy.get("Fn::Sub", policy) if isinstance(policy, dict) else policy
            text = text[0] if isinstance(text, list) else text
            without_origins = _SUB_VARIABLE.sub("", str(text))
            tidy = re.sub(r" +", " ", without_origins).replace(" ;", ";")
            headers.append(("Content-Security-Policy", tidy))
        if "ContentTypeOptions" in security:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if "FrameOptions" in security:
            headers.append(("X-Frame-Options", security["FrameOptions"]["FrameOption"]))
        if "ReferrerPolicy" in security:
            headers.append(("Referrer-Policy", security["ReferrerPolicy"]["ReferrerPolicy"]))
        return tuple(headers)

    def _function_property(self, properties: Mapping[str, Any], name: str, default: Any) -> Any:
        return properties.get(name, self._function_globals.get(name, default))

    def _function(self, logical_id: str) -> FunctionSpec:
        properties: dict[str, Any] = self._resources[logical_id].get("Properties", {})
        code_uri = self._function_property(properties, "CodeUri", None)
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: only a local CodeUri folder can run locally")
        code_dir = (self._base_dir / code_uri).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{logical_id}: CodeUri {code_uri} is not a folder")
        events = tuple(
            EventSource(name=name, type=event["Type"], properties=event.get("Properties", {}))
            for name, event in properties.get("Events", {}).items()
        )
        return FunctionSpec(
            logical_id=logical_id,
            code_dir=code_dir,
            handler=self._function_property(properties, "Handler", ""),
            runtime=self._function_property(properties, "Runtime", ""),
            memory_mb=int(self._function_property(properties, "MemorySize", 128)),
            timeout_seconds=int(self._function_property(properties, "Timeout", 3)),
            layer_dirs=self._layer_dirs(logical_id, properties),
            environment=self._environment(logical_id, properties),
            events=events,
        )

    def _layer_dirs(self, logical_id: str, properties: Mapping[str, Any]) -> tuple[Path, ...]:
        layers = [*self._function_globals.get("Layers", []), *properties.get("Layers", [])]
        directories: list[Path] = []
        for layer in layers:
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            resource = self._resources.get(layer_id or "", {})
            if resource.get("Type") != _LAYER_TYPE:
                raise TemplateError(f"{logical_id}: layer {layer!r} is not in this template")
            directories.append((self._base_dir / resource["Properties"]["ContentUri"]).resolve())
        return tuple(directories)

    def _environment(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, str]:
        variables = {
            **self._function_globals.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        environment: dict[str, str] = {}
        for name, value in variables.items():
            if name in self._environment_overrides:
                environment[name] = self._environment_overrides[name]
                continue
            if _mentions_secret_reference(value):
                environment[name] = local_secret_value(name)
                continue
            try:
                resolved = self._resolver.resolve(value)
            except UnresolvableValue as error:
                raise UnresolvableValue(
                    f"{logical_id}: environment variable {name}: {error}; "
                    "give it a local value with an environment override"
                ) from error
            environment[name] = _environment_string(name, resolved)
        return environment

    def _routes(self, functions: Mapping[str, FunctionSpec]) -> tuple[HttpRoute, ...]:
        routes: list[HttpRoute] = []
        seen: dict[str, str] = {}
        for spec in functions.values():
            for event in spec.events:
                if event.type != "HttpApi":
                    continue
                route = self._route(spec.logical_id, event)
                if route.route_key in seen:
                    raise TemplateError(
                        f"route {route.route_key} is declared by {seen[route.route_key]} "
                        f"and {spec.logical_id}.{event.name}"
                    )
                seen[route.route_key] = f"{spec.logical_id}.{event.name}"
                routes.append(route)
        return tuple(routes)

    def _route(self, function_id: str, event: EventSource) -> HttpRoute:
        properties = event.properties
        if str(properties.get("PayloadFormatVersion", "2.0")) != "2.0":
            raise TemplateError(f"{function_id}.{event.name}: only payload format 2.0 is served")
        auth = properties.get("Auth", {})
        authorizer = auth.get("Authorizer", self._default_authorizer(properties.get("ApiId")))
        return HttpRoute(
            method=str(properties.get("Method", "ANY")).upper(),
            path=str(properties.get("Path", "/{proxy+}")),
            function_id=function_id,
            event_name=event.name,
            authorization_scopes=tuple(auth.get("AuthorizationScopes", ())),
            requires_auth=authorizer not in (None, "NONE"),
        )

    def _default_authorizer(self, api_id: Any) -> str | None:
        if isinstance(api_id, dict) and "Ref" in api_id:
            api_properties = self._resources.get(api_id["Ref"], {}).get("Properties", {})
        else:
            api_properties = self._document.get("Globals", {}).get("HttpApi", {})
        authorizer = api_properties.get("Auth", {}).get("DefaultAuthorizer")
        return str(authorizer) if authorizer else None


def _mentions_secret_reference(value: Any) -> bool:
    if isinstance(value, str):
        return _SECRET_REFERENCE in value
    if isinstance(value, list):
        return any(_mentions_secret_reference(item) for item in value)
    if isinstance(value, dict):
        return any(_mentions_secret_reference(item) for item in value.values())
    return False


def _environment_string(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise UnresolvableValue(f"environment variable {name} resolves to {value!r}, not a string")
