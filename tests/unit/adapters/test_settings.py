"""Each function's settings are read and checked once; a bad one names its variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.settings import (
    CancelSettings,
    ListOrdersSettings,
    NotifySettings,
    ReconcileSettings,
    SettingsError,
    TokenClaimsSettings,
)

EMAIL = {"TABLE_NAME": "orders", "EMAIL_SENDER": "orders@example.com"}


def test_defaults_are_the_template_parameters_defaults() -> None:
    cancel = CancelSettings.from_environment({"TABLE_NAME": "orders"})
    assert cancel == CancelSettings("orders", "seller_id", timedelta(hours=168))
    notify = NotifySettings.from_environment(EMAIL)
    assert (notify.emails_in_parallel, notify.ses_retry_base) == (4, timedelta(milliseconds=200))
    reconcile = ReconcileSettings.from_environment(EMAIL)
    assert (
        reconcile.marketplace_name,
        reconcile.pending_after,
        reconcile.ses_retry_base,
        reconcile.settle,
    ) == ("Marketplace", timedelta(minutes=10), timedelta(milliseconds=200), timedelta(minutes=1))
    assert TokenClaimsSettings.from_environment({}).seller_id_claim == "seller_id"


def test_values_from_the_environment() -> None:
    listing = ListOrdersSettings.from_environment(
        {"TABLE_NAME": "t", "SELLER_ID_CLAIM": "tenant", "PAGE_TOKEN_SECRET_ARN": "arn:secret"}
    )
    assert listing == ListOrdersSettings("t", "tenant", "arn:secret")
    notify = NotifySettings.from_environment(
        {**EMAIL, "EMAILS_IN_PARALLEL": "16", "SES_RETRY_BASE_MILLISECONDS": "1000"}
    )
    assert (notify.emails_in_parallel, notify.ses_retry_base) == (16, timedelta(seconds=1))
    reconcile = ReconcileSettings.from_environment(
        {
            **EMAIL,
            "PENDING_NOTIFICATION_MINUTES": "0",
            "SES_RETRY_BASE_MILLISECONDS": "0",
            "RECONCILE_SETTLE_SECONDS": "0",
        }
    )
    assert (reconcile.pending_after, reconcile.ses_retry_base, reconcile.settle) == (
        timedelta(),
        timedelta(),
        timedelta(),
    )


@pytest.mark.parametrize(
    ("settings", "variables", "message"),
    [
        (CancelSettings, {}, "TABLE_NAME is not set"),
        (CancelSettings, {"TABLE_NAME": " "}, "TABLE_NAME is empty"),
        (CancelSettings, {"TABLE_NAME": "t", "IDEMPOTENCY_TTL_HOURS": "1.5"}, "IDEMPOTENCY_TTL"),
        (CancelSettings, {"TABLE_NAME": "t", "IDEMPOTENCY_TTL_HOURS": "0"}, "from 1 to"),
        (CancelSettings, {"TABLE_NAME": "t", "SELLER_ID_CLAIM": ""}, "SELLER_ID_CLAIM is empty"),
        (ListOrdersSettings, {"TABLE_NAME": "t"}, "PAGE_TOKEN_SECRET_ARN is not set"),
        (NotifySettings, {"TABLE_NAME": "t"}, "EMAIL_SENDER is not set"),
        (NotifySettings, {**EMAIL, "EMAIL_SENDER": "orders"}, "email address"),
        (NotifySettings, {**EMAIL, "EMAILS_IN_PARALLEL": "17"}, "from 1 to 16"),
        (NotifySettings, {**EMAIL, "EMAILS_IN_PARALLEL": "-1"}, "EMAILS_IN_PARALLEL"),
        (ReconcileSettings, {**EMAIL, "PENDING_NOTIFICATION_MINUTES": "ten"}, "PENDING_"),
        (NotifySettings, {**EMAIL, "SES_RETRY_BASE_MILLISECONDS": "1001"}, "from 0 to 1000"),
        (ReconcileSettings, {**EMAIL, "SES_RETRY_BASE_MILLISECONDS": "0.2"}, "SES_RETRY_BASE"),
        (ReconcileSettings, {**EMAIL, "SES_RETRY_BASE_MILLISECONDS": "-1"}, "SES_RETRY_BASE"),
        (ReconcileSettings, {**EMAIL, "RECONCILE_SETTLE_SECONDS": "3601"}, "from 0 to 3600"),
        (ReconcileSettings, {**EMAIL, "RECONCILE_SETTLE_SECONDS": "1m"}, "RECONCILE_SETTLE"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_its_variable(
    settings: type, variables: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings.from_environment(variables)
