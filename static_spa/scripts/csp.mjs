#!/usr/bin/env node
// The page's Content-Security-Policy, built from what it talks to: the Entra authority, the function, the
// Amazon Connect widget's host. The committed staticwebapp.config.json carries the policy for the usual
// hosts (DEFAULT_SOURCES); after writing config.json a deployment can narrow it to the exact origins:
//   node scripts/csp.mjs dist/config.json --write dist/staticwebapp.config.json
//   node scripts/csp.mjs config.json --header          (prints the header value; the local stack uses it)
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// Hosts used when the exact origins are not known at build time.
export const DEFAULT_SOURCES = Object.freeze({
  authority: "https://login.microsoftonline.com",
  contactTokenApi: "https://*.azurewebsites.net",
  widget: "https://*.cloudfront.net",
});

// The hosted widget talks to the Amazon Connect participant service over HTTPS and WebSocket.
// Whether it does so from the page or from its own frame is not documented, so both are allowed.
const CONNECT_PARTICIPANT = ["https://*.amazonaws.com", "wss://*.amazonaws.com"];

/** @param {{authority: string, contactTokenApi: string, widget: string}} sources origins or host wildcards */
export function contentSecurityPolicy({ authority, contactTokenApi, widget }) {
  const directives = {
    "default-src": ["'none'"],
    "script-src": ["'self'", widget],
    // The widget injects its own style elements; MSAL and the page need none.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", widget],
    "font-src": ["'self'", widget],
    "connect-src": ["'self'", authority, contactTokenApi, widget, ...CONNECT_PARTICIPANT],
    // MSAL's hidden renewal frame starts at the authority and ends on redirect.html; the widget host for the chat.
    "frame-src": ["'self'", authority, widget],
    "manifest-src": ["'self'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    // Only this origin may frame the page: MSAL's hidden renewal frame loads redirect.html inside the page.
    "frame-ancestors": ["'self'"],
    "object-src": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${[...new Set(values)].join(" ")}`)
    .join("; ");
}

/** The exact origins named by a validated-shape config.json. */
export function sourcesFromConfig(config) {
  return {
    authority: new URL(config.msal.authority).origin,
    contactTokenApi: new URL(config.api.contactTokenUrl).origin,
    widget: new URL(config.widget.scriptUrl).origin,
  };
}

function main(argv) {
  const [configPath, mode, target] = argv;
  if (!configPath || !["--header", "--write"].includes(mode) || (mode === "--write" && !target)) {
    process.stderr.write("usage: csp.mjs CONFIG.json --header | --write STATICWEBAPP.config.json\n");
    return 2;
  }
  const policy = contentSecurityPolicy(sourcesFromConfig(JSON.parse(readFileSync(configPath, "utf8"))));
  if (mode === "--header") {
    process.stdout.write(`${policy}\n`);
  } else {
    const swa = JSON.parse(readFileSync(target, "utf8"));
    swa.globalHeaders = { ...swa.globalHeaders, "Content-Security-Policy": policy };
    writeFileSync(target, `${JSON.stringify(swa, null, 2)}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
