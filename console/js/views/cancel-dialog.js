// The Cancel order dialog: a modal <dialog> named "Cancel order {order_id}",
// drawn from the state machine of cancel-dialog-state.js.
//
// Step 1: radio group "Reason", button "Continue".
// Step 2: for an item-level reason, a number field "Units to cancel: {product} —
//   {SKU}" per line (disabled, with the reason, for lines that cannot be
//   item-cancelled); otherwise a radio group "What to cancel" with "Whole order"
//   and "Package {package_id}" per cancellable package. A region "Refund" with
//   the preview (aria-busy while one is on its way), and "Submit cancellation".
// On success the dialog closes and the page says what was cancelled.

import { createCancelDialogState, STEP, WHOLE_ORDER, cancellablePackages, lineTitle } from "../cancel-dialog-state.js";
import { formatDeduction, formatMoney } from "../money.js";
import { lineIneligibleWordsIn, orderStatusWords } from "../status-words.js";
import { h, uid } from "./dom.js";

const REFUND_ROWS = [
  { key: "items", label: "Items", field: "subtotal", deduction: false },
  { key: "seller_discount", label: "Seller discount", field: "seller_discount", deduction: true },
  { key: "platform_discount", label: "Platform discount", field: "platform_discount", deduction: true },
  { key: "tax", label: "Tax", field: "tax", deduction: false },
  { key: "shipping", label: "Shipping", field: "shipping_fee", deduction: false },
  { key: "total", label: "Total", field: "total", deduction: false },
];

const EMPTY_CELL = "—";

