// @vitest-environment node
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, validateConfig } from "../src/config.js";
import { startServer, validConfig } from "./fixtures.js";

function problemsOf(raw) {
  try {
    validateConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error.problems;
  }
  throw new Error("expected a ConfigError");
}

const fieldsOf = (raw) => problemsOf(raw).map((p) => p.field);

describe("validateConfig", () => {
  it("accepts the shipped config.example.json", () => {
    const example = JSON.parse(readFileSync(new URL("../public/config.example.json", import.meta.url), "utf8"));
    const config = validateConfig(example);
    expect(config.msal.protocolMode).toBe("AAD");
    expect(Object.isFrozen(config.widget.styles)).toBe(true);
  });

  it("accepts the development options (OIDC authority on localhost, function on loopback http)", () => {
    const raw = validConfig();
    raw.msal.authority = "https://localhost:8443";
    raw.msal.knownAuthorities = ["localhost:8443"];
    raw.msal.protocolMode = "OIDC";
    raw.api.contactTokenUrl = "http://127.0.0.1:7071/api/AWSConnectJWT";
    const config = validateConfig(raw);
    expect(config.msal.knownAuthorities).toEqual(["localhost:8443"]);
    expect(config.msal.protocolMode).toBe("OIDC");
  });

  it.each([
    ["msal.clientId", (c) => (c.msal.clientId = "my-app")],
    ["msal.clientId", (c) => delete c.msal.clientId],
    ["msal.authority", (c) => (c.msal.authority = "http://login.microsoftonline.com/tenant")],
    ["msal.authority", (c) => (c.msal.authority = "not a url")],
    ["msal.apiScope", (c) => (c.msal.apiScope = "JWT.Read")],
    ["msal.knownAuthorities", (c) => (c.msal.knownAuthorities = "localhost:8443")],
    ["msal.protocolMode", (c) => (c.msal.protocolMode = "SAML")],
    ["api.contactTokenUrl", (c) => (c.api.contactTokenUrl = "http://func-example.azurewebsites.net/api/AWSConnectJWT")],
    ["api.contactTokenUrl", (c) => (c.api.contactTokenUrl = "https://user:pw@func.example/api")],
    ["widget.scriptUrl", (c) => (c.widget.scriptUrl = "http://example.cloudfront.net/client.js")],
    ["widget.widgetId", (c) => (c.widget.widgetId = "")],
    ["widget.snippetId", (c) => (c.widget.snippetId = 42)],
    ["widget.styles", (c) => delete c.widget.styles],
    ["widget.styles.openChat.color", (c) => (c.widget.styles.openChat.color = "red; background: url(x)")],
    ["widget.supportedMessagingContentTypes", (c) => (c.widget.supportedMessagingContentTypes = ["text/markdown"])],
    ["widget.modes", (c) => (c.widget.modes = [])],
    ["widget.modes", (c) => (c.widget.modes = ["chat", "phone"])],
    ["widget.modes", (c) => (c.widget.modes = ["voice", "voice"])],
    ["widget.modes", (c) => (c.widget.modes = "video")],
    ["widget.callFrameOrigin", (c) => (c.widget.callFrameOrigin = "https://calls.example")], // chat only: refused
    ["widget.callingOrigins", (c) => (c.widget.callingOrigins = ["https://media.example"])], // chat only: refused
    ["widget.callFrameOrigin", (c) => Object.assign(c.widget, { modes: ["video"], callFrameOrigin: "https://x.example/frame" })],
    ["widget.callFrameOrigin", (c) => Object.assign(c.widget, { modes: ["voice"], callFrameOrigin: "http://x.example" })],
    ["widget.callingOrigins", (c) => Object.assign(c.widget, { modes: ["voice"], callingOrigins: ["https://*"] })],
    ["widget.callingOrigins", (c) => Object.assign(c.widget, { modes: ["voice"], callingOrigins: ["wss://x.example/path"] })],
    ["widget.callingOrigins", (c) => Object.assign(c.widget, { modes: ["voice"], callingOrigins: ["http://x.example"] })],
  ])("names %s when it is wrong", (field, breakIt) => {
    const raw = validConfig();
    breakIt(raw);
    expect(fieldsOf(raw)).toEqual([field]);
  });

  it("offers chat only unless widget.modes says otherwise", () => {
    expect(validateConfig(validConfig()).widget.modes).toEqual(["chat"]);
  });

  it("accepts calling modes with their optional origins", () => {
    const raw = validConfig();
    Object.assign(raw.widget, {
      modes: ["chat", "voice", "video"],
      callFrameOrigin: "https://calls0000000.cloudfront.net",
      callingOrigins: ["wss://*.media.example", "https://signal.example:8443"],
    });
    const widget = validateConfig(raw).widget;
    expect(widget.modes).toEqual(["chat", "voice", "video"]);
    expect(widget.callFrameOrigin).toBe("https://calls0000000.cloudfront.net");
    expect(widget.callingOrigins).toEqual(["wss://*.media.example", "https://signal.example:8443"]);
  });

  it("reports every wrong field at once, with a message an administrator can act on", () => {
    const problems = problemsOf({ msal: { clientId: "x" }, widget: [] });
    const fields = problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining(["api", "widget", "msal.clientId", "msal.authority", "msal.apiScope", "api.contactTokenUrl"]),
    );
    expect(problems.find((p) => p.field === "msal.clientId").message).toMatch(/GUID/);
  });

  it("rejects a config that is not an object", () => {
    expect(fieldsOf([])).toEqual(["config.json"]);
    expect(fieldsOf(null)).toEqual(["config.json"]);
  });
});

describe("loadConfig over HTTP", () => {
  let server;
  afterEach(() => server?.close());

  it("loads and validates config.json without caching", async () => {
    server = await startServer(() => ({ body: validConfig(), headers: { "Content-Type": "application/json" } }));
    const config = await loadConfig(`${server.url}/config.json`);
    expect(config.widget.widgetId).toBe("00000000-0000-0000-0000-000000000003");
    expect(server.requests[0].headers["cache-control"]).toBe("no-cache");
  });

  it("says config.json is missing on 404", async () => {
    server = await startServer(() => ({ status: 404, body: "not found" }));
    await expect(loadConfig(`${server.url}/config.json`)).rejects.toMatchObject({
      problems: [{ field: "config.json", message: expect.stringMatching(/HTTP 404/) }],
    });
  });

  it("says config.json is not JSON (an HTML fallback page, say)", async () => {
    server = await startServer(() => ({ body: "<!doctype html><p>fallback</p>" }));
    await expect(loadConfig(`${server.url}/config.json`)).rejects.toMatchObject({
      problems: [{ field: "config.json", message: "is not valid JSON." }],
    });
  });

  it("reports a network failure as a config problem, not a crash", async () => {
    server = await startServer(() => ({}));
    const { url } = server;
    await server.close();
    server = null;
    await expect(loadConfig(`${url}/config.json`)).rejects.toBeInstanceOf(ConfigError);
  });
});
