"""boto3 clients as every function configures them: short timeouts, bounded retries."""

from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config

_DYNAMODB = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5
)
# One attempt per call: the notifier decides which SES failures are worth another.
_SES = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=10)
# A PutEvents call throttled or unanswered is retried here; refused entries, by the publisher.
_EVENTS = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
_SQS = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
_SECRETS = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=3
)


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_DYNAMODB)


def ses_client() -> Any:
    return boto3.client("ses", config=_SES)


def events_client() -> Any:
    return boto3.client("events", config=_EVENTS)


def sqs_client() -> Any:
    return boto3.client("sqs", config=_SQS)


def secrets_provider() -> SecretsProvider:
    """Powertools' cached reader of Secrets Manager, on a client configured like the others."""
    return SecretsProvider(boto_config=_SECRETS)
