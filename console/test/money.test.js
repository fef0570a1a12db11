import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDeduction, formatMoney, isDecimalString, isZeroAmount } from "../js/money.js";

// Intl puts a narrow no-break space (U+202F) or no-break space (U+00A0) in some
// locales; compare with plain spaces.
const plain = (s) => s.replace(/[\u00a0\u202f]/g, " ");

test("USD in en-US has two decimals", () => {
  assert.equal(formatMoney("19.37", "USD", "en-US"), "$19.37");
  assert.equal(formatMoney("1234.50", "USD", "en-US"), "$1,234.50");
});

test("EUR in de-DE puts the comma and the sign where Germans write them", () => {
  assert.equal(plain(formatMoney("1234.50", "EUR", "de-DE")), "1.234,50 €");
  assert.equal(plain(formatMoney("0.07", "EUR", "de-DE")), "0,07 €");
});

test("JPY has no decimals", () => {
  assert.equal(formatMoney("1500", "JPY", "ja-JP"), "￥1,500");
  assert.equal(formatMoney("1500", "JPY", "en-US"), "¥1,500");
  assert.ok(!formatMoney("1500", "JPY", "en-US").includes("."));
});

test("zero is formatted with the currency's digits", () => {
  assert.equal(formatMoney("0.00", "USD", "en-US"), "$0.00");
  assert.equal(formatMoney("0", "JPY", "en-US"), "¥0");
});

test("large amounts keep every digit (no binary float on the way)", () => {
  // 2^53 + 1 and a cent: a Number would lose both.
  assert.equal(formatMoney("9007199254740993.01", "USD", "en-US"), "$9,007,199,254,740,993.01");
  assert.equal(formatMoney("123456789012345678", "JPY", "en-US"), "¥123,456,789,012,345,678");
});

test("amounts are formatted from the string exactly", () => {
  // 0.1 + 0.2 as floats is 0.30000000000000004; as strings each is exact.
  assert.equal(formatMoney("0.30", "USD", "en-US"), "$0.30");
  assert.equal(formatMoney("1.005", "USD", "en-US"), "$1.01"); // half-expand on the decimal, not 1.00499…
  assert.equal(formatMoney("70.26", "USD", "en-US"), "$70.26");
});

test("a value that is not a decimal string is shown as it came, not as a number", () => {
  assert.equal(formatMoney("abc", "USD", "en-US"), "abc USD");
  assert.equal(formatMoney(19.37, "USD", "en-US"), "19.37 USD");
  assert.equal(isDecimalString("1e3"), false);
  assert.equal(isDecimalString(" 1.00"), false);
  assert.equal(isDecimalString("-2.00"), true);
});

test("deductions carry a minus sign unless zero", () => {
  assert.equal(formatDeduction("2.00", "USD", "en-US"), "-$2.00");
  assert.equal(formatDeduction("0.00", "USD", "en-US"), "$0.00");
  assert.equal(plain(formatDeduction("1.50", "EUR", "de-DE")), "-1,50 €");
  assert.equal(isZeroAmount("0.00"), true);
  assert.equal(isZeroAmount("0.01"), false);
});
