"""Opaque page tokens for the API's listings, signed so that a token only works for the
seller, the listing and the filters it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from domain.errors import FieldError, InvalidPageToken
from domain.limits import MAX_PAGE_TOKEN_LENGTH
from domain.model import OrderStatus

_VERSION = 1
# A product listing's token carries a look-ahead position for each of up to 20 products.


def order_filters(status: OrderStatus, product_ids: Sequence[str]) -> tuple[str, ...]:
    """What a GET /orders page token is bound to (the same products in any order)."""
    return ("orders", status.value, *sorted(set(product_ids)))


PRODUCT_FILTERS = ("products",)


def stockout_order_filters(stockout_id: str) -> tuple[str, ...]:
    """What a GET /stockouts/{stockout_id}/orders page token is bound to."""
    return ("stockout-orders", stockout_id)


def _filters_digest(filters: Sequence[str]) -> str:
    canonical = json.dumps(list(filters), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a page token secret is required")
        self._key = hashlib.sha256(secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def issue(self, seller_id: str, filters: Sequence[str], position: str) -> str:
        payload = json.dumps(
            {
                "v": _VERSION,
                "s": seller_id,
                "f": _filters_digest(filters),
                "p": position,
            },
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def position(self, token: str, seller_id: str, filters: Sequence[str]) -> str:
        """The position a token continues from; ``InvalidPageToken`` for anything else."""
        invalid = InvalidPageToken(
            "the page token is not valid for this seller and these filters",
            (FieldError("page_token", "request the first page again without a token"),),
        )
        if len(token) > MAX_PAGE_TOKEN_LENGTH or token.count(".") != 1:
            raise invalid
        encoded_payload, encoded_signature = token.split(".")
        try:
            payload = _unb64(encoded_payload)
            signature = _unb64(encoded_signature)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise invalid
        try:
            data = json.loads(payload)
        except ValueError:
            raise invalid from None
        if (
            not isinstance(data, dict)
            or data.get("v") != _VERSION
            or data.get("s") != seller_id
            or data.get("f") != _filters_digest(filters)
            or not isinstance(data.get("p"), str)
        ):
            raise invalid
        position: str = data["p"]
        return position
