"""How a package moves on after the seller: arranging its shipment (Awaiting Shipment ->
Awaiting Collection), and what the order system reports of it afterwards."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import FieldError, PackageCancelled, PackageNotShippable, UnknownPackage
from domain.model import Order, Package, PackageStatus

# The way a package goes, each step after the one before; a report may skip steps but
# never go back. CANCELLED is not on it: only a cancellation cancels a package.
FORWARD = (
    PackageStatus.AWAITING_SHIPMENT,
    PackageStatus.AWAITING_COLLECTION,
    PackageStatus.IN_TRANSIT,
    PackageStatus.DELIVERED,
)
REPORTABLE_STATUSES = frozenset(FORWARD)


def ship_package(order: Order, package_id: str, *, now: datetime) -> Order:
    package = _package(order, package_id)
    if package.status is not PackageStatus.AWAITING_SHIPMENT:
        raise PackageNotShippable(
            f"package {package_id} is {package.status}; only packages awaiting shipment can be "
            "shipped"
        )
    return _with_status(order, package_id, PackageStatus.AWAITING_COLLECTION, now)


def report_package_status(
    order: Order, package_id: str, status: PackageStatus, *, now: datetime
) -> Order | None:
    """The order after the order system's report that the package reached ``status``, or
    None when the report changes nothing: the package is there already or past it (reports
    arrive late and twice). A cancelled package is refused, so that the order system
    stops the parcel."""
    if status not in REPORTABLE_STATUSES:
        raise ValueError(f"{status} cannot be reported; a package is cancelled by a cancellation")
    package = _package(order, package_id)
    if package.status is PackageStatus.CANCELLED:
        raise PackageCancelled(
            f"package {package_id} of order {order.order_id} is cancelled: stop the parcel"
        )
    if FORWARD.index(status) <= FORWARD.index(package.status):
        return None
    return _with_status(order, package_id, status, now)


def _package(order: Order, package_id: str) -> Package:
    package = order.package(package_id)
    if package is None:
        raise UnknownPackage(
            f"order {order.order_id} has no package {package_id}",
            (FieldError("package_id", "unknown package"),),
        )
    return package


def _with_status(order: Order, package_id: str, status: PackageStatus, now: datetime) -> Order:
    packages = tuple(
        replace(p, status=status) if p.package_id == package_id else p for p in order.packages
    )
    return replace(order, packages=packages, version=order.version + 1, updated_at=now)
