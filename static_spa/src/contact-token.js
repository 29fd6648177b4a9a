// Asks the function for a fresh Amazon Connect contact token, and turns every failure into one of two
// things the customer can act on: sign in again, or try later.

export const FailureKind = Object.freeze({
  SIGN_IN_AGAIN: "sign_in_again",
  UNAVAILABLE: "unavailable",
});

export class ContactTokenError extends Error {
  /**
   * @param {string} kind one of FailureKind
   * @param {string} reason a short machine-readable cause for support (never a token)
   * @param {{claims?: string, invocationId?: string}} details from the problem body: a step-up claims challenge
   *   (step-up.js) and the function's invocation id, when it sent them
   */
  constructor(kind, reason, { claims, invocationId } = {}) {
    super(`contact token request failed: ${reason}`);
    this.name = "ContactTokenError";
    this.kind = kind;
    this.reason = reason;
    this.claims = claims;
    this.invocationId = invocationId;
  }
}

/**
 * The function's URL naming the widget: one function signs for several widgets, each with its own key, and
 * picks the one in `widgetId` (public: it is in the snippet). Without a widget id the function uses its default.
 */
export function contactTokenUrl(url, widgetId) {
  if (!widgetId) return url;
  const named = new URL(url);
  named.searchParams.set("widgetId", widgetId);
  return named.href;
}

/**
 * One request to the function. Never logs: the answer is a bearer credential.
 * @returns {Promise<{token: string, expiresIn: number|undefined, displayName: string|undefined}>}
 */
export async function requestContactToken({ url, accessToken, widgetId, fetchImpl = globalThis.fetch }) {
  let response;
  try {
    response = await fetchImpl(contactTokenUrl(url, widgetId), {
      method: "GET",
      headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ContactTokenError(FailureKind.UNAVAILABLE, "network_error");
  }
  if (!response.ok) {
    const { code, ...details } = await problemDetails(response);
    throw new ContactTokenError(kindForStatus(response.status), code, details);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ContactTokenError(FailureKind.UNAVAILABLE, "malformed_response");
  }
  if (typeof body?.data !== "string" || body.data.split(".").length !== 3) {
    throw new ContactTokenError(FailureKind.UNAVAILABLE, "malformed_response");
  }
  return {
    token: body.data,
    expiresIn: typeof body.expiresIn === "number" ? body.expiresIn : undefined,
    displayName: typeof body.displayName === "string" && body.displayName ? body.displayName : undefined,
  };
}

/** 401 means our Entra token was refused: only a new sign-in helps. Anything else is on our side. */
export function kindForStatus(status) {
  return status === 401 ? FailureKind.SIGN_IN_AGAIN : FailureKind.UNAVAILABLE;
}

/** The members of a problem body the page uses, each only when it has the expected shape. */
export async function problemDetails(response) {
  const details = { code: `http_${response.status}` };
  try {
    const problem = await response.json();
    if (typeof problem?.code === "string" && /^[a-z0-9_]{1,64}$/.test(problem.code)) details.code = problem.code;
    if (typeof problem?.claims === "string" && /^[A-Za-z0-9+/=]{1,4096}$/.test(problem.claims)) {
      details.claims = problem.claims;
    }
    if (typeof problem?.invocationId === "string" && /^[A-Za-z0-9-]{1,64}$/.test(problem.invocationId)) {
      details.invocationId = problem.invocationId;
    }
  } catch {
    // Not problem+json (a proxy's error page, say): the status is all we have.
  }
  return details;
}
