// Status and eligibility codes of the API, in the words the console shows.

export const ORDER_STATUSES = Object.freeze([
  { code: "AWAITING_SHIPMENT", label: "Awaiting shipment" },
  { code: "AWAITING_COLLECTION", label: "Awaiting collection" },
  { code: "PARTIALLY_SHIPPING", label: "Partially shipping" },
  { code: "IN_TRANSIT", label: "In transit" },
  { code: "DELIVERED", label: "Delivered" },
  { code: "CANCELLED", label: "Cancelled" },
]);

export const DEFAULT_ORDER_STATUS = "AWAITING_SHIPMENT";

const STATUS_WORDS = new Map(ORDER_STATUSES.map((s) => [s.code, s.label]));

function fallbackWords(code) {
  if (typeof code !== "string" || code === "") return "Unknown";
  const words = code.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "AWAITING_SHIPMENT" → "Awaiting shipment". */
export function orderStatusWords(code) {
  return STATUS_WORDS.get(code) ?? fallbackWords(code);
}

/** Package statuses share the order's words (without Partially shipping). */
export function packageStatusWords(code) {
  return orderStatusWords(code);
}

/** "IN_TRANSIT" → "Package in transit". */
export function packageStateSentence(code) {
  return `Package ${orderStatusWords(code).toLowerCase()}`;
}

/**
 * Why a line cannot be item-cancelled, in words, or null when it can.
 * `packageStatus` is the status of the line's package.
 */
export function lineIneligibleWords(line, packageStatus) {
  if (line.item_cancellable) return null;
  switch (line.ineligible_reason) {
    case "PACKAGE_NOT_AWAITING_SHIPMENT":
      if (packageStatus && packageStatus !== "AWAITING_SHIPMENT") {
        return packageStateSentence(packageStatus);
      }
      return "Package not awaiting shipment";
    case "ORDER_NOT_AWAITING_SHIPMENT":
      return "Order not awaiting shipment";
    case "FULLY_CANCELLED":
      return "Fully cancelled";
    default:
      return "Cannot be cancelled item by item";
  }
}

/** Why a package cannot be cancelled, in words, or null when it can. */
export function packageIneligibleWords(pkg) {
  if (pkg.cancellable) return null;
  switch (pkg.ineligible_reason) {
    case "FULLY_CANCELLED":
      return "Package cancelled";
    case "PACKAGE_NOT_CANCELLABLE":
      return packageStateSentence(pkg.status);
    default:
      return "Package cannot be cancelled";
  }
}

/** The line's package, or undefined. */
export function packageOf(order, line) {
  return order.packages.find((p) => p.package_id === line.package_id);
}

/** The words for a line of an order, looking up its package's status. */
export function lineIneligibleWordsIn(order, line) {
  const pkg = packageOf(order, line);
  return lineIneligibleWords(line, pkg ? pkg.status : undefined);
}
