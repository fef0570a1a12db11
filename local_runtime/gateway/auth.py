"""What the HTTP API's JWT authorizer does in AWS, with a local HS256 secret."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from local_runtime.gateway.tokens import ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER


class Unauthorized(Exception):
    """No usable token: 401."""


class Forbidden(Exception):
    """A valid token without any of the route's scopes: 403."""


@dataclass(frozen=True)
class Identity:
    claims: Mapping[str, Any]
    scopes: tuple[str, ...]


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthorized("the Authorization header is missing")
    scheme, _, credentials = authorization.strip().partition(" ")
    # Like API Gateway, take the token with or without the "Bearer" scheme.
    token = credentials.strip() if scheme.lower() == "bearer" else authorization.strip()
    if not token:
        raise Unauthorized("the Authorization header has no token")
    return token


def _scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return tuple(scope.split())
    if isinstance(scope, list):
        return tuple(str(item) for item in scope)
    return ()


class TokenVerifier:
    """Verifies HS256 tokens. ``iss`` and ``aud`` are optional locally, but a token that
    names another issuer or only other audiences is refused, as API Gateway refuses it."""

    def __init__(
        self, secret: str, issuer: str = LOCAL_ISSUER, audience: str = LOCAL_AUDIENCE
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience

    def authenticate(self, authorization: str | None) -> Identity:
        token = _bearer_token(authorization)
        try:
            # PyJWT requires iss and aud once it is given an expected value; both are
            # optional here, so their values are checked below.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp"], "verify_iss": False, "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token's signature is not valid") from None
        except jwt.DecodeError:
            raise Unauthorized("the token is not a well-formed JWT") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None
        self._check_issuer_and_audience(claims)
        return Identity(claims=claims, scopes=_scopes(claims))

    def _check_issuer_and_audience(self, claims: Mapping[str, Any]) -> None:
        if "iss" in claims and claims["iss"] != self._issuer:
            raise Unauthorized(f"the token's issuer is not {self._issuer}")
        if "aud" in claims:
            audience = claims["aud"]
            audiences = audience if isinstance(audience, list) else [audience]
            if self._audience not in audiences:
                raise Unauthorized(f"the token's audience is not {self._audience}")

    @staticmethod
    def authorize(identity: Identity, required_scopes: Sequence[str]) -> None:
        """API Gateway lets a token through when it has at least one of the route's scopes."""
        if required_scopes and not set(required_scopes) & set(identity.scopes):
            raise Forbidden(f"the token lacks the scope {' or '.join(required_scopes)}")
