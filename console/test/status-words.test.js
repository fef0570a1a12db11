import assert from "node:assert/strict";
import { test } from "node:test";

import {
  lineIneligibleWords,
  lineIneligibleWordsIn,
  ORDER_STATUSES,
  orderStatusWords,
  packageIneligibleWords,
} from "../js/status-words.js";

test("the Status select offers exactly the six statuses, in order, with the API's codes", () => {
  assert.deepEqual(
    ORDER_STATUSES.map((s) => [s.code, s.label]),
    [
      ["AWAITING_SHIPMENT", "Awaiting shipment"],
      ["AWAITING_COLLECTION", "Awaiting collection"],
      ["PARTIALLY_SHIPPING", "Partially shipping"],
      ["IN_TRANSIT", "In transit"],
      ["DELIVERED", "Delivered"],
      ["CANCELLED", "Cancelled"],
    ],
  );
});

test("status codes in words; an unknown code is still words", () => {
  assert.equal(orderStatusWords("IN_TRANSIT"), "In transit");
  assert.equal(orderStatusWords("ON_HOLD"), "On hold");
});

test("a line in a package that left says the package's state", () => {
  const line = { item_cancellable: false, ineligible_reason: "PACKAGE_NOT_AWAITING_SHIPMENT" };
  assert.equal(lineIneligibleWords(line, "AWAITING_COLLECTION"), "Package awaiting collection");
  assert.equal(lineIneligibleWords(line, "IN_TRANSIT"), "Package in transit");
  assert.equal(lineIneligibleWords(line, "DELIVERED"), "Package delivered");
  assert.equal(lineIneligibleWords(line, "CANCELLED"), "Package cancelled");
});

test("the other reasons of a line", () => {
  assert.equal(
    lineIneligibleWords({ item_cancellable: false, ineligible_reason: "ORDER_NOT_AWAITING_SHIPMENT" }),
    "Order not awaiting shipment",
  );
  assert.equal(lineIneligibleWords({ item_cancellable: false, ineligible_reason: "FULLY_CANCELLED" }), "Fully cancelled");
  assert.equal(lineIneligibleWords({ item_cancellable: true, ineligible_reason: null }), null);
});

test("the package's status is looked up in the order", () => {
  const order = {
    packages: [
      { package_id: "PK1", status: "AWAITING_SHIPMENT" },
      { package_id: "PK2", status: "AWAITING_COLLECTION" },
    ],
  };
  const line = { package_id: "PK2", item_cancellable: false, ineligible_reason: "PACKAGE_NOT_AWAITING_SHIPMENT" };
  assert.equal(lineIneligibleWordsIn(order, line), "Package awaiting collection");
});

test("package reasons", () => {
  assert.equal(packageIneligibleWords({ cancellable: true }), null);
  assert.equal(
    packageIneligibleWords({ cancellable: false, status: "IN_TRANSIT", ineligible_reason: "PACKAGE_NOT_CANCELLABLE" }),
    "Package in transit",
  );
  assert.equal(packageIneligibleWords({ cancellable: false, ineligible_reason: "FULLY_CANCELLED" }), "Package cancelled");
});
