import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ApiError,
  buildRequest,
  buildUrl,
  createApi,
  ifMatchValue,
  NETWORK_WORDS,
  problemWords,
  toProblem,
} from "../js/api.js";

/** A fetch that records each call and answers from `answers` in turn. */
function fakeFetch(...answers) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url, init });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer instanceof Error) throw answer;
    const { status = 200, body = {}, headers = {} } = answer ?? {};
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  return { fetch, calls };
}

function client(fetch, token = "tok-1", baseUrl = "") {
  return createApi({ baseUrl, getToken: () => token, fetch });
}

const problem = (status, code, extra = {}) => ({
  status,
  headers: { "Content-Type": "application/problem+json", ...(extra.headers ?? {}) },
  body: { type: "about:blank", title: extra.title ?? "t", status, code, detail: extra.detail ?? null, errors: extra.errors ?? [] },
});

test("buildUrl repeats product_id, skips empty values and joins the base", () => {
  assert.equal(
    buildUrl("", "/orders", { status: "AWAITING_SHIPMENT", product_id: ["P1", "P2"], page_size: 20, page_token: undefined }),
    "/orders?status=AWAITING_SHIPMENT&product_id=P1&product_id=P2&page_size=20",
  );
  assert.equal(buildUrl("https://api.example.com/", "/orders", {}), "https://api.example.com/orders");
  assert.equal(buildUrl("https://api.example.com", "/orders", { product_id: [] }), "https://api.example.com/orders");
});

test("listOrders asks for the filtered page with the bearer token and no body headers", async () => {
  const { fetch, calls } = fakeFetch({ body: { orders: [], next_page_token: null } });
  await client(fetch).listOrders({ status: "IN_TRANSIT", productIds: ["P-MUG", "P 2"] });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "/orders?status=IN_TRANSIT&product_id=P-MUG&product_id=P+2&page_size=20");
  assert.equal(calls[0].init.method, "GET");
  assert.equal(calls[0].init.headers.Authorization, "Bearer tok-1");
  assert.equal(calls[0].init.headers["Content-Type"], undefined);
  assert.equal(calls[0].init.body, undefined);
});

test("the next page is asked for with its token, escaped", async () => {
  const { fetch, calls } = fakeFetch({ body: { orders: [], next_page_token: null } });
  await client(fetch, "t", "https://api.example.com").listOrders({ status: "AWAITING_SHIPMENT", pageToken: "a+b/c=" });
  assert.equal(
    calls[0].url,
    "https://api.example.com/orders?status=AWAITING_SHIPMENT&page_size=20&page_token=a%2Bb%2Fc%3D",
  );
});

test("getOrder escapes the order id as a path segment", async () => {
  const { fetch, calls } = fakeFetch({ body: { order_id: "A/1" } });
  await client(fetch).getOrder("A/1 x");
  assert.equal(calls[0].url, "/orders/A%2F1%20x");
});

test("listAllProducts follows next_page_token until null", async () => {
  const { fetch, calls } = fakeFetch(
    { body: { products: [{ product_id: "P1", product_name: "Mug", skus: [] }], next_page_token: "n1" } },
    { body: { products: [{ product_id: "P2", product_name: "Pot", skus: [] }], next_page_token: null } },
  );
  const products = await client(fetch).listAllProducts();
  assert.deepEqual(products.map((p) => p.product_id), ["P1", "P2"]);
  assert.equal(calls.length, 2);
  assert.equal(calls[0].url, "/products?page_size=100");
  assert.equal(calls[1].url, "/products?page_size=100&page_token=n1");
});

test("preview posts the request as JSON", async () => {
  const { fetch, calls } = fakeFetch({ body: { order_version: 2, refund: {} } });
  const body = { reason: "OUT_OF_STOCK", scope: "ITEMS", items: [{ line_id: "L1", quantity: 1 }] };
  const result = await client(fetch).previewCancellation("ACME-1004", body);
  assert.equal(result.order_version, 2);
  assert.equal(calls[0].url, "/orders/ACME-1004/cancellations/preview");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(calls[0].init.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(calls[0].init.body), body);
  assert.equal(calls[0].init.headers["Idempotency-Key"], undefined);
  assert.equal(calls[0].init.headers["If-Match"], undefined);
});

test("submit sends the Idempotency-Key and the version as a quoted If-Match", async () => {
  const { fetch, calls } = fakeFetch({ status: 201, body: { cancellation_id: "c1" } });
  await client(fetch).submitCancellation("O1", { reason: "PRICING_ERROR", scope: "ORDER" }, {
    idempotencyKey: "key-1",
    orderVersion: 3,
  });
  const { headers } = calls[0].init;
  assert.equal(headers["Idempotency-Key"], "key-1");
  assert.equal(headers["If-Match"], '"3"');
  assert.equal(headers["Content-Type"], "application/json");
  assert.equal(headers.Authorization, "Bearer tok-1");
  assert.equal(calls[0].url, "/orders/O1/cancellations");
});

test("If-Match quoting", () => {
  assert.equal(ifMatchValue(3), '"3"');
  assert.equal(ifMatchValue("12"), '"12"');
  assert.equal(ifMatchValue('"7"'), '"7"');
  assert.throws(() => ifMatchValue(null), TypeError);
});

test("submit refuses to go without an idempotency key", () => {
  const { fetch, calls } = fakeFetch({ status: 201 });
  assert.throws(() => client(fetch).submitCancellation("O1", {}, { orderVersion: 1 }), TypeError);
  assert.equal(calls.length, 0);
});

