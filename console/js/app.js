// The seller console's page: signing in, the To Ship tab (status and product
// filters, order cards, Load more, the Stock-out region) and the Cancel order dialog.

import { ApiError, createApi } from "./api.js";
import { beginSignIn, completeSignIn, logoutUrl, readClaims, SignInError, withoutAuthParams } from "./auth.js";
import { ConfigError, loadConfig } from "./config.js";
import { buyerLocale, pageLocale } from "./locale.js";
import { DEFAULT_ORDER_STATUS, ORDER_STATUSES, orderStatusWords } from "./status-words.js";
import { openCancelDialog } from "./views/cancel-dialog.js";
import { h } from "./views/dom.js";
import { renderOrderCard } from "./views/order-card.js";
import { mountStockout } from "./views/stockout.js";

const MAX_PRODUCT_FILTER = 20;

const els = {
  auth: document.getElementById("auth"),
  alert: document.getElementById("page-alert"),
  status: document.getElementById("page-status"),
  statusSelect: document.getElementById("status-select"),
  filters: document.getElementById("filters"),
  products: document.getElementById("products-body"),
  orders: document.getElementById("orders"),
  summary: document.getElementById("orders-summary"),
  list: document.getElementById("order-list"),
  more: document.getElementById("load-more-slot"),
};

const app = {
  config: null,
  api: null,
  token: null, // the access token, in memory only
  who: null,
  session: 0,
  reasons: null,
  products: [],
  selectedProducts: new Set(),
  status: DEFAULT_ORDER_STATUS,
  orders: [],
  nextPageToken: null,
  listSeq: 0,
  loadingMore: false,
  stockout: null, // the Stock-out region (views/stockout.js)
};

// ---------------------------------------------------------------- messages

function showAlert(text) {
  els.alert.textContent = text;
  els.alert.hidden = !text;
}

function clearAlert() {
  showAlert("");
}

let announceTimer = null;

/** Says `text` in the page's status region (also when it repeats). */
function announce(text) {
  clearTimeout(announceTimer);
  els.status.textContent = "";
  announceTimer = setTimeout(() => {
    els.status.textContent = text;
  }, 50);
}

function signedOutStockoutHint() {
  return app.config?.auth.mode === "local"
    ? "Choose a seller to see its SKUs."
    : "Sign in to see your SKUs.";
}

function signedOutHint() {
  return app.config?.auth.mode === "local"
    ? "Choose a seller to see its orders."
    : "Sign in to see your orders.";
}

/** Handles an error of a request of the current session; false when it was stale. */
function reportError(error, session, prefix = "") {
  if (session !== app.session) return false;
  if (error instanceof ApiError && error.status === 401) {
    endSession();
    showAlert(
      app.config.auth.mode === "local"
        ? "Your sign-in has expired. Choose the seller again."
        : "Your sign-in has expired. Sign in again.",
    );
    return true;
  }
  const words = error instanceof ApiError ? error.message : "Something went wrong. Please try again.";
  showAlert(prefix ? `${prefix} ${words}` : words);
  return true;
}

// ---------------------------------------------------------------- signing in

function renderAuth() {
  const { auth } = app.config;
  if (auth.mode === "local") {
    if (!document.getElementById("seller-select")) {
      const select = h(
        "select",
        { id: "seller-select", onchange: () => chooseSeller(select.value) },
        h("option", { value: "" }, "Choose a seller"),
        auth.sellers.map((id) => h("option", { value: id }, id)),
      );
      els.auth.replaceChildren(
        h("div", { class: "field field--inline" }, h("label", { for: "seller-select" }, "Seller"), select),
      );
    }
    document.getElementById("seller-select").value = app.who ?? "";
    return;
  }
  if (app.token) {
    els.auth.replaceChildren(
      h("span", { class: "auth__who" }, app.who ? `Signed in as ${app.who}` : "Signed in"),
      h("button", { type: "button", class: "button", onclick: signOut }, "Sign out"),
    );
  } else {
    els.auth.replaceChildren(h("button", { type: "button", class: "button button--primary", onclick: signIn }, "Sign in"));
  }
}