/** The dialog's controls that Tab can reach, in order (a radio group's radios included). */
function tabbables(root) {
  return [...root.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")].filter(
    (el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
  );
}

/** Whether Tab sees `a` and `b` as one stop: the same control, or radios of one group. */
function sameStop(a, b) {
  return a === b || (a?.type === "radio" && b?.type === "radio" && a.name !== "" && a.name === b.name);
}

function unitsFieldLabel(line, duplicated) {
  const base = `Units to cancel: ${lineTitle(line)}`;
  return duplicated ? `${base} (package ${line.package_id})` : base;
}

/**
 * Opens the dialog for `order`.
 * options: {order, reasons, api, locale, onOrderRefreshed(order),
 *           onSucceeded({cancellation, message}), onClosed()}
 */
export function openCancelDialog({ order, reasons, api, locale, onOrderRefreshed, onSucceeded, onClosed }) {
  const titleId = uid("cancel-title");
  const messageEl = h("div", { role: "alert", class: "dialog-message", "data-kind": "" });
  const content = h("div", { class: "dialog-body" });
  const dialog = h(
    "dialog",
    { class: "cancel-dialog", "aria-labelledby": titleId, "data-order-id": order.order_id },
    h(
      "div",
      { class: "dialog-head" },
      h("h2", { id: titleId }, `Cancel order ${order.order_id}`),
      h("button", { type: "button", class: "button button--quiet", onclick: () => dialog.close() }, "Close"),
    ),
    content,
  );

  let closed = false;
  const machine = createCancelDialogState({
    order,
    reasons,
    api,
    locale,
    onOrderRefreshed: (fresh) => {
      onOrderRefreshed?.(fresh);
    },
    onSucceeded: (result) => {
      onSucceeded?.(result);
      if (!closed) dialog.close();
    },
  });

  // Elements of the step on screen, updated in place between renders.
  let view = null;
  let viewKey = null;

  function buildReasonStep(state) {
    const name = uid("reason");
    const radios = state.reasons.map((reason) =>
      h("input", {
        type: "radio",
        name,
        value: reason.code,
        checked: state.reasonCode === reason.code,
        onchange: () => machine.chooseReason(reason.code),
      }),
    );
    const continueButton = h(
      "button",
      { type: "button", class: "button button--primary", onclick: () => machine.continue() },
      "Continue",
    );
    const body = h(
      "div",
      { class: "dialog-step", "data-step": "reason" },
      h(
        "fieldset",
        { class: "choice-group" },
        h("legend", {}, "Reason"),
        state.reasons.map((reason, i) =>
          h("label", { class: "choice" }, radios[i], h("span", {}, reason.label)),
        ),
      ),
      h("div", { class: "dialog-actions" }, continueButton),
    );
    return {
      body,
      focus: () => (radios.find((r) => r.checked) ?? radios[0] ?? continueButton).focus(),
      update(s) {
        continueButton.disabled = !s.canContinue;
      },
    };
  }

  function buildRefundRegion() {
    const headingId = uid("refund-title");
    const cells = {};
    const rows = REFUND_ROWS.map((row) => {
      const cell = h("td", { "data-amount": "" }, EMPTY_CELL);
      cells[row.key] = cell;
      return h(
        "tr",
        { class: `refund-row refund-row--${row.key}`, "data-row": row.key },
        h("th", { scope: "row" }, row.label),
        cell,
      );
    });
    const note = h("p", { class: "refund-note", "aria-live": "polite" });
    const region = h(
      "section",
      { class: "refund", "aria-labelledby": headingId, "aria-busy": "false", "data-preview-state": "idle" },
      h("h3", { id: headingId }, "Refund"),
      h("table", { class: "refund-table" }, h("tbody", {}, rows)),
      note,
    );

    function update(s) {
      const { preview } = s;
      const refund = preview.state === "ready" || preview.state === "pending" ? preview.refund : null;
      region.setAttribute("aria-busy", String(preview.state === "pending"));
      region.dataset.previewState = preview.state;
      if (preview.state === "ready" && preview.orderVersion !== null) {
        region.dataset.orderVersion = String(preview.orderVersion);
      } else {
        delete region.dataset.orderVersion;
      }
      region.classList.toggle("refund--stale", preview.state === "pending" && refund !== null);
      for (const row of REFUND_ROWS) {
        const cell = cells[row.key];
        if (refund && refund[row.field] !== undefined) {
          const amount = refund[row.field];
          cell.textContent = row.deduction
            ? formatDeduction(amount, refund.currency, locale)
            : formatMoney(amount, refund.currency, locale);
          cell.dataset.amount = amount;
        } else {
          cell.textContent = EMPTY_CELL;
          cell.dataset.amount = "";
        }
      }
      let text;
      if (preview.state === "ready") {
        const total = formatMoney(preview.refund.total, preview.refund.currency, locale);
        text = `The buyer gets ${total} back.`;
        if (preview.resultingStatus) text += ` The order will then be: ${orderStatusWords(preview.resultingStatus)}.`;
      } else if (preview.state === "pending") {
        text = "Working out the refund…";
      } else if (preview.state === "error") {
        text = "The refund could not be worked out.";
      } else {
        text = s.itemLevel
          ? "Enter the units to cancel to see the refund."
          : "Choose what to cancel to see the refund.";
      }
      if (note.textContent !== text) note.textContent = text;
    }
    return { region, update };
  }

  function buildItemsChoice(state) {
    const counts = new Map();
    for (const line of state.order.lines) {
      const key = lineTitle(line);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const inputs = new Map();
    const errors = new Map();
    const rows = state.order.lines.map((line) => {
      const inputId = uid("units");
      const hintId = uid("units-hint");
      const errorId = uid("units-error");
      const why = lineIneligibleWordsIn(state.order, line);
      const blocked = !line.item_cancellable;
      const input = h("input", {
        id: inputId,
        type: "number",
        inputmode: "numeric",
        min: "0",
        max: String(blocked ? 0 : line.cancellable_quantity),
        step: "1",
        value: blocked ? "0" : state.units[line.line_id] ?? "0",
        disabled: blocked,
        "aria-describedby": hintId,
        "data-line-id": line.line_id,
        oninput: () => machine.setUnits(line.line_id, input.validity.badInput ? "?" : input.value),
      });
      const hint = blocked
        ? h("p", { id: hintId, class: "units-row__why" }, why)
        : h(
            "p",
            { id: hintId, class: "units-row__hint" },
            `Up to ${line.cancellable_quantity} of ${line.quantity}` +
              (line.cancelled_quantity > 0 ? ` (${line.cancelled_quantity} already cancelled)` : ""),
          );
      const error = h("p", { id: errorId, class: "field-error", hidden: true });
      if (!blocked) {
        inputs.set(line.line_id, input);
        errors.set(line.line_id, { el: error, id: errorId, hintId });
      }
      return h(
        "div",
        {
          class: `units-row${blocked ? " units-row--blocked" : ""}`,
          "data-line-id": line.line_id,
          "data-item-cancellable": String(!blocked),
        },
        h("label", { for: inputId }, unitsFieldLabel(line, counts.get(lineTitle(line)) > 1)),
        h("div", { class: "units-row__field" }, input, hint),
        error,
      );
    });
    const nothing = !state.order.lines.some((l) => l.item_cancellable)
      ? h(
          "p",
          { class: "dialog-note" },
          "No units of this order can be cancelled one by one now. Go back and choose another reason to cancel a package or the whole order.",
        )
      : null;
    const group = h("fieldset", { class: "units-group" }, h("legend", {}, "How many units to cancel"), nothing, rows);
    return {
      element: group,
      first: () => [...inputs.values()][0],
      focusKey: (el) => (el?.dataset?.lineId ? inputs.get(el.dataset.lineId) : null),
      update(s) {
        for (const [lineId, input] of inputs) {
          input.disabled = s.submitting;
          const want = s.units[lineId];
          if (want !== undefined && document.activeElement !== input && input.value !== want && want !== "?") {
            input.value = want;
          }
          const { el, id, hintId } = errors.get(lineId);
          const message = s.unitErrors[lineId];
          el.hidden = !message;
          el.textContent = message ?? "";
          if (message) {
            input.setAttribute("aria-invalid", "true");
            input.setAttribute("aria-describedby", `${hintId} ${id}`);
          } else {
            input.removeAttribute("aria-invalid");
            input.setAttribute("aria-describedby", hintId);
          }
        }
      },
    };
  }

  function buildTargetChoice(state) {
    const name = uid("target");
    const options = [];
    const whole = h("input", {
      type: "radio",
      name,
      value: WHOLE_ORDER,
      checked: state.target === WHOLE_ORDER,
      disabled: !state.order.actions?.cancel_order,
      onchange: () => machine.chooseTarget(WHOLE_ORDER),
    });
    options.push(whole);
    const choices = [h("label", { class: "choice" }, whole, h("span", {}, "Whole order"))];
    for (const pkg of cancellablePackages(state.order)) {
      const descId = uid("package-desc");
      const radio = h("input", {
        type: "radio",
        name,
        value: pkg.package_id,
        checked: state.target === pkg.package_id,
        "aria-describedby": descId,
        onchange: () => machine.chooseTarget(pkg.package_id),
      });
      options.push(radio);
      const lines = state.order.lines
        .filter((l) => l.package_id === pkg.package_id && l.quantity > l.cancelled_quantity)
        .map((l) => `${lineTitle(l)} × ${l.quantity - l.cancelled_quantity}`);
      // The hint stays outside the label, so the radio's name is "Package {id}" alone.
      choices.push(
        h(
          "div",
          { class: "choice choice--with-hint" },
          h("label", { class: "choice__label" }, radio, h("span", {}, `Package ${pkg.package_id}`)),
          h("p", { id: descId, class: "choice__hint" }, lines.join(", ")),
        ),
      );
    }
    const group = h("fieldset", { class: "choice-group" }, h("legend", {}, "What to cancel"), choices);
    return {
      element: group,
      first: () => options.find((o) => o.checked) ?? options.find((o) => !o.disabled),
      focusKey: (el) => (el?.name === name ? options.find((o) => o.value === el.value) : null),
      update(s) {
        for (const option of options) {
          option.disabled = s.submitting || (option === whole && !s.order.actions?.cancel_order);
          option.checked = s.target === option.value;
        }
      },
    };
  }

  function buildChoiceStep(state) {
    const choice = state.itemLevel ? buildItemsChoice(state) : buildTargetChoice(state);
    const refund = buildRefundRegion();
    const submitButton = h(
      "button",
      { type: "button", class: "button button--danger", onclick: () => machine.submit() },
      "Submit cancellation",
    );
    const busy = h("span", { class: "submit-busy", hidden: true }, "Submitting…");
    const backButton = h("button", { type: "button", class: "button", onclick: () => machine.back() }, "Back");
    const body = h(
      "div",
      { class: "dialog-step", "data-step": "choice" },
      h("p", { class: "dialog-reason" }, "Reason: ", h("strong", {}, state.reason?.label ?? "")),
      choice.element,
      refund.region,
      h("div", { class: "dialog-actions" }, backButton, busy, submitButton),
    );
    return {
      body,
      focus: (previous) => (choice.focusKey(previous) ?? choice.first() ?? backButton).focus(),
      update(s) {
        choice.update(s);
        refund.update(s);
        submitButton.disabled = !s.canSubmit;
        submitButton.setAttribute("aria-busy", String(s.submitting));
        busy.hidden = !s.submitting;
        backButton.disabled = s.submitting;
      },
    };
  }

  function keyOf(s) {
    if (s.step === STEP.CHOICE) return `choice|${s.itemLevel}|${s.reasonCode}|${s.order.version}`;
    return s.step;
  }

  function render(s) {
    if (s.step === STEP.DONE) return;
    const key = keyOf(s);
    if (key !== viewKey) {
      const hadFocus = dialog.contains(document.activeElement) ? document.activeElement : null;
      const previous = hadFocus && content.contains(hadFocus) ? hadFocus : null;
      view = s.step === STEP.REASON ? buildReasonStep(s) : buildChoiceStep(s);
      content.replaceChildren(view.body);
      // Messages sit just above the step's buttons, where the seller is looking.
      const actions = view.body.querySelector(".dialog-actions");
      if (actions) actions.before(messageEl);
      viewKey = key;
      view.update(s);
      if (dialog.open) view.focus(previous);
    } else {
      view.update(s);
    }
    const text = s.message?.text ?? "";
    if (messageEl.textContent !== text) messageEl.textContent = text;
    messageEl.dataset.kind = s.message?.kind ?? "";
    dialog.dataset.step = s.step;
  }

  machine.subscribe(render);

  // showModal() makes the page behind inert, but Tab past the last control would still
  // leave the dialog (for the browser's own toolbar): it wraps round instead.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
    const stops = tabbables(dialog);
    if (!stops.length) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    if (!sameStop(document.activeElement, event.shiftKey ? first : last)) return;
    event.preventDefault();
    const target = event.shiftKey ? last : first;
    (stops.find((el) => sameStop(el, target) && el.checked) ?? target).focus();
  });

  dialog.addEventListener("close", () => {
    closed = true;
    machine.dispose();
    dialog.remove();
    onClosed?.();
  });

  document.body.append(dialog);
  render(machine.getState());
  dialog.showModal();
  view.focus(null);

  return {
    dialog,
    machine,
    close: () => dialog.close(),
  };
}
