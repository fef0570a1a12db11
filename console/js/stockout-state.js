// The Stock-out region as a state machine, free of the DOM.
//
// The seller picks the SKU that ran out and says how many units are still on
// hand. "Preview stock-out" asks POST /stockouts/preview what would be
// cancelled; "Cancel the rest" starts that stock-out with POST /stockouts; its
// progress is then read with GET /stockouts/{id} about once a second until it
// is COMPLETED.
//
// - "Cancel the rest" is on only while the preview shown is the answer for the
//   current SKU and units, and it has units to cancel.
// - Each preview answer gets an Idempotency-Key of its own. Every start of that
//   preview (a second click, a retry after a network error) sends the same key;
//   while one start is in flight another sends nothing. A new preview, or a
//   stock-out started from it, ends the key.
// - Polling stops on COMPLETED, on dispose() (the seller changed or the page
//   went away), or after MAX_POLL_ERRORS failed reads in a row (a 401 or 404 at
//   once); checkAgain() then resumes it.

import { ApiError, NETWORK_WORDS, problemWords } from "./api.js";
import { formatMoney } from "./money.js";

export const POLL_MS = 1000;
export const MAX_POLL_ERRORS = 3;

/** Where the region's stock-out is: none yet, its start in flight, followed, done, or lost sight of. */
export const RUN = Object.freeze({
  NONE: "none",
  STARTING: "starting",
  FOLLOWING: "following",
  COMPLETED: "completed",
  LOST: "lost",
});

export const START_NETWORK_WORDS = `${NETWORK_WORDS} If the stock-out did start, trying again will not start it twice.`;

export const STALE_PREVIEW_WORDS = "The SKU or the units on hand changed since this preview: preview again.";

// Codes said otherwise here than in the page's table (api.js), because here it is
// a stock-out, not a cancellation from the dialog, that was sent.
export const STOCKOUT_WORDS = Object.freeze({
  IDEMPOTENCY_KEY_REQUIRED:
    "The stock-out was sent without its one-time key, so it was refused. Preview it again, then start it.",
  IDEMPOTENCY_KEY_REUSED:
    "This preview was already used to start a different stock-out. Preview again before you start another one.",
  NOTHING_TO_CANCEL:
    "There is nothing to cancel: the units on hand cover every order of this SKU. Preview again to see the orders as they are now.",
});

const FIELD_LABELS = { sku_id: "SKU", units_on_hand: "Units on hand", note: "Note" };

// Start answers after which the preview shown no longer holds: a new one is needed.
const PREVIEW_SPENT_CODES = new Set(["NOTHING_TO_CANCEL", "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_REQUIRED"]);

// ------------------------------------------------------------------ words

