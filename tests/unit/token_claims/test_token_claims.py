"""The Cognito trigger that puts the seller id and the API scopes into access tokens."""

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[3]
EVENT = ROOT / "events" / "token_claims.json"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def handler() -> Handler:
    path = ROOT / "functions" / "token_claims" / "token_claims_handler.py"
    spec = importlib.util.spec_from_file_location("token_claims_handler", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry: Handler = module.lambda_handler
    return entry


def test_groups_become_scopes_and_the_attribute_becomes_the_seller_claim(handler: Handler) -> None:
    event = json.loads(EVENT.read_text())

    result = handler(copy.deepcopy(event), None)

    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"] == {
        "claimsToAddOrOverride": {"seller_id": "seller-acme"},
        "scopesToAdd": ["orders.read", "orders.write"],
    }
    assert details["idTokenGeneration"] == {"claimsToAddOrOverride": {"seller_id": "seller-acme"}}


def test_a_user_without_seller_or_groups_gets_neither(handler: Handler) -> None:
    event = json.loads(EVENT.read_text())
    event["request"]["userAttributes"].pop("custom:seller_id")
    event["request"]["groupConfiguration"]["groupsToOverride"] = ["marketing"]

    result = handler(event, None)

    access = result["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"claimsToAddOrOverride": {}, "scopesToAdd": []}
