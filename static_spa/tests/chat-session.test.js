import { webcrypto } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  OWNER_KEY,
  chatInProgress,
  claimWidgetSession,
  clearWidgetStorage,
  endChatOnThisDevice,
  ownerMarker,
  rememberPageElements,
  widgetSessionMayStay,
} from "../src/chat-session.js";
import { createSignOutAction } from "../src/sign-out.js";

const subtle = webcrypto.subtle;
const ALICE = "00000000-0000-0000-0000-0000000000d1.00000000-0000-0000-0000-000000000001";
const BOB = "00000000-0000-0000-0000-0000000000d2.00000000-0000-0000-0000-000000000001";
const CHAT = JSON.stringify({ contactId: "c0ffee00-0000-4000-8000-000000000001" });

function storages() {
  sessionStorage.clear();
  localStorage.clear();
  return { sessionStorage, localStorage };
}

beforeEach(() => {
  storages();
  document.body.replaceChildren();
  document.head.replaceChildren();
});

describe("the owner marker", () => {
  it("is a SHA-256 hex digest that does not contain the account id", async () => {
    const marker = await ownerMarker(ALICE, subtle);
    expect(marker).toMatch(/^[0-9a-f]{64}$/);
    expect(marker).not.toContain("0000000000d1");
    expect(await ownerMarker(ALICE, subtle)).toBe(marker);
    expect(await ownerMarker(BOB, subtle)).not.toBe(marker);
  });

  it("is null for no account, and without Web Crypto (so any stored session is cleared)", async () => {
    expect(await ownerMarker(null, subtle)).toBeNull();
    expect(await ownerMarker("", subtle)).toBeNull();
    expect(await ownerMarker(ALICE, null)).toBeNull();
  });
});

describe("whether the widget's stored session may stay", () => {
  it.each([
    ["no session at all", { hasSession: false, storedMarker: null, currentMarker: null }, true],
    ["the same account's session", { hasSession: true, storedMarker: "a", currentMarker: "a" }, true],
    ["another account's session", { hasSession: true, storedMarker: "a", currentMarker: "b" }, false],
    ["a session while nobody is signed in", { hasSession: true, storedMarker: "a", currentMarker: null }, false],
    ["a session with no owner recorded", { hasSession: true, storedMarker: null, currentMarker: "a" }, false],
    ["no owner on either side", { hasSession: true, storedMarker: null, currentMarker: null }, false],
  ])("%s", (_case, input, expected) => {
    expect(widgetSessionMayStay(input)).toBe(expected);
  });
});

describe("clearing what the widget keeps", () => {
  it("removes the documented key and keys with a known widget prefix, in both storages, and nothing else", () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    localStorage.setItem("csm.workflow.chat", "{}");
    sessionStorage.setItem("emoji-mart.last", '"smile"');
    sessionStorage.setItem("msal.account.keys", "[]");
    localStorage.setItem("theme", "dark");

    const removed = clearWidgetStorage(sessionStorage, localStorage);

    expect(removed.sort()).toEqual(["csm.workflow.chat", "emoji-mart.last", "persistedChatSession"]);
    expect(sessionStorage.getItem("persistedChatSession")).toBeNull();
    expect(localStorage.getItem("csm.workflow.chat")).toBeNull();
    expect(sessionStorage.getItem("msal.account.keys")).toBe("[]");
    expect(localStorage.getItem("theme")).toBe("dark");
  });

  it("knows a chat is in progress from the widget's session key", () => {
    expect(chatInProgress(sessionStorage)).toBe(false);
    sessionStorage.setItem("persistedChatSession", CHAT);
    expect(chatInProgress(sessionStorage)).toBe(true);
  });

  it("ending the chat on this device also forgets the owner", () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    sessionStorage.setItem(OWNER_KEY, "a");
    endChatOnThisDevice({ sessionStorage, localStorage });
    expect(sessionStorage.length).toBe(0);
  });
});

describe("claiming the widget's session on load", () => {
  it("keeps the signed-in account's own chat across a reload", async () => {
    await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: ALICE, subtle });
    sessionStorage.setItem("persistedChatSession", CHAT); // the widget starts a chat

    const removed = await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: ALICE, subtle });

    expect(removed).toEqual([]);
    expect(sessionStorage.getItem("persistedChatSession")).toBe(CHAT);
  });

  it("clears another account's chat and records the new owner", async () => {
    await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: ALICE, subtle });
    sessionStorage.setItem("persistedChatSession", CHAT);

    const removed = await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: BOB, subtle });

    expect(removed).toEqual(["persistedChatSession"]);
    expect(sessionStorage.getItem(OWNER_KEY)).toBe(await ownerMarker(BOB, subtle));
  });

  it("clears any chat while nobody is signed in, and keeps no marker", async () => {
    await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: ALICE, subtle });
    sessionStorage.setItem("persistedChatSession", CHAT);

    await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: null, subtle });

    expect(sessionStorage.getItem("persistedChatSession")).toBeNull();
    expect(sessionStorage.getItem(OWNER_KEY)).toBeNull();
  });

  it("clears a chat whose owner was never recorded", async () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    await claimWidgetSession({ sessionStorage, localStorage, homeAccountId: ALICE, subtle });
    expect(sessionStorage.getItem("persistedChatSession")).toBeNull();
  });
});

