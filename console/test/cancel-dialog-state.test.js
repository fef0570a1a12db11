import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../js/api.js";
import {
  buildCancellationRequest,
  cancellablePackages,
  createCancelDialogState,
  ORDER_CHANGED_WORDS,
  parseUnits,
  PREVIEW_DEBOUNCE_MS,
  reconcileChoice,
  STEP,
  SUBMIT_NETWORK_WORDS,
  successMessage,
  WHOLE_ORDER,
} from "../js/cancel-dialog-state.js";

const REASONS = [
  { code: "OUT_OF_STOCK", label: "Out of stock", item_level_allowed: true },
  { code: "PRICING_ERROR", label: "Pricing error", item_level_allowed: false },
  { code: "BUYER_REQUESTED", label: "Buyer requested", item_level_allowed: false },
];

function makeOrder(overrides = {}) {
  return {
    order_id: "O1",
    status: "AWAITING_SHIPMENT",
    currency: "USD",
    version: 3,
    buyer: { name: "Ana Ruiz", email: "a***@example.com" },
    packages: [
      { package_id: "PK1", status: "AWAITING_SHIPMENT", cancellable: true, ineligible_reason: null },
      { package_id: "PK2", status: "AWAITING_COLLECTION", cancellable: true, ineligible_reason: null },
      { package_id: "PK3", status: "CANCELLED", cancellable: false, ineligible_reason: "FULLY_CANCELLED" },
    ],
    lines: [
      line("L1", "Kettle", "Black", "PK1", 2, 0, 2, true, null),
      line("L2", "Filters", "x100", "PK2", 2, 0, 0, false, "PACKAGE_NOT_AWAITING_SHIPMENT"),
      line("L3", "Mug", "Blue", "PK1", 3, 0, 3, true, null),
      line("L4", "Spoon", "Steel", "PK3", 1, 1, 0, false, "FULLY_CANCELLED"),
    ],
    actions: { cancel_order: true, cancel_items: true },
    ...overrides,
  };
}

function line(line_id, product_name, sku_name, package_id, quantity, cancelled, cancellable, itemCancellable, reason) {
  return {
    line_id,
    product_id: `P-${product_name}`,
    sku_id: `K-${sku_name}`,
    product_name,
    sku_name,
    package_id,
    quantity,
    cancelled_quantity: cancelled,
    cancellable_quantity: cancellable,
    item_cancellable: itemCancellable,
    ineligible_reason: reason,
  };
}

