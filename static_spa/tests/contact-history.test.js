// @vitest-environment node
// The page's contactMetadataHandler against a loopback server answering as the function does (the Chromium
// journey in tests/static_spa/test_persistent_chat_browser.py uses the real function and Azurite).
import { afterEach, describe, expect, it } from "vitest";
import { createContactMetadataHandler, lastContactUrl } from "../src/contact-history.js";
import { startServer } from "./fixtures.js";

const CONTACT_ID = "7d3f6a10-1b2c-4d5e-8f90-a1b2c3d4e5f6";
const WIDGET_ID = "00000000-0000-0000-0000-000000000003";

describe("lastContactUrl", () => {
  it("sits beside the contact-token URL and names the widget", () => {
    expect(lastContactUrl("https://func.example/api/AWSConnectJWT", WIDGET_ID)).toBe(
      `https://func.example/api/contacts/last?widgetId=${WIDGET_ID}`,
    );
    expect(lastContactUrl("http://127.0.0.1:7071/api/AWSConnectJWT")).toBe("http://127.0.0.1:7071/api/contacts/last");
  });
});

describe("createContactMetadataHandler", () => {
  let server;
  afterEach(() => server?.close());

  function handlerFor(answer) {
    const bodies = [];
    return startServer((req) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => bodies.push(body));
      return answer();
    }).then((started) => {
      server = started;
      const handler = createContactMetadataHandler({
        contactTokenUrl: `${started.url}/api/AWSConnectJWT`,
        widgetId: WIDGET_ID,
        getAccessToken: async () => "fake-access-token",
      });
      return { handler, bodies };
    });
  }

  it("PUTs the chat's contact id with the bearer token the contact token request uses", async () => {
    const { handler, bodies } = await handlerFor(() => ({ status: 204 }));
    expect(await handler({ chatContactId: CONTACT_ID })).toBe("stored");
    const [request] = server.requests;
    expect(request.method).toBe("PUT");
    expect(request.url).toBe(`/api/contacts/last?widgetId=${WIDGET_ID}`);
    expect(request.headers.authorization).toBe("Bearer fake-access-token");
    expect(request.headers["content-type"]).toBe("application/json");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(JSON.parse(bodies[0])).toEqual({ contactId: CONTACT_ID });
  });

  it("sends nothing without a chatContactId", async () => {
    const { handler } = await handlerFor(() => ({ status: 204 }));
    expect(await handler({})).toBe("skipped");
    expect(await handler(undefined)).toBe("skipped");
    expect(server.requests).toHaveLength(0);
  });

  it("stops asking after persistent_chat_disabled, and keeps asking after a transient failure", async () => {
    let code = "chat_history_unavailable";
    const { handler } = await handlerFor(() => ({
      status: code === "persistent_chat_disabled" ? 400 : 503,
      headers: { "Content-Type": "application/problem+json" },
      body: { code },
    }));
    expect(await handler({ chatContactId: CONTACT_ID })).toBe("chat_history_unavailable");
    code = "persistent_chat_disabled";
    expect(await handler({ chatContactId: CONTACT_ID })).toBe("persistent_chat_disabled");
    expect(await handler({ chatContactId: CONTACT_ID })).toBe("skipped");
    expect(server.requests).toHaveLength(2);
  });

  it("never throws: an unreachable function or a failed token renewal leave the chat alone", async () => {
    const unreachable = createContactMetadataHandler({
      contactTokenUrl: "http://127.0.0.1:9/api/AWSConnectJWT",
      getAccessToken: async () => "fake-access-token",
    });
    expect(await unreachable({ chatContactId: CONTACT_ID })).toBe("network_error");
    const noToken = createContactMetadataHandler({
      contactTokenUrl: "http://127.0.0.1:9/api/AWSConnectJWT",
      getAccessToken: async () => {
        throw new Error("interaction required");
      },
    });
    expect(await noToken({ chatContactId: CONTACT_ID })).toBe("network_error");
  });
});
