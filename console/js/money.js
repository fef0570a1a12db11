// Money as the API sends it: decimal strings in the order's currency ("19.37",
// JPY "1500"), never binary floats. Amounts are formatted straight from the string
// (Intl.NumberFormat formats a decimal string exactly), with the currency's own
// minor digits as Intl knows them (USD 2, JPY 0, ...).

const DECIMAL = /^-?\d+(\.\d+)?$/;

const formatters = new Map();

function formatterFor(locale, currency) {
  const key = `${locale}|${currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** True for a plain decimal string such as "12.30", "-2.00" or "1500". */
export function isDecimalString(value) {
  return typeof value === "string" && DECIMAL.test(value);
}

/**
 * Formats a decimal-string amount in `currency` as `locale` writes it.
 * A value that is not a decimal string is shown as it came, beside its currency
 * code, rather than as a wrong number.
 */
export function formatMoney(amount, currency, locale) {
  if (!isDecimalString(amount)) {
    return `${String(amount)} ${currency}`;
  }
  return formatterFor(locale, currency).format(amount);
}

/** True when the decimal string is zero ("0", "0.00", "-0.00"). */
export function isZeroAmount(amount) {
  return isDecimalString(amount) && /^-?0+(\.0+)?$/.test(amount);
}

/**
 * A deduction (a discount taken off the refund), shown with a minus sign unless
 * it is zero: "2.00" → "-$2.00", "0.00" → "$0.00".
 */
export function formatDeduction(amount, currency, locale) {
  if (!isDecimalString(amount) || isZeroAmount(amount) || amount.startsWith("-")) {
    return formatMoney(amount, currency, locale);
  }
  return formatMoney(`-${amount}`, currency, locale);
}
