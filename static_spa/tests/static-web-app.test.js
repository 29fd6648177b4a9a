// @vitest-environment node
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CHIME_SIGNALLING,
  contentSecurityPolicy,
  DEFAULT_SOURCES,
  headersFromConfig,
  permissionsPolicy,
  sourcesFromConfig,
} from "../scripts/csp.mjs";

const root = resolve(import.meta.dirname, "..");
// The source; Vite ships it as dist/staticwebapp.config.json, which the deploy hook narrows.
const swa = JSON.parse(readFileSync(join(root, "staticwebapp.base.json"), "utf8"));
const example = JSON.parse(readFileSync(join(root, "public/config.example.json"), "utf8"));
const scratch = mkdtempSync(join(tmpdir(), "swa-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Parses a CSP header into {directive: [sources]}. */
function parsePolicy(header) {
  return Object.fromEntries(
    header
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

/** CSP host-source matching for scheme://host[:port] sources, enough for the policies here. */
function allows(sources, url) {
  const target = new URL(url);
  return sources.some((source) => {
    if (source === "'self'" || source.startsWith("'")) return false;
    const match = /^(\w+):\/\/(\*\.)?([^/:]+)(?::(\d+))?$/.exec(source);
    if (!match) return false;
    const [, scheme, wildcard, host, port] = match;
    if (`${scheme}:` !== target.protocol) return false;
    if ((port ?? "") !== target.port) return false;
    return wildcard ? target.hostname.endsWith(`.${host}`) : target.hostname === host;
  });
}

describe("staticwebapp.base.json", () => {
  const policy = parsePolicy(swa.globalHeaders["Content-Security-Policy"]);

  it("carries the generated policy for the default hosts (they cannot drift apart)", () => {
    expect(swa.globalHeaders["Content-Security-Policy"]).toBe(contentSecurityPolicy(DEFAULT_SOURCES));
    expect(swa.globalHeaders["Permissions-Policy"]).toBe(permissionsPolicy());
  });

  it("refuses microphone and camera until a deployment says the widget calls", () => {
    const features = Object.fromEntries(swa.globalHeaders["Permissions-Policy"].split(", ").map((f) => f.split("=")));
    expect(features.camera).toBe("()");
    expect(features.microphone).toBe("()");
    expect(features["display-capture"]).toBe("()");
  });

  it("allows what config.example.json points at, and no inline or eval script", () => {
    expect(allows(policy["script-src"], example.widget.scriptUrl)).toBe(true);
    expect(allows(policy["frame-src"], example.widget.scriptUrl)).toBe(true);
    expect(allows(policy["connect-src"], example.msal.authority)).toBe(true);
    expect(allows(policy["frame-src"], example.msal.authority)).toBe(true);
    expect(allows(policy["connect-src"], example.api.contactTokenUrl)).toBe(true);
    expect(policy["script-src"]).not.toContain("'unsafe-inline'");
    expect(policy["script-src"]).not.toContain("'unsafe-eval'");
    expect(policy["default-src"]).toEqual(["'none'"]);
    expect(policy["frame-ancestors"]).toEqual(["'self'"]);
    expect(allows(policy["connect-src"], "https://evil.example/steal")).toBe(false);
  });

  it("sends no Cross-Origin-Opener-Policy (the MSAL redirect bridge needs none) and never caches config.json", () => {
    const headerSets = [swa.globalHeaders, ...swa.routes.map((r) => r.headers ?? {})];
    for (const headers of headerSets) {
      expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain("cross-origin-opener-policy");
    }
    expect(swa.routes.find((r) => r.route === "/config.json").headers["Cache-Control"]).toBe("no-cache");
  });

  it("falls back to index.html for navigation, but not for config.json, the bridge or assets", () => {
    expect(swa.navigationFallback.rewrite).toBe("/index.html");
    expect(swa.navigationFallback.exclude).toEqual(expect.arrayContaining(["/config.json", "/redirect.html", "/assets/*"]));
  });
});

describe("scripts/csp.mjs", () => {
  const configPath = join(scratch, "config.json");
  writeFileSync(configPath, JSON.stringify(example));

  it("narrows the policy to the exact origins of a deployment's config.json", () => {
    const target = join(scratch, "staticwebapp.config.json");
    copyFileSync(join(root, "staticwebapp.base.json"), target);
    execFileSync(process.execPath, [join(root, "scripts/csp.mjs"), configPath, "--write", target]);
    const written = JSON.parse(readFileSync(target, "utf8"));
    const policy = parsePolicy(written.globalHeaders["Content-Security-Policy"]);
    expect(policy["script-src"]).toEqual(["'self'", "https://example0000000.cloudfront.net"]);
    expect(policy["connect-src"]).toContain("https://func-connect-sso-example.azurewebsites.net");
    expect(policy["connect-src"]).not.toContain("https://*.azurewebsites.net");
    expect(written.navigationFallback).toEqual(swa.navigationFallback);
    expect(written.globalHeaders["X-Content-Type-Options"]).toBe("nosniff");
  });

  it("narrows the Permissions-Policy the same way: calls delegate microphone and camera to the widget's origin only", () => {
    const calling = { ...example, widget: { ...example.widget, modes: ["chat", "voice", "video"] } };
    const callingPath = join(scratch, "calling.json");
    writeFileSync(callingPath, JSON.stringify(calling));
    const target = join(scratch, "calling.staticwebapp.config.json");
    copyFileSync(join(root, "staticwebapp.base.json"), target);
    execFileSync(process.execPath, [join(root, "scripts/csp.mjs"), callingPath, "--write", target]);
    const headers = JSON.parse(readFileSync(target, "utf8")).globalHeaders;
    const widget = "https://example0000000.cloudfront.net";
    expect(headers["Permissions-Policy"]).toBe(
      `camera=(self "${widget}"), microphone=(self "${widget}"), display-capture=(), geolocation=(), payment=(), usb=()`,
    );
    const policy = parsePolicy(headers["Content-Security-Policy"]);
    expect(policy["connect-src"]).toEqual(expect.arrayContaining(CHIME_SIGNALLING));
    expect(policy["frame-src"]).toContain(widget);
    expect(policy["script-src"]).toEqual(["'self'", widget]);
  });

  it("gives voice the microphone only, and keeps chat-only deployments without the calling hosts", () => {
    const voice = headersFromConfig({ ...example, widget: { ...example.widget, modes: ["voice"] } });
    expect(voice["Permissions-Policy"]).toMatch(/^camera=\(\), microphone=\(self "https:\/\/example0000000\.cloudfront\.net"\)/);
    const chat = headersFromConfig(example);
    expect(chat["Permissions-Policy"]).toBe(permissionsPolicy());
    expect(chat["Content-Security-Policy"]).not.toContain("chime.aws");
  });

  it("delegates to a separately hosted call frame and adds the operator's extra calling origins", () => {
    const widget = {
      ...example.widget,
      modes: ["video"],
      callFrameOrigin: "https://calls.example",
      callingOrigins: ["wss://signal.example"],
    };
    const headers = headersFromConfig({ ...example, widget });
    expect(headers["Permissions-Policy"]).toMatch(/^camera=\(self "https:\/\/calls\.example"\), microphone=\(self "https:\/\/calls\.example"\)/);
    const policy = parsePolicy(headers["Content-Security-Policy"]);
    expect(policy["frame-src"]).toContain("https://calls.example");
    expect(policy["connect-src"]).toContain("wss://signal.example");
    expect(allows(policy["connect-src"], "wss://evil.example")).toBe(false);
  });

  it("prints both headers as JSON for the local stack", () => {
    const printed = execFileSync(process.execPath, [join(root, "scripts/csp.mjs"), configPath, "--headers"], {
      encoding: "utf8",
    });
    expect(JSON.parse(printed)).toEqual(headersFromConfig(example));
  });

  it("prints the header for the local stack", () => {
    const header = execFileSync(process.execPath, [join(root, "scripts/csp.mjs"), configPath, "--header"], {
      encoding: "utf8",
    }).trim();
    expect(header).toBe(contentSecurityPolicy(sourcesFromConfig(example)));
  });

  it("refuses to run without its arguments", () => {
    expect(() => execFileSync(process.execPath, [join(root, "scripts/csp.mjs")], { stdio: "pipe" })).toThrow();
  });
});