function count(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

const ordersWord = (n) => count(n, "order", "orders");
const unitsWord = (n) => count(n, "unit", "units");

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "a", "a and b", "a, b and c". */
export function joinWords(parts) {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

function whole(value) {
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** Refund objects → [{currency, total, text}], each total in its own currency. */
export function refundTotals(refunds, locale) {
  return (Array.isArray(refunds) ? refunds : [])
    .filter((r) => r && typeof r.currency === "string")
    .map((r) => ({ currency: r.currency, total: r.total, text: formatMoney(r.total, r.currency, locale) }));
}

/** "Mug — Blue (K1)": how an option of the SKU select reads. */
export function skuOptionText(product, sku) {
  const name = sku.sku_name ? `${product.product_name} — ${sku.sku_name}` : product.product_name;
  return `${name} (${sku.sku_id})`;
}

/**
 * The SKU select's options from GET /products' products (every page), in the
 * API's order (product name, then id): [{value: sku_id, text, productId}].
 * A SKU listed under two products is offered once.
 */
export function skuOptions(products) {
  const options = [];
  const seen = new Set();
  for (const product of products ?? []) {
    for (const sku of product?.skus ?? []) {
      if (!sku || typeof sku.sku_id !== "string" || seen.has(sku.sku_id)) continue;
      seen.add(sku.sku_id);
      options.push({ value: sku.sku_id, text: skuOptionText(product, sku), productId: product.product_id });
    }
  }
  return options;
}

/**
 * The Units on hand field's text → `{value, error}`: a whole number, 0 or more.
 * Empty is an error (not 0): a cleared field must not mean "cancel everything".
 */
export function parseUnitsOnHand(raw) {
  const text = raw === undefined || raw === null ? "" : String(raw).trim();
  if (text === "") return { value: null, error: "Enter how many units are on hand: 0 or more." };
  if (!/^\d+$/.test(text)) return { value: null, error: "Enter a whole number of units, 0 or more." };
  const value = Number(text);
  if (!Number.isSafeInteger(value)) return { value: null, error: "That is more units than the console can send." };
  return { value, error: null };
}

/** The StockoutRequest for a SKU and the units field's text, or null when either is missing or wrong. */
export function stockoutRequest(skuId, unitsText) {
  if (!skuId) return null;
  const { value, error } = parseUnitsOnHand(unitsText);
  if (error) return null;
  return { sku_id: skuId, units_on_hand: value, note: null };
}

/**
 * A preview answer in words:
 * {nothing, matchedText, cancelText, keptText, refunds, refundsText, truncatedText,
 *  orders: [{orderId, units, refund, text}], startText, text} (`text`: the sentences
 * as one; `startText`: what "Cancel the rest" does, for its hint).
 */
export function previewSummary(preview, { locale = "en-US" } = {}) {
  const matched = whole(preview.orders_matched);
  const demanded = whole(preview.units_demanded);
  const toCancel = whole(preview.units_to_cancel);
  const ordersToCancel = whole(preview.orders_to_cancel);
  const kept = whole(preview.units_kept);
  const nothing = toCancel === 0;

  let matchedText;
  let cancelText;
  let keptText = null;
  if (matched === 0) {
    matchedText = "No order waiting to ship has this SKU.";
    cancelText = "Nothing would be cancelled.";
  } else {
    matchedText = `${capitalise(ordersWord(matched))} waiting to ship ${matched === 1 ? "has" : "have"} this SKU, ${unitsWord(demanded)} in all.`;
    if (nothing) {
      cancelText = "Nothing would be cancelled: the units on hand cover them all.";
    } else {
      cancelText = `${capitalise(unitsWord(toCancel))} in ${ordersWord(ordersToCancel)} would be cancelled.`;
      keptText =
        kept > 0
          ? `${capitalise(unitsWord(kept))} ${kept === 1 ? "is" : "are"} kept for the oldest orders.`
          : "No units are kept.";
    }
  }

  const refunds = refundTotals(preview.refunds, locale);
  const refundsText = nothing ? null : refunds.length ? `Refunds: ${joinWords(refunds.map((r) => r.text))}.` : "No refunds.";

  const orders = (Array.isArray(preview.orders) ? preview.orders : []).map((order) => {
    const units = (order.lines ?? []).reduce((sum, l) => sum + whole(l.cancel_quantity), 0);
    const refund = order.refund ? formatMoney(order.refund.total, order.refund.currency, locale) : null;
    return {
      orderId: order.order_id,
      units,
      refund: order.refund ?? null,
      text: `Order ${order.order_id}: ${unitsWord(units)}${refund ? `, refund ${refund}` : ""}`,
    };
  });
  const truncatedText = preview.truncated
    ? `The list shows the first ${orders.length} of the ${ordersWord(ordersToCancel)}, oldest first.`
    : null;

  const startText = nothing ? null : `Cancels ${unitsWord(toCancel)} in ${ordersWord(ordersToCancel)}, as previewed.`;
  const text = [matchedText, cancelText, keptText, refundsText, truncatedText].filter(Boolean).join(" ");
  return { nothing, matchedText, cancelText, keptText, refunds, refundsText, truncatedText, orders, startText, text };
}

/**
 * A Stockout's progress: {value, max, indeterminate, fraction, valueText, text}.
 * `value` is orders cancelled + skipped (null while indeterminate: PLANNING, no plan yet).
 */
export function progressValues(stockout) {
  const cancelled = whole(stockout.orders_cancelled);
  const skipped = whole(stockout.orders_skipped);
  const max = whole(stockout.orders_planned);
  const completed = stockout.status === "COMPLETED";
  const indeterminate = !completed && max === 0;
  if (indeterminate) {
    return {
      value: null,
      max,
      indeterminate,
      fraction: 0,
      valueText: "Planning which orders to cancel",
      text: "Planning which orders to cancel…",
    };
  }
  const done = Math.min(cancelled + skipped, max);
  const valueText = `${done} of ${ordersWord(max)} done`;
  return {
    value: done,
    max,
    indeterminate,
    fraction: max === 0 ? 1 : done / max,
    valueText,
    text: `${valueText}: ${cancelled} cancelled, ${skipped} skipped.`,
  };
}

/**
 * The words once a stock-out is COMPLETED, e.g. "Stock-out of Mug — Blue (K1)
 * completed: 94 orders cancelled, 1 skipped; 180 units cancelled; refunded $1,234.50 and €99.00."
 */
export function completedSummary(stockout, { locale = "en-US", skuLabel } = {}) {
  const cancelled = whole(stockout.orders_cancelled);
  const skipped = whole(stockout.orders_skipped);
  const refunds = refundTotals(stockout.refunded, locale);
  const refunded = refunds.length ? `refunded ${joinWords(refunds.map((r) => r.text))}` : "nothing refunded";
  let text =
    `Stock-out of ${skuLabel || stockout.sku_id} completed: ${ordersWord(cancelled)} cancelled, ${skipped} skipped; ` +
    `${unitsWord(whole(stockout.units_cancelled))} cancelled; ${refunded}.`;
  if (skipped > 0) {
    text += ` ${skipped === 1 ? "The skipped order" : "Skipped orders"} could no longer be cancelled unit by unit (shipped or changed meanwhile).`;
  }
  return text;
}

/** An error of a stock-out request in words, never a bare code. */
export function stockoutErrorWords(error) {
  if (error?.network) return NETWORK_WORDS;
  if (error?.problem) {
    return problemWords(error.problem, { words: STOCKOUT_WORDS, fieldLabel: (field) => FIELD_LABELS[field] ?? null });
  }
  return "Something went wrong. Please try again.";
}

function progressLostWords(error) {
  const lead = "The stock-out's progress could not be read.";
  if (error?.status === 404 || error?.status === 401) return `${lead} ${stockoutErrorWords(error)}`;
  let why;
  if (error?.network) why = "The console could not reach the server.";
  else if (error?.status === 503) why = "The service is busy.";
  else why = stockoutErrorWords(error);
  return `${lead} ${why} The stock-out goes on without the page: check its progress again in a moment.`;
}

/** A random UUID v4: crypto.randomUUID where the page is a secure context, else from getRandomValues. */
export function randomKey(crypto = globalThis.crypto) {
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function keyOf(body) {
  return body ? `${body.sku_id}\u0000${body.units_on_hand}` : null;
}

// ------------------------------------------------------------------ the machine

/**
 * Creates the region's state for one signed-in seller.
 *
 * options:
 * - api: {previewStockout(body), startStockout(body, {idempotencyKey}), getStockout(id)}
 * - locale: for money
 * - newIdempotencyKey: () => string (default randomKey()), called once per preview answer
 * - pollMs, maxPollErrors; setTimer/clearTimer (default setTimeout/clearTimeout)
 * - onStarted({stockout, message}): the stock-out was accepted (202)
 * - onCompleted({stockout, message}): it is COMPLETED
 * - onUnauthorized(error): a request answered 401
 */
export function createStockoutState(options = {}) {
  const {
    api,
    locale = "en-US",
    newIdempotencyKey = () => randomKey(),
    pollMs = POLL_MS,
    maxPollErrors = MAX_POLL_ERRORS,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
    onStarted = () => {},
    onCompleted = () => {},
    onUnauthorized = () => {},
  } = options;

  const s = {
    skus: [],
    skuId: null,
    unitsText: "0",
    attempted: false, // a preview was asked for: missing values are now errors
    preview: { state: "idle", data: null, summary: null, body: null, forKey: null, skuLabel: null },
    idempotencyKey: null, // the key of the preview shown
    run: RUN.NONE,
    stockout: null,
    stockoutLabel: null,
    completedText: null,
    message: null,
  };
  const listeners = new Set();
  let disposed = false;
  let paused = false;
  let previewSeq = 0;
  let previewInFlight = null; // {key, promise}
  let startInFlight = null;
  let runSeq = 0;
  let timer = null;
  let pollErrors = 0;

  function currentBody() {
    return stockoutRequest(s.skuId, s.unitsText);
  }

  function skuLabel(skuId) {
    return s.skus.find((o) => o.value === skuId)?.text ?? skuId;
  }

  function busy() {
    return s.run === RUN.STARTING || s.run === RUN.FOLLOWING;
  }

  function fresh() {
    return s.preview.state === "ready" && s.preview.forKey === keyOf(currentBody());
  }

  function canStart() {
    return (
      !disposed &&
      !busy() &&
      startInFlight === null &&
      fresh() &&
      s.idempotencyKey !== null &&
      whole(s.preview.data?.units_to_cancel) > 0
    );
  }

  function errors() {
    const units = parseUnitsOnHand(s.unitsText).error;
    const unitsShown = units && (s.attempted || String(s.unitsText ?? "").trim() !== "") ? units : null;
    return {
      sku: s.attempted && !s.skuId ? "Choose the SKU that ran out." : null,
      units: unitsShown,
    };
  }

  function snapshot() {
    const body = currentBody();
    return {
      skus: s.skus,
      skuId: s.skuId,
      unitsText: s.unitsText,
      errors: errors(),
      request: body,
      preview: {
        state: s.preview.state,
        data: s.preview.data,
        summary: s.preview.summary,
        skuLabel: s.preview.skuLabel,
        fresh: fresh(),
      },
      busy: busy(),
      canPreview: !disposed && !busy(),
      canStart: canStart(),
      idempotencyKey: s.idempotencyKey,
      run: s.run,
      stockout: s.stockout,
      stockoutLabel: s.stockoutLabel,
      progress: s.stockout ? progressValues(s.stockout) : null,
      completedText: s.completedText,
      message: s.message,
    };
  }

  function emit() {
    if (disposed) return;
    const snap = snapshot();
    for (const listener of listeners) listener(snap);
  }

  function cancelTimer() {
    if (timer !== null) {
      clearTimer(timer);
      timer = null;
    }
  }

  function resetPreview() {
    previewSeq += 1;
    previewInFlight = null;
    s.preview = { state: "idle", data: null, summary: null, body: null, forKey: null, skuLabel: null };
    s.idempotencyKey = null;
  }

  function complete() {
    cancelTimer();
    s.run = RUN.COMPLETED;
    s.completedText = completedSummary(s.stockout, { locale, skuLabel: s.stockoutLabel });
    s.message = null;
  }

  function lose(error) {
    cancelTimer();
    s.run = RUN.LOST;
    s.message = { kind: "error", text: progressLostWords(error) };
  }

  function schedulePoll(delay) {
    cancelTimer();
    if (paused || disposed) return;
    const seq = runSeq;
    timer = setTimer(() => {
      timer = null;
      poll(seq);
    }, delay);
  }

  async function poll(seq) {
    const id = s.stockout?.stockout_id;
    if (!id || seq !== runSeq || s.run !== RUN.FOLLOWING) return;
    let stockout;
    let failure = null;
    try {
      stockout = await api.getStockout(id);
    } catch (error) {
      failure = error ?? new Error("read failed");
    }
    if (disposed || seq !== runSeq || s.run !== RUN.FOLLOWING) return;
    if (failure) {
      pollErrors += 1;
      if (failure.status === 401 || failure.status === 404 || pollErrors >= maxPollErrors) {
        lose(failure);
      } else {
        const retryAfter = failure.problem?.retryAfter;
        schedulePoll(Math.max(pollMs, Number.isFinite(retryAfter) ? retryAfter * 1000 : 0));
      }
      emit();
      if (failure.status === 401) onUnauthorized(failure);
      return;
    }
    pollErrors = 0;
    if (stockout && typeof stockout === "object") s.stockout = stockout;
    if (s.stockout.status !== "COMPLETED") {
      schedulePoll(pollMs);
      emit();
      return;
    }
    complete();
    emit();
    onCompleted({ stockout: s.stockout, message: s.completedText });
  }

  function inputChanged() {
    if (s.message?.kind === "error" && s.run !== RUN.LOST) s.message = null;
    emit();
  }

  const machine = {
    getState: snapshot,

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** GET /products' products (every page): the SKU select's options. */
    setProducts(products) {
      if (disposed) return;
      s.skus = skuOptions(products);
      if (s.skuId && !s.skus.some((o) => o.value === s.skuId)) s.skuId = null;
      emit();
    },

    setSku(skuId) {
      if (disposed || busy()) return;
      const next = skuId || null;
      if (next === s.skuId) return;
      s.skuId = next;
      inputChanged();
    },

    setUnits(raw) {
      if (disposed || busy()) return;
      const next = raw === undefined || raw === null ? "" : String(raw);
      if (next === s.unitsText) return;
      s.unitsText = next;
      inputChanged();
    },

    /**
     * Previews the current SKU and units. Resolves to true when a preview was
     * shown. The same values asked again while their preview is on its way send
     * nothing more; an answer to older values is dropped.
     */
    preview() {
      if (disposed || busy()) return Promise.resolve(false);
      s.attempted = true;
      const body = currentBody();
      if (!body) {
        emit();
        return Promise.resolve(false);
      }
      const key = keyOf(body);
      if (previewInFlight && previewInFlight.key === key) return previewInFlight.promise;
      resetPreview();
      const seq = previewSeq;
      const label = skuLabel(body.sku_id);
      s.preview = { state: "pending", data: null, summary: null, body, forKey: null, skuLabel: label };
      s.message = null;
      emit();
      const promise = (async () => {
        let data;
        let failure = null;
        try {
          data = await api.previewStockout(body);
        } catch (error) {
          failure = error ?? new Error("preview failed");
        }
        if (seq === previewSeq) previewInFlight = null;
        if (disposed || seq !== previewSeq) return false;
        if (failure) {
          s.preview = { state: "error", data: null, summary: null, body: null, forKey: null, skuLabel: null };
          s.message = { kind: "error", text: stockoutErrorWords(failure) };
          emit();
          if (failure.status === 401) onUnauthorized(failure);
          return false;
        }
        s.preview = { state: "ready", data, summary: previewSummary(data ?? {}, { locale }), body, forKey: key, skuLabel: label };
        s.idempotencyKey = newIdempotencyKey();
        emit();
        return true;
      })();
      previewInFlight = { key, promise };
      return promise;
    },

    /**
     * "Cancel the rest": starts the previewed stock-out. Resolves to true when it
     * was accepted. While a start is in flight, another returns the same promise.
     */
    start() {
      if (startInFlight) return startInFlight;
      if (!canStart()) return Promise.resolve(false);
      const body = s.preview.body;
      const idempotencyKey = s.idempotencyKey;
      const label = s.preview.skuLabel;
      cancelTimer();
      runSeq += 1;
      const seq = runSeq;
      s.run = RUN.STARTING;
      s.stockout = null;
      s.stockoutLabel = label;
      s.completedText = null;
      s.message = null;
      emit();
      startInFlight = (async () => {
        let stockout;
        let failure = null;
        try {
          stockout = await api.startStockout(body, { idempotencyKey });
          if (!stockout || typeof stockout.stockout_id !== "string") {
            throw new ApiError({
              status: 202,
              code: null,
              title: "The server's answer did not say which stock-out started",
              detail: null,
              errors: [],
              retryAfter: null,
            });
          }
        } catch (error) {
          failure = error ?? new Error("start failed");
        }
        startInFlight = null;
        if (disposed || seq !== runSeq) return !failure;
        if (failure) {
          s.run = RUN.NONE;
          s.stockoutLabel = null;
          if (failure.network) {
            s.message = { kind: "error", text: START_NETWORK_WORDS };
          } else {
            s.message = { kind: "error", text: stockoutErrorWords(failure) };
            if (PREVIEW_SPENT_CODES.has(failure.code)) resetPreview();
          }
          emit();
          if (failure.status === 401) onUnauthorized(failure);
          return false;
        }
        resetPreview();
        s.attempted = false;
        s.stockout = stockout;
        pollErrors = 0;
        const completed = stockout.status === "COMPLETED";
        if (completed) complete();
        else {
          s.run = RUN.FOLLOWING;
          schedulePoll(pollMs);
        }
        emit();
        const planned = whole(stockout.orders_planned);
        onStarted({
          stockout,
          message: planned
            ? `Stock-out of ${label} started: ${ordersWord(planned)} to cancel.`
            : `Stock-out of ${label} started.`,
        });
        if (completed) onCompleted({ stockout, message: s.completedText });
        return true;
      })();
      return startInFlight;
    },

    /** After the progress was lost sight of: read it again, and go on polling. */
    checkAgain() {
      if (disposed || s.run !== RUN.LOST || !s.stockout) return;
      s.run = RUN.FOLLOWING;
      s.message = null;
      pollErrors = 0;
      schedulePoll(0);
      emit();
    },

    /** The page is hidden (pagehide): no more polling until resume(). */
    pause() {
      paused = true;
      cancelTimer();
    },

    /** The page is back (pageshow): polling goes on where it was. */
    resume() {
      if (!paused) return;
      paused = false;
      if (!disposed && s.run === RUN.FOLLOWING) schedulePoll(0);
    },

    /** Stops polling for good; answers arriving later change nothing. */
    dispose() {
      disposed = true;
      cancelTimer();
      listeners.clear();
    },
  };
  return machine;
}
