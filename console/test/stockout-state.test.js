import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, createApi, NETWORK_WORDS, problemWords } from "../js/api.js";
import {
  completedSummary,
  createStockoutState,
  MAX_POLL_ERRORS,
  parseUnitsOnHand,
  POLL_MS,
  previewSummary,
  progressValues,
  randomKey,
  RUN,
  skuOptions,
  START_NETWORK_WORDS,
  stockoutErrorWords,
  stockoutRequest,
  STOCKOUT_WORDS,
} from "../js/stockout-state.js";

// ------------------------------------------------------------------ fixtures

const PRODUCTS = [
  {
    product_id: "P1",
    product_name: "Mug",
    skus: [
      { sku_id: "K1", sku_name: "Blue" },
      { sku_id: "K2", sku_name: "Red" },
    ],
  },
  { product_id: "P2", product_name: "Teapot", skus: [{ sku_id: "K3", sku_name: "Cast iron" }] },
];

function refund(total, currency = "USD") {
  return { currency, subtotal: total, seller_discount: "0.00", platform_discount: "0.00", tax: "0.00", shipping_fee: "0.00", total };
}

function previewAnswer(overrides = {}) {
  return {
    sku_id: "K1",
    units_on_hand: 40,
    orders_matched: 120,
    units_demanded: 220,
    units_kept: 40,
    units_to_cancel: 180,
    orders_to_cancel: 95,
    refunds: [refund("1234.50", "USD"), refund("3000", "JPY")],
    orders: [
      {
        order_id: "O7",
        created_at: "2026-11-20T10:00:00Z",
        lines: [
          { line_id: "L1", remaining_quantity: 3, keep_quantity: 1, cancel_quantity: 2 },
          { line_id: "L2", remaining_quantity: 1, keep_quantity: 0, cancel_quantity: 1 },
        ],
        refund: refund("29.05"),
      },
      {
        order_id: "O8",
        created_at: "2026-11-20T11:00:00Z",
        lines: [{ line_id: "L1", remaining_quantity: 1, keep_quantity: 0, cancel_quantity: 1 }],
        refund: refund("1500", "JPY"),
      },
    ],
    truncated: false,
    ...overrides,
  };
}

