// The console's side of the HTTP contract: building requests (URL and query,
// Authorization, Idempotency-Key, If-Match, Content-Type), reading answers and
// problem+json errors, and saying every error in words a seller understands.
// `fetch` is passed in, so the same code runs in the page and under test.

export const ORDERS_PAGE_SIZE = 20;
export const PRODUCTS_PAGE_SIZE = 100;
const MAX_PRODUCT_PAGES = 200;

/** Joins the API's base URL (empty: same origin) and a path, with query parameters. */
export function buildUrl(baseUrl, path, query = {}) {
  const base = (baseUrl || "").replace(/\/+$/, "");
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === undefined || v === null || v === "") continue;
      params.append(name, String(v));
    }
  }
  const search = params.toString();
  return `${base}${path}${search ? `?${search}` : ""}`;
}

/** One path segment, escaped. */
export function segment(value) {
  return encodeURIComponent(String(value));
}

/** An order version as an If-Match entity tag: 3 → "\"3\"". */
export function ifMatchValue(version) {
  if (version === undefined || version === null || version === "") {
    throw new TypeError("an order version is needed for If-Match");
  }
  const text = String(version).replace(/^"(.*)"$/, "$1");
  return `"${text}"`;
}

/** The `{url, init}` a call to `fetch` takes. */
export function buildRequest({ baseUrl, token, method = "GET", path, query, body, headers = {} }) {
  const all = { Accept: "application/json, application/problem+json" };
  if (token) all.Authorization = `Bearer ${token}`;
  const init = { method, headers: all };
  if (body !== undefined) {
    all["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  Object.assign(all, headers);
  return { url: buildUrl(baseUrl, path, query), init };
}

/** An answer that was not a success, or no answer at all (`network`). */
export class ApiError extends Error {
  constructor(problem) {
    super(problemWords(problem));
    this.name = "ApiError";
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.network = Boolean(problem.network);
  }
}

function headerValue(headers, name) {
  if (!headers) return null;
  if (typeof headers.get === "function") return headers.get(name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? headers[key] : null;
}

/**
 * Normalises an error answer to
 * `{status, code, title, detail, errors: [{field, message}], retryAfter}`.
 * Takes problem+json, the `{"message"}` bodies of an authorizer in front of the
 * API, or anything else (then only the status is known).
 */
export function toProblem(status, bodyText, headers) {
  let body = null;
  try {
    body = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    body = null;
  }
  const retry = headerValue(headers, "Retry-After");
  const problem = {
    status,
    code: null,
    title: null,
    detail: null,
    errors: [],
    retryAfter: retry && /^\d+$/.test(retry) ? Number(retry) : null,
  };
  if (body && typeof body === "object") {
    if (typeof body.code === "string") problem.code = body.code;
    if (typeof body.title === "string") problem.title = body.title;
    else if (typeof body.message === "string") problem.title = body.message;
    if (typeof body.detail === "string") problem.detail = body.detail;
    if (Array.isArray(body.errors)) {
      problem.errors = body.errors
        .filter((e) => e && typeof e === "object")
        .map((e) => ({ field: String(e.field ?? ""), message: String(e.message ?? "") }));
    }
  }
  if (!problem.code) {
    if (status === 401) problem.code = "UNAUTHORIZED";
    else if (status === 403) problem.code = "FORBIDDEN";
    else if (status === 503) problem.code = "SERVICE_UNAVAILABLE";
  }
  return problem;
}

export const NETWORK_WORDS =
  "The console could not reach the server. Check your connection and try again in a moment.";

const CODE_WORDS = {
  VALIDATION_ERROR: "The server did not accept what was sent.",
  IDEMPOTENCY_KEY_REQUIRED:
    "The cancellation was sent without its one-time key, so it was refused. Close this window and try again.",
  INVALID_PAGE_TOKEN: "The list has changed since it was loaded. Load the list again to start over.",
  UNAUTHORIZED: "You are not signed in, or your sign-in has expired. Sign in again.",
  FORBIDDEN: "Your account is not allowed to do this. Ask your administrator for access.",
  ORDER_NOT_FOUND: "This order could not be found. It may no longer exist, or belong to another shop.",
  STOCKOUT_NOT_FOUND: "This stock-out could not be found.",
  ORDER_NOT_CANCELLABLE:
    "This order can no longer be cancelled this way: its status has changed. Load it again to see what can still be cancelled.",
  PACKAGE_NOT_CANCELLABLE:
    "This package can no longer be cancelled: it has already been handed to the carrier or cancelled.",
  ITEM_NOT_CANCELLABLE:
    "Some of these items can no longer be cancelled: their package is no longer awaiting shipment, or no units are left to cancel.",
  QUANTITY_EXCEEDS_CANCELLABLE: "More units were asked for than are left to cancel.",
  PACKAGE_NOT_SHIPPABLE: "This package cannot be shipped: it is no longer awaiting shipment.",
  PACKAGE_CANCELLED: "This package has been cancelled.",
  IDEMPOTENCY_KEY_REUSED:
    "A different cancellation was already submitted from this window. Close it and check the order before trying again.",
  ORDER_EXISTS: "An order with this number already exists with different details.",
  STOCKOUT_IN_PROGRESS: "A stock-out of this SKU is already running. Wait for it to finish, then try again.",
  NOTHING_TO_CANCEL: "There is nothing to cancel: the units on hand cover every order of this SKU.",
  ORDER_VERSION_MISMATCH: "This order changed while you were looking at it.",
  PAYLOAD_TOO_LARGE: "The request was too large to send. Cancel fewer lines at a time.",
  REASON_NOT_ALLOWED_FOR_ITEMS:
    "This reason does not allow cancelling single units. Choose a reason that does, or cancel a package or the whole order.",
  UNKNOWN_LINE: "One of these items is not part of this order. Load the order again and try again.",
  UNKNOWN_PACKAGE: "That package is not part of this order. Load the order again and try again.",
  SERVICE_UNAVAILABLE: "The service is busy and nothing was changed. Please try again in a moment.",
};

// Codes whose server detail adds something a seller can use.
const DETAIL_HELPS = new Set(["VALIDATION_ERROR", "QUANTITY_EXCEEDS_CANCELLABLE", "ITEM_NOT_CANCELLABLE"]);

function statusWords(status) {
  if (status >= 500) return "Something went wrong on the server. Please try again in a moment.";
  if (status === 404) return "What the console asked for could not be found.";
  if (status === 409) return "This could not be done because the order is no longer in a state that allows it.";
  return "The request could not be completed.";
}

function sentence(text) {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * A problem in words. `fieldLabel(field)` may name a field of the request in a
 * seller's words (e.g. "items[0].quantity" → "Stoneware Mug — Blue"); field
 * errors it names are added to the sentence. `words` may give, for some codes,
 * the sentence a part of the page says instead of the table's (e.g. the
 * Stock-out region, where a reused key is not "from this window").
 */
export function problemWords(problem, { fieldLabel, words } = {}) {
  if (!problem) return "Something went wrong. Please try again.";
  if (problem.network) return NETWORK_WORDS;
  const own = problem.code && words && Object.hasOwn(words, problem.code) ? words[problem.code] : undefined;
  const known = own ?? (problem.code ? CODE_WORDS[problem.code] : undefined);
  const parts = [known ?? (problem.title ? sentence(problem.title) : statusWords(problem.status))];
  const named = [];
  if (fieldLabel) {
    for (const error of problem.errors ?? []) {
      const label = fieldLabel(error.field);
      if (label) named.push(sentence(`${label}: ${error.message}`));
    }
  }
  if (named.length) {
    parts.push(...named);
  } else if (problem.detail && (!known || DETAIL_HELPS.has(problem.code))) {
    parts.push(`Details: ${sentence(problem.detail)}`);
  }
  return parts.join(" ");
}

function networkProblem() {
  return { status: 0, code: null, title: null, detail: null, errors: [], retryAfter: null, network: true };
}

/**
 * The API client. `getToken()` returns the current access token (or null);
 * `fetch` is the fetch function to use.
 */
export function createApi({ baseUrl = "", getToken = () => null, fetch: fetchImpl }) {
  if (typeof fetchImpl !== "function") throw new TypeError("createApi needs a fetch function");

  async function call(method, path, { query, body, headers, auth = true } = {}) {
    const { url, init } = buildRequest({
      baseUrl,
      token: auth ? getToken() : null,
      method,
      path,
      query,
      body,
      headers,
    });
    let response;
    try {
      response = await fetchImpl(url, init);
    } catch (error) {
      if (error && error.name === "AbortError") throw error;
      throw new ApiError(networkProblem());
    }
    let text;
    try {
      text = await response.text();
    } catch {
      throw new ApiError(networkProblem());
    }
    if (!response.ok) {
      throw new ApiError(toProblem(response.status, text, response.headers));
    }
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError({
        status: response.status,
        code: null,
        title: "The server sent an answer the console could not read",
        detail: null,
        errors: [],
        retryAfter: null,
      });
    }
  }

  return {
    /** GET /orders: one page of the To Ship list. */
    listOrders({ status, productIds = [], pageSize = ORDERS_PAGE_SIZE, pageToken } = {}) {
      return call("GET", "/orders", {
        query: { status, product_id: productIds, page_size: pageSize, page_token: pageToken },
      });
    },

    /** GET /orders/{order_id}. */
    getOrder(orderId) {
      return call("GET", `/orders/${segment(orderId)}`);
    },

    /** GET /products, every page, as one list. */
    async listAllProducts() {
      const products = [];
      const seen = new Set();
      let pageToken;
      for (let page = 0; page < MAX_PRODUCT_PAGES; page += 1) {
        const data = await call("GET", "/products", {
          query: { page_size: PRODUCTS_PAGE_SIZE, page_token: pageToken },
        });
        products.push(...(data?.products ?? []));
        pageToken = data?.next_page_token ?? null;
        if (!pageToken || seen.has(pageToken)) break;
        seen.add(pageToken);
      }
      return products;
    },

    /** GET /cancel-reasons. */
    async listCancelReasons() {
      const data = await call("GET", "/cancel-reasons");
      return data?.reasons ?? [];
    },

    /** POST /orders/{order_id}/cancellations/preview. */
    previewCancellation(orderId, body) {
      return call("POST", `/orders/${segment(orderId)}/cancellations/preview`, { body });
    },

    /** POST /orders/{order_id}/cancellations, pinned to `orderVersion` when given. */
    submitCancellation(orderId, body, { idempotencyKey, orderVersion } = {}) {
      if (!idempotencyKey) throw new TypeError("a cancellation needs an Idempotency-Key");
      const headers = { "Idempotency-Key": idempotencyKey };
      if (orderVersion !== undefined && orderVersion !== null) headers["If-Match"] = ifMatchValue(orderVersion);
      return call("POST", `/orders/${segment(orderId)}/cancellations`, { body, headers });
    },

    /** POST /stockouts/preview: what a stock-out would cancel; changes nothing. */
    previewStockout(body) {
      return call("POST", "/stockouts/preview", { body });
    },

    /** POST /stockouts: starts a stock-out (202, a Stockout), under its Idempotency-Key. */
    startStockout(body, { idempotencyKey } = {}) {
      if (!idempotencyKey) throw new TypeError("a stock-out needs an Idempotency-Key");
      return call("POST", "/stockouts", { body, headers: { "Idempotency-Key": idempotencyKey } });
    },

    /** GET /stockouts/{stockout_id}: the stock-out and its progress. */
    getStockout(stockoutId) {
      return call("GET", `/stockouts/${segment(stockoutId)}`);
    },

    /** GET /_local/token?seller=…: a demo seller's token (local runtime only). */
    async localToken(seller) {
      const data = await call("GET", "/_local/token", { query: { seller }, auth: false });
      if (!data || typeof data.token !== "string") {
        throw new ApiError({
          status: 200,
          code: null,
          title: "The local runtime did not hand out a token",
          detail: null,
          errors: [],
          retryAfter: null,
        });
      }
      return data.token;
    },
  };
}