function refund(total, currency = "USD") {
  return {
    currency,
    subtotal: total,
    seller_discount: "0.00",
    platform_discount: "0.00",
    tax: "0.00",
    shipping_fee: "0.00",
    total,
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
  const calls = { preview: [], submit: [], getOrder: [] };
  return {
    calls,
    previewCancellation(orderId, body) {
      const d = deferred();
      calls.preview.push({ orderId, body, ...d });
      return d.promise;
    },
    submitCancellation(orderId, body, options) {
      const d = deferred();
      calls.submit.push({ orderId, body, options, ...d });
      return d.promise;
    },
    getOrder(orderId) {
      const d = deferred();
      calls.getOrder.push({ orderId, ...d });
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
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup({ order = makeOrder(), keys } = {}) {
  const api = fakeApi();
  const timers = fakeTimers();
  const succeeded = [];
  const refreshed = [];
  let n = 0;
  const machine = createCancelDialogState({
    order,
    reasons: REASONS,
    api,
    locale: "en-US",
    newIdempotencyKey: keys ?? (() => `key-${++n}`),
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
    onSucceeded: (r) => succeeded.push(r),
    onOrderRefreshed: (o) => refreshed.push(o),
  });
  return { machine, api, timers, succeeded, refreshed };
}

/** Reason chosen, Continue pressed. */
function atChoice(reasonCode, options) {
  const ctx = setup(options);
  ctx.machine.chooseReason(reasonCode);
  ctx.machine.continue();
  return ctx;
}

/** At the choice step with a preview answered for `units` of L3. */
async function previewed(units = "2", version = 3, total = "19.37") {
  const ctx = atChoice("OUT_OF_STOCK");
  ctx.machine.setUnits("L3", units);
  ctx.timers.flush();
  ctx.api.calls.preview.at(-1).resolve({ order_version: version, refund: refund(total), items: [] });
  await settle();
  return ctx;
}

// ------------------------------------------------------------------ steps

test("it starts at the reason step; Continue needs a reason", () => {
  const { machine } = setup();
  assert.equal(machine.getState().step, STEP.REASON);
  assert.equal(machine.getState().canContinue, false);
  machine.continue();
  assert.equal(machine.getState().step, STEP.REASON);
  machine.chooseReason("NOT_A_REASON");
  assert.equal(machine.getState().reasonCode, null);
  machine.chooseReason("PRICING_ERROR");
  assert.equal(machine.getState().canContinue, true);
});

test("Continue goes to the choice step, asking no preview while nothing is chosen", () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  const s = machine.getState();
  assert.equal(s.step, STEP.CHOICE);
  assert.equal(s.itemLevel, true);
  assert.equal(s.body, null);
  assert.equal(s.preview.state, "idle");
  assert.equal(s.canSubmit, false);
  timers.flush();
  assert.equal(api.calls.preview.length, 0);
});

test("Back returns to the reason step, keeping the reason, and drops a preview on its way", async () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L1", "1");
  timers.flush();
  machine.back();
  assert.equal(machine.getState().step, STEP.REASON);
  assert.equal(machine.getState().reasonCode, "OUT_OF_STOCK");
  api.calls.preview[0].resolve({ order_version: 3, refund: refund("1.00") });
  await settle();
  assert.equal(machine.getState().preview.state, "idle");
  assert.equal(machine.getState().preview.refund, null);
});

test("a non-item reason shows the whole order and the cancellable packages", () => {
  const { machine } = atChoice("PRICING_ERROR");
  const s = machine.getState();
  assert.equal(s.itemLevel, false);
  assert.deepEqual(cancellablePackages(s.order).map((p) => p.package_id), ["PK1", "PK2"]);
});

// ------------------------------------------------------------------ request bodies

test("ITEMS: only the lines with units above zero", () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L1", "0");
  machine.setUnits("L3", "2");
  assert.deepEqual(machine.getState().body, {
    reason: "OUT_OF_STOCK",
    scope: "ITEMS",
    items: [{ line_id: "L3", quantity: 2 }],
  });
  timers.flush();
  assert.equal(api.calls.preview.length, 1);
  assert.equal(api.calls.preview[0].orderId, "O1");
  assert.deepEqual(api.calls.preview[0].body.items, [{ line_id: "L3", quantity: 2 }]);
});

test("PACKAGE and ORDER bodies", () => {
  const { machine, api, timers } = atChoice("BUYER_REQUESTED");
  machine.chooseTarget("PK2");
  assert.deepEqual(machine.getState().body, { reason: "BUYER_REQUESTED", scope: "PACKAGE", package_id: "PK2" });
  machine.chooseTarget(WHOLE_ORDER);
  assert.deepEqual(machine.getState().body, { reason: "BUYER_REQUESTED", scope: "ORDER" });
  timers.flush();
  assert.equal(api.calls.preview.length, 1, "the debounce coalesces the two choices");
  assert.deepEqual(api.calls.preview[0].body, { reason: "BUYER_REQUESTED", scope: "ORDER" });
});

test("a package or whole order that cannot be cancelled gives no request", () => {
  const order = makeOrder({ actions: { cancel_order: false, cancel_items: true } });
  const pricing = REASONS[1];
  assert.equal(buildCancellationRequest({ order, reason: pricing, target: WHOLE_ORDER }), null);
  assert.equal(buildCancellationRequest({ order, reason: pricing, target: "PK3" }), null);
  assert.equal(buildCancellationRequest({ order, reason: pricing, target: "NOPE" }), null);
  assert.equal(buildCancellationRequest({ order, reason: pricing, target: null }), null);
  assert.equal(buildCancellationRequest({ order, reason: null, target: "PK1" }), null);
});

test("an item-level reason ignores the package choice and a non-item one ignores units", () => {
  const order = makeOrder();
  assert.equal(buildCancellationRequest({ order, reason: REASONS[0], units: {}, target: "PK1" }), null);
  assert.deepEqual(buildCancellationRequest({ order, reason: REASONS[1], units: { L1: "2" }, target: "PK1" }), {
    reason: "PRICING_ERROR",
    scope: "PACKAGE",
    package_id: "PK1",
  });
});

test("zero units everywhere: no preview, Submit off, a pending preview called off", () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "2");
  assert.equal(timers.pending.size, 1);
  machine.setUnits("L3", "0");
  assert.equal(timers.pending.size, 0);
  timers.flush();
  assert.equal(api.calls.preview.length, 0);
  assert.equal(machine.getState().preview.state, "idle");
  assert.equal(machine.getState().canSubmit, false);
});

