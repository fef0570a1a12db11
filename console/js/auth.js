// Signing in to the stack's Cognito user pool through its managed login:
// OAuth 2.0 authorization code with PKCE (RFC 7636, S256).
//
// The code verifier and the state live in sessionStorage only for the round trip
// to the login page and are removed as soon as the page is back. The access token
// is never stored: the caller keeps it in memory.
// `crypto`, `storage` and `fetch` are passed in, so this runs under test too.

export const VERIFIER_KEY = "console.pkce.verifier";
export const STATE_KEY = "console.pkce.state";

/** Bytes → base64url without padding. */
export function base64UrlEncode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(crypto, byteCount) {
  const bytes = new Uint8Array(byteCount);
  crypto.getRandomValues(bytes);
  return base64UrlEncode(bytes);
}

/** A code verifier: 32 random bytes, 43 base64url characters. */
export function createVerifier(crypto) {
  return randomString(crypto, 32);
}

/** A state value for the round trip. */
export function createState(crypto) {
  return randomString(crypto, 16);
}

/** The S256 code challenge: base64url(SHA-256(verifier)). */
export async function challengeS256(verifier, crypto) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

function domainOf(auth) {
  return String(auth.domain).replace(/\/+$/, "");
}

/** The managed login's authorize URL. */
export function authorizeUrl(auth, { state, codeChallenge }) {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: auth.client_id,
    redirect_uri: auth.redirect_uri,
    scope: auth.scopes.join(" "),
    state,
    code_challenge: codeChallenge,
    code_challenge_method: "S256",
  });
  return `${domainOf(auth)}/oauth2/authorize?${params}`;
}

/** The `{url, init}` of the token exchange. */
export function tokenRequest(auth, { code, codeVerifier }) {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: auth.client_id,
    code,
    redirect_uri: auth.redirect_uri,
    code_verifier: codeVerifier,
  });
  return {
    url: `${domainOf(auth)}/oauth2/token`,
    init: {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    },
  };
}

/** Where Sign out goes: the managed login's logout, back to this page. */
export function logoutUrl(auth) {
  const params = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.redirect_uri });
  return `${domainOf(auth)}/logout?${params}`;
}

/** A sign-in that did not work, with the reason in words. */
export class SignInError extends Error {
  constructor(message) {
    super(message);
    this.name = "SignInError";
  }
}

/**
 * Starts signing in: stores a fresh verifier and state for the round trip and
 * returns the URL to send the browser to.
 */
export async function beginSignIn(auth, { crypto, storage }) {
  const verifier = createVerifier(crypto);
  const state = createState(crypto);
  storage.setItem(VERIFIER_KEY, verifier);
  storage.setItem(STATE_KEY, state);
  return authorizeUrl(auth, { state, codeChallenge: await challengeS256(verifier, crypto) });
}

/** `url` without the parameters the login page added. */
export function withoutAuthParams(url) {
  const clean = new URL(url);
  for (const name of ["code", "state", "error", "error_description"]) clean.searchParams.delete(name);
  return clean.toString();
}

/**
 * Finishes signing in when the page came back from the login page.
 * Returns `{token, cleanUrl}`: `token` is null when the URL carries no
 * authorization code; `cleanUrl` is the URL without the login parameters.
 * Throws SignInError when the round trip failed. Either way the stored verifier
 * and state are removed.
 */
export async function completeSignIn(auth, { url, storage, fetch: fetchImpl }) {
  const current = new URL(url);
  const code = current.searchParams.get("code");
  const error = current.searchParams.get("error");
  const returnedState = current.searchParams.get("state");
  if (!code && !error) return { token: null, cleanUrl: null };

  const verifier = storage.getItem(VERIFIER_KEY);
  const expectedState = storage.getItem(STATE_KEY);
  storage.removeItem(VERIFIER_KEY);
  storage.removeItem(STATE_KEY);
  const cleanUrl = withoutAuthParams(url);

  if (error) {
    const description = current.searchParams.get("error_description");
    throw new SignInError(`Signing in did not work${description ? `: ${description}` : ""}. Please try again.`);
  }
  if (!verifier || !expectedState || returnedState !== expectedState) {
    throw new SignInError("Signing in could not be completed in this tab. Please sign in again.");
  }

  const { url: tokenUrl, init } = tokenRequest(auth, { code, codeVerifier: verifier });
  let response;
  try {
    response = await fetchImpl(tokenUrl, init);
  } catch {
    throw new SignInError("The sign-in service could not be reached. Check your connection and sign in again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok || !data || typeof data.access_token !== "string") {
    throw new SignInError("Signing in did not work: the sign-in service refused the code. Please sign in again.");
  }
  return { token: data.access_token, cleanUrl };
}

/** The claims of a JWT, unverified (for showing who is signed in), or null. */
export function readClaims(token) {
  try {
    const payload = token.split(".")[1];
    const padded = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}
