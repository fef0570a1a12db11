import assert from "node:assert/strict";
import { test } from "node:test";

import { ConfigError, loadConfig, parseConfig } from "../js/config.js";

test("the local shape", () => {
  assert.deepEqual(
    parseConfig({ api_url: "", auth: { mode: "local", sellers: ["seller-acme", "seller-bolt", "seller-kumo"] } }),
    { apiUrl: "", auth: { mode: "local", sellers: ["seller-acme", "seller-bolt", "seller-kumo"] } },
  );
});

test("the Cognito shape, trailing slashes trimmed", () => {
  const config = parseConfig({
    api_url: "https://abc.execute-api.eu-west-1.amazonaws.com/",
    auth: {
      mode: "cognito",
      domain: "https://shop.auth.eu-west-1.amazoncognito.com/",
      client_id: "c1",
      redirect_uri: "https://d1.cloudfront.net/",
      scopes: ["openid", "orders.read", "orders.write"],
    },
  });
  assert.equal(config.apiUrl, "https://abc.execute-api.eu-west-1.amazonaws.com");
  assert.equal(config.auth.domain, "https://shop.auth.eu-west-1.amazoncognito.com");
  assert.equal(config.auth.redirect_uri, "https://d1.cloudfront.net/");
});

test("bad configurations are refused in words", () => {
  assert.throws(() => parseConfig(null), ConfigError);
  assert.throws(() => parseConfig({ api_url: "", auth: { mode: "local", sellers: [] } }), /sellers/);
  assert.throws(() => parseConfig({ api_url: "", auth: { mode: "cognito", domain: "d", client_id: "" } }), /client_id/);
  assert.throws(() => parseConfig({ api_url: "", auth: { mode: "saml" } }), /mode/);
  assert.throws(() => parseConfig({ api_url: 3, auth: { mode: "local", sellers: ["s"] } }), /api_url/);
});

test("loadConfig reads config.json from the page's origin", async () => {
  const urls = [];
  const config = await loadConfig(async (url) => {
    urls.push(url);
    return new Response(JSON.stringify({ api_url: "", auth: { mode: "local", sellers: ["s1"] } }));
  });
  assert.deepEqual(urls, ["config.json"]);
  assert.deepEqual(config.auth.sellers, ["s1"]);
  await assert.rejects(loadConfig(async () => new Response("nope", { status: 404 })), /HTTP 404/);
});
