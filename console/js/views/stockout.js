// The Stock-out region (the section #stockout of index.html), drawn from the
// state machine of stockout-state.js: a select "SKU", a number field "Units on
// hand", "Preview stock-out", the preview in words, "Cancel the rest", and while
// it runs a progressbar "Stock-out progress", then the summary.
//
// The elements are the page's own (found by id); one machine per signed-in
// seller: reset() drops it (and its polling) and starts afresh.

import { createStockoutState, RUN } from "../stockout-state.js";
import { h } from "./dom.js";

const IDS = {
  region: "stockout",
  form: "stockout-form",
  sku: "stockout-sku",
  skuHint: "stockout-sku-hint",
  skuError: "stockout-sku-error",
  skuRetry: "stockout-sku-retry",
  units: "stockout-units",
  unitsHint: "stockout-units-hint",
  unitsError: "stockout-units-error",
  preview: "stockout-preview",
  alert: "stockout-alert",
  previewBox: "stockout-preview-box",
  previewSummary: "stockout-preview-summary",
  previewOrders: "stockout-preview-orders",
  previewOrdersTitle: "stockout-preview-orders-title",
  previewOrdersList: "stockout-preview-orders-list",
  start: "stockout-start",
  startHint: "stockout-start-hint",
  run: "stockout-run",
  progress: "stockout-progress",
  progressBar: "stockout-progress-bar",
  progressText: "stockout-progress-text",
  result: "stockout-result",
  check: "stockout-check",
};

