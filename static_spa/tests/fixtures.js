// Shared test material: a valid configuration (obviously fake ids) and a loopback HTTP server.
import { createServer } from "node:http";

export function validConfig() {
  return {
    msal: {
      clientId: "00000000-0000-0000-0000-000000000001",
      authority: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",
      apiScope: "api://00000000-0000-0000-0000-000000000002/JWT.Read",
    },
    api: { contactTokenUrl: "https://func-example.azurewebsites.net/api/AWSConnectJWT" },
    widget: {
      scriptUrl: "https://example0000000.cloudfront.net/amazon-connect-chat-interface-client.js",
      widgetId: "00000000-0000-0000-0000-000000000003",
      snippetId: "ZmFrZS1zbmlwcGV0",
      styles: {
        iconType: "CHAT",
        openChat: { color: "#ffffff", backgroundColor: "#123456" },
        closeChat: { color: "#ffffff", backgroundColor: "#123456" },
      },
      supportedMessagingContentTypes: ["text/plain", "text/markdown"],
    },
  };
}

/** A fake contact JWT: three base64url parts; the signature is not meant to verify. */
export function fakeContactToken(claims = {}) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = { sub: "00000000-0000-0000-0000-000000000003", iat: now, exp: now + 300, ...claims };
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(body)}.ZmFrZS1zaWduYXR1cmU`;
}

/**
 * Starts a loopback server answering every request with handler(req) -> {status, headers, body}.
 * Returns {url, requests, close}; requests records method, url and headers of each request.
 */
export async function startServer(handler) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    const { status = 200, headers = {}, body = "" } = handler(req);
    res.writeHead(status, headers);
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