test("units outside 0..cancellable are an error in words and ask no preview", () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "4");
  assert.equal(machine.getState().unitErrors.L3, "Only 3 units are left to cancel.");
  assert.equal(machine.getState().body, null);
  machine.setUnits("L3", "1.5");
  assert.match(machine.getState().unitErrors.L3, /whole number from 0 to 3/);
  machine.setUnits("L3", "-1");
  assert.match(machine.getState().unitErrors.L3, /whole number/);
  timers.flush();
  assert.equal(api.calls.preview.length, 0);
});

test("a line that cannot be item-cancelled takes no units", () => {
  const { machine } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L2", "1");
  machine.setUnits("L4", "1");
  assert.deepEqual(machine.getState().units, {});
  assert.equal(machine.getState().body, null);
});

test("parseUnits", () => {
  assert.deepEqual(parseUnits("", 3), { value: 0, error: null });
  assert.deepEqual(parseUnits("3", 3), { value: 3, error: null });
  assert.deepEqual(parseUnits(" 2 ", 3), { value: 2, error: null });
  assert.equal(parseUnits("2", 1).error, "Only 1 unit is left to cancel.");
  assert.equal(parseUnits("abc", 3).value, null);
});

// ------------------------------------------------------------------ previews

test("previews wait for the debounce", () => {
  const { machine, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "1");
  assert.equal([...timers.pending.values()][0].ms, PREVIEW_DEBOUNCE_MS);
  assert.equal(machine.getState().preview.state, "pending");
});

test("a preview answer fills the refund and allows Submit", async () => {
  const { machine } = await previewed("2", 3, "19.37");
  const s = machine.getState();
  assert.equal(s.preview.state, "ready");
  assert.equal(s.preview.refund.total, "19.37");
  assert.equal(s.preview.orderVersion, 3);
  assert.equal(s.canSubmit, true);
});

test("an out-of-date preview answer is ignored, whichever order the answers come in", async () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "1");
  timers.flush();
  machine.setUnits("L3", "2");
  timers.flush();
  assert.equal(api.calls.preview.length, 2);

  // The older answer first: ignored, still waiting for the newer one.
  api.calls.preview[0].resolve({ order_version: 3, refund: refund("9.68") });
  await settle();
  assert.equal(machine.getState().preview.state, "pending");
  assert.equal(machine.getState().canSubmit, false);

  api.calls.preview[1].resolve({ order_version: 3, refund: refund("19.37") });
  await settle();
  assert.equal(machine.getState().preview.refund.total, "19.37");

  // Newer first, then the older one late: the older one changes nothing.
  machine.setUnits("L3", "3");
  timers.flush();
  machine.setUnits("L3", "1");
  timers.flush();
  api.calls.preview[3].resolve({ order_version: 3, refund: refund("9.68") });
  await settle();
  api.calls.preview[2].reject(new ApiError({ status: 503, code: "SERVICE_UNAVAILABLE", errors: [] }));
  await settle();
  assert.equal(machine.getState().preview.state, "ready");
  assert.equal(machine.getState().preview.refund.total, "9.68");
  assert.equal(machine.getState().message, null);
});

test("a changed choice leaves Submit off until its own preview is back", async () => {
  const { machine, timers, api } = await previewed("2");
  machine.setUnits("L3", "3");
  assert.equal(machine.getState().canSubmit, false);
  assert.equal(await machine.submit(), false);
  assert.equal(api.calls.submit.length, 0);
  timers.flush();
  api.calls.preview.at(-1).resolve({ order_version: 3, refund: refund("29.05") });
  await settle();
  assert.equal(machine.getState().canSubmit, true);
});

test("a preview error is said in words and keeps Submit off", async () => {
  const { machine, api, timers } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "1");
  timers.flush();
  api.calls.preview[0].reject(new ApiError({ status: 503, code: "SERVICE_UNAVAILABLE", errors: [] }));
  await settle();
  const s = machine.getState();
  assert.equal(s.preview.state, "error");
  assert.equal(s.canSubmit, false);
  assert.match(s.message.text, /try again in a moment/);
  assert.equal(s.message.kind, "error");
});

