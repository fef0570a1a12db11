"""The seller console in Chromium, against a local stack of its own.

The stack (DynamoDB Local, SES on moto, the gateway serving the console, seeded with the
demo data) and the browser start at the first test of this folder and stop after its
last, before other folders' tests start a stack of their own. Each test gets a browser
context of its own (``new_page``, ``page``) and, when it changes anything, a seller of
its own (``new_seller``) whose orders it creates through the API; the console's Seller
select lists it next to the demo sellers. The demo sellers' orders are only ever read.

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM``): ``make chromium`` installs
it; Playwright never downloads a browser here. With ``SCREENSHOTS_DIR`` set, the tests
save a PNG of each step of interest there (``make screenshots``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    Request,
    expect,
    sync_playwright,
)

from local_runtime import PROJECT_ROOT
from local_runtime.gateway.console_site import ConsoleSite, local_config
from local_runtime.stack import LocalStack, demo_sellers

E2E_DIR = Path(__file__).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As root, without a sandbox; no network of Chromium's own (updates, sync, QUIC probes).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# How long the page may take for one step (a preview, a list, a submit).
STEP_TIMEOUT_MS = 10_000
READ_WRITE = ("orders.read", "orders.write")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"))
            item.add_marker(
                pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
            )


# --- the API, as the tests call it beside the page ------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass(frozen=True)
class Api:
    base_url: str

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Answer:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method)  # noqa: S310
        data = None
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        for name, value in headers:
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, data=data, timeout=30) as response:  # noqa: S310
                return _answer(response.status, response.headers.items(), response.read())
        except urllib.error.HTTPError as error:
            return _answer(error.code, error.headers.items(), error.read())

    def outbox(self) -> list[dict[str, Any]]:
        answer = self.call("GET", "/_local/outbox")
        assert answer.status == 200, answer
        messages: list[dict[str, Any]] = answer.body["messages"]
        return messages

    def wait_for_email(self, address: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first email of ``/_local/outbox`` to ``address``; the stream poller sends it
        a moment after the cancellation."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.outbox():
                if address in message["to"]:
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {address} in /_local/outbox after {timeout} s")
            time.sleep(0.2)


def _answer(status: int, headers: Iterable[tuple[str, str]], raw: bytes) -> Answer:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return Answer(status, {name.lower(): value for name, value in headers}, body)


@dataclass(frozen=True)
class Seller:
    """One seller with its own tokens: the routes the tests check the page against."""

    api: Api
    seller_id: str
    token: str
    admin_token: str

    def _ok(self, answer: Answer, *statuses: int) -> Any:
        assert answer.status in (statuses or (200,)), answer
        return answer.body

    def put_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.api.call(
            "PUT", f"/orders/{body['order_id']}", token=self.admin_token, body=body
        )
        created: dict[str, Any] = self._ok(answer, 201)
        return created

    def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._ok(
            self.api.call("GET", f"/orders/{order_id}", token=self.token)
        )
        return found

    def order_ids(self, *, status: str | None = None, product_ids: Iterable[str] = ()) -> list[str]:
        """Every order id of ``GET /orders`` for these filters, page after page."""
        query: list[tuple[str, str]] = [("product_id", p) for p in product_ids]
        if status:
            query.append(("status", status))
        ids: list[str] = []
        token: str | None = None
        while True:
            page_query = [*query, *([("page_token", token)] if token else [])]
            path = "/orders?" + urllib.parse.urlencode(page_query) if page_query else "/orders"
            page = self._ok(self.api.call("GET", path, token=self.token))
            ids += [order["order_id"] for order in page["orders"]]
            token = page["next_page_token"]
            if not token:
                return ids

    def preview(self, order_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.api.call(
            "POST", f"/orders/{order_id}/cancellations/preview", token=self.token, body=request
        )
        preview: dict[str, Any] = self._ok(answer)
        return preview

    def cancel(self, order_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.api.call(
            "POST",
            f"/orders/{order_id}/cancellations",
            token=self.token,
            body=request,
            headers=[("Idempotency-Key", f"e2e-{uuid.uuid4()}")],
        )
        cancellation: dict[str, Any] = self._ok(answer, 201)
        return cancellation

    def cancellations(self, order_id: str) -> list[dict[str, Any]]:
        answer = self.api.call("GET", f"/orders/{order_id}/cancellations", token=self.token)
        found: list[dict[str, Any]] = self._ok(answer)["cancellations"]
        return found

    def ship(self, order_id: str, package_id: str) -> dict[str, Any]:
        answer = self.api.call(
            "POST", f"/orders/{order_id}/packages/{package_id}/ship", token=self.token
        )
        shipped: dict[str, Any] = self._ok(answer)
        return shipped


def line(
    line_id: str,
    package_id: str = "PK1",
    *,
    product_id: str = "P-MUG",
    product_name: str = "Stoneware Mug",
    sku_id: str = "MUG-BLU",
    sku_name: str = "Blue",
    quantity: int = 3,
    unit_price: str = "10.00",
    seller_discount: str = "2.00",
    platform_discount: str = "1.00",
    tax: str = "2.05",
) -> dict[str, Any]:
    """An ``OrderInput`` line; by default API.md's worked example (3 x 10.00, discounts
    2.00 and 1.00, tax 2.05), whose units' shares differ by a cent."""
    return {
        "line_id": line_id,
        "product_id": product_id,
        "sku_id": sku_id,
        "product_name": product_name,
        "sku_name": sku_name,
        "quantity": quantity,
        "unit_price": unit_price,
        "seller_discount": seller_discount,
        "platform_discount": platform_discount,
        "tax": tax,
        "package_id": package_id,
    }


