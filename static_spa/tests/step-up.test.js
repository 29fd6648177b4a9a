// @vitest-environment node
// Step-up (issue 21): the page's answer to the function's claims challenge. MSAL's redirect leaves the page, which
// cannot happen here: a recorded `redirect` stands in, and a Map stands in for sessionStorage. The real journey
// runs in Chromium in tests/static_spa/test_step_up_browser.py.
import { afterEach, describe, expect, it } from "vitest";
import { msalConfiguration, startSession } from "../src/auth.js";
import { requestContactToken } from "../src/contact-token.js";
import {
  createStepUp,
  decodeClaimsChallenge,
  isClaimsChallenge,
  PENDING_KEY,
  STEP_UP_WORDS,
} from "../src/step-up.js";
import { startServer, validConfig } from "./fixtures.js";

// What the function sends for c1 (tests/test_step_up.py asserts the same string on the Python side).
const C1_CHALLENGE = "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19";
const C1_CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
const WIDGET = "00000000-0000-0000-0000-000000000003";

function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
    items,
  };
}

function harness({ redirect = async () => {}, clock = { now: 1_000_000 } } = {}) {
  const storage = memoryStorage();
  const shown = [];
  const redirects = [];
  const deps = {
    widgetId: WIDGET,
    storage,
    now: () => clock.now,
    show: (message) => shown.push(message),
    redirect: async (claims) => {
      redirects.push(claims);
      return redirect(claims);
    },
  };
  return { deps, storage, shown, redirects, clock, stepUp: createStepUp(deps) };
}

const challenge = (invocationId = "inv-1") => ({ reason: "insufficient_claims", claims: C1_CHALLENGE, invocationId });

describe("the claims challenge", () => {
  it("decodes the function's padded base64 to the JSON MSAL takes", () => {
    expect(decodeClaimsChallenge(C1_CHALLENGE)).toBe(C1_CLAIMS);
  });

  it("refuses anything that is not base64 of a claims request", () => {
    for (const bad of [undefined, "", "not base64!", btoa("[]"), btoa('{"id_token":{}}'), btoa("{"), "A".repeat(5000)]) {
      expect(decodeClaimsChallenge(bad)).toBeNull();
    }
  });

  it("is recognised by its code and a claims member only", () => {
    expect(isClaimsChallenge(challenge())).toBe(true);
    expect(isClaimsChallenge({ reason: "insufficient_claims" })).toBe(false);
    expect(isClaimsChallenge({ reason: "invalid_signature", claims: C1_CHALLENGE })).toBe(false);
  });
});

describe("answering it", () => {
  it("tells the person, then redirects once with the decoded claims", async () => {
    const { stepUp, shown, redirects, storage } = harness();
    await stepUp.answer(challenge());
    expect(shown).toEqual([{ kind: "step_up", text: STEP_UP_WORDS.confirming, offerSignIn: false }]);
    expect(shown[0].text).toContain("confirm who you are again");
    expect(redirects).toEqual([C1_CLAIMS]);
    expect(JSON.parse(storage.getItem(PENDING_KEY))).toEqual({ widgetId: WIDGET, at: 1_000_000 });
  });

  it("after the redirect returns, asks once to press start again", async () => {
    const { stepUp, deps, shown } = harness();
    await stepUp.answer(challenge());
    const afterLoad = createStepUp(deps); // the page loaded again
    expect(afterLoad.inProgress()).toBe(true);
    afterLoad.afterRedirect({ returned: true, redirectError: null });
    afterLoad.afterRedirect({ returned: false, redirectError: null }); // a reload: not asked twice
    expect(shown.slice(1)).toEqual([{ kind: "step_up_confirmed", text: STEP_UP_WORDS.confirmed, offerSignIn: false }]);
  });

  it("never loops: a second challenge for the same chat start ends with 'try again later' and the invocation id", async () => {
    const { stepUp, deps, shown, redirects, storage } = harness();
    await stepUp.answer(challenge("first"));
    const afterLoad = createStepUp(deps);
    afterLoad.afterRedirect({ returned: true, redirectError: null });
    await afterLoad.answer(challenge("0f1e2d3c-0000-4000-8000-000000000001"));
    expect(redirects).toHaveLength(1);
    expect(shown.at(-1).kind).toBe("step_up_failed");
    expect(shown.at(-1).text).toContain("try again later");
    expect(shown.at(-1).text).toContain("0f1e2d3c-0000-4000-8000-000000000001");
    expect(storage.getItem(PENDING_KEY)).toBeNull(); // a later, new chat start may step up again
  });

  it("a refused step-up (an error response from the redirect) ends with a clear message and no redirect", async () => {
    const { stepUp, deps, shown, redirects, storage } = harness();
    await stepUp.answer(challenge());
    createStepUp(deps).afterRedirect({ returned: true, redirectError: new Error("access_denied") });
    expect(shown.at(-1)).toEqual({ kind: "step_up_refused", text: STEP_UP_WORDS.refused, offerSignIn: false });
    expect(redirects).toHaveLength(1);
    expect(storage.getItem(PENDING_KEY)).toBeNull();
  });

  it("a success ends the step-up, and a stale or another widget's marker is not this chat start's", async () => {
    const { stepUp, deps, storage, clock, redirects } = harness();
    await stepUp.answer(challenge());
    stepUp.succeeded();
    expect(storage.getItem(PENDING_KEY)).toBeNull();

    storage.setItem(PENDING_KEY, JSON.stringify({ widgetId: WIDGET, at: clock.now, returned: true }));
    clock.now += 11 * 60 * 1000;
    await createStepUp(deps).answer(challenge());
    storage.setItem(PENDING_KEY, JSON.stringify({ widgetId: "another", at: clock.now, returned: true }));
    await createStepUp(deps).answer(challenge());
    expect(redirects).toHaveLength(3);
  });

  it("an authority that cannot be reached ends the step-up with a message", async () => {
    const { stepUp, shown, storage } = harness({
      redirect: async () => {
        throw new Error("endpoints_resolution_error");
      },
    });
    await stepUp.answer(challenge("inv-9"));
    expect(shown.at(-1).kind).toBe("step_up_failed");
    expect(shown.at(-1).text).toContain("inv-9");
    expect(storage.getItem(PENDING_KEY)).toBeNull();
  });
});