test("the local token is asked for without a bearer token", async () => {
  const { fetch, calls } = fakeFetch({ body: { token: "jwt" } });
  assert.equal(await client(fetch, "old").localToken("seller-bolt"), "jwt");
  assert.equal(calls[0].url, "/_local/token?seller=seller-bolt");
  assert.equal(calls[0].init.headers.Authorization, undefined);
});

test("without a token no Authorization header is sent", () => {
  const { init } = buildRequest({ baseUrl: "", token: null, path: "/orders" });
  assert.equal(init.headers.Authorization, undefined);
});

test("a problem answer becomes an ApiError with the problem's fields", async () => {
  const { fetch } = fakeFetch(
    problem(409, "QUANTITY_EXCEEDS_CANCELLABLE", {
      detail: "line L1: 3 requested, 2 cancellable",
      errors: [{ field: "items[0].quantity", message: "at most 2 cancellable" }],
    }),
  );
  await assert.rejects(client(fetch).previewCancellation("O1", {}), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, "QUANTITY_EXCEEDS_CANCELLABLE");
    assert.deepEqual(error.problem.errors, [{ field: "items[0].quantity", message: "at most 2 cancellable" }]);
    assert.match(error.message, /more units/i);
    assert.match(error.message, /3 requested, 2 cancellable/);
    assert.doesNotMatch(error.message, /QUANTITY_EXCEEDS_CANCELLABLE/);
    return true;
  });
});

test("503 says to try again in a moment and reads Retry-After", async () => {
  const { fetch } = fakeFetch(problem(503, "SERVICE_UNAVAILABLE", { headers: { "Retry-After": "2" } }));
  await assert.rejects(client(fetch).getOrder("O1"), (error) => {
    assert.equal(error.problem.retryAfter, 2);
    assert.match(error.message, /try again in a moment/);
    return true;
  });
  // A 503 without a problem body (a proxy's) says the same.
  assert.match(problemWords(toProblem(503, "<html>busy</html>", {})), /try again in a moment/);
});

test("an authorizer's {message} 401 and 403 bodies are understood", () => {
  assert.match(problemWords(toProblem(401, '{"message":"Unauthorized"}', {})), /sign in again/i);
  assert.match(problemWords(toProblem(403, '{"message":"Forbidden"}', {})), /not allowed/i);
});

test("a network failure is said in words", async () => {
  const { fetch } = fakeFetch(new TypeError("Failed to fetch"));
  await assert.rejects(client(fetch).getOrder("O1"), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.network, true);
    assert.equal(error.message, NETWORK_WORDS);
    return true;
  });
});

test("a success answer that is not JSON is an error in words", async () => {
  const { fetch } = fakeFetch({ status: 200, body: "<html>" });
  await assert.rejects(client(fetch).getOrder("O1"), /could not read/);
});

const API_CODES = {
  VALIDATION_ERROR: 400,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  INVALID_PAGE_TOKEN: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ORDER_NOT_FOUND: 404,
  STOCKOUT_NOT_FOUND: 404,
  ORDER_NOT_CANCELLABLE: 409,
  PACKAGE_NOT_CANCELLABLE: 409,
  ITEM_NOT_CANCELLABLE: 409,
  QUANTITY_EXCEEDS_CANCELLABLE: 409,
  PACKAGE_NOT_SHIPPABLE: 409,
  PACKAGE_CANCELLED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  ORDER_EXISTS: 409,
  STOCKOUT_IN_PROGRESS: 409,
  NOTHING_TO_CANCEL: 409,
  ORDER_VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  REASON_NOT_ALLOWED_FOR_ITEMS: 422,
  UNKNOWN_LINE: 422,
  UNKNOWN_PACKAGE: 422,
  SERVICE_UNAVAILABLE: 503,
};

test("every error code of the API has its own sentence, never the code", () => {
  const seen = new Map();
  for (const [code, status] of Object.entries(API_CODES)) {
    const words = problemWords({ status, code, title: "Title from the server", detail: null, errors: [] });
    assert.doesNotMatch(words, new RegExp(code), code);
    assert.doesNotMatch(words, /[A-Z]{2,}_[A-Z]/, `${code}: ${words}`);
    assert.match(words, /^[A-Z].*[.!?]$/, `${code}: ${words}`);
    assert.notEqual(words, "Title from the server.", `${code} fell back to the title`);
    assert.ok(!seen.has(words), `${code} says the same as ${seen.get(words)}`);
    seen.set(words, code);
  }
});

test("an unknown code falls back to the server's title, then to the status", () => {
  assert.equal(
    problemWords({ status: 409, code: "SOMETHING_NEW", title: "The order is on hold", detail: null, errors: [] }),
    "The order is on hold.",
  );
  assert.match(problemWords({ status: 500, code: null, title: null, detail: null, errors: [] }), /try again in a moment/);
});

test("field errors are named in the seller's words when a label is known", () => {
  const words = problemWords(
    {
      status: 409,
      code: "QUANTITY_EXCEEDS_CANCELLABLE",
      detail: "line L1: 3 requested, 2 cancellable",
      errors: [{ field: "items[0].quantity", message: "at most 2 cancellable" }],
    },
    { fieldLabel: (field) => (field === "items[0].quantity" ? "Mug — Blue" : null) },
  );
  assert.equal(words, "More units were asked for than are left to cancel. Mug — Blue: at most 2 cancellable.");
});
