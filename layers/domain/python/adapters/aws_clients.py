"""boto3 clients as every function configures them: short timeouts, bounded retries."""

from typing import Any

import boto3
from botocore.config import Config

_DYNAMODB = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5
)
# One attempt per call: the notifier decides which SES failures are worth another.
_SES = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=10)


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_DYNAMODB)


def ses_client() -> Any:
    return boto3.client("ses", config=_SES)
