// @vitest-environment node
// The function is Python and cannot run inside vitest: a loopback server answers with the function's
// documented shapes (the end-to-end test in tests/static_spa/ uses the real function).
import { afterEach, describe, expect, it } from "vitest";
import {
  ContactTokenError,
  contactTokenUrl,
  FailureKind,
  kindForStatus,
  requestContactToken,
} from "../src/contact-token.js";
import { customerMessageFor, MESSAGES } from "../src/messages.js";
import { fakeContactToken, startServer } from "./fixtures.js";

const problem = (status, code) => ({
  status,
  headers: { "Content-Type": "application/problem+json" },
  body: { type: "about:blank", title: "t", status, detail: "d", code },
});

describe("requestContactToken", () => {
  let server;
  afterEach(() => server?.close());

  it("sends the access token as a bearer token, asks for JSON and returns data, expiresIn, displayName", async () => {
    const token = fakeContactToken();
    server = await startServer(() => ({
      headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
      body: { data: token, expiresIn: 300, displayName: "Dev User" },
    }));
    const answer = await requestContactToken({ url: `${server.url}/api/AWSConnectJWT`, accessToken: "fake-access-token" });
    expect(answer).toEqual({ token, expiresIn: 300, displayName: "Dev User" });
    const [request] = server.requests;
    expect(request.headers.authorization).toBe("Bearer fake-access-token");
    expect(request.headers.accept).toBe("application/json");
    expect(request.url).toBe("/api/AWSConnectJWT");
  });

  it.each([
    [401, "token_expired", FailureKind.SIGN_IN_AGAIN],
    [401, "invalid_signature", FailureKind.SIGN_IN_AGAIN],
    [403, "insufficient_scope", FailureKind.UNAVAILABLE],
    [500, "internal_error", FailureKind.UNAVAILABLE],
    [503, "signing_keys_unavailable", FailureKind.UNAVAILABLE],
  ])("maps %i %s to %s and keeps the problem code", async (status, code, kind) => {
    server = await startServer(() => problem(status, code));
    const failure = requestContactToken({ url: server.url, accessToken: "fake" });
    await expect(failure).rejects.toBeInstanceOf(ContactTokenError);
    await expect(failure).rejects.toMatchObject({ kind, reason: code });
  });

  it("falls back to the status when the error body is not problem+json", async () => {
    server = await startServer(() => ({ status: 502, body: "<html>Bad gateway</html>" }));
    await expect(requestContactToken({ url: server.url, accessToken: "fake" })).rejects.toMatchObject({
      kind: FailureKind.UNAVAILABLE,
      reason: "http_502",
    });
  });

  it.each([
    ["not JSON", "<html>"],
    ["no data", JSON.stringify({ expiresIn: 300 })],
    ["data is not a JWT", JSON.stringify({ data: "abc" })],
  ])("treats a 200 with %s as unavailable", async (_label, body) => {
    server = await startServer(() => ({ body }));
    await expect(requestContactToken({ url: server.url, accessToken: "fake" })).rejects.toMatchObject({
      kind: FailureKind.UNAVAILABLE,
      reason: "malformed_response",
    });
  });

  it("treats a function that is down as unavailable", async () => {
    server = await startServer(() => ({}));
    const { url } = server;
    await server.close();
    server = null;
    await expect(requestContactToken({ url, accessToken: "fake" })).rejects.toMatchObject({
      kind: FailureKind.UNAVAILABLE,
      reason: "network_error",
    });
  });

  it("names the widget with the widgetId query parameter on every request", async () => {
    const widgetId = "0f8e7d6c-0000-4000-8000-00000000e001";
    server = await startServer(() => ({
      headers: { "Content-Type": "application/json" },
      body: { data: fakeContactToken(), expiresIn: 300 },
    }));
    const url = `${server.url}/api/AWSConnectJWT`;
    await requestContactToken({ url, accessToken: "fake", widgetId });
    await requestContactToken({ url, accessToken: "fake", widgetId });
    expect(server.requests.map((request) => request.url)).toEqual([
      `/api/AWSConnectJWT?widgetId=${widgetId}`,
      `/api/AWSConnectJWT?widgetId=${widgetId}`,
    ]);
  });

  it("keeps the URL's own query and replaces a widgetId already in it", () => {
    const widgetId = "0f8e7d6c-0000-4000-8000-00000000e001";
    expect(contactTokenUrl("https://fn.example/api/AWSConnectJWT?code=x&widgetId=old", widgetId)).toBe(
      `https://fn.example/api/AWSConnectJWT?code=x&widgetId=${widgetId}`,
    );
    expect(contactTokenUrl("https://fn.example/api/AWSConnectJWT", undefined)).toBe("https://fn.example/api/AWSConnectJWT");
  });

  it("treats 400 unknown_widget as unavailable, not as a sign-in problem", async () => {
    server = await startServer(() => problem(400, "unknown_widget"));
    await expect(
      requestContactToken({ url: server.url, accessToken: "fake", widgetId: "0f8e7d6c-0000-4000-8000-00000000e0ff" }),
    ).rejects.toMatchObject({ kind: FailureKind.UNAVAILABLE, reason: "unknown_widget" });
  });

  it("never puts the access token in the error", async () => {
    server = await startServer(() => problem(401, "token_expired"));
    const error = await requestContactToken({ url: server.url, accessToken: "fake-secret-access-token" }).catch((e) => e);
    expect(`${error.message} ${error.reason}`).not.toContain("fake-secret-access-token");
  });
});

describe("customer messages", () => {
  it("only 401 asks the customer to sign in again", () => {
    expect(kindForStatus(401)).toBe(FailureKind.SIGN_IN_AGAIN);
    for (const status of [400, 403, 404, 429, 500, 502, 503]) expect(kindForStatus(status)).toBe(FailureKind.UNAVAILABLE);
  });

  it("offers sign-in for an expired session and a plain 'try later' for everything else", () => {
    const expired = customerMessageFor(new ContactTokenError(FailureKind.SIGN_IN_AGAIN, "token_expired"));
    expect(expired).toEqual({ kind: FailureKind.SIGN_IN_AGAIN, text: MESSAGES.sign_in_again, offerSignIn: true });
    expect(expired.text).toMatch(/sign in again/i);
    for (const error of [new ContactTokenError(FailureKind.UNAVAILABLE, "x"), new TypeError("boom"), null]) {
      const message = customerMessageFor(error);
      expect(message.offerSignIn).toBe(false);
      expect(message.text).toMatch(/unavailable.*try again later/i);
    }
  });
});