test("a preview refused because the order moved reads the order again", async () => {
  const { machine, api, timers, refreshed } = atChoice("OUT_OF_STOCK");
  machine.setUnits("L3", "3");
  timers.flush();
  api.calls.preview[0].reject(
    new ApiError({
      status: 409,
      code: "QUANTITY_EXCEEDS_CANCELLABLE",
      detail: "line L3: 3 requested, 1 cancellable",
      errors: [{ field: "items[0].quantity", message: "at most 1 cancellable" }],
    }),
  );
  await settle();
  assert.equal(machine.getState().message.text, "More units were asked for than are left to cancel. Mug — Blue: at most 1 cancellable.");
  assert.equal(api.calls.getOrder.length, 1);
  const fresh = makeOrder({ version: 4 });
  fresh.lines[2] = { ...fresh.lines[2], cancelled_quantity: 2, cancellable_quantity: 1 };
  api.calls.getOrder[0].resolve(fresh);
  await settle();
  assert.equal(refreshed.length, 1);
  assert.equal(machine.getState().order.version, 4);
  assert.equal(machine.getState().unitErrors.L3, "Only 1 unit is left to cancel.");
});

// ------------------------------------------------------------------ submit

test("submit sends the preview's version and the dialog's key; a second click sends nothing", async () => {
  const { machine, api } = await previewed("2", 3);
  const first = machine.submit();
  const second = machine.submit();
  assert.equal(api.calls.submit.length, 1);
  assert.equal(first, second);
  const s = machine.getState();
  assert.equal(s.submitting, true);
  assert.equal(s.canSubmit, false);
  const call = api.calls.submit[0];
  assert.equal(call.orderId, "O1");
  assert.deepEqual(call.body, { reason: "OUT_OF_STOCK", scope: "ITEMS", items: [{ line_id: "L3", quantity: 2 }] });
  assert.deepEqual(call.options, { idempotencyKey: "key-1", orderVersion: 3 });

  // Edits while in flight change nothing.
  machine.setUnits("L3", "1");
  assert.equal(machine.getState().units.L3, "2");
});

test("success: DONE, a status message with the refund, reported to the page", async () => {
  const { machine, api, succeeded } = await previewed("2", 3, "19.37");
  const done = machine.submit();
  api.calls.submit[0].resolve({
    order_id: "O1",
    scope: "ITEMS",
    items: [{ line_id: "L3", product_name: "Mug", quantity: 2, refund: refund("19.37") }],
    refund: refund("19.37"),
    order_version: 4,
  });
  assert.equal(await done, true);
  const s = machine.getState();
  assert.equal(s.step, STEP.DONE);
  assert.equal(s.successText, "Cancelled 2 units of Mug — Blue from order O1; refund $19.37");
  assert.equal(succeeded.length, 1);
  assert.equal(succeeded[0].message, s.successText);
  assert.equal(await machine.submit(), false);
  assert.equal(api.calls.submit.length, 1);
});

test("412: the order is read again, the choice kept, the refund previewed again, the seller told", async () => {
  const { machine, api, refreshed, timers } = await previewed("2", 3, "19.37");
  const done = machine.submit();
  api.calls.submit[0].reject(new ApiError({ status: 412, code: "ORDER_VERSION_MISMATCH", errors: [] }));
  await settle();
  assert.equal(machine.getState().message.kind, "notice");
  assert.equal(machine.getState().message.text, ORDER_CHANGED_WORDS);
  assert.match(ORDER_CHANGED_WORDS, /changed/);
  assert.match(ORDER_CHANGED_WORDS, /check it/);
  assert.equal(machine.getState().canSubmit, false);
  assert.equal(api.calls.getOrder.length, 1);

  api.calls.getOrder[0].resolve(makeOrder({ version: 5 }));
  assert.equal(await done, false);
  assert.equal(refreshed.length, 1);
  assert.equal(machine.getState().preview.state, "pending");
  timers.flush();
  assert.equal(api.calls.preview.length, 2, "previewed again");
  assert.deepEqual(api.calls.preview[1].body.items, [{ line_id: "L3", quantity: 2 }], "the choice is kept");
  assert.equal(machine.getState().message.text, ORDER_CHANGED_WORDS, "the notice stays during the new preview");

  api.calls.preview[1].resolve({ order_version: 5, refund: refund("19.37") });
  await settle();
  assert.equal(machine.getState().canSubmit, true);
  assert.equal(machine.getState().message.text, ORDER_CHANGED_WORDS);

  machine.submit();
  assert.equal(api.calls.submit.length, 2);
  assert.deepEqual(api.calls.submit[1].options, { idempotencyKey: "key-1", orderVersion: 5 }, "same key, new version");
});

