// Run-time configuration: config.json beside index.html, so one build serves every environment.
// Validation names the exact field that is wrong, because the reader is an administrator fixing a deployment.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_SCOPE = /^api:\/\/[^\s/]+\/[^\s/]+$/;
const HOST_AND_PORT = /^[a-z0-9.-]+(:\d{1,5})?$/i;
const CSS_COLOR = /^#[0-9a-f]{3,8}$/i;
// The base64 snippetId of the Amazon Connect snippet: no quote or space reaches the widget's settings.
const SNIPPET_ID = /^[A-Za-z0-9+/=_-]+$/;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const PROTOCOL_MODES = new Set(["AAD", "OIDC"]);
// What the widget offers (its Amazon Connect configuration decides; the page's words and headers follow).
const WIDGET_MODES = new Set(["chat", "voice", "video"]);
const CALLING_MODES = new Set(["voice", "video"]);
// An extra origin a calling widget may connect to: https or wss, a host (optionally *.-prefixed), a port.
const CONNECT_ORIGIN = /^(https|wss):\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i;

export class ConfigError extends Error {
  /** @param {{field: string, message: string}[]} problems */
  constructor(problems) {
    super(`config.json is not valid: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Fetches and validates config.json; throws ConfigError naming every wrong field. */
export async function loadConfig(url = "config.json", fetchImpl = globalThis.fetch) {
  let response;
  try {
    response = await fetchImpl(url, { cache: "no-store", headers: { Accept: "application/json" } });
  } catch {
    throw new ConfigError([{ field: "config.json", message: "could not be downloaded (network error)." }]);
  }
  if (!response.ok) {
    throw new ConfigError([
      { field: "config.json", message: `could not be downloaded (HTTP ${response.status}); deploy it beside index.html.` },
    ]);
  }
  let raw;
  try {
    raw = JSON.parse(await response.text());
  } catch {
    throw new ConfigError([{ field: "config.json", message: "is not valid JSON." }]);
  }
  return validateConfig(raw);
}

/** Returns a normalised, frozen copy of the configuration, or throws ConfigError. */
export function validateConfig(raw) {
  const problems = [];
  const check = new Checker(problems);
  if (!isObject(raw)) {
    throw new ConfigError([{ field: "config.json", message: "must be a JSON object with msal, api and widget." }]);
  }
  const msal = check.object(raw, "msal");
  const api = check.object(raw, "api");
  const widget = check.object(raw, "widget");

  const config = {
    msal: {
      clientId: check.string(msal, "msal.clientId", GUID, "must be the SPA app registration's client id (a GUID)."),
      authority: check.url(msal, "msal.authority", { httpsOnly: true }),
      apiScope: check.string(msal, "msal.apiScope", API_SCOPE, "must look like api://<api-client-id>/JWT.Read."),
      knownAuthorities: check.optionalStringList(msal, "msal.knownAuthorities", HOST_AND_PORT, "host[:port]"),
      protocolMode: check.optionalEnum(msal, "msal.protocolMode", PROTOCOL_MODES, "AAD"),
      redirectUri: check.optionalUrl(msal, "msal.redirectUri"),
    },
    api: {
      contactTokenUrl: check.url(api, "api.contactTokenUrl", { httpsOnly: true, loopbackHttp: true }),
    },
    widget: {
      scriptUrl: check.url(widget, "widget.scriptUrl", { httpsOnly: true }),
      widgetId: check.string(widget, "widget.widgetId", GUID, "must be a UUID: the widget id from the snippet, not the snippetId."),
      snippetId: check.string(widget, "widget.snippetId", SNIPPET_ID, "must be the base64 snippetId from the snippet, without quotes or spaces."),
      styles: check.styles(widget, "widget.styles"),
      supportedMessagingContentTypes: check.contentTypes(widget, "widget.supportedMessagingContentTypes"),
      modes: check.modes(widget, "widget.modes"),
      callFrameOrigin: undefined,
      callingOrigins: undefined,
    },
  };
  const calls = (config.widget.modes ?? []).some((mode) => CALLING_MODES.has(mode));
  config.widget.callFrameOrigin = check.callingOnly(widget, "widget.callFrameOrigin", calls, () =>
    check.origin(widget, "widget.callFrameOrigin"),
  );
  config.widget.callingOrigins = check.callingOnly(widget, "widget.callingOrigins", calls, () =>
    check.optionalStringList(widget, "widget.callingOrigins", CONNECT_ORIGIN, "https:// or wss:// origin"),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

class Checker {
  constructor(problems) {
    this.problems = problems;
  }

  fail(field, message) {
    this.problems.push({ field, message });
    return undefined;
  }

  object(parent, key) {
    if (!isObject(parent[key])) {
      this.fail(key, "is missing or is not an object.");
      return {};
    }
    return parent[key];
  }

  string(parent, field, pattern, message) {
    const value = parent[leaf(field)];
    if (value === undefined || value === null || value === "") return this.fail(field, "is missing.");
    if (typeof value !== "string" || !pattern.test(value)) return this.fail(field, message);
    return value;
  }

  url(parent, field, { httpsOnly = false, loopbackHttp = false } = {}) {
    const value = parent[leaf(field)];
    if (value === undefined || value === null || value === "") return this.fail(field, "is missing.");
    const parsed = typeof value === "string" ? parseUrl(value) : null;
    if (!parsed) return this.fail(field, "must be an absolute URL.");
    const loopback = LOOPBACK_HOSTS.has(parsed.hostname);
    const allowed =
      parsed.protocol === "https:" || (!httpsOnly && parsed.protocol === "http:") || (loopbackHttp && loopback && parsed.protocol === "http:");
    if (!allowed) {
      const extra = loopbackHttp ? " (plain http is accepted only for localhost)" : "";
      return this.fail(field, `must be an https URL${extra}.`);
    }
    if (parsed.username || parsed.password || parsed.hash) {
      return this.fail(field, "must be a URL without credentials or a #fragment.");
    }
    return value;
  }

  optionalUrl(parent, field) {
    if (parent[leaf(field)] === undefined) return undefined;
    return this.url(parent, field);
  }

  optionalStringList(parent, field, pattern, shape) {
    const value = parent[leaf(field)];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && pattern.test(v))) {
      return this.fail(field, `must be a non-empty list of ${shape} strings.`);
    }
    return [...value];
  }

  optionalEnum(parent, field, allowed, fallback) {
    const value = parent[leaf(field)];
    if (value === undefined) return fallback;
    if (!allowed.has(value)) return this.fail(field, `must be one of ${[...allowed].join(", ")}.`);
    return value;
  }

  modes(parent, field) {
    const value = parent[leaf(field)];
    if (value === undefined) return ["chat"];
    const valid =
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((mode) => WIDGET_MODES.has(mode)) &&
      new Set(value).size === value.length;
    if (!valid) return this.fail(field, `must list ${orList(WIDGET_MODES)}, each once.`);
    return [...value];
  }

  /** A field that only means something when the widget offers calls: refused otherwise, so it is not ignored. */
  callingOnly(parent, field, calls, read) {
    if (parent[leaf(field)] === undefined) return undefined;
    if (!calls) return this.fail(field, 'is only used when widget.modes includes "voice" or "video".');
    return read();
  }

  origin(parent, field) {
    const value = this.url(parent, field, { httpsOnly: true });
    if (value === undefined) return undefined;
    if (new URL(value).origin !== value) return this.fail(field, 'must be an origin only, such as "https://host.example".');
    return value;
  }

  styles(parent, field) {
    const value = parent[leaf(field)];
    if (!isObject(value)) return this.fail(field, "is missing or is not an object (copy it from the widget snippet).");
    for (const part of ["openChat", "closeChat"]) {
      const colours = value[part];
      if (colours === undefined) continue;
      if (!isObject(colours)) {
        this.fail(`${field}.${part}`, "must be an object with color and backgroundColor.");
        continue;
      }
      for (const [name, colour] of Object.entries(colours)) {
        if (typeof colour !== "string" || !CSS_COLOR.test(colour)) {
          this.fail(`${field}.${part}.${name}`, 'must be a colour in hex, such as "#123456".');
        }
      }
    }
    if (value.iconType !== undefined && typeof value.iconType !== "string") {
      this.fail(`${field}.iconType`, "must be a string.");
    }
    return value;
  }

  contentTypes(parent, field) {
    const value = parent[leaf(field)];
    const valid = Array.isArray(value) && value.every((v) => typeof v === "string" && /^[\w.+-]+\/[\w.+-]+$/.test(v));
    if (!valid || !value.includes("text/plain")) {
      return this.fail(field, 'must be a list of MIME types that includes "text/plain".');
    }
    return [...value];
  }
}

/** "chat, voice and/or video" */
function orList(values) {
  const words = [...values];
  return `${words.slice(0, -1).join(", ")} and/or ${words.at(-1)}`;
}

function leaf(field) {
  return field.slice(field.lastIndexOf(".") + 1);
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseUrl(value) {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function deepFreeze(value) {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