describe("removing the widget from the page", () => {
  it("removes the widget script, whatever the widget appended to the body, and the development slot", () => {
    const main = document.createElement("main");
    const slot = document.createElement("div");
    slot.append(document.createElement("section"));
    main.append(slot);
    document.body.append(main);
    const remove = rememberPageElements(document);
    const script = Object.assign(document.createElement("script"), { id: "widget-id" });
    document.head.append(script);
    const launcher = document.createElement("iframe");
    document.body.append(launcher);

    remove({ widgetId: "widget-id", slot });

    expect(document.getElementById("widget-id")).toBeNull();
    expect(launcher.isConnected).toBe(false);
    expect(main.isConnected).toBe(true);
    expect(slot.children).toHaveLength(0);
  });
});

describe("the sign-out action", () => {
  function action({ confirmed = true, hook = vi.fn(async () => {}) } = {}) {
    const calls = [];
    const signOut = createSignOutAction({
      storage: { sessionStorage, localStorage },
      confirm: vi.fn(async () => {
        calls.push("confirm");
        return confirmed;
      }),
      removeWidget: () => calls.push(`removeWidget (chat stored: ${chatInProgress(sessionStorage)})`),
      signOut: async () => calls.push("logoutRedirect"),
      beforeSignOut: [hook],
    });
    return { signOut, calls, hook };
  }

  it("without a chat, signs out at once after clearing", async () => {
    const { signOut, calls } = action();
    expect(await signOut()).toBe(true);
    expect(calls).toEqual(["removeWidget (chat stored: false)", "logoutRedirect"]);
  });

  it("with a chat, asks first; confirmed, clears the chat before removing the widget and signing out", async () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    sessionStorage.setItem(OWNER_KEY, "a");
    const { signOut, calls, hook } = action();

    expect(await signOut()).toBe(true);

    expect(calls).toEqual(["confirm", "removeWidget (chat stored: false)", "logoutRedirect"]);
    expect(hook).toHaveBeenCalledOnce();
    expect(sessionStorage.getItem(OWNER_KEY)).toBeNull();
  });

  it("with a chat, declined: nothing is cleared and nobody is signed out", async () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    const { signOut, calls, hook } = action({ confirmed: false });

    expect(await signOut()).toBe(false);

    expect(calls).toEqual(["confirm"]);
    expect(hook).not.toHaveBeenCalled();
    expect(sessionStorage.getItem("persistedChatSession")).toBe(CHAT);
  });

  it("a failing hook never blocks sign-out", async () => {
    const { signOut, calls } = action({ hook: vi.fn(async () => Promise.reject(new Error("offline"))) });
    expect(await signOut()).toBe(true);
    expect(calls.at(-1)).toBe("logoutRedirect");
  });
  it("a failed sign-out redirect is reported after the chat is already gone, and sign-out can be tried again", async () => {
    sessionStorage.setItem("persistedChatSession", CHAT);
    const failures = [];
    let attempts = 0;
    const signOut = createSignOutAction({
      storage: { sessionStorage, localStorage },
      confirm: async () => true,
      removeWidget: () => {},
      signOut: async () => {
        attempts += 1;
        throw new Error("authority unreachable");
      },
      onSignOutFailed: (error) => failures.push(error.message),
    });

    expect(await signOut()).toBe(false);
    expect(failures).toEqual(["authority unreachable"]);
    expect(chatInProgress(sessionStorage)).toBe(false);
    expect(await signOut()).toBe(false);
    expect(attempts).toBe(2);
  });
});

describe("the development widget keeps its chat as the hosted widget does", async () => {
  const { PERSISTED_CHAT_KEY, persistChat, restoreChat } = await import("../src/dev/development-widget.js");

  it("writes persistedChatSession when a chat starts and resumes it from there", () => {
    let next = 0;
    const chat = persistChat(sessionStorage, { customerName: "Dana" }, () => `id-${++next}`);
    expect(PERSISTED_CHAT_KEY).toBe("persistedChatSession");
    expect(chatInProgress(sessionStorage)).toBe(true);
    expect(restoreChat(sessionStorage)).toEqual(chat);
    expect(chat.contactId).toBe("id-1");
  });

  it("starts afresh when nothing or something unreadable is stored", () => {
    expect(restoreChat(sessionStorage)).toBeNull();
    sessionStorage.setItem("persistedChatSession", "{not json");
    expect(restoreChat(sessionStorage)).toBeNull();
    sessionStorage.setItem("persistedChatSession", '{"contactId": 7}');
    expect(restoreChat(sessionStorage)).toBeNull();
  });
});
