import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";

import {
  authorizeUrl,
  base64UrlEncode,
  beginSignIn,
  challengeS256,
  completeSignIn,
  createVerifier,
  logoutUrl,
  readClaims,
  SignInError,
  STATE_KEY,
  tokenRequest,
  VERIFIER_KEY,
} from "../js/auth.js";

const AUTH = {
  mode: "cognito",
  domain: "https://shop.auth.eu-west-1.amazoncognito.com",
  client_id: "client123",
  redirect_uri: "https://d111.cloudfront.net/",
  scopes: ["openid", "orders.read", "orders.write"],
};

function memoryStorage() {
  const map = new Map();
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

test("the S256 challenge of RFC 7636 appendix B", async () => {
  assert.equal(
    await challengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", webcrypto),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

test("the verifier of RFC 7636 appendix B is the base64url of its octets", () => {
  const octets = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240,
    91, 88, 5, 88, 83, 132, 141, 121,
  ];
  assert.equal(base64UrlEncode(Uint8Array.from(octets)), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
});

test("a verifier is 43 unreserved characters from the given random source", () => {
  const fixed = { getRandomValues: (bytes) => bytes.fill(0xfb) };
  const verifier = createVerifier(fixed);
  assert.equal(verifier.length, 43);
  assert.match(verifier, /^[A-Za-z0-9\-._~]+$/);
  assert.equal(verifier, base64UrlEncode(new Uint8Array(32).fill(0xfb)));
  assert.notEqual(createVerifier(webcrypto), createVerifier(webcrypto));
});

test("the authorize URL carries the code flow with PKCE", () => {
  const url = new URL(authorizeUrl(AUTH, { state: "st", codeChallenge: "ch" }));
  assert.equal(url.origin + url.pathname, "https://shop.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
  assert.equal(url.searchParams.get("response_type"), "code");
  assert.equal(url.searchParams.get("client_id"), "client123");
  assert.equal(url.searchParams.get("redirect_uri"), "https://d111.cloudfront.net/");
  assert.equal(url.searchParams.get("scope"), "openid orders.read orders.write");
  assert.equal(url.searchParams.get("state"), "st");
  assert.equal(url.searchParams.get("code_challenge"), "ch");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
});

test("the token exchange is a form POST to /oauth2/token", () => {
  const { url, init } = tokenRequest(AUTH, { code: "c0de", codeVerifier: "ver" });
  assert.equal(url, "https://shop.auth.eu-west-1.amazoncognito.com/oauth2/token");
  assert.equal(init.method, "POST");
  assert.equal(init.headers["Content-Type"], "application/x-www-form-urlencoded");
  const form = new URLSearchParams(init.body);
  assert.deepEqual(Object.fromEntries(form), {
    grant_type: "authorization_code",
    client_id: "client123",
    code: "c0de",
    redirect_uri: "https://d111.cloudfront.net/",
    code_verifier: "ver",
  });
});

test("sign out goes to the managed login's logout, back to the page", () => {
  const url = new URL(logoutUrl(AUTH));
  assert.equal(url.pathname, "/logout");
  assert.equal(url.searchParams.get("client_id"), "client123");
  assert.equal(url.searchParams.get("logout_uri"), "https://d111.cloudfront.net/");
});

test("a full round trip: the challenge sent matches the verifier exchanged; storage is emptied", async () => {
  const storage = memoryStorage();
  const start = new URL(await beginSignIn(AUTH, { crypto: webcrypto, storage }));
  const verifier = storage.getItem(VERIFIER_KEY);
  const state = storage.getItem(STATE_KEY);
  assert.equal(start.searchParams.get("state"), state);
  assert.equal(start.searchParams.get("code_challenge"), await challengeS256(verifier, webcrypto));

  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify({ access_token: "at-1", id_token: "x", token_type: "Bearer" }), { status: 200 });
  };
  const result = await completeSignIn(AUTH, {
    url: `https://d111.cloudfront.net/?code=abc&state=${encodeURIComponent(state)}&keep=1`,
    storage,
    fetch,
  });
  assert.equal(result.token, "at-1");
  assert.equal(result.cleanUrl, "https://d111.cloudfront.net/?keep=1");
  assert.equal(new URLSearchParams(calls[0].init.body).get("code_verifier"), verifier);
  assert.equal(storage.map.size, 0);
});

test("a state that does not match is refused without exchanging the code", async () => {
  const storage = memoryStorage();
  storage.setItem(VERIFIER_KEY, "v");
  storage.setItem(STATE_KEY, "expected");
  let called = false;
  await assert.rejects(
    completeSignIn(AUTH, {
      url: "https://d111.cloudfront.net/?code=abc&state=forged",
      storage,
      fetch: async () => {
        called = true;
        return new Response("{}");
      },
    }),
    SignInError,
  );
  assert.equal(called, false);
  assert.equal(storage.map.size, 0);
});

test("a refused code and a login error are said in words", async () => {
  const storage = memoryStorage();
  storage.setItem(VERIFIER_KEY, "v");
  storage.setItem(STATE_KEY, "s");
  await assert.rejects(
    completeSignIn(AUTH, {
      url: "https://d111.cloudfront.net/?code=abc&state=s",
      storage,
      fetch: async () => new Response('{"error":"invalid_grant"}', { status: 400 }),
    }),
    /refused/,
  );
  await assert.rejects(
    completeSignIn(AUTH, {
      url: "https://d111.cloudfront.net/?error=access_denied&error_description=User+is+disabled",
      storage: memoryStorage(),
      fetch: async () => new Response("{}"),
    }),
    /User is disabled/,
  );
});

test("a page without a code is left as it is", async () => {
  const result = await completeSignIn(AUTH, {
    url: "https://d111.cloudfront.net/",
    storage: memoryStorage(),
    fetch: async () => assert.fail("no exchange expected"),
  });
  assert.deepEqual(result, { token: null, cleanUrl: null });
});

test("readClaims reads a JWT's payload", () => {
  const payload = Buffer.from(JSON.stringify({ seller_id: "seller-acme", scope: "orders.read" })).toString("base64url");
  assert.equal(readClaims(`h.${payload}.s`).seller_id, "seller-acme");
  assert.equal(readClaims("nonsense"), null);
});
