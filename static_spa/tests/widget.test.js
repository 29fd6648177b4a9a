import { beforeEach, describe, expect, it, vi } from "vitest";
import { installStandIn, startChatLikeTheWidget, startDevelopmentWidget } from "../src/dev/development-widget.js";
import { decodeContactToken } from "../src/dev/decode-contact-token.js";
import { configureWidget, installCommandQueue, loadWidgetScript } from "../src/widget.js";
import { fakeContactToken, validConfig } from "./fixtures.js";

const handlers = { authenticate: () => {}, customerDisplayName: () => {} };

beforeEach(() => {
  delete window.amazon_connect;
  document.head.replaceChildren();
  document.body.replaceChildren();
});

describe("loading the Amazon Connect widget from config.json", () => {
  it("queues the snippet's commands the way AWS's snippet does", () => {
    const { widget } = validConfig();
    configureWidget(installCommandQueue(window), widget, handlers);
    const queued = window.amazon_connect.ac.map(([name, value]) => [name, value]);
    expect(queued).toEqual([
      ["styles", widget.styles],
      ["snippetId", widget.snippetId],
      ["supportedMessagingContentTypes", widget.supportedMessagingContentTypes],
      ["authenticate", handlers.authenticate],
      ["customerDisplayName", handlers.customerDisplayName],
    ]);
  });

  it("appends the configured script once, with the widget id as the element id", () => {
    const { widget } = validConfig();
    loadWidgetScript(document, widget);
    loadWidgetScript(document, widget);
    const scripts = document.head.querySelectorAll("script");
    expect(scripts).toHaveLength(1);
    expect(scripts[0].src).toBe(widget.scriptUrl);
    expect(scripts[0].id).toBe(widget.widgetId);
    expect(scripts[0].async).toBe(true);
  });
});

describe("development stand-in", () => {
  it("drains the queue and calls authenticate like the widget does on start chat", async () => {
    const { widget } = validConfig();
    const token = fakeContactToken();
    let calls = 0;
    configureWidget(installCommandQueue(window), widget, {
      authenticate: (callback) => {
        calls += 1;
        callback(token);
      },
      customerDisplayName: (callback) => callback("Dev User"),
    });
    const settings = installStandIn(window);
    expect(settings.snippetId).toBe(widget.snippetId);
    expect(calls).toBe(0); // not at page load: only when a chat starts
    const started = startChatLikeTheWidget(settings, { authenticateCalls: 2 });
    expect(await Promise.all(started.tokens)).toEqual([token, token]);
    expect(await started.name).toBe("Dev User");
    expect(calls).toBe(2);
  });

  it("shows the decoded attributes and expiry as text, never as HTML", async () => {
    const { widget } = validConfig();
    const token = fakeContactToken({ attributes: { name: "<img src=x onerror=alert(1)>", oid: "o-1" } });
    configureWidget(installCommandQueue(window), widget, {
      authenticate: (callback) => callback(token),
      customerDisplayName: (callback) => callback("Dev User"),
    });
    const slot = document.createElement("div");
    document.body.append(slot);
    startDevelopmentWidget(window, slot, widget);
    expect(slot.textContent).toMatch(/Development only/);
    document.getElementById("dev-start-chat").click();
    await vi.waitFor(() => expect(document.getElementById("dev-contact-token")).not.toBeNull());
    expect(document.getElementById("dev-contact-token").textContent).toBe(token);
    expect(document.getElementById("dev-display-name").textContent).toBe("Dev User");
    expect(document.getElementById("dev-sub").textContent).toBe(widget.widgetId);
    expect(document.getElementById("dev-exp").textContent).toMatch(/\(in (29\d|300) s\)/);
    expect(slot.querySelector("img")).toBeNull();
    expect(document.getElementById("dev-attributes").textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("decodes base64url JWT parts with non-ASCII names", () => {
    const token = fakeContactToken({ attributes: { name: "Zoë Ångström" } });
    expect(decodeContactToken(token).claims.attributes.name).toBe("Zoë Ångström");
    expect(() => decodeContactToken("nope")).toThrow(/three/);
  });
});