def towel(line_id: str, package_id: str = "PK1", quantity: int = 2) -> dict[str, Any]:
    return line(
        line_id,
        package_id,
        product_id="P-TOWEL",
        product_name="Linen Tea Towel",
        sku_id="TWL-SGE",
        sku_name="Sage",
        quantity=quantity,
        unit_price="9.50",
        seller_discount="0.00",
        platform_discount="0.00",
        tax="1.57",
    )


def order_body(
    seller: Seller,
    order_id: str,
    lines: list[dict[str, Any]],
    *,
    packages: Mapping[str, str] | None = None,
    email: str | None = None,
    buyer: str = "Ana Ruiz",
    created_at: str = "2026-11-20T10:00:00Z",
    shipping_fee: str = "4.99",
) -> dict[str, Any]:
    """``OrderInput`` of ``seller``; ``packages`` maps package ids to their status
    (by default every package of the lines, awaiting shipment)."""
    package_status = packages or {item["package_id"]: "AWAITING_SHIPMENT" for item in lines}
    return {
        "order_id": order_id,
        "seller_id": seller.seller_id,
        "currency": "USD",
        "created_at": created_at,
        "buyer": {
            "name": buyer,
            "email": email or f"buyer-{uuid.uuid4().hex[:12]}@example.com",
            "locale": "en-US",
        },
        "shipping_fee": shipping_fee,
        "packages": [{"package_id": p, "status": s} for p, s in package_status.items()],
        "lines": lines,
    }


def usd(amount: str, *, deduction: bool = False) -> str:
    """How en-US writes a USD amount the page shows (`-$2.00` for a discount taken off)."""
    negative = deduction and amount.strip("0.") != ""
    whole, _, cents = amount.partition(".")
    return f"{'-' if negative else ''}${int(whole):,}.{cents or '00'}"


# --- the console in the browser --------------------------------------------------------

REFUND_ROWS = {
    "items": "subtotal",
    "seller_discount": "seller_discount",
    "platform_discount": "platform_discount",
    "tax": "tax",
    "shipping": "shipping_fee",
    "total": "total",
}
DEDUCTIONS = {"seller_discount", "platform_discount"}


