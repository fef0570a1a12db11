"""Arranging shipment of a package: Awaiting Shipment -> Awaiting Collection."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import FieldError, PackageNotShippable, UnknownPackage
from domain.model import Order, PackageStatus


def ship_package(order: Order, package_id: str, *, now: datetime) -> Order:
    package = order.package(package_id)
    if package is None:
        raise UnknownPackage(
            f"order {order.order_id} has no package {package_id}",
            (FieldError("package_id", "unknown package"),),
        )
    if package.status is not PackageStatus.AWAITING_SHIPMENT:
        raise PackageNotShippable(
            f"package {package_id} is {package.status}; only packages awaiting shipment can be "
            "shipped"
        )
    packages = tuple(
        replace(p, status=PackageStatus.AWAITING_COLLECTION) if p.package_id == package_id else p
        for p in order.packages
    )
    return replace(order, packages=packages, version=order.version + 1, updated_at=now)
