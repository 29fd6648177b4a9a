import { BrowserAuthError, InteractionRequiredAuthError, ProtocolMode } from "@azure/msal-browser";
import { describe, expect, it } from "vitest";
import { msalConfiguration, renewalFailure, startSession } from "../src/auth.js";
import { validateConfig } from "../src/config.js";
import { FailureKind } from "../src/contact-token.js";
import { validConfig } from "./fixtures.js";

describe("MSAL configuration from config.json", () => {
  it("uses the redirect bridge, session storage and Entra protocol by default", () => {
    const { msal } = validConfig();
    const config = msalConfiguration(msal, "https://chat.example");
    expect(config.auth).toMatchObject({
      clientId: msal.clientId,
      authority: msal.authority,
      redirectUri: "https://chat.example/redirect.html",
      postLogoutRedirectUri: "https://chat.example/",
    });
    expect(config.auth.knownAuthorities).toBeUndefined();
    expect(config.cache.cacheLocation).toBe("sessionStorage");
    expect(config.system.protocolMode).toBe(ProtocolMode.AAD);
  });

  it("passes the development provider's options through", () => {
    const msal = { ...validConfig().msal, authority: "https://localhost:8443", knownAuthorities: ["localhost:8443"], protocolMode: "OIDC" };
    const config = msalConfiguration(msal, "http://localhost:5173");
    expect(config.auth.knownAuthorities).toEqual(["localhost:8443"]);
    expect(config.system.protocolMode).toBe(ProtocolMode.OIDC);
  });
});

describe("Entra External ID from config.json alone", () => {
  it("takes a ciamlogin.com authority, or a custom URL domain with knownAuthorities, through the same bridge", () => {
    const tenant = "00000000-0000-0000-0000-00000000e1d0";
    const raw = validConfig();
    raw.msal.authority = `https://login.contoso.example/${tenant}`; // custom URL domain in front of ciamlogin.com
    raw.msal.knownAuthorities = ["login.contoso.example"];
    const { msal } = validateConfig(raw);
    const config = msalConfiguration(msal, "https://chat.example");
    expect(config.auth.authority).toBe(`https://login.contoso.example/${tenant}`);
    expect(config.auth.knownAuthorities).toEqual(["login.contoso.example"]);
    expect(config.auth.redirectUri).toBe("https://chat.example/redirect.html");
    expect(config.system.protocolMode).toBe(ProtocolMode.AAD);
  });
});

describe("silent renewal failures", () => {
  it("interaction required means sign in again", () => {
    const error = new InteractionRequiredAuthError("login_required", "the session expired");
    expect(renewalFailure(error)).toMatchObject({ kind: FailureKind.SIGN_IN_AGAIN });
  });

  it("a hidden-frame timeout means sign in again; other errors mean try later", () => {
    expect(renewalFailure(new BrowserAuthError("monitor_window_timeout"))).toMatchObject({ kind: FailureKind.SIGN_IN_AGAIN });
    expect(renewalFailure(new BrowserAuthError("post_request_failed"))).toMatchObject({ kind: FailureKind.UNAVAILABLE });
    expect(renewalFailure(new TypeError("x"))).toMatchObject({ kind: FailureKind.UNAVAILABLE });
  });
});

describe("session", () => {
  // MSAL itself talks to Entra, which cannot exist here: a stand-in client records what the page asks of it.
  class RecordingClient {
    static accounts = [];
    static silent = async () => ({ accessToken: "fake-access-token" });
    constructor(configuration) {
      this.configuration = configuration;
      this.calls = [];
      RecordingClient.last = this;
    }
    async initialize() {}
    async handleRedirectPromise() {
      return null;
    }
    getActiveAccount() {
      return null;
    }
    getAllAccounts() {
      return RecordingClient.accounts;
    }
    setActiveAccount(account) {
      this.calls.push(["setActiveAccount", account.homeAccountId]);
    }
    acquireTokenSilent(request) {
      this.calls.push(["acquireTokenSilent", request.scopes]);
      return RecordingClient.silent();
    }
    loginRedirect(request) {
      this.calls.push(["loginRedirect", request.scopes]);
    }
  }

  it("with no account, renewal is not attempted and sign-in is required", async () => {
    RecordingClient.accounts = [];
    const session = await startSession(validConfig().msal, "https://chat.example", RecordingClient);
    expect(session.account).toBeNull();
    await expect(session.accessToken()).rejects.toMatchObject({ kind: FailureKind.SIGN_IN_AGAIN });
    session.signIn();
    expect(RecordingClient.last.calls).toEqual([["loginRedirect", [validConfig().msal.apiScope]]]);
  });

  it("asks for the API scope silently for the signed-in account", async () => {
    RecordingClient.accounts = [{ homeAccountId: "h1", name: "Dev User" }];
    RecordingClient.silent = async () => ({ accessToken: "fake-access-token" });
    const session = await startSession(validConfig().msal, "https://chat.example", RecordingClient);
    expect(await session.accessToken()).toBe("fake-access-token");
    expect(RecordingClient.last.calls).toEqual([
      ["setActiveAccount", "h1"],
      ["acquireTokenSilent", [validConfig().msal.apiScope]],
    ]);
  });

  it("turns MSAL's interaction-required error into 'sign in again'", async () => {
    RecordingClient.accounts = [{ homeAccountId: "h1", name: "Dev User" }];
    RecordingClient.silent = async () => {
      throw new InteractionRequiredAuthError("interaction_required");
    };
    const session = await startSession(validConfig().msal, "https://chat.example", RecordingClient);
    await expect(session.accessToken()).rejects.toMatchObject({ kind: FailureKind.SIGN_IN_AGAIN });
  });
});
