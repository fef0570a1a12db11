// An order card of the To Ship list: an `article` named "Order {order_id}" with
// the order's date, buyer and status, its lines (product, SKU, quantity and
// cancelled units, package and package status; a line that cannot be
// item-cancelled is grayed out and says why), and on its right an
// "Actions for order {order_id}" menu button with "Cancel order".

import { formatDateTime } from "../locale.js";
import { lineIneligibleWordsIn, orderStatusWords, packageOf, packageStatusWords } from "../status-words.js";
import { h, uid } from "./dom.js";
import { createMenuButton } from "./menu-button.js";

/** Whether the order offers any cancellation at all. */
export function canCancel(order) {
  return Boolean(order.actions?.cancel_order || order.actions?.cancel_items);
}

function lineItem(order, line) {
  const pkg = packageOf(order, line);
  const why = lineIneligibleWordsIn(order, line);
  const quantity = [`Quantity ${line.quantity}`];
  if (line.cancelled_quantity > 0) quantity.push(`${line.cancelled_quantity} cancelled`);
  return h(
    "li",
    {
      class: `order-line${why ? " order-line--blocked" : ""}`,
      "data-line-id": line.line_id,
      "data-item-cancellable": String(Boolean(line.item_cancellable)),
    },
    h(
      "div",
      { class: "order-line__what" },
      h("span", { class: "order-line__product" }, line.product_name),
      h("span", { class: "order-line__sku" }, `SKU: ${line.sku_name}`),
    ),
    h("div", { class: "order-line__qty" }, quantity.join(", ")),
    h(
      "div",
      { class: "order-line__package" },
      `Package ${line.package_id}: ${pkg ? packageStatusWords(pkg.status) : "unknown"}`,
    ),
    why ? h("p", { class: "order-line__why", "data-ineligible-reason": line.ineligible_reason ?? "" }, why) : null,
  );
}

/**
 * Renders a card. `onCancel(order, menuButton)` is called when "Cancel order" is chosen.
 */
export function renderOrderCard(order, { locale, onCancel }) {
  const titleId = uid("order-title");
  const menu = createMenuButton({
    visibleLabel: "Actions",
    label: `Actions for order ${order.order_id}`,
    className: "order-card__menu",
    items: [
      {
        label: "Cancel order",
        disabled: !canCancel(order),
        data: { action: "cancel-order" },
        onSelect: () => onCancel(order, menu.button),
      },
    ],
  });
  menu.button.dataset.orderId = order.order_id;

  return h(
    "article",
    {
      class: `order-card order-card--${String(order.status).toLowerCase()}`,
      "aria-labelledby": titleId,
      tabindex: "-1",
      "data-order-id": order.order_id,
      "data-order-status": order.status,
      "data-order-version": order.version,
    },
    h(
      "div",
      { class: "order-card__head" },
      h("h2", { id: titleId, class: "order-card__title" }, `Order ${order.order_id}`),
      menu.element,
    ),
    h(
      "dl",
      { class: "order-card__facts" },
      h(
        "div",
        {},
        h("dt", {}, "Date"),
        h("dd", {}, h("time", { datetime: order.created_at }, formatDateTime(order.created_at, locale))),
      ),
      h("div", {}, h("dt", {}, "Buyer"), h("dd", {}, order.buyer?.name ?? "")),
      h(
        "div",
        {},
        h("dt", {}, "Status"),
        h("dd", {}, h("span", { class: "status-badge", "data-status": order.status }, orderStatusWords(order.status))),
      ),
    ),
    h(
      "ul",
      { class: "order-card__lines", "aria-label": `Items in order ${order.order_id}` },
      order.lines.map((line) => lineItem(order, line)),
    ),
  );
}