describe("the contact-token request carries the challenge", () => {
  let server;
  afterEach(() => server?.close());

  it("reads claims and invocationId from the problem body (CORS hides WWW-Authenticate)", async () => {
    server = await startServer(() => ({
      status: 401,
      headers: { "Content-Type": "application/problem+json" },
      body: { status: 401, code: "insufficient_claims", claims: C1_CHALLENGE, invocationId: "abc-123" },
    }));
    const failure = await requestContactToken({ url: server.url, accessToken: "t", widgetId: WIDGET }).catch((e) => e);
    expect(failure).toMatchObject({ reason: "insufficient_claims", claims: C1_CHALLENGE, invocationId: "abc-123" });
    expect(isClaimsChallenge(failure)).toBe(true);
  });

  it("ignores members of the wrong shape", async () => {
    server = await startServer(() => ({
      status: 401,
      headers: { "Content-Type": "application/problem+json" },
      body: { status: 401, code: "insufficient_claims", claims: "<script>", invocationId: "a b" },
    }));
    const failure = await requestContactToken({ url: server.url, accessToken: "t" }).catch((e) => e);
    expect(failure.claims).toBeUndefined();
    expect(failure.invocationId).toBeUndefined();
    expect(isClaimsChallenge(failure)).toBe(false);
  });
});

describe("MSAL", () => {
  class RedirectingClient {
    static redirectResult = async () => null;
    constructor(configuration) {
      this.configuration = configuration;
      this.calls = [];
      RedirectingClient.last = this;
    }
    async initialize() {}
    handleRedirectPromise() {
      return RedirectingClient.redirectResult();
    }
    getActiveAccount() {
      return null;
    }
    getAllAccounts() {
      return [{ homeAccountId: "h1", name: "Dev User" }];
    }
    setActiveAccount() {}
    acquireTokenRedirect(request) {
      this.calls.push(request);
    }
  }

  it("declares the CP1 capability, so Entra may send claims challenges", () => {
    expect(msalConfiguration(validConfig().msal, "https://chat.example").auth.clientCapabilities).toEqual(["CP1"]);
  });

  it("asks for a token with the challenge's claims through a redirect", async () => {
    RedirectingClient.redirectResult = async () => null;
    const session = await startSession(validConfig().msal, "https://chat.example", RedirectingClient);
    await session.stepUp(C1_CLAIMS);
    expect(RedirectingClient.last.calls).toEqual([
      {
        scopes: [validConfig().msal.apiScope],
        account: { homeAccountId: "h1", name: "Dev User" },
        claims: C1_CLAIMS,
        redirectStartPage: "https://chat.example/",
      },
    ]);
  });

  it("keeps the account when a step-up redirect comes back with an error, and reports it", async () => {
    const refused = new Error("access_denied");
    RedirectingClient.redirectResult = async () => {
      throw refused;
    };
    await expect(startSession(validConfig().msal, "https://chat.example", RedirectingClient)).rejects.toBe(refused);
    const session = await startSession(validConfig().msal, "https://chat.example", RedirectingClient, {
      keepAccountOnRedirectError: true,
    });
    expect(session.account.homeAccountId).toBe("h1");
    expect(session.redirectError).toBe(refused);
    expect(session.returned).toBe(true);
  });
});