function elements(doc) {
  const els = {};
  for (const [name, id] of Object.entries(IDS)) {
    els[name] = doc.getElementById(id);
    if (!els[name]) throw new Error(`the Stock-out region needs #${id}`);
  }
  return els;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function setError(input, errorEl, hintId, text) {
  errorEl.hidden = !text;
  setText(errorEl, text ?? "");
  if (text) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${hintId} ${errorEl.id}`);
  } else {
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", hintId);
  }
}

/** "Refunds: $1.00 and €2.00." with each amount in a span carrying its currency and raw decimal. */
function refundsLine(refunds) {
  const spans = refunds.map((r) =>
    h("span", { class: "stockout__amount", "data-currency": r.currency, "data-amount": r.total }, r.text),
  );
  const parts = [];
  spans.forEach((span, i) => {
    if (i > 0) parts.push(i === spans.length - 1 ? " and " : ", ");
    parts.push(span);
  });
  return h("p", { "data-figure": "refunds" }, "Refunds: ", parts, ".");
}

function startHint(s, signedIn) {
  if (!signedIn) return "";
  if (s.run === RUN.STARTING) return "Starting the stock-out…";
  if (s.run === RUN.FOLLOWING) return "A stock-out is running: wait for it to finish.";
  const { preview } = s;
  if (preview.state === "pending") return "Waiting for the preview…";
  if (preview.state !== "ready") return "Preview the stock-out first.";
  if (!preview.fresh) return "The SKU or the units on hand changed since this preview: preview again.";
  if (preview.summary?.nothing) return "Nothing to cancel.";
  return preview.summary.startText;
}

/**
 * Binds the region.
 * options: {document, api, locale, onStarted({stockout, message}),
 *           onCompleted({stockout, message}), onUnauthorized(error), onRetryProducts()}
 */
export function mountStockout({
  document: doc = globalThis.document,
  api,
  locale,
  onStarted = () => {},
  onCompleted = () => {},
  onUnauthorized = () => {},
  onRetryProducts = () => {},
}) {
  const els = elements(doc);
  let machine = null;
  let signedIn = false;
  let signedOutText = "";
  let products = { state: "idle", message: "" }; // idle | loading | ready | error
  let drawnSkus = null;
  let drawnPreview = null;

  function drawSkuOptions(s) {
    let placeholder = "Choose a SKU";
    if (signedIn && products.state === "loading") placeholder = "Loading SKUs…";
    else if (signedIn && products.state === "ready" && !s.skus.length) placeholder = "No SKUs yet";
    const key = `${placeholder}|${s.skus.map((o) => `${o.value}\u0000${o.text}`).join("\u0001")}`;
    if (key !== drawnSkus) {
      els.sku.replaceChildren(
        h("option", { value: "" }, placeholder),
        ...s.skus.map((o) => h("option", { value: o.value, "data-product-id": o.productId ?? "" }, o.text)),
      );
      drawnSkus = key;
    }
    if (els.sku.value !== (s.skuId ?? "")) els.sku.value = s.skuId ?? "";
  }

  function drawPreview(s) {
    const { preview } = s;
    els.previewBox.setAttribute("aria-busy", String(preview.state === "pending"));
    els.previewBox.classList.toggle("stockout__preview--stale", preview.state === "ready" && !preview.fresh);
    els.region.dataset.previewState = preview.state;
    // The summary is redrawn only when it says something new (it is a live region).
    const key = preview.state === "ready" ? preview.summary : preview.state;
    if (key === drawnPreview) return;
    drawnPreview = key;
    if (preview.state === "pending") {
      els.previewSummary.replaceChildren(h("p", { class: "muted" }, "Working out what would be cancelled…"));
    } else if (preview.state === "ready") {
      const sum = preview.summary;
      els.previewSummary.replaceChildren(
        h("p", { class: "stockout__sku" }, "Preview for ", h("strong", {}, preview.skuLabel), ":"),
        h("p", { "data-figure": "matched" }, sum.matchedText),
        h("p", { class: "stockout__lead", "data-figure": "cancel" }, sum.cancelText),
        sum.keptText ? h("p", { "data-figure": "kept" }, sum.keptText) : null,
        sum.nothing ? null : sum.refunds.length ? refundsLine(sum.refunds) : h("p", { "data-figure": "refunds" }, sum.refundsText),
        sum.truncatedText ? h("p", { "data-figure": "truncated" }, sum.truncatedText) : null,
      );
    } else {
      els.previewSummary.replaceChildren();
    }
    const orders = preview.state === "ready" ? preview.summary.orders : [];
    els.previewOrders.hidden = orders.length === 0;
    if (orders.length) {
      const d = preview.data;
      setText(
        els.previewOrdersTitle,
        d.truncated ? `Orders to cancel: the first ${orders.length} of ${d.orders_to_cancel}` : `Orders to cancel (${orders.length})`,
      );
      els.previewOrdersList.replaceChildren(
        ...orders.map((o) => h("li", { "data-order-id": o.orderId, "data-units": o.units }, o.text)),
      );
    } else {
      els.previewOrders.open = false;
      els.previewOrdersList.replaceChildren();
    }
  }

  function drawRun(s) {
    const shown = s.run !== RUN.NONE;
    els.run.hidden = !shown;
    els.region.dataset.runState = s.run;
    if (s.stockout?.stockout_id) {
      els.region.dataset.stockoutId = s.stockout.stockout_id;
      els.region.dataset.stockoutStatus = s.stockout.status ?? "";
    } else {
      delete els.region.dataset.stockoutId;
      delete els.region.dataset.stockoutStatus;
    }
    const p = s.progress;
    els.progress.hidden = !p;
    if (p) {
      els.progress.setAttribute("aria-valuemax", String(p.max));
      els.progress.setAttribute("aria-valuetext", p.valueText);
      if (p.indeterminate) els.progress.removeAttribute("aria-valuenow");
      else els.progress.setAttribute("aria-valuenow", String(p.value));
      els.progress.classList.toggle("progress--indeterminate", p.indeterminate);
      els.progress.classList.toggle("progress--done", s.run === RUN.COMPLETED);
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      els.progressBar.style.width = p.indeterminate ? "" : `${(p.fraction * 100).toFixed(1)}%`;
    }
    setText(els.progressText, s.run === RUN.STARTING ? "Starting the stock-out…" : (p?.text ?? ""));
    els.result.hidden = !s.completedText;
    setText(els.result, s.completedText ?? "");
    els.check.hidden = s.run !== RUN.LOST;
  }

  function render(s) {
    const ready = signedIn && machine !== null;
    drawSkuOptions(s);
    const formOff = !ready || s.busy;
    els.sku.disabled = formOff || products.state !== "ready" || s.skus.length === 0;
    els.units.disabled = formOff;
    els.preview.disabled = formOff || !s.canPreview;

    // Units: the machine's text, unless the seller is typing in the field.
    if (doc.activeElement !== els.units && els.units.value !== s.unitsText && s.unitsText !== "?") {
      els.units.value = s.unitsText;
    }

    let hint = "";
    if (!signedIn) hint = signedOutText;
    else if (products.state === "loading") hint = "Loading the SKUs…";
    else if (products.state === "error") hint = products.message;
    else if (products.state === "ready" && !s.skus.length) hint = "No SKUs yet: they come with the orders.";
    setText(els.skuHint, hint);
    els.skuHint.hidden = !hint;
    els.skuRetry.hidden = !(signedIn && products.state === "error");

    setError(els.sku, els.skuError, els.skuHint.id, ready ? s.errors.sku : null);
    setError(els.units, els.unitsError, els.unitsHint.id, ready ? s.errors.units : null);

    const message = ready ? (s.message?.text ?? "") : "";
    setText(els.alert, message);
    els.alert.hidden = !message;

    drawPreview(s);

    const startWasFocused = doc.activeElement === els.start;
    els.start.disabled = !ready || !s.canStart;
    setText(els.startHint, startHint(s, signedIn));
    els.startHint.hidden = !els.startHint.textContent;

    drawRun(s);
    // The focused button went off (a start is in flight): the focus goes to the progress.
    if (startWasFocused && els.start.disabled && !els.run.hidden) els.run.focus();
  }

  function emptyState() {
    return {
      skus: [],
      skuId: null,
      unitsText: "0",
      errors: { sku: null, units: null },
      preview: { state: "idle", data: null, summary: null, skuLabel: null, fresh: false },
      busy: false,
      canPreview: false,
      canStart: false,
      run: RUN.NONE,
      stockout: null,
      progress: null,
      completedText: null,
      message: null,
    };
  }

  function redraw() {
    render(machine ? machine.getState() : emptyState());
  }

  function newMachine() {
    machine?.dispose();
    drawnPreview = null;
    const m = createStockoutState({
      api,
      locale,
      onStarted: (r) => onStarted(r),
      onCompleted: (r) => onCompleted(r),
      onUnauthorized: (e) => onUnauthorized(e),
    });
    m.subscribe(render);
    machine = m;
  }

  // ---------------------------------------------------------------- events

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!machine) return;
    machine.preview().then((shown) => {
      // A missing or wrong value: the focus goes to the first field to fix.
      if (shown || !machine) return;
      const { errors } = machine.getState();
      if (errors.sku && !els.sku.disabled) els.sku.focus();
      else if (errors.units) els.units.focus();
    });
  });
  els.sku.addEventListener("change", () => machine?.setSku(els.sku.value));
  els.units.addEventListener("input", () => machine?.setUnits(els.units.validity.badInput ? "?" : els.units.value));
  els.units.addEventListener("blur", () => {
    if (machine) render(machine.getState());
  });
  els.start.addEventListener("click", () => machine?.start());
  els.check.addEventListener("click", () => machine?.checkAgain());
  els.skuRetry.addEventListener("click", () => onRetryProducts());

  const win = doc.defaultView;
  win?.addEventListener("pagehide", () => machine?.pause());
  win?.addEventListener("pageshow", (event) => {
    if (event.persisted) machine?.resume();
  });

  redraw();

  return {
    /** A seller signed in (`true`) or none is (`false`, with the hint to show). */
    reset({ signedIn: yes, hint = "" } = {}) {
      signedIn = Boolean(yes);
      signedOutText = hint;
      products = { state: "idle", message: "" };
      if (signedIn) newMachine();
      else {
        machine?.dispose();
        machine = null;
        drawnPreview = null;
      }
      redraw();
    },

    productsLoading() {
      products = { state: "loading", message: "" };
      redraw();
    },

    productsLoaded(list) {
      products = { state: "ready", message: "" };
      if (machine) machine.setProducts(list);
      else redraw();
    },

    productsFailed(message) {
      products = { state: "error", message };
      redraw();
    },

    dispose() {
      machine?.dispose();
      machine = null;
    },

    get machine() {
      return machine;
    },
  };
}