function stockout(overrides = {}) {
  return {
    stockout_id: "SO-1",
    sku_id: "K1",
    units_on_hand: 40,
    note: null,
    status: "RUNNING",
    created_at: "2026-11-21T08:00:00Z",
    created_by: "user-1",
    finished_at: null,
    orders_planned: 95,
    orders_cancelled: 60,
    orders_skipped: 1,
    units_cancelled: 118,
    refunded: [refund("800.00", "USD")],
    ...overrides,
  };
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function fakeApi() {
  const calls = { preview: [], start: [], get: [] };
  return {
    calls,
    previewStockout(body) {
      const d = deferred();
      calls.preview.push({ body, ...d });
      return d.promise;
    },
    startStockout(body, options) {
      const d = deferred();
      calls.start.push({ body, options, ...d });
      return d.promise;
    },
    getStockout(id) {
      const d = deferred();
      calls.get.push({ id, ...d });
      return d.promise;
    },
  };
}

function fakeTimers() {
  let next = 0;
  const pending = new Map();
  return {
    pending,
    setTimer(fn, ms) {
      next += 1;
      pending.set(next, { fn, ms });
      return next;
    },
    clearTimer(id) {
      pending.delete(id);
    },
    flush() {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) t.fn();
      return due;
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const settle = () => new Promise((resolve) => setImmediate(resolve));

function problemError(status, code, extra = {}) {
  return new ApiError({ status, code, title: "t", detail: null, errors: [], retryAfter: null, ...extra });
}

function setup() {
  const api = fakeApi();
  const timers = fakeTimers();
  const started = [];
  const completed = [];
  const unauthorized = [];
  let n = 0;
  const machine = createStockoutState({
    api,
    locale: "en-US",
    newIdempotencyKey: () => `key-${++n}`,
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
    onStarted: (r) => started.push(r),
    onCompleted: (r) => completed.push(r),
    onUnauthorized: (e) => unauthorized.push(e),
  });
  machine.setProducts(PRODUCTS);
  return { machine, api, timers, started, completed, unauthorized };
}

/** K1 chosen, 40 units on hand, previewed and answered. */
async function previewed(answer = previewAnswer()) {
  const ctx = setup();
  ctx.machine.setSku("K1");
  ctx.machine.setUnits("40");
  const done = ctx.machine.preview();
  ctx.api.calls.preview.at(-1).resolve(answer);
  await done;
  return ctx;
}

/** Previewed, started, and the 202 answered with `answer`. */
async function started(answer = stockout({ status: "PLANNING", orders_planned: 0, orders_cancelled: 0, orders_skipped: 0, units_cancelled: 0, refunded: [] })) {
  const ctx = await previewed();
  const done = ctx.machine.start();
  ctx.api.calls.start[0].resolve(answer);
  await done;
  return ctx;
}

// ------------------------------------------------------------------ SKUs and units

test("the SKU options read 'Product — SKU (id)', every product's SKUs, each SKU once", () => {
  const options = skuOptions([...PRODUCTS, { product_id: "P9", product_name: "Mug (old)", skus: [{ sku_id: "K1", sku_name: "Blue" }] }]);
  assert.deepEqual(
    options.map((o) => [o.value, o.text]),
    [
      ["K1", "Mug — Blue (K1)"],
      ["K2", "Mug — Red (K2)"],
      ["K3", "Teapot — Cast iron (K3)"],
    ],
  );
  assert.deepEqual(skuOptions([{ product_id: "P1", product_name: "Mug" }]), []);
});

test("units on hand: a whole number, 0 or more; empty is not 0", () => {
  assert.deepEqual(parseUnitsOnHand("0"), { value: 0, error: null });
  assert.deepEqual(parseUnitsOnHand(" 40 "), { value: 40, error: null });
  assert.match(parseUnitsOnHand("").error, /how many units are on hand/);
  assert.match(parseUnitsOnHand("-1").error, /whole number/);
  assert.match(parseUnitsOnHand("1.5").error, /whole number/);
  assert.match(parseUnitsOnHand("1e3").error, /whole number/);
  assert.ok(parseUnitsOnHand("99999999999999999999").error);
  assert.deepEqual(stockoutRequest("K1", "40"), { sku_id: "K1", units_on_hand: 40, note: null });
  assert.equal(stockoutRequest(null, "40"), null);
  assert.equal(stockoutRequest("K1", "x"), null);
});

test("the machine starts with units 0, no SKU, nothing to start", () => {
  const { machine } = setup();
  const s = machine.getState();
  assert.equal(s.unitsText, "0");
  assert.equal(s.skuId, null);
  assert.equal(s.request, null);
  assert.equal(s.canPreview, true);
  assert.equal(s.canStart, false);
  assert.equal(s.run, RUN.NONE);
  assert.deepEqual(s.errors, { sku: null, units: null });
  assert.equal(s.skus.length, 3);
});

test("Preview without a SKU asks nothing and says what is missing", async () => {
  const { machine, api } = setup();
  machine.setUnits("");
  assert.equal(await machine.preview(), false);
  assert.equal(api.calls.preview.length, 0);
  const { errors } = machine.getState();
  assert.match(errors.sku, /Choose the SKU/);
  assert.match(errors.units, /units are on hand/);
});

test("a SKU the products no longer list is unchosen", () => {
  const { machine } = setup();
  machine.setSku("K3");
  machine.setProducts(PRODUCTS.slice(0, 1));
  assert.equal(machine.getState().skuId, null);
});

// ------------------------------------------------------------------ preview

test("preview posts {sku_id, units_on_hand, note: null}", async () => {
  const { machine, api } = setup();
  machine.setSku("K1");
  machine.setUnits("40");
  machine.preview();
  assert.equal(machine.getState().preview.state, "pending");
  assert.deepEqual(api.calls.preview[0].body, { sku_id: "K1", units_on_hand: 40, note: null });
  // The same values again while on their way: nothing more is sent.
  machine.preview();
  assert.equal(api.calls.preview.length, 1);
});

test("the preview summary in words, with the refunds in two currencies", () => {
  const summary = previewSummary(previewAnswer(), { locale: "en-US" });
  assert.equal(summary.matchedText, "120 orders waiting to ship have this SKU, 220 units in all.");
  assert.equal(summary.cancelText, "180 units in 95 orders would be cancelled.");
  assert.equal(summary.keptText, "40 units are kept for the oldest orders.");
  assert.equal(summary.refundsText, "Refunds: $1,234.50 and ¥3,000.");
  assert.deepEqual(
    summary.refunds.map((r) => [r.currency, r.total, r.text]),
    [
      ["USD", "1234.50", "$1,234.50"],
      ["JPY", "3000", "¥3,000"],
    ],
  );
  assert.equal(summary.truncatedText, null);
  assert.equal(summary.nothing, false);
  assert.equal(summary.startText, "Cancels 180 units in 95 orders, as previewed.");
  assert.equal(
    summary.text,
    "120 orders waiting to ship have this SKU, 220 units in all. 180 units in 95 orders would be cancelled. " +
      "40 units are kept for the oldest orders. Refunds: $1,234.50 and ¥3,000.",
  );
  assert.deepEqual(
    summary.orders.map((o) => [o.orderId, o.units, o.text]),
    [
      ["O7", 3, "Order O7: 3 units, refund $29.05"],
      ["O8", 1, "Order O8: 1 unit, refund ¥1,500"],
    ],
  );
});

test("the summary in the page's locale: euros as Germans write them", () => {
  const summary = previewSummary(previewAnswer({ refunds: [refund("1234.50", "EUR")] }), { locale: "de-DE" });
  assert.equal(summary.refundsText.replace(/[\u00a0\u202f]/g, " "), "Refunds: 1.234,50 €.");
});

test("a truncated preview says the list shows the first 100 orders", () => {
  const orders = Array.from({ length: 100 }, (_, i) => ({
    order_id: `O${i}`,
    lines: [{ line_id: "L1", remaining_quantity: 1, keep_quantity: 0, cancel_quantity: 1 }],
    refund: refund("1.00"),
  }));
  const summary = previewSummary(previewAnswer({ orders_to_cancel: 950, truncated: true, orders }));
  assert.equal(summary.truncatedText, "The list shows the first 100 of the 950 orders, oldest first.");
  assert.match(summary.text, /first 100 of the 950 orders/);
});

test("singular words and the cases with nothing to cancel", () => {
  const one = previewSummary(
    previewAnswer({ orders_matched: 1, units_demanded: 2, units_kept: 1, units_to_cancel: 1, orders_to_cancel: 1, refunds: [refund("9.68")] }),
  );
  assert.equal(one.matchedText, "1 order waiting to ship has this SKU, 2 units in all.");
  assert.equal(one.cancelText, "1 unit in 1 order would be cancelled.");
  assert.equal(one.keptText, "1 unit is kept for the oldest orders.");

  const none = previewSummary(previewAnswer({ units_kept: 0, units_on_hand: 0 }));
  assert.equal(none.keptText, "No units are kept.");

  const covered = previewSummary(
    previewAnswer({ units_on_hand: 500, units_kept: 220, units_to_cancel: 0, orders_to_cancel: 0, refunds: [], orders: [] }),
  );
  assert.equal(covered.nothing, true);
  assert.equal(covered.cancelText, "Nothing would be cancelled: the units on hand cover them all.");
  assert.equal(covered.refundsText, null);
  assert.equal(covered.startText, null);

  const noOrders = previewSummary(
    previewAnswer({ orders_matched: 0, units_demanded: 0, units_kept: 0, units_to_cancel: 0, orders_to_cancel: 0, refunds: [], orders: [] }),
  );
  assert.equal(noOrders.text, "No order waiting to ship has this SKU. Nothing would be cancelled.");
});

test("the preview answer lands in the state with its summary and a key", async () => {
  const { machine } = await previewed();
  const s = machine.getState();
  assert.equal(s.preview.state, "ready");
  assert.equal(s.preview.fresh, true);
  assert.equal(s.preview.skuLabel, "Mug — Blue (K1)");
  assert.equal(s.preview.summary.cancelText, "180 units in 95 orders would be cancelled.");
  assert.equal(s.idempotencyKey, "key-1");
  assert.equal(s.canStart, true);
});

test("an answer to older values is dropped", async () => {
  const { machine, api } = setup();
  machine.setSku("K1");
  machine.setUnits("40");
  machine.preview();
  machine.setUnits("10");
  machine.preview();
  assert.equal(api.calls.preview.length, 2);
  api.calls.preview[1].resolve(previewAnswer({ units_on_hand: 10, units_kept: 10, units_to_cancel: 210 }));
  await settle();
  api.calls.preview[0].resolve(previewAnswer());
  await settle();
  assert.equal(machine.getState().preview.data.units_to_cancel, 210);
  assert.equal(machine.getState().canStart, true);
});

test("a preview error is said in words and leaves Cancel the rest off", async () => {
  const { machine, api, unauthorized } = setup();
  machine.setSku("K1");
  const done = machine.preview();
  api.calls.preview[0].reject(problemError(503, "SERVICE_UNAVAILABLE"));
  assert.equal(await done, false);
  const s = machine.getState();
  assert.equal(s.preview.state, "error");
  assert.match(s.message.text, /try again in a moment/);
  assert.equal(s.canStart, false);
  assert.equal(unauthorized.length, 0);
});

// ------------------------------------------------------------------ Cancel the rest: when

test("Cancel the rest is on only for a fresh preview with units to cancel", async () => {
  const { machine } = await previewed();
  assert.equal(machine.getState().canStart, true);

  machine.setUnits("41");
  assert.equal(machine.getState().preview.fresh, false);
  assert.equal(machine.getState().canStart, false, "other units: preview again");
  machine.setUnits("40");
  assert.equal(machine.getState().canStart, true, "back to the previewed values");

  machine.setSku("K2");
  assert.equal(machine.getState().canStart, false, "another SKU: preview again");
  machine.setSku("K1");
  machine.setUnits("");
  assert.equal(machine.getState().canStart, false, "no units value");

  const nothing = await previewed(previewAnswer({ units_to_cancel: 0, orders_to_cancel: 0, refunds: [], orders: [] }));
  assert.equal(nothing.machine.getState().preview.state, "ready");
  assert.equal(nothing.machine.getState().canStart, false, "nothing to cancel");
  assert.equal(await nothing.machine.start(), false);
  assert.equal(nothing.api.calls.start.length, 0);
});

test("while a new preview is on its way Cancel the rest is off", async () => {
  const { machine } = await previewed();
  machine.setUnits("30");
  machine.preview();
  assert.equal(machine.getState().preview.state, "pending");
  assert.equal(machine.getState().canStart, false);
  assert.equal(machine.getState().idempotencyKey, null);
});

// ------------------------------------------------------------------ Cancel the rest: the key

test("start sends the previewed body with the preview's key; a second click sends nothing", async () => {
  const { machine, api } = await previewed();
  const first = machine.start();
  const second = machine.start();
  assert.equal(first, second);
  assert.equal(api.calls.start.length, 1);
  assert.deepEqual(api.calls.start[0].body, { sku_id: "K1", units_on_hand: 40, note: null });
  assert.deepEqual(api.calls.start[0].options, { idempotencyKey: "key-1" });
  const s = machine.getState();
  assert.equal(s.run, RUN.STARTING);
  assert.equal(s.busy, true);
  assert.equal(s.canStart, false);
  assert.equal(s.canPreview, false);
  // Edits while it is in flight change nothing.
  machine.setUnits("3");
  assert.equal(machine.getState().unitsText, "40");
  assert.equal(await machine.preview(), false);
});

test("a retry after a network error reuses the key; a new preview renews it", async () => {
  const { machine, api } = await previewed();
  const done = machine.start();
  api.calls.start[0].reject(new ApiError({ status: 0, network: true, errors: [] }));
  assert.equal(await done, false);
  let s = machine.getState();
  assert.equal(s.run, RUN.NONE);
  assert.equal(s.message.text, START_NETWORK_WORDS);
  assert.match(START_NETWORK_WORDS, /will not start it twice/);
  assert.equal(s.canStart, true);

  machine.start();
  assert.equal(api.calls.start.length, 2);
  assert.equal(api.calls.start[1].options.idempotencyKey, "key-1", "the same key on the retry");
  api.calls.start[1].reject(problemError(503, "SERVICE_UNAVAILABLE"));
  await settle();
  machine.start();
  assert.equal(api.calls.start[2].options.idempotencyKey, "key-1", "still the same key");
  api.calls.start[2].reject(problemError(503, "SERVICE_UNAVAILABLE"));
  await settle();

  // Previewing again (even the same values) gives a new key.
  const again = machine.preview();
  api.calls.preview.at(-1).resolve(previewAnswer());
  await again;
  s = machine.getState();
  assert.equal(s.idempotencyKey, "key-2");
  machine.start();
  assert.equal(api.calls.start[3].options.idempotencyKey, "key-2");
});

test("STOCKOUT_IN_PROGRESS and NOTHING_TO_CANCEL are said in words", async () => {
  const running = await previewed();
  const done = running.machine.start();
  running.api.calls.start[0].reject(problemError(409, "STOCKOUT_IN_PROGRESS"));
  await done;
  let s = running.machine.getState();
  assert.match(s.message.text, /^A stock-out of this SKU is already running\./);
  assert.doesNotMatch(s.message.text, /STOCKOUT_IN_PROGRESS/);
  assert.equal(s.canStart, true, "the same preview may be started once the other one is done");

  const nothing = await previewed();
  const done2 = nothing.machine.start();
  nothing.api.calls.start[0].reject(problemError(409, "NOTHING_TO_CANCEL"));
  await done2;
  s = nothing.machine.getState();
  assert.match(s.message.text, /^There is nothing to cancel: the units on hand cover every order of this SKU\./);
  assert.match(s.message.text, /Preview again/);
  assert.doesNotMatch(s.message.text, /NOTHING_TO_CANCEL/);
  assert.equal(s.preview.state, "idle", "the preview no longer holds");
  assert.equal(s.canStart, false);
});

test("stock-out error words: every code in a sentence, field errors named", () => {
  for (const code of ["STOCKOUT_IN_PROGRESS", "NOTHING_TO_CANCEL", "IDEMPOTENCY_KEY_REUSED", "STOCKOUT_NOT_FOUND", "FORBIDDEN"]) {
    const words = stockoutErrorWords(problemError(code === "FORBIDDEN" ? 403 : 409, code));
    assert.doesNotMatch(words, /[A-Z]{2,}_[A-Z]/, `${code}: ${words}`);
    assert.match(words, /^[A-Z].*[.!?]$/, `${code}: ${words}`);
  }
  assert.equal(
    stockoutErrorWords(problemError(409, "IDEMPOTENCY_KEY_REUSED")),
    STOCKOUT_WORDS.IDEMPOTENCY_KEY_REUSED,
    "not the dialog's 'from this window'",
  );
  assert.equal(
    stockoutErrorWords(
      problemError(400, "VALIDATION_ERROR", { errors: [{ field: "units_on_hand", message: "must be at least 0" }] }),
    ),
    "The server did not accept what was sent. Units on hand: must be at least 0.",
  );
  assert.equal(stockoutErrorWords(new ApiError({ status: 0, network: true, errors: [] })), NETWORK_WORDS);
  // The page's own table says the same for the two stock-out codes.
  assert.match(problemWords({ status: 409, code: "STOCKOUT_IN_PROGRESS", errors: [] }), /already running/);
  assert.match(problemWords({ status: 409, code: "NOTHING_TO_CANCEL", errors: [] }), /nothing to cancel/);
});

test("a 401 on start is handed to the page", async () => {
  const { machine, api, unauthorized } = await previewed();
  const done = machine.start();
  api.calls.start[0].reject(problemError(401, "UNAUTHORIZED"));
  await done;
  assert.equal(unauthorized.length, 1);
  assert.match(machine.getState().message.text, /sign in again/i);
});

// ------------------------------------------------------------------ progress

test("progress values from a Stockout", () => {
  assert.deepEqual(progressValues(stockout()), {
    value: 61,
    max: 95,
    indeterminate: false,
    fraction: 61 / 95,
    valueText: "61 of 95 orders done",
    text: "61 of 95 orders done: 60 cancelled, 1 skipped.",
  });
  const planning = progressValues(stockout({ status: "PLANNING", orders_planned: 0, orders_cancelled: 0, orders_skipped: 0 }));
  assert.equal(planning.indeterminate, true);
  assert.equal(planning.value, null);
  assert.match(planning.text, /Planning/);
  const planned = progressValues(stockout({ status: "PLANNING", orders_planned: 95, orders_cancelled: 0, orders_skipped: 0 }));
  assert.equal(planned.indeterminate, false);
  assert.equal(planned.value, 0);
  assert.equal(planned.max, 95);
  const done = progressValues(stockout({ status: "COMPLETED", orders_cancelled: 94, orders_skipped: 1 }));
  assert.equal(done.value, 95);
  assert.equal(done.fraction, 1);
  assert.equal(progressValues(stockout({ orders_planned: 1, orders_cancelled: 0, orders_skipped: 0 })).valueText, "0 of 1 order done");
});

test("the summary once COMPLETED: cancelled, skipped, units and refunds per currency", () => {
  const text = completedSummary(
    stockout({
      status: "COMPLETED",
      orders_cancelled: 94,
      orders_skipped: 1,
      units_cancelled: 180,
      refunded: [refund("1234.50", "USD"), refund("3000", "JPY")],
    }),
    { locale: "en-US", skuLabel: "Mug — Blue (K1)" },
  );
  assert.equal(
    text,
    "Stock-out of Mug — Blue (K1) completed: 94 orders cancelled, 1 skipped; 180 units cancelled; " +
      "refunded $1,234.50 and ¥3,000. The skipped order could no longer be cancelled unit by unit (shipped or changed meanwhile).",
  );
  assert.equal(
    completedSummary(
      stockout({ status: "COMPLETED", orders_planned: 1, orders_cancelled: 1, orders_skipped: 0, units_cancelled: 1, refunded: [] }),
    ),
    "Stock-out of K1 completed: 1 order cancelled, 0 skipped; 1 unit cancelled; nothing refunded.",
  );
});

test("after 202 the stock-out is polled about once a second until COMPLETED", async () => {
  const ctx = await started();
  const { machine, api, timers, completed } = ctx;
  let s = machine.getState();
  assert.equal(s.run, RUN.FOLLOWING);
  assert.equal(s.progress.indeterminate, true);
  assert.equal(s.preview.state, "idle", "the preview is spent");
  assert.equal(s.idempotencyKey, null);
  assert.equal(s.canStart, false);
  assert.equal(ctx.started.length, 1);
  assert.equal(ctx.started[0].message, "Stock-out of Mug — Blue (K1) started.");
  assert.equal([...timers.pending.values()][0].ms, POLL_MS);

  timers.flush();
  assert.equal(api.calls.get.length, 1);
  assert.equal(api.calls.get[0].id, "SO-1");
  assert.equal(timers.pending.size, 0, "one read at a time");
  api.calls.get[0].resolve(stockout());
  await settle();
  s = machine.getState();
  assert.equal(s.progress.value, 61);
  assert.equal(s.progress.max, 95);
  assert.equal(timers.pending.size, 1);

  timers.flush();
  api.calls.get[1].resolve(
    stockout({ status: "COMPLETED", orders_cancelled: 94, orders_skipped: 1, units_cancelled: 180, finished_at: "…" }),
  );
  await settle();
  s = machine.getState();
  assert.equal(s.run, RUN.COMPLETED);
  assert.equal(s.progress.value, 95);
  assert.match(s.completedText, /^Stock-out of Mug — Blue \(K1\) completed: 94 orders cancelled, 1 skipped; 180 units cancelled/);
  assert.equal(timers.pending.size, 0, "no more polling");
  assert.equal(completed.length, 1);
  assert.equal(completed[0].message, s.completedText);
  assert.equal(s.busy, false);
  assert.equal(s.canPreview, true);
});

test("a 202 already COMPLETED (a replay) needs no polling", async () => {
  const ctx = await started(stockout({ status: "COMPLETED", orders_cancelled: 94, orders_skipped: 1 }));
  assert.equal(ctx.machine.getState().run, RUN.COMPLETED);
  assert.equal(ctx.timers.pending.size, 0);
  assert.equal(ctx.completed.length, 1);
});

test("repeated read errors stop the polling with a message; Check again resumes", async () => {
  const { machine, api, timers } = await started();
  for (let i = 0; i < MAX_POLL_ERRORS; i += 1) {
    assert.equal(machine.getState().run, RUN.FOLLOWING);
    timers.flush();
    api.calls.get.at(-1).reject(new ApiError({ status: 0, network: true, errors: [] }));
    await settle();
  }
  let s = machine.getState();
  assert.equal(s.run, RUN.LOST);
  assert.equal(timers.pending.size, 0);
  assert.equal(
    s.message.text,
    "The stock-out's progress could not be read. The console could not reach the server. " +
      "The stock-out goes on without the page: check its progress again in a moment.",
  );
  assert.equal(s.canPreview, true, "the form is back");

  machine.checkAgain();
  assert.equal(machine.getState().run, RUN.FOLLOWING);
  timers.flush();
  api.calls.get.at(-1).resolve(stockout());
  await settle();
  s = machine.getState();
  assert.equal(s.message, null);
  assert.equal(s.progress.value, 61);
});

test("one read error, then a good read: polling goes on; a 503 waits its Retry-After", async () => {
  const { machine, api, timers } = await started();
  timers.flush();
  api.calls.get[0].reject(problemError(503, "SERVICE_UNAVAILABLE", { retryAfter: 3 }));
  await settle();
  assert.equal(machine.getState().run, RUN.FOLLOWING);
  assert.equal([...timers.pending.values()][0].ms, 3000);
  timers.flush();
  api.calls.get[1].resolve(stockout());
  await settle();
  assert.equal([...timers.pending.values()][0].ms, POLL_MS);
});

test("a 404 stops at once; a 401 stops and is handed to the page", async () => {
  const gone = await started();
  gone.timers.flush();
  gone.api.calls.get[0].reject(problemError(404, "STOCKOUT_NOT_FOUND"));
  await settle();
  assert.equal(gone.machine.getState().run, RUN.LOST);
  assert.match(gone.machine.getState().message.text, /This stock-out could not be found\./);

  const expired = await started();
  expired.timers.flush();
  expired.api.calls.get[0].reject(problemError(401, "UNAUTHORIZED"));
  await settle();
  assert.equal(expired.machine.getState().run, RUN.LOST);
  assert.equal(expired.unauthorized.length, 1);
  assert.equal(expired.timers.pending.size, 0);
});

test("dispose (leaving the page, another seller) stops polling; late answers change nothing", async () => {
  const { machine, api, timers, completed } = await started();
  timers.flush();
  const seen = [];
  machine.subscribe((s) => seen.push(s));
  machine.dispose();
  assert.equal(timers.pending.size, 0);
  api.calls.get[0].resolve(stockout({ status: "COMPLETED" }));
  await settle();
  assert.equal(completed.length, 0);
  assert.equal(seen.length, 0);
  assert.equal(timers.pending.size, 0);
});

test("pause (pagehide) stops the timer; resume (pageshow) reads again at once", async () => {
  const { machine, api, timers } = await started();
  machine.pause();
  assert.equal(timers.pending.size, 0);
  machine.resume();
  assert.equal([...timers.pending.values()][0].ms, 0);
  timers.flush();
  assert.equal(api.calls.get.length, 1);
});

test("the default key is a random UUID", async () => {
  const api = fakeApi();
  const machine = createStockoutState({ api, setTimer: () => 0, clearTimer: () => {} });
  machine.setProducts(PRODUCTS);
  machine.setSku("K1");
  const done = machine.preview();
  api.calls.preview[0].resolve(previewAnswer());
  await done;
  assert.match(machine.getState().idempotencyKey, UUID);
  machine.dispose();
});

test("outside a secure context (no randomUUID) the key still is a random UUID v4", () => {
  const crypto = { getRandomValues: (a) => globalThis.crypto.getRandomValues(a) };
  const a = randomKey(crypto);
  assert.match(a, UUID);
  assert.notEqual(a, randomKey(crypto));
  assert.match(randomKey(), UUID);
});

// ------------------------------------------------------------------ the HTTP client's side

/** A fetch that records each call and answers from `answers` in turn. */
function fakeFetch(...answers) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url, init });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer instanceof Error) throw answer;
    const { status = 200, body = {}, headers = {} } = answer ?? {};
    return new Response(JSON.stringify(body), { status, headers });
  };
  return { fetch, calls };
}