test("412 after which the chosen package cannot be cancelled any more: nothing is chosen", async () => {
  const { machine, api, timers } = atChoice("PRICING_ERROR");
  machine.chooseTarget("PK2");
  timers.flush();
  api.calls.preview[0].resolve({ order_version: 3, refund: refund("10.00") });
  await settle();
  const done = machine.submit();
  api.calls.submit[0].reject(new ApiError({ status: 412, code: "ORDER_VERSION_MISMATCH", errors: [] }));
  await settle();
  const fresh = makeOrder({ version: 4 });
  fresh.packages[1] = { ...fresh.packages[1], status: "IN_TRANSIT", cancellable: false };
  api.calls.getOrder[0].resolve(fresh);
  await done;
  timers.flush();
  const s = machine.getState();
  assert.equal(s.target, null);
  assert.equal(s.body, null);
  assert.equal(s.canSubmit, false);
  assert.equal(api.calls.preview.length, 1, "nothing to preview");
});

test("reconcileChoice keeps what still holds", () => {
  const fresh = makeOrder();
  fresh.lines[0] = { ...fresh.lines[0], item_cancellable: false, cancellable_quantity: 0 };
  assert.deepEqual(reconcileChoice(fresh, { units: { L1: "1", L3: "2" }, target: "PK1" }), {
    units: { L3: "2" },
    target: "PK1",
  });
  assert.deepEqual(reconcileChoice(fresh, { units: {}, target: "PK3" }).target, null);
  assert.deepEqual(
    reconcileChoice(makeOrder({ actions: { cancel_order: false, cancel_items: false } }), { units: {}, target: WHOLE_ORDER })
      .target,
    null,
  );
});

test("another submit error is said in words and the seller may try again with the same key", async () => {
  const { machine, api } = await previewed("2");
  const done = machine.submit();
  api.calls.submit[0].reject(new ApiError({ status: 503, code: "SERVICE_UNAVAILABLE", errors: [] }));
  assert.equal(await done, false);
  let s = machine.getState();
  assert.equal(s.submitting, false);
  assert.equal(s.message.kind, "error");
  assert.match(s.message.text, /try again in a moment/);
  assert.equal(s.canSubmit, true);
  machine.submit();
  assert.equal(api.calls.submit.length, 2);
  assert.equal(api.calls.submit[1].options.idempotencyKey, api.calls.submit[0].options.idempotencyKey);
  s = machine.getState();
  assert.equal(s.message, null);
});

test("a submit lost on the network says so and that retrying is safe", async () => {
  const { machine, api } = await previewed("2");
  const done = machine.submit();
  api.calls.submit[0].reject(new ApiError({ status: 0, network: true, errors: [] }));
  await done;
  assert.equal(machine.getState().message.text, SUBMIT_NETWORK_WORDS);
  assert.match(SUBMIT_NETWORK_WORDS, /will not cancel anything twice/);
});

test("each opening of the dialog has its own idempotency key", () => {
  let n = 0;
  const keys = () => `k${++n}`;
  const a = setup({ keys }).machine;
  const b = setup({ keys }).machine;
  assert.equal(a.idempotencyKey, "k1");
  assert.equal(b.idempotencyKey, "k2");
  assert.equal(a.getState().idempotencyKey, "k1");
});

test("the default key is a random UUID", () => {
  const machine = createCancelDialogState({ order: makeOrder(), reasons: REASONS, api: fakeApi() });
  assert.match(machine.idempotencyKey, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  machine.dispose();
});

test("after dispose answers change nothing, but a success is still reported", async () => {
  const { machine, api, succeeded } = await previewed("2");
  const seen = [];
  machine.subscribe((s) => seen.push(s));
  const done = machine.submit();
  machine.dispose();
  api.calls.submit[0].resolve({ order_id: "O1", scope: "ORDER", refund: refund("40.00"), items: [] });
  await done;
  assert.equal(succeeded.length, 1);
  assert.equal(succeeded[0].message, "Cancelled order O1; refund $40.00");
  assert.equal(seen.length, 1, "only the submit's own change before dispose was emitted");
});

// ------------------------------------------------------------------ messages

test("success messages for packages, orders, several lines, and JPY", () => {
  const order = makeOrder();
  assert.equal(
    successMessage({ cancellation: { order_id: "O1", scope: "PACKAGE", package_id: "PK2", refund: refund("5.00") }, order, locale: "en-US" }),
    "Cancelled package PK2 of order O1; refund $5.00",
  );
  assert.equal(
    successMessage({
      cancellation: {
        order_id: "O1",
        scope: "ITEMS",
        items: [
          { line_id: "L1", product_name: "Kettle", quantity: 1 },
          { line_id: "L3", product_name: "Mug", quantity: 3 },
        ],
        refund: refund("1500", "JPY"),
      },
      order,
      locale: "en-US",
    }),
    "Cancelled 1 unit of Kettle — Black and 3 units of Mug — Blue from order O1; refund ¥1,500",
  );
});
