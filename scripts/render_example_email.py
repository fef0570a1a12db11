"""Render an example buyer cancellation email into docs/, to look at and to review.

A split USD order (two packages) loses two of its three mugs to an OUT_OF_STOCK item
cancellation. Writes docs/example-cancellation-email.html and .txt and, when a Chromium
is installed, a screenshot docs/example-cancellation-email.png.

    .venv/bin/python scripts/render_example_email.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "domain" / "python"))

from adapters.buyer_email import RenderedEmail, render_cancellation_email  # noqa: E402
from domain.cancellation import (  # noqa: E402
    CancellationRequest,
    CancelReason,
    CancelScope,
    ItemRequest,
    cancel,
)
from domain.intake import LineDraft, PackageDraft, new_order  # noqa: E402
from domain.model import Buyer, PackageStatus  # noqa: E402

DOCS = ROOT / "docs"
BASENAME = "example-cancellation-email"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
WINDOW_SIZE = "720,1100"


def example_email() -> RenderedEmail:
    placed = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    order = new_order(
        order_id="ACME-1004",
        seller_id="S1",
        currency="USD",
        created_at=placed,
        buyer=Buyer(name="Ana Ruiz", email="ana@example.com", locale="en-US"),
        shipping_fee="5.99",
        packages=[
            PackageDraft("PK1", PackageStatus.AWAITING_SHIPMENT),
            PackageDraft("PK2", PackageStatus.AWAITING_SHIPMENT),
        ],
        lines=[
            LineDraft(
                line_id="L1",
                product_id="P-MUG",
                sku_id="K-MUG-BLUE",
                product_name="Stoneware Mug",
                sku_name="Blue, 12 oz",
                package_id="PK1",
                quantity=3,
                unit_price="10.00",
                seller_discount="3.00",
                platform_discount="1.50",
                tax="2.04",
            ),
            LineDraft(
                line_id="L2",
                product_id="P-NAPKIN",
                sku_id="K-NAPKIN-NAT",
                product_name="Linen Napkins, set of 4",
                sku_name="Natural",
                package_id="PK2",
                quantity=1,
                unit_price="18.00",
                seller_discount="0",
                platform_discount="0",
                tax="1.44",
            ),
        ],
        now=placed,
    )
    request = CancellationRequest(
        reason=CancelReason.OUT_OF_STOCK,
        scope=CancelScope.ITEMS,
        items=(ItemRequest("L1", 2),),
        note="Supplier delayed the blue glaze batch",  # internal: must not reach the buyer
    )
    after, cancellation = cancel(
        order,
        request,
        cancellation_id="C-0001",
        actor="seller-user-1",
        now=datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
    )
    return render_cancellation_email(after, cancellation)


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def screenshot(chromium: str, page: Path, png: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(  # noqa: S603 - a fixed command line; the paths are ours  # nosec B603
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={WINDOW_SIZE}",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    email = example_email()
    DOCS.mkdir(exist_ok=True)
    html_path = DOCS / f"{BASENAME}.html"
    text_path = DOCS / f"{BASENAME}.txt"
    html_path.write_text(email.html, encoding="utf-8")
    text_path.write_text(f"Subject: {email.subject}\n\n{email.text}", encoding="utf-8")
    written = [html_path, text_path]
    chromium = find_chromium()
    if chromium is None:
        sys.stderr.write("no Chromium found: skipping the screenshot\n")
    else:
        png_path = DOCS / f"{BASENAME}.png"
        screenshot(chromium, html_path, png_path)
        written.append(png_path)
    sys.stdout.write("".join(f"wrote {path.relative_to(ROOT)}\n" for path in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
