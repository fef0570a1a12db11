// The buyer's locale, for money and dates on an order.
//
// The Order the API returns has no buyer locale, so the page's own language
// (navigator.language) stands in. Should the API add `buyer.locale`, it is used
// as it is, with no other change.

export function pageLocale() {
  return (typeof navigator !== "undefined" && navigator.language) || "en-US";
}

export function buyerLocale(order, fallback = pageLocale()) {
  return order?.buyer?.locale || fallback;
}

const dateFormatters = new Map();

/** An ISO 8601 instant as `locale` writes a date and time; the raw text if unreadable. */
export function formatDateTime(iso, locale) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  let formatter = dateFormatters.get(locale);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
    dateFormatters.set(locale, formatter);
  }
  return formatter.format(date);
}
