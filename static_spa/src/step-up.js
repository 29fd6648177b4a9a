// Step-up (docs/step-up.md): a widget may require a Conditional Access authentication context. The function then
// answers a valid token with 401 insufficient_claims and a claims challenge; the page tells the person, asks MSAL
// for a new token with those claims (one redirect), and asks them to press start again. It never loops: a second
// challenge for the same chat start, or a refused step-up, ends with a message instead of another redirect.

export const STEP_UP_CODE = "insufficient_claims";
// sessionStorage, like MSAL's cache: the marker ends with the tab and holds no token, only the widget id and a time.
export const PENDING_KEY = "connect-sso.step-up";
const PENDING_LIFETIME_MS = 10 * 60 * 1000; // a step-up left unfinished longer than this is a new one
const BASE64 = /^[A-Za-z0-9+/]{4,4096}={0,2}$/;

export const STEP_UP_WORDS = Object.freeze({
  confirming: "This chat asks you to confirm who you are again. Taking you to sign-in…",
  confirmed: "Thank you for confirming who you are. Please press start again to begin your chat.",
  refused: "You did not confirm who you are, so this chat cannot start. Please try again later.",
  failed: (invocationId) =>
    `We could not confirm who you are for this chat. Please try again later. Reference: ${invocationId || "none"}.`,
});

/** Whether a contact-token failure is a claims challenge the page can answer. */
export function isClaimsChallenge(error) {
  return error?.reason === STEP_UP_CODE && typeof error.claims === "string";
}

/** The challenge (standard base64 of a JSON claims request) as the JSON text MSAL's `claims` takes; null if bad. */
export function decodeClaimsChallenge(challenge) {
  if (typeof challenge !== "string" || !BASE64.test(challenge)) return null;
  try {
    const text = atob(challenge);
    const parsed = JSON.parse(text);
    const accessToken = parsed?.access_token;
    if (typeof accessToken !== "object" || accessToken === null || Array.isArray(accessToken)) return null;
    return text;
  } catch {
    return null;
  }
}

/**
 * @param {{widgetId: string, redirect: (claims: string) => Promise<void>, show: (message) => void,
 *          storage?: Storage, now?: () => number}} deps
 *   redirect: MSAL's acquireTokenRedirect with the claims; show: the customer message ({kind, text}).
 */
export function createStepUp({ widgetId, redirect, show, storage = globalThis.sessionStorage, now = Date.now }) {
  const message = (kind, text) => show({ kind, text, offerSignIn: false });

  function pending() {
    let marker;
    try {
      marker = JSON.parse(storage.getItem(PENDING_KEY) ?? "null");
    } catch {
      marker = null;
    }
    const current = marker?.widgetId === widgetId && now() - marker.at < PENDING_LIFETIME_MS;
    return current ? marker : null;
  }
  const clear = () => storage.removeItem(PENDING_KEY);

  return {
    /** Whether a step-up redirect of this widget's chat start is under way (MSAL's redirect error is then ours). */
    inProgress: () => pending() !== null,

    /**
     * After the page loads: the outcome of a step-up started before the redirect. `returned`: MSAL handled a
     * redirect response; `redirectError`: that response was an error (the person did not complete it).
     */
    afterRedirect({ returned, redirectError }) {
      const marker = pending();
      if (!marker || marker.returned) return;
      if (redirectError) {
        clear();
        message("step_up_refused", STEP_UP_WORDS.refused);
      } else if (returned) {
        // The chat start that asked cannot be replayed into the widget: ask once to press start again.
        storage.setItem(PENDING_KEY, JSON.stringify({ ...marker, returned: true }));
        message("step_up_confirmed", STEP_UP_WORDS.confirmed);
      } else {
        clear(); // came back without an answer (the back button): nothing to resume
      }
    },

    /** A contact token arrived (or the person signs out): the step-up, if any, is over. */
    succeeded: clear,

    /** Answers a claims challenge: the first one redirects; one after a step-up for the same chat start ends it. */
    async answer(error) {
      if (pending()?.returned) {
        clear();
        message("step_up_failed", STEP_UP_WORDS.failed(error.invocationId));
        return;
      }
      const claims = decodeClaimsChallenge(error.claims);
      if (claims === null) {
        message("step_up_failed", STEP_UP_WORDS.failed(error.invocationId));
        return;
      }
      storage.setItem(PENDING_KEY, JSON.stringify({ widgetId, at: now() }));
      message("step_up", STEP_UP_WORDS.confirming);
      try {
        await redirect(claims);
      } catch {
        clear(); // the authority is unreachable: the redirect never left the page
        message("step_up_failed", STEP_UP_WORDS.failed(error.invocationId));
      }
    },
  };
}
