"""The seller console as a seller uses it: in Chromium, by role and accessible name
(CONSOLE.md), each figure checked against the API's own answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from local_runtime.stack import LocalStack
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    Console,
    NewPage,
    RequestLog,
    Screenshot,
    Seller,
    assert_refund_shown,
    axe_violations,
    describe_violations,
    line,
    order_body,
    towel,
    usd,
)

SellerFactory = Callable[[str], Seller]
ACME = "seller-acme"
MUG = ("Stoneware Mug", "Blue")
TOWEL = ("Linen Tea Towel", "Sage")


def items(*pairs: tuple[str, int], reason: str = "OUT_OF_STOCK") -> dict[str, Any]:
    return {
        "reason": reason,
        "scope": "ITEMS",
        "items": [{"line_id": line_id, "quantity": quantity} for line_id, quantity in pairs],
    }


def split_order(seller: Seller, order_id: str, **kwargs: Any) -> dict[str, Any]:
    """PK1 holds 3 mugs (L1), PK2 2 tea towels (L2)."""
    body = order_body(seller, order_id, [line("L1"), towel("L2", "PK2")], **kwargs)
    return seller.put_order(body)


def focus_in_dialog(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => { const d = document.querySelector('dialog[open]');"
            " return !!d && d !== document.activeElement && d.contains(document.activeElement); }"
        )
    )


def fits_width(page: Page) -> tuple[int, int]:
    width: list[int] = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    return width[0], width[1]


# 1 ------------------------------------------------------------------------------------


def test_product_filter_shows_only_the_orders_containing_it(
    console: Console, seller_for: Callable[[str], Seller], screenshot: Screenshot
) -> None:
    acme = seller_for(ACME)
    products = acme.api.call("GET", "/products", token=acme.token).body["products"]
    mug = next(p for p in products if p["product_name"] == "Stoneware Mug")

    console.open().choose_seller(ACME)
    expect(console.page.get_by_role("heading", name="To Ship", level=1)).to_be_visible()
    screenshot(console.page, "01-to-ship-tab")
    console.load_everything()
    everything = console.card_ids()
    assert everything == acme.order_ids()

    console.check_product("Stoneware Mug")
    console.load_everything()
    shown = console.card_ids()
    with_mug = acme.order_ids(product_ids=[mug["product_id"]])
    assert shown == with_mug
    assert 0 < len(shown) < len(everything), "the filter leaves some orders out"
    for order_id in shown:
        products_on_card = console.card(order_id).locator(".order-line__product").all_inner_texts()
        assert "Stoneware Mug" in products_on_card, order_id

    console.check_product("Stoneware Mug", checked=False)
    console.load_everything()
    assert console.card_ids() == everything


# 2 ------------------------------------------------------------------------------------


def test_cancelling_two_of_three_units_refunds_what_the_api_previews(
    console: Console, new_seller: SellerFactory, screenshot: Screenshot
) -> None:
    seller = new_seller("seller-nova")
    email = f"ana.ruiz.{seller.seller_id}@example.com"
    order_id = "ORD-2001"
    seller.put_order(order_body(seller, order_id, [line("L1"), towel("L2")], email=email))

    console.open().choose_seller(seller.seller_id)
    dialog = console.open_cancel(order_id)
    expect(dialog.locator.get_by_role("group", name="Reason")).to_be_visible()
    screenshot(console.page, "02-dialog-reason")
    dialog.reason("Out of stock")
    expect(dialog.units(*MUG)).to_be_focused()
    expect(dialog.refund).to_have_attribute("data-preview-state", "idle")
    expect(dialog.submit_button).to_be_disabled()

    dialog.units(*MUG).fill("2")
    expected = seller.preview(order_id, items(("L1", 2)))
    dialog.wait_for_refund(expected["order_version"])
    assert_refund_shown(dialog, expected["refund"])
    total = usd(expected["refund"]["total"])
    screenshot(console.page, "04-dialog-refund")

    dialog.submit_button.click()
    expect(dialog.locator).to_be_hidden()
    expect(console.status).to_have_text(
        re.compile(
            rf"^Cancelled 2 units of Stoneware Mug — Blue .*{order_id}.*"
            rf"refund {re.escape(total)}$"
        )
    )
    expect(console.card_line(order_id, "L1")).to_contain_text("Quantity 3, 2 cancelled")
    expect(console.card(order_id)).to_have_attribute(
        "data-order-version", str(expected["order_version"] + 1)
    )
    screenshot(console.page, "05-cancelled")

    (cancellation,) = seller.cancellations(order_id)
    assert cancellation["refund"] == expected["refund"]
    after = seller.order(order_id)
    mugs = next(item for item in after["lines"] if item["line_id"] == "L1")
    assert (mugs["cancelled_quantity"], mugs["cancellable_quantity"]) == (2, 1)

    # What is left, as the seller sees it when cancelling again: one unit.
    again = console.open_cancel(order_id)
    again.reason("Out of stock")
    expect(again.units(*MUG)).to_have_attribute("max", "1")
    expect(again.locator).to_contain_text("Up to 1 of 3 (2 already cancelled)")
    again.locator.get_by_role("button", name="Close").click()
    expect(again.locator).to_be_hidden()

    message = seller.api.wait_for_email(email)
    assert order_id in message["subject"]
    assert total in message["text"]


# 3 ------------------------------------------------------------------------------------


def test_lines_of_a_package_awaiting_collection_are_grayed_out_and_cannot_be_cancelled(
    console: Console, new_seller: SellerFactory, screenshot: Screenshot
) -> None:
    seller = new_seller("seller-lumen")
    order_id = "ORD-3001"
    split_order(seller, order_id, packages={"PK1": "AWAITING_SHIPMENT", "PK2": "AWAITING_SHIPMENT"})
    shipped = seller.ship(order_id, "PK2")
    towels = next(item for item in shipped["lines"] if item["line_id"] == "L2")
    assert (towels["item_cancellable"], towels["ineligible_reason"]) == (
        False,
        "PACKAGE_NOT_AWAITING_SHIPMENT",
    )

    console.open().choose_seller(seller.seller_id)
    blocked = console.card_line(order_id, "L2")
    open_line = console.card_line(order_id, "L1")
    expect(blocked).to_contain_text("Package awaiting collection")
    expect(blocked).to_contain_text("Package PK2: Awaiting collection")
    expect(open_line).not_to_contain_text("Package awaiting collection")
    look = "(el) => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderColor]; }"
    assert blocked.evaluate(look) != open_line.evaluate(look), "the blocked line looks different"

    dialog = console.open_cancel(order_id)
    dialog.reason("Out of stock")
    expect(dialog.units(*TOWEL)).to_be_disabled()
    expect(dialog.units(*MUG)).to_be_enabled()
    expect(dialog.locator.locator('[data-line-id="L2"]').first).to_contain_text(
        "Package awaiting collection"
    )
    screenshot(console.page, "03-dialog-units")


# 4 ------------------------------------------------------------------------------------


def test_whole_order_and_package_cancellations_end_cancelled(
    console: Console, new_seller: SellerFactory, screenshot: Screenshot
) -> None:
    seller = new_seller("seller-orbit")
    whole, parcel = "ORD-4001", "ORD-4002"
    split_order(seller, whole, created_at="2026-11-20T10:00:00Z")
    split_order(seller, parcel, created_at="2026-11-20T09:00:00Z")
    console.open().choose_seller(seller.seller_id)

    dialog = console.open_cancel(whole)
    dialog.reason("Buyer requested")
    expect(dialog.locator.get_by_role("group", name="What to cancel")).to_be_visible()
    dialog.target("Whole order")
    expected = seller.preview(whole, {"reason": "BUYER_REQUESTED", "scope": "ORDER"})
    dialog.wait_for_refund(expected["order_version"])
    assert_refund_shown(dialog, expected["refund"])
    screenshot(console.page, "08-dialog-what-to-cancel")
    dialog.submit_button.click()
    expect(console.status).to_have_text(
        re.compile(
            rf"^Cancelled order {whole}; refund {re.escape(usd(expected['refund']['total']))}$"
        )
    )
    expect(console.card(whole)).to_have_attribute("data-order-status", "CANCELLED")
    expect(console.card(whole).locator(".status-badge")).to_have_text("Cancelled")
    after = seller.order(whole)
    assert after["status"] == "CANCELLED"
    assert {p["status"] for p in after["packages"]} == {"CANCELLED"}

    dialog = console.open_cancel(parcel)
    dialog.reason("Buyer requested")
    dialog.target("Package PK2")
    expected = seller.preview(
        parcel, {"reason": "BUYER_REQUESTED", "scope": "PACKAGE", "package_id": "PK2"}
    )
    dialog.wait_for_refund(expected["order_version"])
    assert_refund_shown(dialog, expected["refund"])
    dialog.submit_button.click()
    expect(console.status).to_have_text(
        re.compile(
            rf"^Cancelled package PK2 of order {parcel}; "
            rf"refund {re.escape(usd(expected['refund']['total']))}$"
        )
    )
    expect(console.card_line(parcel, "L2")).to_contain_text("Package PK2: Cancelled")
    expect(console.card(parcel)).to_have_attribute("data-order-status", "AWAITING_SHIPMENT")
    after = seller.order(parcel)
    assert {p["package_id"]: p["status"] for p in after["packages"]} == {
        "PK1": "AWAITING_SHIPMENT",
        "PK2": "CANCELLED",
    }
    assert after["status"] == "AWAITING_SHIPMENT"


# 5 ------------------------------------------------------------------------------------


def test_an_order_changed_before_submit_is_previewed_again_then_cancelled(
    console: Console, new_seller: SellerFactory, screenshot: Screenshot
) -> None:
    seller = new_seller("seller-pine")
    order_id = "ORD-5001"
    created = split_order(seller, order_id)
    log = RequestLog(console.page)
    console.open().choose_seller(seller.seller_id)

    dialog = console.open_cancel(order_id)
    dialog.reason("Out of stock")
    dialog.units(*MUG).fill("2")
    first = seller.preview(order_id, items(("L1", 2)))
    assert first["order_version"] == created["version"]
    dialog.wait_for_refund(first["order_version"])
    assert_refund_shown(dialog, first["refund"])

    # Meanwhile the order system, or a colleague, cancels the third mug.
    seller.cancel(order_id, items(("L1", 1)))
    second = seller.preview(order_id, items(("L1", 2)))
    assert second["order_version"] == first["order_version"] + 1
    assert second["refund"] != first["refund"], "the other units refund other cents"

    dialog.submit_button.click()
    expect(dialog.message).to_contain_text("This order changed while you were looking at it")
    dialog.wait_for_refund(second["order_version"])
    assert_refund_shown(dialog, second["refund"])
    expect(dialog.units(*MUG)).to_have_value("2")
    expect(dialog.locator).to_contain_text("Up to 2 of 3 (1 already cancelled)")
    screenshot(console.page, "06-order-changed")

    dialog.submit_button.click()
    expect(dialog.locator).to_be_hidden()
    expect(console.status).to_have_text(
        re.compile(rf"^Cancelled 2 units .*refund {re.escape(usd(second['refund']['total']))}$")
    )
    expect(console.card_line(order_id, "L1")).to_contain_text("Quantity 3, 3 cancelled")
    submits = log.posts_to("/cancellations")
    assert [r.headers.get("if-match") for r in submits] == [
        f'"{first["order_version"]}"',
        f'"{second["order_version"]}"',
    ]
    assert len({r.headers.get("idempotency-key") for r in submits}) == 1
    assert [c["refund"] for c in seller.cancellations(order_id)][-1] == second["refund"]
    mugs = next(item for item in seller.order(order_id)["lines"] if item["line_id"] == "L1")
    assert mugs["cancelled_quantity"] == 3


# 6 ------------------------------------------------------------------------------------


def test_a_double_click_on_submit_sends_one_cancellation(
    console: Console, new_seller: SellerFactory
) -> None:
    seller = new_seller("seller-quill")
    order_id = "ORD-6001"
    seller.put_order(order_body(seller, order_id, [line("L1"), towel("L2")]))
    console.open().choose_seller(seller.seller_id)
    dialog = console.open_cancel(order_id)
    dialog.reason("Out of stock")
    dialog.units(*MUG).fill("1")
    dialog.wait_for_refund()

    log = RequestLog(console.page)
    dialog.submit_button.dblclick()
    expect(console.status).to_have_text(re.compile(r"^Cancelled 1 unit of Stoneware Mug"))
    expect(console.card_line(order_id, "L1")).to_contain_text("1 cancelled")
    console.page.wait_for_timeout(500)
    assert len(log.posts_to("/cancellations")) == 1, log.urls()
    assert len(seller.cancellations(order_id)) == 1


# 7 ------------------------------------------------------------------------------------


def test_the_dialog_works_with_the_keyboard_alone(
    console: Console, new_seller: SellerFactory
) -> None:
    seller = new_seller("seller-reed")
    order_id = "ORD-7001"
    seller.put_order(order_body(seller, order_id, [line("L1"), towel("L2")]))
    console.open().choose_seller(seller.seller_id)
    page, keyboard = console.page, console.page.keyboard
    button = console.actions(order_id)
    menu_item = page.get_by_role("menuitem", name="Cancel order")
    dialog = console.dialog(order_id)

    def press(key: str) -> None:
        keyboard.press(key)
        assert focus_in_dialog(page), f"after {key} the focus left the dialog"

    button.focus()
    keyboard.press("Enter")
    expect(menu_item).to_be_focused()
    keyboard.press("Escape")
    expect(menu_item).to_be_hidden()
    expect(button).to_be_focused()
    keyboard.press("ArrowDown")
    expect(menu_item).to_be_focused()
    keyboard.press("Enter")
    expect(dialog.locator).to_be_visible()

    reasons = dialog.locator.get_by_role("group", name="Reason")
    out_of_stock = reasons.get_by_role("radio", name="Out of stock")
    second_reason = reasons.get_by_role("radio").nth(1)
    close = dialog.locator.get_by_role("button", name="Close")
    go_on = dialog.locator.get_by_role("button", name="Continue")
    expect(out_of_stock).to_be_focused()
    press("Space")
    expect(out_of_stock).to_be_checked()
    press("ArrowDown")
    expect(second_reason).to_be_focused()
    expect(second_reason).to_be_checked()
    press("ArrowUp")
    expect(out_of_stock).to_be_checked()
    press("Tab")
    expect(go_on).to_be_focused()
    press("Tab")
    expect(close).to_be_focused()
    press("Shift+Tab")
    expect(go_on).to_be_focused()
    press("Shift+Tab")
    expect(out_of_stock).to_be_focused()
    press("Shift+Tab")
    expect(close).to_be_focused()
    press("Tab")
    press("Tab")
    expect(go_on).to_be_focused()
    press("Enter")
    expect(dialog.locator).to_have_attribute("data-step", "choice")

    units = dialog.units(*MUG)
    expect(units).to_be_focused()
    press("ArrowUp")
    press("ArrowUp")
    expect(units).to_have_value("2")
    dialog.wait_for_refund()
    press("Tab")
    expect(dialog.units(*TOWEL)).to_be_focused()
    press("Tab")
    expect(dialog.locator.get_by_role("button", name="Back")).to_be_focused()
    press("Tab")
    expect(dialog.submit_button).to_be_focused()
    for _ in range(6):  # round and round, never out of the dialog
        press("Tab")
    for _ in range(6):
        press("Shift+Tab")
    expect(dialog.submit_button).to_be_focused()
    keyboard.press("Enter")
    expect(dialog.locator).to_be_hidden()
    expect(console.status).to_have_text(re.compile(r"^Cancelled 2 units of Stoneware Mug"))
    expect(console.card_line(order_id, "L1")).to_contain_text("2 cancelled")
    expect(button).to_be_focused()

    keyboard.press("Space")
    expect(menu_item).to_be_focused()
    keyboard.press("Enter")
    expect(dialog.locator).to_be_visible()
    expect(out_of_stock).to_be_focused()
    keyboard.press("Escape")
    expect(dialog.locator).to_be_hidden()
    expect(button).to_be_focused()
    assert len(seller.cancellations(order_id)) == 1


# 8 ------------------------------------------------------------------------------------


def test_no_serious_accessibility_violation_on_any_screen(
    new_page: NewPage, stack: LocalStack, new_seller: SellerFactory
) -> None:
    seller = new_seller("seller-sable")
    order_id = "ORD-8001"
    split_order(seller, order_id, created_at="2026-11-20T10:00:00Z")
    collecting = "ORD-8002"
    split_order(seller, collecting, created_at="2026-11-20T09:00:00Z")
    seller.ship(collecting, "PK2")
    # axe-core is injected as an inline script, which the page's CSP (rightly) refuses.
    console = Console(new_page(bypass_csp=True), stack.base_url).open()
    found: dict[str, list[dict[str, Any]]] = {}

    def check(screen: str) -> None:
        violations = axe_violations(console.page)
        if violations:
            found[screen] = violations

    console.choose_seller(seller.seller_id)
    expect(console.card_line(collecting, "L2")).to_contain_text("Package awaiting collection")
    check("the To Ship tab")

    dialog = console.open_cancel(order_id)
    check("the dialog: reason")
    dialog.reason("Out of stock")
    check("the dialog: units to cancel")
    dialog.units(*MUG).fill("2")
    dialog.wait_for_refund()
    check("the dialog: units, with the Refund")
    dialog.locator.get_by_role("button", name="Back").click()
    dialog.reason("Buyer requested")
    check("the dialog: what to cancel")
    dialog.target("Package PK2")
    dialog.wait_for_refund()
    check("the dialog: what to cancel, with the Refund")
    dialog.submit_button.click()
    expect(dialog.locator).to_be_hidden()
    expect(console.status).to_have_text(re.compile(r"^Cancelled package PK2"))
    check("after the cancellation")

    dialog = console.open_cancel(collecting)
    dialog.reason("Out of stock")
    check("the dialog: units to cancel, a line awaiting collection")

    if found:
        pytest.fail(
            "serious or critical axe-core violations:\n\n"
            + "\n\n".join(f"{screen}:\n{describe_violations(v)}" for screen, v in found.items())
        )


# 9 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_no_horizontal_scrolling(
    new_page: NewPage,
    stack: LocalStack,
    seller_for: Callable[[str], Seller],
    viewport: dict[str, int],
    screenshot: Screenshot,
) -> None:
    acme = seller_for(ACME)
    first_page = acme.api.call("GET", "/orders", token=acme.token).body["orders"]
    # The widest card: most lines, one of them not cancellable.
    order = max(
        (o for o in first_page if any(not item["item_cancellable"] for item in o["lines"])),
        key=lambda o: len(o["lines"]),
    )
    console = Console(new_page(viewport=viewport), stack.base_url).open()
    phone = viewport == PHONE
    wide: dict[str, tuple[int, int]] = {}

    def check(screen: str) -> None:
        scroll_width, inner_width = fits_width(console.page)
        if scroll_width > inner_width:
            wide[screen] = (scroll_width, inner_width)

    check("signed out")
    console.choose_seller(ACME)
    check("the To Ship tab")
    if phone:
        screenshot(console.page, "07-phone")
    console.card(order["order_id"]).scroll_into_view_if_needed()
    check("the To Ship tab, scrolled to a split order")

    dialog = console.open_cancel(order["order_id"])
    check("the dialog: reason")
    dialog.reason("Out of stock")
    check("the dialog: units to cancel")
    eligible = next(item for item in order["lines"] if item["item_cancellable"])
    dialog.units(eligible["product_name"], eligible["sku_name"]).fill("1")
    dialog.wait_for_refund()
    check("the dialog: with the Refund")
    if phone:
        screenshot(console.page, "09-phone-dialog")
    dialog.locator.get_by_role("button", name="Back").click()
    dialog.reason("Unable to deliver")
    check("the dialog: what to cancel")
    dialog.locator.get_by_role("button", name="Close").click()
    expect(dialog.locator).to_be_hidden()

    assert not wide, f"wider than the window (scrollWidth, innerWidth): {wide}"


# 10 -----------------------------------------------------------------------------------


def test_no_request_leaves_the_page_origin(
    new_page: NewPage, stack: LocalStack, new_seller: SellerFactory
) -> None:
    seller = new_seller("seller-tide")
    order_id = "ORD-1001"
    seller.put_order(order_body(seller, order_id, [line("L1"), towel("L2")]))
    # The CSP would stop a request elsewhere before it is sent, unseen here: lifted, every
    # request the page tries shows up.
    page = new_page(bypass_csp=True)
    log = RequestLog(page)
    console = Console(page, stack.base_url).open()

    console.choose_seller(ACME)
    console.load_everything()
    console.check_product("Gooseneck Kettle")
    status = page.get_by_role("combobox", name="Status")
    console.reloading_list(lambda: status.select_option(label="Awaiting collection"))
    console.reloading_list(lambda: status.select_option(label="Awaiting shipment"))

    console.choose_seller(seller.seller_id)
    dialog = console.open_cancel(order_id)
    dialog.reason("Out of stock")
    dialog.units(*MUG).fill("1")
    dialog.wait_for_refund()
    dialog.submit_button.click()
    expect(console.status).to_have_text(re.compile(r"^Cancelled 1 unit"))
    expect(console.card_line(order_id, "L1")).to_contain_text("1 cancelled")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    urls = log.urls()
    paths = {url.removeprefix(stack.base_url).split("?")[0] for url in urls}
    assert {"/", "/config.json", "/styles.css", "/js/app.js", "/favicon.svg"} <= paths
    assert {"/_local/token", "/products", "/orders", "/cancel-reasons"} <= paths
    assert f"/orders/{order_id}/cancellations" in paths
    elsewhere = [url for url in urls if not url.startswith(f"{stack.base_url}/")]
    assert not elsewhere, f"requests to other origins: {elsewhere}"


# 12 -----------------------------------------------------------------------------------


def test_a_stockout_from_the_console_keeps_the_oldest_orders_and_cancels_the_rest(
    console: Console, new_seller: SellerFactory, screenshot: Screenshot
) -> None:
    seller = new_seller("seller-vega")
    orders = [f"ORD-31{n:02d}" for n in range(4)]
    for minute, order_id in enumerate(orders):
        seller.put_order(
            order_body(
                seller,
                order_id,
                [line("L1", quantity=2), towel("L2")],
                created_at=f"2026-11-20T10:{minute:02d}:00Z",
            )
        )
    expected = seller.api.call(
        "POST",
        "/stockouts/preview",
        token=seller.token,
        body={"sku_id": "MUG-BLU", "units_on_hand": 3},
    ).body

    console.open().choose_seller(seller.seller_id)
    region = console.page.get_by_role("region", name="Stock-out")
    region.get_by_role("combobox", name="SKU").select_option("MUG-BLU")
    region.get_by_role("spinbutton", name="Units on hand").fill("3")
    start = region.get_by_role("button", name="Cancel the rest")
    expect(start).to_be_disabled()
    region.get_by_role("button", name="Preview stock-out").click()

    expect(region).to_contain_text(f"{expected['orders_to_cancel']} orders")
    expect(region).to_contain_text(f"{expected['units_to_cancel']} units")
    expect(start).to_be_enabled()
    screenshot(console.page, "10-stockout-preview")
    start.click()

    progress = region.get_by_role("progressbar", name="Stock-out progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "3", timeout=30_000)
    expect(progress).to_have_attribute("aria-valuemax", "3")
    expect(console.status).to_contain_text("3 orders cancelled", timeout=30_000)
    expect(console.status).to_contain_text("0 skipped")
    screenshot(console.page, "11-stockout-done")

    left = [
        sum(
            x["quantity"] - x["cancelled_quantity"]
            for x in seller.order(o)["lines"]
            if x["line_id"] == "L1"
        )
        for o in orders
    ]
    assert left == [2, 1, 0, 0]
    for order_id in orders[1:]:
        (cancellation,) = seller.cancellations(order_id)
        assert cancellation["reason"] == "OUT_OF_STOCK"
    expect(console.card_line(orders[3], "L1")).to_contain_text("2 cancelled")
