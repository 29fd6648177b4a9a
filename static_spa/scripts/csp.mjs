#!/usr/bin/env node
// The page's Content-Security-Policy and Permissions-Policy, built from what it talks to: the Entra authority,
// the function, the Amazon Connect widget's host and, when the widget offers calls, the calling hosts.
// staticwebapp.base.json (the source Vite copies to dist/staticwebapp.config.json) carries both policies for the
// usual hosts and chat only (DEFAULT_SOURCES); after writing config.json a deployment narrows them to the exact
// origins and modes:
//   node scripts/csp.mjs dist/config.json --write dist/staticwebapp.config.json
//   node scripts/csp.mjs config.json --header      (prints the Content-Security-Policy value)
//   node scripts/csp.mjs config.json --headers     (prints both headers as JSON; the local stack uses it)
// Sources for every calling host: docs/page.md, "Headers".
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const CSP_HEADER = "Content-Security-Policy";
export const PERMISSIONS_HEADER = "Permissions-Policy";

// Hosts used when the exact origins are not known at build time (chat only: calling needs config.json's modes).
export const DEFAULT_SOURCES = Object.freeze({
  authority: "https://login.microsoftonline.com",
  contactTokenApi: "https://*.azurewebsites.net",
  widget: "https://*.cloudfront.net",
});

// The hosted widget talks to the Amazon Connect participant service over HTTPS and WebSocket.
// Whether it does so from the page or from its own frame is not documented, so both are allowed.
const CONNECT_PARTICIPANT = ["https://*.amazonaws.com", "wss://*.amazonaws.com"];

// Web and video calls run on Amazon Chime SDK media and signalling: *.chime.aws, TCP 443 (HTTPS and WebSocket)
// and UDP 3478 (Amazon Connect admin guide videocalling-networking-requirements; Chime SDK guide network-config).
// UDP media is WebRTC, which CSP does not govern; the HTTPS and WebSocket part is listed in case the widget
// signals from the page rather than from its own frame (UNCONFIRMED, see docs/page.md).
export const CHIME_SIGNALLING = Object.freeze(["https://*.chime.aws", "wss://*.chime.aws"]);

export const CALLING_MODES = Object.freeze(["voice", "video"]);

// Powerful features the page never uses itself, refused outright whatever the widget offers.
const ALWAYS_REFUSED = ["display-capture", "geolocation", "payment", "usb"];

/**
 * @param {{authority: string, contactTokenApi: string, widget: string,
 *          callFrame?: string, callingConnect?: string[]}} sources origins or host wildcards; callingConnect is set
 *          only when the widget offers calls
 */
export function contentSecurityPolicy({ authority, contactTokenApi, widget, callFrame, callingConnect = [] }) {
  const frames = callFrame ? [widget, callFrame] : [widget];
  const directives = {
    "default-src": ["'none'"],
    "script-src": ["'self'", widget],
    // The widget injects its own style elements; MSAL and the page need none.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", widget],
    "font-src": ["'self'", widget],
    "connect-src": ["'self'", authority, contactTokenApi, widget, ...CONNECT_PARTICIPANT, ...callingConnect],
    // MSAL's hidden renewal frame starts at the authority and ends on redirect.html; the widget's frame for the
    // chat, and for calls the frame that opens the microphone and camera.
    "frame-src": ["'self'", authority, ...frames],
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

/**
 * Microphone (voice, video) and camera (video) delegated to the calling frame's origin and to no other frame;
 * everything else the page does not use is refused. `self` stays in the allowlist because Chromium grants a
 * frame's camera and microphone to the top-level origin (permission delegation): without it the frame is refused
 * (tests/static_spa/test_calling_browser.py shows both).
 * @param {{modes?: string[], callFrame?: string}} calling
 */
export function permissionsPolicy({ modes = ["chat"], callFrame } = {}) {
  const allow = (wanted) => (wanted && callFrame ? `(self "${callFrame}")` : "()");
  const features = {
    camera: allow(modes.includes("video")),
    microphone: allow(modes.includes("voice") || modes.includes("video")),
    ...Object.fromEntries(ALWAYS_REFUSED.map((name) => [name, "()"])),
  };
  return Object.entries(features)
    .map(([name, allowlist]) => `${name}=${allowlist}`)
    .join(", ");
}

/** True when config.json's widget offers web or video calls. */
export function offersCalls(widget) {
  return (widget.modes ?? ["chat"]).some((mode) => CALLING_MODES.includes(mode));
}

/** The exact origins named by a validated-shape config.json. */
export function sourcesFromConfig(config) {
  const widget = new URL(config.widget.scriptUrl).origin;
  const sources = {
    authority: new URL(config.msal.authority).origin,
    contactTokenApi: new URL(config.api.contactTokenUrl).origin,
    widget,
  };
  if (!offersCalls(config.widget)) return sources;
  return {
    ...sources,
    callFrame: config.widget.callFrameOrigin ?? widget,
    callingConnect: [...CHIME_SIGNALLING, ...(config.widget.callingOrigins ?? [])],
  };
}

/** Both headers for a config.json. */
export function headersFromConfig(config) {
  const sources = sourcesFromConfig(config);
  return {
    [CSP_HEADER]: contentSecurityPolicy(sources),
    [PERMISSIONS_HEADER]: permissionsPolicy({ modes: config.widget.modes, callFrame: sources.callFrame }),
  };
}

function main(argv) {
  const [configPath, mode, target] = argv;
  if (!configPath || !["--header", "--headers", "--write"].includes(mode) || (mode === "--write" && !target)) {
    process.stderr.write("usage: csp.mjs CONFIG.json --header | --headers | --write STATICWEBAPP.config.json\n");
    return 2;
  }
  const headers = headersFromConfig(JSON.parse(readFileSync(configPath, "utf8")));
  if (mode === "--header") {
    process.stdout.write(`${headers[CSP_HEADER]}\n`);
  } else if (mode === "--headers") {
    process.stdout.write(`${JSON.stringify(headers)}\n`);
  } else {
    const swa = JSON.parse(readFileSync(target, "utf8"));
    swa.globalHeaders = { ...swa.globalHeaders, ...headers };
    writeFileSync(target, `${JSON.stringify(swa, null, 2)}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
