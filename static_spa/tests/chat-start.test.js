// @vitest-environment node
import { describe, expect, it } from "vitest";
import { createContactTokenSource, createWidgetHandlers } from "../src/chat-start.js";
import { ContactTokenError, FailureKind } from "../src/contact-token.js";

/** A request the test finishes by hand, so that "in flight" is under the test's control. */
function controllableRequests() {
  const pending = [];
  let count = 0;
  return {
    get count() {
      return count;
    },
    requestToken(accessToken) {
      count += 1;
      return new Promise((resolve, reject) => pending.push({ accessToken, resolve, reject }));
    },
    next: () => pending.shift(),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("contact token single flight", () => {
  it("two authenticate calls while one request is in flight share it", async () => {
    const requests = controllableRequests();
    let renewals = 0;
    const tokens = createContactTokenSource({
      getAccessToken: async () => `access-${++renewals}`,
      requestToken: (at) => requests.requestToken(at),
    });
    const first = tokens.fresh();
    const second = tokens.fresh();
    await tick();
    expect(requests.count).toBe(1);
    expect(renewals).toBe(1);
    requests.next().resolve({ token: "a.b.c", displayName: "Dev User" });
    expect(await first).toBe(await second);
  });

  it("a call after the request finished fetches a fresh token (one per chat, never a stale one)", async () => {
    const requests = controllableRequests();
    const tokens = createContactTokenSource({ getAccessToken: async () => "at", requestToken: (at) => requests.requestToken(at) });
    const first = tokens.fresh();
    await tick();
    requests.next().resolve({ token: "first.t.k" });
    await first;
    const second = tokens.fresh();
    await tick();
    expect(requests.count).toBe(2);
    requests.next().resolve({ token: "second.t.k" });
    expect((await second).token).toBe("second.t.k");
  });

  it("a failure reaches every waiting caller and does not stick", async () => {
    const requests = controllableRequests();
    const tokens = createContactTokenSource({ getAccessToken: async () => "at", requestToken: (at) => requests.requestToken(at) });
    const both = [tokens.fresh(), tokens.fresh()];
    await tick();
    requests.next().reject(new ContactTokenError(FailureKind.UNAVAILABLE, "http_503"));
    for (const attempt of both) await expect(attempt).rejects.toMatchObject({ reason: "http_503" });
    const retry = tokens.fresh();
    await tick();
    expect(requests.count).toBe(2);
    requests.next().resolve({ token: "x.y.z" });
    expect((await retry).token).toBe("x.y.z");
  });

  it("silent renewal failing means no request to the function", async () => {
    const requests = controllableRequests();
    const tokens = createContactTokenSource({
      getAccessToken: async () => {
        throw new ContactTokenError(FailureKind.SIGN_IN_AGAIN, "interaction_required");
      },
      requestToken: (at) => requests.requestToken(at),
    });
    await expect(tokens.fresh()).rejects.toMatchObject({ kind: FailureKind.SIGN_IN_AGAIN });
    expect(requests.count).toBe(0);
  });

  it("the display name comes from the answer in flight, then from the last answer", async () => {
    const requests = controllableRequests();
    const tokens = createContactTokenSource({ getAccessToken: async () => "at", requestToken: (at) => requests.requestToken(at) });
    const token = tokens.fresh();
    const name = tokens.displayName();
    await tick();
    requests.next().resolve({ token: "a.b.c", displayName: "Dev User" });
    await token;
    expect(await name).toBe("Dev User");
    expect(await tokens.displayName()).toBe("Dev User");
    expect(requests.count).toBe(1);
  });
});

describe("widget handlers", () => {
  it("authenticate hands the widget the token, and a double call gets the same token from one request", async () => {
    const requests = controllableRequests();
    const tokens = createContactTokenSource({ getAccessToken: async () => "at", requestToken: (at) => requests.requestToken(at) });
    const handed = [];
    const handlers = createWidgetHandlers({ tokens, fallbackName: "Account Name", onFailure: () => {} });
    handlers.authenticate((jwt) => handed.push(jwt));
    handlers.authenticate((jwt) => handed.push(jwt));
    await tick();
    requests.next().resolve({ token: "h.p.s", displayName: "Dev User" });
    await tick();
    expect(handed).toEqual(["h.p.s", "h.p.s"]);
    expect(requests.count).toBe(1);
  });

  it("on failure the widget callback is not called and the page is told", async () => {
    const failures = [];
    const tokens = createContactTokenSource({
      getAccessToken: async () => "at",
      requestToken: async () => {
        throw new ContactTokenError(FailureKind.SIGN_IN_AGAIN, "token_expired");
      },
    });
    const handed = [];
    const handlers = createWidgetHandlers({ tokens, fallbackName: "n", onFailure: (e) => failures.push(e.kind) });
    handlers.authenticate((jwt) => handed.push(jwt));
    await tick();
    expect(handed).toEqual([]);
    expect(failures).toEqual([FailureKind.SIGN_IN_AGAIN]);
  });

  it("customerDisplayName falls back to the signed-in account's name", async () => {
    const tokens = createContactTokenSource({
      getAccessToken: async () => "at",
      requestToken: async () => ({ token: "a.b.c" }),
    });
    const handlers = createWidgetHandlers({ tokens, fallbackName: "Account Name", onFailure: () => {} });
    const name = await new Promise((resolve) => handlers.customerDisplayName(resolve));
    expect(name).toBe("Account Name");
  });
});
