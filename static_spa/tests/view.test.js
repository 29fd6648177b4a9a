import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { FailureKind } from "../src/contact-token.js";
import { MESSAGES, customerMessageFor, wordsFor } from "../src/messages.js";
import { createView } from "../src/view.js";

const page = readFileSync(resolve(import.meta.dirname, "../index.html"), "utf8");

beforeEach(() => {
  document.documentElement.innerHTML = page.replace(/<!doctype html>/i, "");
});

describe("the page's words follow the widget's modes", () => {
  it("says chat for a chat widget, chat or call when it also calls, call for a calling-only widget", () => {
    const view = createView(document);
    view.useWords(wordsFor(["chat"]));
    expect(document.getElementById("heading").textContent).toBe("Chat with us");
    view.useWords(wordsFor(["chat", "voice", "video"]));
    expect(document.title).toBe("Chat or call us");
    expect(document.getElementById("signed-in-text").textContent).toMatch(/chat with us or call us/);
    expect(document.getElementById("signed-out-text").textContent).toMatch(/chat with us or call us/);
    view.useWords(wordsFor(["video"]));
    expect(document.getElementById("heading").textContent).toBe("Call us");
  });

  it("tells the customer what failed in the same words", () => {
    const expired = { kind: FailureKind.SIGN_IN_AGAIN };
    expect(customerMessageFor(expired).text).toBe(MESSAGES.sign_in_again);
    expect(customerMessageFor(expired, ["chat", "voice"]).text).toMatch(/start a chat or a call/);
    expect(customerMessageFor(null, ["voice"]).text).toBe("Calls are unavailable right now. Please try again later.");
  });
});

describe("page states", () => {
  it("lists each wrong config field for the administrator, as text", () => {
    createView(document).showConfigProblems([
      { field: "msal.clientId", message: "must be a GUID." },
      { field: "<b>x</b>", message: "is odd." },
    ]);
    expect(document.body.dataset.state).toBe("config-problem");
    const items = [...document.querySelectorAll("#config-problem-list li")].map((li) => li.textContent);
    expect(items).toEqual(["msal.clientId must be a GUID.", "<b>x</b> is odd."]);
    expect(document.querySelector("#config-problem-list b")).toBeNull();
    expect(document.getElementById("signed-in").hidden).toBe(true);
  });

  it("greets the signed-in person by name and wires sign-out", () => {
    let signedOut = false;
    createView(document).showSignedIn("Zoë Dev", () => (signedOut = true));
    expect(document.getElementById("greeting-name").textContent).toBe("Zoë Dev");
    expect(document.getElementById("account").hidden).toBe(false);
    document.getElementById("sign-out").click();
    expect(signedOut).toBe(true);
  });

  it("shows 'sign in again' with a button, and 'try later' without one, in an alert region", () => {
    const view = createView(document);
    let signIns = 0;
    view.showCustomerMessage({ kind: FailureKind.SIGN_IN_AGAIN, text: MESSAGES.sign_in_again, offerSignIn: true }, () => signIns++);
    const box = document.getElementById("customer-message");
    expect(box.getAttribute("role")).toBe("alert");
    expect(box.hidden).toBe(false);
    document.getElementById("sign-in-again").click();
    expect(signIns).toBe(1);
    view.showCustomerMessage({ kind: FailureKind.UNAVAILABLE, text: MESSAGES.unavailable, offerSignIn: false });
    expect(document.getElementById("sign-in-again").hidden).toBe(true);
    expect(document.getElementById("customer-message-text").textContent).toBe(MESSAGES.unavailable);
    view.clearCustomerMessage();
    expect(box.hidden).toBe(true);
  });
});