class Console:
    """The To Ship tab, driven by role and accessible name as CONSOLE.md names them."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> Console:
        self.page.goto(f"{self.base_url}/")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        return self

    @property
    def orders(self) -> Locator:
        return self.page.locator("#orders")

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("status")

    @property
    def products(self) -> Locator:
        return self.page.get_by_role("group", name="Products")

    def reloading_list(self, action: Callable[[], object]) -> None:
        """Does ``action`` and waits for the order list it makes the page load."""
        with self.page.expect_response(lambda r: r.request.method == "GET" and "/orders?" in r.url):
            action()
        expect(self.orders).to_have_attribute("aria-busy", "false")

    def choose_seller(self, seller_id: str) -> Console:
        select = self.page.get_by_role("combobox", name="Seller")
        self.reloading_list(lambda: select.select_option(seller_id))
        expect(self.products.get_by_role("checkbox").first).to_be_visible()
        return self

    def check_product(self, name: str, *, checked: bool = True) -> None:
        box = self.products.get_by_role("checkbox", name=name, exact=True)
        self.reloading_list(lambda: box.set_checked(checked))

    def load_everything(self, most_pages: int = 20) -> None:
        more = self.page.get_by_role("button", name="Load more")
        for _ in range(most_pages):
            if not more.count():
                return
            self.reloading_list(more.click)
        raise AssertionError(f"still a Load more after {most_pages} pages")

    def cards(self) -> Locator:
        return self.page.locator("#order-list").get_by_role("article")

    def card_ids(self) -> list[str]:
        return [card.get_attribute("data-order-id") or "" for card in self.cards().all()]

    def card(self, order_id: str) -> Locator:
        return self.page.get_by_role("article", name=f"Order {order_id}", exact=True)

    def card_line(self, order_id: str, line_id: str) -> Locator:
        return self.card(order_id).locator(f'li[data-line-id="{line_id}"]')

    def actions(self, order_id: str) -> Locator:
        return self.page.get_by_role("button", name=f"Actions for order {order_id}", exact=True)

    def dialog(self, order_id: str) -> CancelDialog:
        return CancelDialog(self.page, order_id)

    def open_cancel(self, order_id: str) -> CancelDialog:
        self.actions(order_id).click()
        self.page.get_by_role("menuitem", name="Cancel order").click()
        dialog = self.dialog(order_id)
        expect(dialog.locator).to_be_visible()
        return dialog


class CancelDialog:
    def __init__(self, page: Page, order_id: str) -> None:
        self.page = page
        self.order_id = order_id
        self.locator = page.get_by_role("dialog", name=f"Cancel order {order_id}", exact=True)

    @property
    def refund(self) -> Locator:
        return self.locator.get_by_role("region", name="Refund")

    @property
    def submit_button(self) -> Locator:
        return self.locator.get_by_role("button", name="Submit cancellation")

    @property
    def message(self) -> Locator:
        return self.locator.get_by_role("alert")

    def reason(self, label: str) -> None:
        self.locator.get_by_role("group", name="Reason").get_by_role("radio", name=label).check()
        self.locator.get_by_role("button", name="Continue").click()
        expect(self.locator).to_have_attribute("data-step", "choice")

    def units(self, product: str, sku: str) -> Locator:
        return self.locator.get_by_role("spinbutton", name=f"Units to cancel: {product} — {sku}")

    def target(self, name: str) -> None:
        group = self.locator.get_by_role("group", name="What to cancel")
        group.get_by_role("radio", name=name, exact=True).check()

    def wait_for_refund(self, order_version: int | None = None) -> dict[str, str]:
        """Waits for the preview of the current choice; its rows' raw amounts by row."""
        expect(self.refund).to_have_attribute("data-preview-state", "ready")
        expect(self.refund).to_have_attribute("aria-busy", "false")
        if order_version is not None:
            expect(self.refund).to_have_attribute("data-order-version", str(order_version))
        expect(self.submit_button).to_be_enabled()
        return self.amounts()

    def amounts(self) -> dict[str, str]:
        return {
            row: self.refund.locator(f'tr[data-row="{row}"] td').get_attribute("data-amount") or ""
            for row in REFUND_ROWS
        }

    def shown(self) -> dict[str, str]:
        """The Refund rows as the seller reads them: row header → amount."""
        return {
            (r.get_by_role("rowheader").inner_text()): r.get_by_role("cell").inner_text()
            for r in self.refund.get_by_role("row").all()
        }


def assert_refund_shown(dialog: CancelDialog, refund: Mapping[str, str]) -> None:
    """The dialog's Refund rows are ``refund`` (an API Refund), to the minor unit, both as
    raw amounts and as the seller reads them."""
    assert dialog.amounts() == {row: refund[key] for row, key in REFUND_ROWS.items()}
    labels = {
        "items": "Items",
        "seller_discount": "Seller discount",
        "platform_discount": "Platform discount",
        "tax": "Tax",
        "shipping": "Shipping",
        "total": "Total",
    }
    assert dialog.shown() == {
        labels[row]: usd(refund[key], deduction=row in DEDUCTIONS)
        for row, key in REFUND_ROWS.items()
    }