test("the client posts the preview, starts with the Idempotency-Key and reads the stock-out", async () => {
  const { fetch, calls } = fakeFetch(
    { body: previewAnswer() },
    { status: 202, body: stockout({ status: "PLANNING" }) },
    { body: stockout() },
  );
  const api = createApi({ getToken: () => "tok-1", fetch });
  const body = { sku_id: "K1", units_on_hand: 40, note: null };

  assert.equal((await api.previewStockout(body)).units_to_cancel, 180);
  assert.equal(calls[0].url, "/stockouts/preview");
  assert.equal(calls[0].init.method, "POST");
  assert.deepEqual(JSON.parse(calls[0].init.body), body);
  assert.equal(calls[0].init.headers.Authorization, "Bearer tok-1");
  assert.equal(calls[0].init.headers["Idempotency-Key"], undefined);

  assert.equal((await api.startStockout(body, { idempotencyKey: "key-1" })).status, "PLANNING");
  assert.equal(calls[1].url, "/stockouts");
  assert.equal(calls[1].init.method, "POST");
  assert.equal(calls[1].init.headers["Idempotency-Key"], "key-1");
  assert.equal(calls[1].init.headers["Content-Type"], "application/json");

  await api.getStockout("SO 1/2");
  assert.equal(calls[2].url, "/stockouts/SO%201%2F2");
  assert.equal(calls[2].init.method, "GET");

  assert.throws(() => api.startStockout(body, {}), TypeError);
  assert.equal(calls.length, 3);
});

test("a 409 from POST /stockouts comes back as an ApiError with its code", async () => {
  const { fetch } = fakeFetch({
    status: 409,
    headers: { "Content-Type": "application/problem+json" },
    body: { type: "about:blank", title: "Conflict", status: 409, code: "STOCKOUT_IN_PROGRESS", detail: "K1" },
  });
  const api = createApi({ getToken: () => "t", fetch });
  await assert.rejects(api.startStockout({ sku_id: "K1", units_on_hand: 0, note: null }, { idempotencyKey: "k" }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, "STOCKOUT_IN_PROGRESS");
    assert.match(stockoutErrorWords(error), /already running/);
    return true;
  });
});