async function chooseSeller(seller) {
  if (!seller) {
    endSession();
    return;
  }
  const session = ++app.session;
  clearAlert();
  try {
    const token = await app.api.localToken(seller);
    if (session !== app.session) return;
    startSession(token, seller);
  } catch (error) {
    if (session !== app.session) return;
    showAlert(`The seller could not be signed in. ${error instanceof ApiError ? error.message : ""}`.trim());
  }
}

async function signIn() {
  try {
    window.location.assign(await beginSignIn(app.config.auth, { crypto: window.crypto, storage: window.sessionStorage }));
  } catch {
    showAlert("Signing in could not be started in this browser.");
  }
}

function signOut() {
  app.token = null;
  window.location.assign(logoutUrl(app.config.auth));
}

async function finishCognitoSignIn() {
  try {
    const { token, cleanUrl } = await completeSignIn(app.config.auth, {
      url: window.location.href,
      storage: window.sessionStorage,
      fetch: (...args) => window.fetch(...args),
    });
    if (cleanUrl) window.history.replaceState(window.history.state, "", cleanUrl);
    return token;
  } catch (error) {
    window.history.replaceState(window.history.state, "", withoutAuthParams(window.location.href));
    showAlert(error instanceof SignInError ? error.message : "Signing in did not work. Please sign in again.");
    return null;
  }
}

function whoFromToken(token) {
  const claims = readClaims(token) ?? {};
  return claims.seller_id ?? claims["custom:seller_id"] ?? claims.username ?? null;
}

function startSession(token, who) {
  app.session += 1;
  app.token = token;
  app.who = who;
  app.reasons = null;
  app.products = [];
  app.selectedProducts = new Set();
  renderAuth();
  clearAlert();
  app.stockout.reset({ signedIn: true });
  loadProducts();
  loadOrders();
  loadReasons().catch(() => {});
}

function endSession() {
  app.session += 1;
  app.token = null;
  app.who = null;
  app.reasons = null;
  app.products = [];
  app.selectedProducts = new Set();
  app.orders = [];
  app.nextPageToken = null;
  renderAuth();
  renderProducts();
  app.stockout?.reset({ signedIn: false, hint: signedOutStockoutHint() });
  els.list.replaceChildren();
  els.more.replaceChildren();
  els.summary.textContent = signedOutHint();
}

// ---------------------------------------------------------------- filters

function renderStatusOptions() {
  els.statusSelect.replaceChildren(
    ...ORDER_STATUSES.map((s) => h("option", { value: s.code }, s.label)),
  );
  els.statusSelect.value = app.status;
  els.statusSelect.addEventListener("change", () => {
    app.status = els.statusSelect.value;
    if (app.token) loadOrders();
  });
}

function renderProducts(state = "ready", message = "") {
  if (!app.token) {
    els.products.replaceChildren(
      h(
        "p",
        { class: "muted" },
        app.config?.auth.mode === "local" ? "Choose a seller to see its products." : "Sign in to see your products.",
      ),
    );
    return;
  }
  if (state === "loading") {
    els.products.replaceChildren(h("p", { class: "muted" }, "Loading products…"));
    return;
  }
  if (state === "error") {
    els.products.replaceChildren(
      h("p", { class: "error-text" }, message),
      h("button", { type: "button", class: "button", onclick: () => loadProducts() }, "Try again"),
    );
    return;
  }
  if (!app.products.length) {
    els.products.replaceChildren(h("p", { class: "muted" }, "No products yet."));
    return;
  }
  const full = app.selectedProducts.size >= MAX_PRODUCT_FILTER;
  els.products.replaceChildren(
    h(
      "ul",
      { class: "checkbox-list" },
      app.products.map((product) => {
        const checked = app.selectedProducts.has(product.product_id);
        return h(
          "li",
          {},
          h(
            "label",
            { class: "choice" },
            h("input", {
              type: "checkbox",
              value: product.product_id,
              checked,
              disabled: full && !checked,
              "data-product-id": product.product_id,
              onchange: (event) => toggleProduct(product.product_id, event.target.checked),
            }),
            h("span", {}, product.product_name),
          ),
        );
      }),
    ),
    ...(full ? [h("p", { class: "muted" }, `At most ${MAX_PRODUCT_FILTER} products at a time.`)] : []),
  );
}