# --- fixtures ---------------------------------------------------------------------------


class ConsoleSellers:
    """The sellers the console's Seller select lists: the demo sellers, then the tests'."""

    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._sellers = list(demo_sellers())
        self._lock = threading.Lock()

    def add(self, seller_id: str) -> None:
        with self._lock:
            assert seller_id not in self._sellers, f"{seller_id} is another test's seller"
            self._sellers.append(seller_id)
            site = ConsoleSite(local_config(self._sellers), self._stack.template.site_headers)
            self._stack.gateway.serve_site(site)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(port=0, seed=True)
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="package")
def console_sellers(stack: LocalStack) -> ConsoleSellers:
    return ConsoleSellers(stack)


@pytest.fixture(scope="package")
def api(stack: LocalStack) -> Api:
    return Api(stack.base_url)


@pytest.fixture
def seller_for(stack: LocalStack, api: Api) -> Callable[[str], Seller]:
    """``seller_for("seller-acme")``: a seller's tokens, for reading through the API."""

    def make(seller_id: str) -> Seller:
        return Seller(
            api,
            seller_id,
            stack.mint_token(seller_id, READ_WRITE),
            stack.mint_token(seller_id, ["orders.admin"]),
        )

    return make


@pytest.fixture
def new_seller(
    seller_for: Callable[[str], Seller], console_sellers: ConsoleSellers
) -> Callable[[str], Seller]:
    """``new_seller("seller-nova")``: a seller of this test alone, with no orders yet,
    listed in the console's Seller select. (A name, not a random id, keeps the
    screenshots the same from one run to the next: each run has a stack of its own.)"""

    def make(seller_id: str) -> Seller:
        seller = seller_for(seller_id)
        console_sellers.add(seller_id)
        assert seller.order_ids() == [], f"{seller_id} has orders already"
        return seller

    return make


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (or set CHROMIUM)")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
    try:
        yield chromium
    finally:
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in the page on its own: uncaught errors, CSP refusals."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """``new_page(viewport=PHONE, bypass_csp=False)``: a page in a fresh context (en-US,
    UTC); every one is closed after the test, which fails if a page threw or broke the
    Content-Security-Policy."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def make(*, viewport: Mapping[str, int] = DESKTOP, bypass_csp: bool = False) -> Page:
        context = browser.new_context(
            viewport={"width": viewport["width"], "height": viewport["height"]},
            locale="en-US",
            timezone_id="UTC",
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    if problems.errors:
        pytest.fail("the page reported problems:\n" + "\n".join(problems.errors))


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()


@pytest.fixture
def console(page: Page, stack: LocalStack) -> Console:
    """The console in ``page``, not opened yet: a test opens it (``console.open()``) once
    its sellers exist, so that the Seller select lists them."""
    return Console(page, stack.base_url)


Screenshot = Callable[[Page, str], None]


@pytest.fixture
def screenshot() -> Screenshot:
    """``screenshot(page, "01-to-ship-tab")`` saves the viewport as a PNG in
    ``SCREENSHOTS_DIR``; without it, nothing is written."""
    directory = os.environ.get("SCREENSHOTS_DIR")

    def take(page: Page, name: str) -> None:
        if not directory:
            return
        assert re.fullmatch(r"[0-9a-z-]+", name), name
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=target / f"{name}.png", animations="disabled", caret="hide")

    return take


class RequestLog:
    """Every request a page sends, as ``page.on("request")`` sees it."""

    def __init__(self, page: Page) -> None:
        self.requests: list[Request] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.requests.append(request)

    def urls(self) -> list[str]:
        return [request.url for request in self.requests]

    def posts_to(self, suffix: str) -> list[Request]:
        return [
            request
            for request in self.requests
            if request.method == "POST" and urllib.parse.urlsplit(request.url).path.endswith(suffix)
        ]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    assert results["passes"], "axe-core checked nothing"
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {text}" for text in summary.splitlines())
    return "\n".join(lines)
