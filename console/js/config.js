// The console's configuration: `config.json`, fetched from the page's own origin
// at start (relative URL `config.json`). Its two shapes:
//
// Local runtime (`make dev`):
//   {
//     "api_url": "",                       // empty: the API is on the page's origin
//     "auth": {
//       "mode": "local",
//       "sellers": ["seller-acme", "seller-bolt", "seller-kumo"]
//     }
//   }
//   A select "Seller" lists `sellers`; choosing one asks the local runtime for a
//   token (GET /_local/token?seller=<id>).
//
// AWS (CloudFront + API Gateway + Cognito):
//   {
//     "api_url": "https://<api-id>.execute-api.<region>.amazonaws.com",
//     "auth": {
//       "mode": "cognito",
//       "domain": "https://<prefix>.auth.<region>.amazoncognito.com",
//       "client_id": "<app client id>",
//       "redirect_uri": "https://<cloudfront-domain>/",
//       "scopes": ["openid", "email"]         // what the app client allows; the API's
//                                            // scopes come from the seller's groups
//     }
//   }
//   Sign-in through the user pool's managed login (authorization code with PKCE);
//   `redirect_uri` must be one of the app client's callback URLs and sign-out URLs.

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

function isNonEmptyString(value) {
  return typeof value === "string" && value.trim() !== "";
}

/** Checks a parsed config.json and returns it normalised; throws ConfigError. */
export function parseConfig(raw) {
  if (!raw || typeof raw !== "object") throw new ConfigError("config.json is not a JSON object.");
  const apiUrl = raw.api_url ?? "";
  if (typeof apiUrl !== "string") throw new ConfigError("config.json: api_url must be a string.");
  const auth = raw.auth;
  if (!auth || typeof auth !== "object") throw new ConfigError("config.json: auth is missing.");

  if (auth.mode === "local") {
    const sellers = auth.sellers;
    if (!Array.isArray(sellers) || sellers.length === 0 || !sellers.every(isNonEmptyString)) {
      throw new ConfigError("config.json: auth.sellers must list at least one seller id.");
    }
    return { apiUrl: apiUrl.replace(/\/+$/, ""), auth: { mode: "local", sellers: [...sellers] } };
  }

  if (auth.mode === "cognito") {
    for (const field of ["domain", "client_id", "redirect_uri"]) {
      if (!isNonEmptyString(auth[field])) throw new ConfigError(`config.json: auth.${field} is missing.`);
    }
    const scopes = auth.scopes ?? ["openid", "email"];
    if (!Array.isArray(scopes) || !scopes.every(isNonEmptyString)) {
      throw new ConfigError("config.json: auth.scopes must be a list of scope names.");
    }
    return {
      apiUrl: apiUrl.replace(/\/+$/, ""),
      auth: {
        mode: "cognito",
        domain: auth.domain.replace(/\/+$/, ""),
        client_id: auth.client_id,
        redirect_uri: auth.redirect_uri,
        scopes: [...scopes],
      },
    };
  }

  throw new ConfigError('config.json: auth.mode must be "local" or "cognito".');
}

/** Fetches and checks config.json. */
export async function loadConfig(fetchImpl, url = "config.json") {
  let response;
  try {
    response = await fetchImpl(url, { cache: "no-store", headers: { Accept: "application/json" } });
  } catch {
    throw new ConfigError("The console's settings (config.json) could not be loaded. Reload the page to try again.");
  }
  if (!response.ok) {
    throw new ConfigError(`The console's settings (config.json) could not be loaded (HTTP ${response.status}).`);
  }
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError("The console's settings (config.json) are not valid JSON.");
  }
  return parseConfig(raw);
}
