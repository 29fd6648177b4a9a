// DEVELOPMENT ONLY. Stands in for the Amazon Connect widget script (which needs AWS) and shows what
// Amazon Connect would receive. It drains the same amazon_connect queue the real script drains and calls
// the page's authenticate callback exactly as the widget does when the customer starts a chat.
// Production builds never include this module (see vite.config.js and tests/build.test.js).
import "./development.css";
import { decodeContactToken } from "./decode-contact-token.js";

export const DEVELOPMENT_MARKER = "connect-sso development widget stand-in";

/** Replaces the queue with a stand-in that records the snippet's settings and callbacks. */
export function installStandIn(win) {
  const settings = {};
  const record = (name, value) => {
    settings[name] = value;
  };
  for (const args of win.amazon_connect?.ac ?? []) record(...args);
  win.amazon_connect = (...args) => record(...args);
  win.amazon_connect.standIn = DEVELOPMENT_MARKER;
  return settings;
}

/** What the widget does on "start chat": ask for the name and the contact token through the callbacks. */
export function startChatLikeTheWidget(settings, { authenticateCalls = 1 } = {}) {
  const name = new Promise((resolve) => settings.customerDisplayName?.(resolve));
  const tokens = Array.from(
    { length: authenticateCalls },
    () => new Promise((resolve) => settings.authenticate(resolve)),
  );
  return { name, tokens };
}

export const DEVELOPMENT_SIGNED_IN_TEXT =
  "This is a development build: there is no chat button. The development panel below stands in for the " +
  "Amazon Connect widget; press Start chat there.";

/** `observed`: {tokenRequests, onFailure} from the page, so that the panel can show failures and request counts. */
export function startDevelopmentWidget(win, slot, widgetConfig, observed = { tokenRequests: 0 }) {
  const settings = installStandIn(win);
  const doc = slot.ownerDocument;
  const signedInText = doc.getElementById("signed-in-text");
  if (signedInText) signedInText.textContent = DEVELOPMENT_SIGNED_IN_TEXT;
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(doc.createElement(tag), props);
    node.append(...children);
    return node;
  };

  const result = el("div", { id: "dev-result" });
  const start = el("button", { type: "button", id: "dev-start-chat" }, "Start chat");
  const startTwice = el(
    "button",
    { type: "button", id: "dev-start-chat-twice", className: "secondary" },
    "Start chat, widget calls authenticate twice",
  );
  const panel = el(
    "section",
    { id: "dev-panel", className: "panel development" },
    el("h2", {}, "Development only: what Amazon Connect would receive"),
    el(
      "p",
      {},
      "This panel replaces the Amazon Connect chat widget in development builds. " +
        "It calls the page's authenticate callback the way the widget does when a customer starts a chat.",
    ),
    el("p", {}, start, " ", startTwice),
    result,
  );
  panel.dataset.marker = DEVELOPMENT_MARKER;
  slot.replaceChildren(panel);

  async function run(authenticateCalls) {
    result.replaceChildren(el("p", { id: "dev-waiting" }, "Waiting for the page's authenticate callback…"));
    result.dataset.authenticateCalls = String(authenticateCalls);
    const requestsBefore = observed.tokenRequests;
    // The widget's callback never hears of a failure (only tokens are handed over): the page tells the panel.
    const failed = new Promise((resolve) => {
      observed.onFailure = resolve;
    });
    const { name, tokens } = startChatLikeTheWidget(settings, { authenticateCalls });
    const outcome = await Promise.race([
      Promise.all(tokens).then((received) => ({ received })),
      failed.then((error) => ({ error })),
    ]);
    if (outcome.error) {
      result.replaceChildren(renderFailure(el, outcome.error));
      return;
    }
    const requests = observed.tokenRequests - requestsBefore;
    const summary = `${plural(authenticateCalls, "authenticate call")}, ${plural(requests, "token request")}, 1 chat`;
    const distinct = new Set(outcome.received);
    result.replaceChildren(
      el("p", { id: "dev-summary" }, summary),
      renderToken(el, outcome.received[0], await name, widgetConfig, distinct.size),
    );
  }
  start.onclick = () => run(1);
  startTwice.onclick = () => run(2);
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function renderFailure(el, error) {
  const code = error?.reason ?? "unknown_error";
  return el(
    "p",
    { id: "dev-failure", className: "dev-failure", role: "alert" },
    "No contact token: the request failed with ",
    el("code", { id: "dev-failure-code" }, code),
    ". The customer sees the message above; see docs/errors.md for the code.",
  );
}

function renderToken(el, token, displayName, widgetConfig, distinctTokens) {
  const { header, claims } = decodeContactToken(token);
  const now = Math.floor(Date.now() / 1000);
  const row = (label, value, id) => el("tr", {}, el("th", { scope: "row" }, label), el("td", id ? { id } : {}, value));
  const attributes = Object.entries(claims.attributes ?? {});
  return el(
    "div",
    {},
    el(
      "table",
      { className: "claims" },
      el("caption", {}, "Contact token"),
      row("customerDisplayName", String(displayName ?? ""), "dev-display-name"),
      row("alg", String(header.alg), "dev-alg"),
      row("sub (widget id)", `${claims.sub}${claims.sub === widgetConfig.widgetId ? "" : "  ≠ configured widgetId!"}`, "dev-sub"),
      row("issued", new Date(claims.iat * 1000).toISOString(), "dev-iat"),
      row("expires", `${new Date(claims.exp * 1000).toISOString()} (in ${claims.exp - now} s)`, "dev-exp"),
      row("tokens handed over", String(distinctTokens), "dev-distinct-tokens"),
    ),
    el(
      "table",
      { className: "claims", id: "dev-attributes" },
      el("caption", {}, "Signed attributes ($.Attributes in the contact flow)"),
      ...attributes.map(([key, value]) => row(key, String(value))),
    ),
    el(
      "details",
      {},
      el("summary", {}, "The contact token itself (development only)"),
      el("code", { id: "dev-contact-token" }, token),
    ),
  );
}
