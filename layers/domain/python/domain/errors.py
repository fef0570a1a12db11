"""Every error the domain raises, each carrying the API error code it stands for.

The mapping from a code to an HTTP status lives with the API adapter; the domain only
says what went wrong, in the contract's words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every rule violation; ``code`` is the API error code."""

    code: str = "DOMAIN_ERROR"
    title: str = "Request rejected"

    def __init__(self, detail: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


# 401 / 403 / 413: raised by the API adapter, listed here so every code lives in one place
class Unauthorized(DomainError):
    code = "UNAUTHORIZED"
    title = "Authentication required"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    title = "Not allowed"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    title = "The request body is too large"


# 400
class RequestInvalid(DomainError):
    code = "VALIDATION_ERROR"
    title = "The request is not valid"


class IdempotencyKeyRequired(DomainError):
    code = "IDEMPOTENCY_KEY_REQUIRED"
    title = "An Idempotency-Key header is required"


class InvalidPageToken(DomainError):
    code = "INVALID_PAGE_TOKEN"
    title = "The page token is not valid for this request"


# 404
class OrderNotFound(DomainError):
    code = "ORDER_NOT_FOUND"
    title = "Order not found"


class StockoutNotFound(DomainError):
    code = "STOCKOUT_NOT_FOUND"
    title = "Stock-out not found"


# 409
class OrderNotCancellable(DomainError):
    code = "ORDER_NOT_CANCELLABLE"
    title = "The order cannot be cancelled in its current status"


class PackageNotCancellable(DomainError):
    code = "PACKAGE_NOT_CANCELLABLE"
    title = "The package cannot be cancelled in its current status"


class ItemNotCancellable(DomainError):
    code = "ITEM_NOT_CANCELLABLE"
    title = "The item cannot be cancelled"


class QuantityExceedsCancellable(DomainError):
    code = "QUANTITY_EXCEEDS_CANCELLABLE"
    title = "More units requested than can be cancelled"


class PackageNotShippable(DomainError):
    code = "PACKAGE_NOT_SHIPPABLE"
    title = "The package is not awaiting shipment"


class PackageCancelled(DomainError):
    code = "PACKAGE_CANCELLED"
    title = "The package is cancelled"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    title = "The idempotency key was used with a different request"


class OrderExists(DomainError):
    code = "ORDER_EXISTS"
    title = "A different order with this id exists"


class StockoutInProgress(DomainError):
    code = "STOCKOUT_IN_PROGRESS"
    title = "A stock-out of this SKU is still running"


class NothingToCancel(DomainError):
    code = "NOTHING_TO_CANCEL"
    title = "Nothing to cancel"


# 412
class OrderVersionMismatch(DomainError):
    code = "ORDER_VERSION_MISMATCH"
    title = "The order has changed since the given version"


# 422
class ReasonNotAllowedForItems(DomainError):
    code = "REASON_NOT_ALLOWED_FOR_ITEMS"
    title = "This reason does not allow cancelling single items"


class UnknownLine(DomainError):
    code = "UNKNOWN_LINE"
    title = "The order has no such line"


class UnknownPackage(DomainError):
    code = "UNKNOWN_PACKAGE"
    title = "The order has no such package"
