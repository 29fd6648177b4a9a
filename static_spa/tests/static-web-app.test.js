// @vitest-environment node
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy, DEFAULT_SOURCES, sourcesFromConfig } from "../scripts/csp.mjs";

const root = resolve(import.meta.dirname, "..");
const swa = JSON.parse(readFileSync(join(root, "staticwebapp.config.json"), "utf8"));
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

describe("staticwebapp.config.json", () => {
  const policy = parsePolicy(swa.globalHeaders["Content-Security-Policy"]);

  it("carries the generated policy for the default hosts (they cannot drift apart)", () => {
    expect(swa.globalHeaders["Content-Security-Policy"]).toBe(contentSecurityPolicy(DEFAULT_SOURCES));
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
    copyFileSync(join(root, "staticwebapp.config.json"), target);
    execFileSync(process.execPath, [join(root, "scripts/csp.mjs"), configPath, "--write", target]);
    const written = JSON.parse(readFileSync(target, "utf8"));
    const policy = parsePolicy(written.globalHeaders["Content-Security-Policy"]);
    expect(policy["script-src"]).toEqual(["'self'", "https://example0000000.cloudfront.net"]);
    expect(policy["connect-src"]).toContain("https://func-connect-sso-example.azurewebsites.net");
    expect(policy["connect-src"]).not.toContain("https://*.azurewebsites.net");
    expect(written.navigationFallback).toEqual(swa.navigationFallback);
    expect(written.globalHeaders["X-Content-Type-Options"]).toBe("nosniff");
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