function toggleProduct(productId, checked) {
  const before = app.selectedProducts.size >= MAX_PRODUCT_FILTER;
  if (checked) app.selectedProducts.add(productId);
  else app.selectedProducts.delete(productId);
  const after = app.selectedProducts.size >= MAX_PRODUCT_FILTER;
  if (before !== after) {
    const focused = document.activeElement?.dataset?.productId;
    renderProducts();
    if (focused) els.products.querySelector(`input[data-product-id="${CSS.escape(focused)}"]`)?.focus();
  }
  loadOrders();
}

async function loadProducts() {
  const session = app.session;
  renderProducts("loading");
  app.stockout.productsLoading();
  try {
    const products = await app.api.listAllProducts();
    if (session !== app.session) return;
    app.products = products;
    app.stockout.productsLoaded(products);
    const known = new Set(products.map((p) => p.product_id));
    app.selectedProducts = new Set([...app.selectedProducts].filter((id) => known.has(id)));
    renderProducts();
  } catch (error) {
    if (session !== app.session) return;
    if (error instanceof ApiError && error.status === 401) {
      reportError(error, session);
      return;
    }
    const words = error instanceof ApiError ? error.message : "";
    renderProducts("error", `The products could not be loaded. ${words}`.trim());
    app.stockout.productsFailed(`The SKUs could not be loaded. ${words}`.trim());
  }
}

async function loadReasons() {
  if (app.reasons) return app.reasons;
  const session = app.session;
  const reasons = await app.api.listCancelReasons();
  if (session === app.session) app.reasons = reasons;
  return reasons;
}

// ---------------------------------------------------------------- the order list

function localeFor(order) {
  return buyerLocale(order, pageLocale());
}

function cardFor(order) {
  return renderOrderCard(order, { locale: localeFor(order), onCancel: startCancel });
}

function cardElement(orderId) {
  return els.list.querySelector(`article[data-order-id="${CSS.escape(orderId)}"]`);
}

function actionsButton(orderId) {
  return cardElement(orderId)?.querySelector(".menu-button__trigger") ?? null;
}

/** Draws `order` anew in its card, keeping the keyboard focus on the card's button. */
function replaceCard(order) {
  const index = app.orders.findIndex((o) => o.order_id === order.order_id);
  if (index >= 0) app.orders[index] = order;
  const old = cardElement(order.order_id);
  if (!old) return;
  const hadFocus = old.contains(document.activeElement);
  const fresh = cardFor(order);
  old.replaceWith(fresh);
  if (hadFocus) actionsButton(order.order_id)?.focus();
}

function summaryText() {
  const status = orderStatusWords(app.status);
  if (!app.orders.length) {
    return app.selectedProducts.size > 0
      ? `No orders with status “${status}” contain the chosen products.`
      : `No orders with status “${status}”.`;
  }
  const count = `${app.orders.length} ${app.orders.length === 1 ? "order" : "orders"}`;
  return `Showing ${count}${app.nextPageToken ? ", more to load" : ""}.`;
}

function renderLoadMore() {
  if (!app.nextPageToken) {
    els.more.replaceChildren();
    return;
  }
  let button = els.more.querySelector("button");
  if (!button) {
    button = h("button", { type: "button", class: "button load-more", onclick: loadMore }, "Load more");
    els.more.replaceChildren(button);
  }
  button.setAttribute("aria-disabled", String(app.loadingMore));
}

async function loadOrders() {
  const session = app.session;
  const seq = ++app.listSeq;
  app.loadingMore = false;
  els.orders.setAttribute("aria-busy", "true");
  els.summary.textContent = "Loading orders…";
  try {
    const page = await app.api.listOrders({ status: app.status, productIds: [...app.selectedProducts] });
    if (session !== app.session || seq !== app.listSeq) return;
    app.orders = page.orders ?? [];
    app.nextPageToken = page.next_page_token ?? null;
    els.list.replaceChildren(...app.orders.map(cardFor));
    clearAlert();
  } catch (error) {
    if (session !== app.session || seq !== app.listSeq) return;
    app.orders = [];
    app.nextPageToken = null;
    els.list.replaceChildren();
    reportError(error, session, "The orders could not be loaded.");
  } finally {
    if (session === app.session && seq === app.listSeq) {
      els.orders.setAttribute("aria-busy", "false");
      if (app.token) els.summary.textContent = summaryText();
      renderLoadMore();
    }
  }
}

