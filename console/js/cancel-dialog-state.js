// The Cancel order dialog as a state machine, free of the DOM.
//
// Steps: REASON (pick a reason, Continue) → CHOICE (units per line for an
// item-level reason, else the whole order or one package; the refund is
// previewed as the choice changes; Submit) → DONE (the cancellation was made).
//
// - The choice becomes a CancellationRequest (ITEMS / PACKAGE / ORDER), or null
//   when nothing is chosen: then no preview is asked for and Submit is off.
// - Previews are debounced; an answer to an older choice is dropped.
// - Submit sends the last previewed order version as If-Match and one
//   Idempotency-Key for the whole life of the dialog; while a submit is in flight
//   another submit sends nothing.
// - When the order changed meanwhile (412), the order is read again, the choice
//   kept where it still holds, the refund previewed again and the seller told.

import { NETWORK_WORDS, problemWords } from "./api.js";
import { formatMoney } from "./money.js";

export const STEP = Object.freeze({ REASON: "reason", CHOICE: "choice", DONE: "done" });

/** The value of the "What to cancel" choice that stands for the whole order. */
export const WHOLE_ORDER = "ORDER";

export const PREVIEW_DEBOUNCE_MS = 250;

export const ORDER_CHANGED_WORDS =
  "This order changed while you were looking at it. The refund has been worked out again for the order as it is now: check it before you submit.";

export const SUBMIT_NETWORK_WORDS = `${NETWORK_WORDS} If the cancellation did go through, submitting again will not cancel anything twice.`;

// Answers after which the order is read again, as it has changed under the dialog.
const ORDER_MOVED_CODES = new Set([
  "ORDER_VERSION_MISMATCH",
  "ORDER_NOT_CANCELLABLE",
  "PACKAGE_NOT_CANCELLABLE",
  "ITEM_NOT_CANCELLABLE",
  "QUANTITY_EXCEEDS_CANCELLABLE",
]);

/**
 * A units field's text → `{value, error}`. Empty counts as 0; anything but a
 * whole number from 0 to `max` is an error in words.
 */
export function parseUnits(raw, max) {
  const text = raw === undefined || raw === null ? "" : String(raw).trim();
  if (text === "") return { value: 0, error: null };
  if (!/^\d+$/.test(text)) return { value: null, error: `Enter a whole number from 0 to ${max}.` };
  const value = Number(text);
  if (value > max) {
    return { value: null, error: max === 1 ? "Only 1 unit is left to cancel." : `Only ${max} units are left to cancel.` };
  }
  return { value, error: null };
}

/** The errors of the units fields, by line id (only lines with an error). */
export function unitsErrors(order, units) {
  const errors = {};
  for (const line of order.lines) {
    if (!line.item_cancellable) continue;
    const { error } = parseUnits(units[line.line_id], line.cancellable_quantity);
    if (error) errors[line.line_id] = error;
  }
  return errors;
}

/**
 * The CancellationRequest for a choice, or null when nothing (valid) is chosen.
 * `reason` is a reason of GET /cancel-reasons; `units` maps line ids to the
 * fields' text; `target` is WHOLE_ORDER, a package id, or null.
 */
export function buildCancellationRequest({ order, reason, units = {}, target = null }) {
  if (!reason) return null;
  if (reason.item_level_allowed) {
    const items = [];
    for (const line of order.lines) {
      if (!line.item_cancellable) continue;
      const { value, error } = parseUnits(units[line.line_id], line.cancellable_quantity);
      if (error) return null;
      if (value > 0) items.push({ line_id: line.line_id, quantity: value });
    }
    return items.length ? { reason: reason.code, scope: "ITEMS", items } : null;
  }
  if (target === WHOLE_ORDER) {
    return order.actions?.cancel_order ? { reason: reason.code, scope: "ORDER" } : null;
  }
  if (target) {
    const pkg = order.packages.find((p) => p.package_id === target);
    return pkg && pkg.cancellable ? { reason: reason.code, scope: "PACKAGE", package_id: target } : null;
  }
  return null;
}

/** The packages offered under "What to cancel": those that can be cancelled. */
export function cancellablePackages(order) {
  return order.packages.filter((p) => p.cancellable);
}

/**
 * The choice, kept where it still holds for a newer `order`: units of lines that
 * can no longer be item-cancelled are dropped (a units value now too high stays,
 * and is shown as an error); a package or whole order that can no longer be
 * cancelled is unchosen.
 */
export function reconcileChoice(order, { units, target }) {
  const kept = {};
  for (const line of order.lines) {
    if (line.item_cancellable && units[line.line_id] !== undefined) kept[line.line_id] = units[line.line_id];
  }
  let keptTarget = null;
  if (target === WHOLE_ORDER) keptTarget = order.actions?.cancel_order ? WHOLE_ORDER : null;
  else if (target) keptTarget = order.packages.some((p) => p.package_id === target && p.cancellable) ? target : null;
  return { units: kept, target: keptTarget };
}

