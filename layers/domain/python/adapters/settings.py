"""Every function's settings, read once from its environment at import and checked there:
a missing or malformed variable stops the cold start with a message that names it, rather
than failing a request later. The template sets them (``template.yaml``, ``Environment``);
the defaults are the template parameters' own.

Each function has one small class; what several share sits in the bases.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

DEFAULT_SELLER_ID_CLAIM = "seller_id"
MAX_EMAILS_IN_PARALLEL = 16


class SettingsError(ValueError):
    pass


class _Environment:
    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables

    def text(self, name: str, default: str | None = None) -> str:
        value = self._variables.get(name, default)
        if value is None:
            raise SettingsError(f"{name} is not set")
        if not value.strip():
            raise SettingsError(f"{name} is empty")
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        value = self._variables.get(name, str(default)).strip()
        if not value.isdigit() or not minimum <= int(value) <= maximum:
            raise SettingsError(f"{name} must be a whole number from {minimum} to {maximum}")
        return int(value)

    def address(self, name: str) -> str:
        value = self.text(name)
        local, at, domain = value.partition("@")
        if not (local and at and domain) or any(c.isspace() for c in value):
            raise SettingsError(f"{name} must be an email address, not {value!r}")
        return value


@dataclass(frozen=True)
class _Settings:
    @classmethod
    def from_environment(cls, variables: Mapping[str, str] | None = None) -> Self:
        return cls(**cls._read(_Environment(os.environ if variables is None else variables)))

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class TableSettings(_Settings):
    table_name: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {**super()._read(env), "table_name": env.text("TABLE_NAME")}


@dataclass(frozen=True)
class SellerApiSettings(TableSettings):
    seller_id_claim: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {
            **super()._read(env),
            "seller_id_claim": env.text("SELLER_ID_CLAIM", DEFAULT_SELLER_ID_CLAIM),
        }


@dataclass(frozen=True)
class ListOrdersSettings(SellerApiSettings):
    # The secret's name, not its value: the function reads it when it first needs it.
    page_token_secret_arn: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {**super()._read(env), "page_token_secret_arn": env.text("PAGE_TOKEN_SECRET_ARN")}


@dataclass(frozen=True)
class CancelSettings(SellerApiSettings):
    idempotency_ttl: timedelta

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        hours = env.integer("IDEMPOTENCY_TTL_HOURS", 168, minimum=1, maximum=24 * 366)
        return {**super()._read(env), "idempotency_ttl": timedelta(hours=hours)}


@dataclass(frozen=True)
class StockoutApiSettings(CancelSettings):
    # Where a new stock-out asks for its first planning step.
    plan_queue_url: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {**super()._read(env), "plan_queue_url": env.text("PLAN_QUEUE_URL")}


@dataclass(frozen=True)
class StockoutPlannerSettings(TableSettings):
    plan_queue_url: str
    work_queue_url: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {
            **super()._read(env),
            "plan_queue_url": env.text("PLAN_QUEUE_URL"),
            "work_queue_url": env.text("WORK_QUEUE_URL"),
        }


@dataclass(frozen=True)
class EmailSettings(TableSettings):
    sender: str
    marketplace_name: str
    # The scale of the notifier's pauses between the SES sends of one email: each drawn
    # up to 2, 4, then 8 times this, at most 2 s (so above 1 s it changes nothing); with
    # zero, a send is tried again at once.
    ses_retry_base: timedelta

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        milliseconds = env.integer("SES_RETRY_BASE_MILLISECONDS", 200, minimum=0, maximum=1000)
        return {
            **super()._read(env),
            "sender": env.address("EMAIL_SENDER"),
            "marketplace_name": env.text("MARKETPLACE_NAME", "Marketplace"),
            "ses_retry_base": timedelta(milliseconds=milliseconds),
        }


@dataclass(frozen=True)
class NotifySettings(EmailSettings):
    emails_in_parallel: int

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        in_parallel = env.integer(
            "EMAILS_IN_PARALLEL", 4, minimum=1, maximum=MAX_EMAILS_IN_PARALLEL
        )
        return {**super()._read(env), "emails_in_parallel": in_parallel}


@dataclass(frozen=True)
class ReconcileSettings(EmailSettings):
    pending_after: timedelta
    # Writes stamped less than this before now may still be landing: a scheduled run
    # checks the orders they changed on its next run.
    settle: timedelta

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        minutes = env.integer("PENDING_NOTIFICATION_MINUTES", 10, minimum=0, maximum=7 * 24 * 60)
        seconds = env.integer("RECONCILE_SETTLE_SECONDS", 60, minimum=0, maximum=60 * 60)
        return {
            **super()._read(env),
            "pending_after": timedelta(minutes=minutes),
            "settle": timedelta(seconds=seconds),
        }


@dataclass(frozen=True)
class PublishSettings(_Settings):
    # The bus the Cancellation Created events go to (the stack's, CancellationEventBus).
    event_bus_name: str
    # How long one invocation offers refused events again before it hands them back to
    # the stream, which offers them again later; with zero, each is offered once.
    retry_budget: timedelta

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        seconds = env.integer("PUBLISH_RETRY_SECONDS", 20, minimum=0, maximum=40)
        return {
            **super()._read(env),
            "event_bus_name": env.text("EVENT_BUS_NAME"),
            "retry_budget": timedelta(seconds=seconds),
        }


@dataclass(frozen=True)
class TokenClaimsSettings(_Settings):
    seller_id_claim: str

    @classmethod
    def _read(cls, env: _Environment) -> dict[str, Any]:
        return {
            **super()._read(env),
            "seller_id_claim": env.text("SELLER_ID_CLAIM", DEFAULT_SELLER_ID_CLAIM),
        }