async function loadMore() {
  if (app.loadingMore || !app.nextPageToken) return;
  const session = app.session;
  const seq = app.listSeq;
  app.loadingMore = true;
  renderLoadMore();
  els.orders.setAttribute("aria-busy", "true");
  try {
    const page = await app.api.listOrders({
      status: app.status,
      productIds: [...app.selectedProducts],
      pageToken: app.nextPageToken,
    });
    if (session !== app.session || seq !== app.listSeq) return;
    const known = new Set(app.orders.map((o) => o.order_id));
    const added = (page.orders ?? []).filter((o) => !known.has(o.order_id));
    app.orders.push(...added);
    app.nextPageToken = page.next_page_token ?? null;
    const cards = added.map(cardFor);
    els.list.append(...cards);
    const buttonHadFocus = els.more.contains(document.activeElement);
    app.loadingMore = false;
    renderLoadMore();
    // The button is gone after the last page: the keyboard focus goes on to the
    // first new order, or stays in the list when the last page was empty.
    if (buttonHadFocus && !app.nextPageToken) (cards[0] ?? els.list.lastElementChild)?.focus();
  } catch (error) {
    if (session !== app.session || seq !== app.listSeq) return;
    reportError(error, session, "More orders could not be loaded.");
  } finally {
    if (session === app.session && seq === app.listSeq) {
      app.loadingMore = false;
      els.orders.setAttribute("aria-busy", "false");
      els.summary.textContent = summaryText();
      renderLoadMore();
    }
  }
}

// ---------------------------------------------------------------- cancelling

async function startCancel(order) {
  const session = app.session;
  clearTimeout(announceTimer);
  els.status.textContent = "";
  let reasons;
  try {
    reasons = await loadReasons();
  } catch (error) {
    reportError(error, session, "The cancel reasons could not be loaded.");
    actionsButton(order.order_id)?.focus();
    return;
  }
  if (session !== app.session) return;
  const current = app.orders.find((o) => o.order_id === order.order_id) ?? order;
  openCancelDialog({
    order: current,
    reasons,
    api: app.api,
    locale: localeFor(current),
    onOrderRefreshed: (fresh) => {
      if (session === app.session) replaceCard(fresh);
    },
    onSucceeded: ({ message }) => {
      if (session !== app.session) return;
      announce(message);
      refreshOrder(current.order_id, session);
    },
    onClosed: () => actionsButton(current.order_id)?.focus(),
  });
}

async function refreshOrder(orderId, session) {
  try {
    const fresh = await app.api.getOrder(orderId);
    if (session === app.session) replaceCard(fresh);
  } catch (error) {
    reportError(error, session, "The order's new state could not be loaded.");
  }
}

// ---------------------------------------------------------------- stock-outs

function mountStockoutRegion() {
  app.stockout = mountStockout({
    document,
    api: app.api,
    // Refunds of many buyers at once: the page's language writes them.
    locale: pageLocale(),
    onStarted: ({ message }) => announce(message),
    onCompleted: ({ message }) => {
      announce(message);
      // The cards show what the stock-out cancelled, as after a cancellation.
      if (app.token) loadOrders();
    },
    onUnauthorized: (error) => reportError(error, app.session),
    onRetryProducts: () => {
      if (app.token) loadProducts();
    },
  });
}

// ---------------------------------------------------------------- start

async function boot() {
  renderStatusOptions();
  els.filters.addEventListener("submit", (event) => event.preventDefault());
  try {
    app.config = await loadConfig((...args) => window.fetch(...args));
  } catch (error) {
    showAlert(error instanceof ConfigError ? error.message : "The console could not start. Reload the page.");
    els.summary.textContent = "";
    return;
  }
  app.api = createApi({
    baseUrl: app.config.apiUrl,
    getToken: () => app.token,
    fetch: (...args) => window.fetch(...args),
  });
  document.body.dataset.authMode = app.config.auth.mode;
  mountStockoutRegion();
  endSession();
  if (app.config.auth.mode === "cognito") {
    const token = await finishCognitoSignIn();
    if (token) startSession(token, whoFromToken(token));
  }
  document.body.dataset.ready = "true";
}

boot();
