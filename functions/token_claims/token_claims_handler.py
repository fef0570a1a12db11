"""Cognito pre token generation trigger (event version 2): gives a seller user's access
token what the API reads from it, the seller id claim and the API scopes.

Scopes come from the user's groups: a user in the group ``orders.write`` gets the scope
``orders.write``. The seller id comes from the user's ``custom:seller_id`` attribute.
"""

from typing import Any

from adapters.settings import TokenClaimsSettings

API_SCOPES = ("orders.read", "orders.write", "orders.admin")
SELLER_ID_CLAIM = TokenClaimsSettings.from_environment().seller_id_claim


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    groups = set((request.get("groupConfiguration") or {}).get("groupsToOverride") or [])
    seller_id = attributes.get("custom:seller_id")
    claims = {SELLER_ID_CLAIM: seller_id} if seller_id else {}
    event.setdefault("response", {})["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": claims},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": claims,
            "scopesToAdd": [scope for scope in API_SCOPES if scope in groups],
        },
    }
    return event
