"""Access tokens for the local stack: HS256 JWTs signed with ``LOCAL_JWT_SECRET``
(``make token``: ``local_runtime.commands.token``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

DEFAULT_JWT_SECRET = "local-dev-secret"  # noqa: S105 (the documented local-only secret)
# A local token needs neither; when it carries them, they must be these (as AWS checks the
# issuer and the audience its authorizer is configured with).
LOCAL_ISSUER = "local"
LOCAL_AUDIENCE = "order-cancellations-local"
DEFAULT_LIFETIME = timedelta(hours=12)
DEFAULT_SELLER_ID_CLAIM = "seller_id"
ALGORITHM = "HS256"

# The contract's default secret is 16 bytes, under RFC 7518's 32 for HS256; it guards
# nothing but a developer's machine, so PyJWT's warning about it is noise here.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)


def jwt_secret() -> str:
    return os.environ.get("LOCAL_JWT_SECRET") or DEFAULT_JWT_SECRET


def seller_id_claim() -> str:
    return os.environ.get("SELLER_ID_CLAIM") or DEFAULT_SELLER_ID_CLAIM


def mint_token(
    seller_id: str,
    scopes: Iterable[str] | str,
    *,
    sub: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    issued_at: datetime | None = None,
    secret: str | None = None,
    seller_claim: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    with_issuer: bool = True,
) -> str:
    """A signed token for ``seller_id`` with ``scopes`` (a list or a space-separated string).

    With ``with_issuer`` (the default) it names the local issuer and audience, as an identity
    provider's token would; without, it carries only the claims the API reads.
    """
    issued_at = issued_at or datetime.now(UTC)
    scope = scopes if isinstance(scopes, str) else " ".join(scopes)
    claims: dict[str, Any] = {
        "sub": sub or f"user-{seller_id}",
        seller_claim or seller_id_claim(): seller_id,
        "scope": scope,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
    }
    if with_issuer:
        claims |= {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE}
    claims |= extra_claims or {}
    return jwt.encode(claims, secret or jwt_secret(), algorithm=ALGORITHM)