/** "Product — SKU" of a line. */
export function lineTitle(line) {
  return line.sku_name ? `${line.product_name} — ${line.sku_name}` : line.product_name;
}

function joinWords(parts) {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

function unitsWords(quantity) {
  return `${quantity} ${quantity === 1 ? "unit" : "units"}`;
}

/**
 * The message after a cancellation, e.g.
 * "Cancelled 2 units of Mug — Blue from order O1; refund $19.37".
 */
export function successMessage({ cancellation, order, locale }) {
  const refund = cancellation.refund;
  const total = formatMoney(refund.total, refund.currency, locale);
  const orderId = cancellation.order_id ?? order.order_id;
  let what;
  if (cancellation.scope === "ORDER") {
    what = `order ${orderId}`;
  } else if (cancellation.scope === "PACKAGE") {
    what = `package ${cancellation.package_id} of order ${orderId}`;
  } else {
    const parts = (cancellation.items ?? []).map((item) => {
      const line = order.lines.find((l) => l.line_id === item.line_id);
      const title = line ? lineTitle(line) : item.product_name ?? item.line_id;
      return `${unitsWords(item.quantity)} of ${title}`;
    });
    what = `${joinWords(parts)} from order ${orderId}`;
  }
  return `Cancelled ${what}; refund ${total}`;
}

/** A field of a request body (as a problem's `errors[].field` names it) in words. */
export function fieldLabelFor(order, body) {
  return (field) => {
    const item = /^items\[(\d+)\]/.exec(field ?? "");
    if (item && body?.items) {
      const entry = body.items[Number(item[1])];
      const line = entry && order.lines.find((l) => l.line_id === entry.line_id);
      return line ? lineTitle(line) : null;
    }
    if (field === "package_id" && body?.package_id) return `Package ${body.package_id}`;
    return null;
  };
}

function defaultKey() {
  return globalThis.crypto.randomUUID();
}

/**
 * Creates the state of one opening of the dialog.
 *
 * options:
 * - order: the Order as last read; reasons: GET /cancel-reasons' reasons
 * - api: {previewCancellation(orderId, body), submitCancellation(orderId, body,
 *   {idempotencyKey, orderVersion}), getOrder(orderId)}
 * - locale: for the success message's money
 * - newIdempotencyKey: () => string (default crypto.randomUUID), called once
 * - debounceMs; setTimer/clearTimer (default setTimeout/clearTimeout)
 * - onOrderRefreshed(order): the order was read again
 * - onSucceeded({cancellation, message}): a cancellation was made (called even
 *   after dispose, so the page can show it when the dialog was closed meanwhile)
 */
export function createCancelDialogState(options) {
  const {
    reasons,
    api,
    locale = "en-US",
    newIdempotencyKey = defaultKey,
    debounceMs = PREVIEW_DEBOUNCE_MS,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
    onOrderRefreshed = () => {},
    onSucceeded = () => {},
  } = options;

  const s = {
    order: options.order,
    step: STEP.REASON,
    reasonCode: null,
    units: {},
    target: null,
    preview: { state: "idle", refund: null, orderVersion: null, resultingStatus: null, forKey: null },
    submitting: false,
    message: null,
    successText: null,
    cancellation: null,
  };
  const idempotencyKey = newIdempotencyKey();
  const listeners = new Set();
  let choiceSeq = 0;
  let timer = null;
  let inFlight = null;
  let disposed = false;
  let refreshing = null;

  function reason() {
    return reasons.find((r) => r.code === s.reasonCode) ?? null;
  }

  function body() {
    return buildCancellationRequest({ order: s.order, reason: reason(), units: s.units, target: s.target });
  }

  function canSubmit() {
    const current = body();
    return (
      s.step === STEP.CHOICE &&
      !s.submitting &&
      current !== null &&
      s.preview.state === "ready" &&
      s.preview.forKey === JSON.stringify(current)
    );
  }

  function snapshot() {
    const r = reason();
    return {
      step: s.step,
      order: s.order,
      reasons,
      reasonCode: s.reasonCode,
      reason: r,
      itemLevel: Boolean(r?.item_level_allowed),
      units: { ...s.units },
      unitErrors: unitsErrors(s.order, s.units),
      target: s.target,
      body: body(),
      preview: {
        state: s.preview.state,
        refund: s.preview.refund,
        orderVersion: s.preview.orderVersion,
        resultingStatus: s.preview.resultingStatus,
      },
      canContinue: s.step === STEP.REASON && r !== null,
      canSubmit: canSubmit(),
      submitting: s.submitting,
      message: s.message,
      successText: s.successText,
      cancellation: s.cancellation,
      idempotencyKey,
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
    s.preview = { state: "idle", refund: null, orderVersion: null, resultingStatus: null, forKey: null };
  }

  function wordsFor(error, requestBody) {
    if (error?.problem) return problemWords(error.problem, { fieldLabel: fieldLabelFor(s.order, requestBody) });
    return "Something went wrong. Please try again.";
  }

  async function refreshOrder() {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        const fresh = await api.getOrder(s.order.order_id);
        if (disposed || !fresh) return false;
        s.order = fresh;
        const kept = reconcileChoice(fresh, { units: s.units, target: s.target });
        s.units = kept.units;
        s.target = kept.target;
        onOrderRefreshed(fresh);
        return true;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function runPreview(seq, requestBody) {
    const key = JSON.stringify(requestBody);
    try {
      const result = await api.previewCancellation(s.order.order_id, requestBody);
      if (disposed || seq !== choiceSeq) return;
      s.preview = {
        state: "ready",
        refund: result.refund,
        orderVersion: result.order_version,
        resultingStatus: result.resulting_order_status ?? null,
        forKey: key,
      };
    } catch (error) {
      if (disposed || seq !== choiceSeq) return;
      s.preview = { state: "error", refund: null, orderVersion: null, resultingStatus: null, forKey: null };
      s.message = { kind: "error", text: wordsFor(error, requestBody) };
      if (ORDER_MOVED_CODES.has(error?.code)) {
        emit();
        const before = JSON.stringify(body());
        const refreshed = await refreshOrder();
        if (disposed || seq !== choiceSeq) return;
        if (refreshed && JSON.stringify(body()) !== before) {
          schedulePreview(0);
          return;
        }
      }
    }
    emit();
  }

  // A new preview for the current choice: none when nothing is chosen.
  function schedulePreview(delay) {
    choiceSeq += 1;
    const seq = choiceSeq;
    cancelTimer();
    const requestBody = body();
    if (!requestBody) {
      resetPreview();
      emit();
      return;
    }
    s.preview = { ...s.preview, state: "pending", forKey: null };
    emit();
    timer = setTimer(() => {
      timer = null;
      runPreview(seq, requestBody);
    }, delay);
  }

  function choiceChanged() {
    s.message = null;
    schedulePreview(debounceMs);
  }

  function editable() {
    return !disposed && s.step === STEP.CHOICE && !s.submitting;
  }

  const machine = {
    idempotencyKey,

    getState: snapshot,

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    chooseReason(code) {
      if (disposed || s.step !== STEP.REASON) return;
      if (!reasons.some((r) => r.code === code)) return;
      s.reasonCode = code;
      s.message = null;
      emit();
    },

    continue() {
      if (disposed || s.step !== STEP.REASON || !reason()) return;
      s.step = STEP.CHOICE;
      s.message = null;
      schedulePreview(0);
    },

    back() {
      if (!editable()) return;
      choiceSeq += 1;
      cancelTimer();
      resetPreview();
      s.step = STEP.REASON;
      s.message = null;
      emit();
    },

    setUnits(lineId, raw) {
      if (!editable()) return;
      const line = s.order.lines.find((l) => l.line_id === lineId);
      if (!line || !line.item_cancellable) return;
      if (s.units[lineId] === String(raw)) return;
      s.units = { ...s.units, [lineId]: String(raw) };
      choiceChanged();
    },

    chooseTarget(target) {
      if (!editable() || s.target === target) return;
      s.target = target;
      choiceChanged();
    },

    /**
     * Submits the previewed choice. Resolves to true when the cancellation was
     * made. While one submit is in flight, another returns the same promise and
     * sends nothing.
     */
    submit() {
      if (inFlight) return inFlight;
      if (disposed || !canSubmit()) return Promise.resolve(false);
      const requestBody = body();
      const orderVersion = s.preview.orderVersion;
      s.submitting = true;
      s.message = null;
      emit();
      inFlight = (async () => {
        let moved = false;
        let made = false;
        try {
          const cancellation = await api.submitCancellation(s.order.order_id, requestBody, {
            idempotencyKey,
            orderVersion,
          });
          const message = successMessage({ cancellation, order: s.order, locale });
          s.step = STEP.DONE;
          s.successText = message;
          s.cancellation = cancellation;
          cancelTimer();
          made = true;
        } catch (error) {
          if (error?.code === "ORDER_VERSION_MISMATCH") {
            s.message = { kind: "notice", text: ORDER_CHANGED_WORDS };
          } else if (error?.network) {
            s.message = { kind: "error", text: SUBMIT_NETWORK_WORDS };
          } else {
            s.message = { kind: "error", text: wordsFor(error, requestBody) };
          }
          moved = ORDER_MOVED_CODES.has(error?.code);
          if (moved) {
            // The refund shown is no longer the order's: read the order again first.
            resetPreview();
            s.preview.state = "pending";
            emit();
            await refreshOrder();
          }
        } finally {
          s.submitting = false;
          inFlight = null;
        }
        if (moved && !disposed && s.step === STEP.CHOICE) schedulePreview(0);
        else emit();
        if (made) onSucceeded({ cancellation: s.cancellation, message: s.successText });
        return made;
      })();
      return inFlight;
    },

    /** Stops previews; answers arriving later change nothing (a success is still reported). */
    dispose() {
      disposed = true;
      cancelTimer();
      listeners.clear();
    },
  };
  return machine;
}
