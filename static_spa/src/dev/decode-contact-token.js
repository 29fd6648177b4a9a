// DEVELOPMENT ONLY: reads a JWT's header and claims for display. It does not verify anything:
// Amazon Connect verifies the signature, and the tests verify it with the widget secret.

export function decodeContactToken(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) throw new Error("not a JWT (expected three dot-separated parts)");
  return { header: decodePart(parts[0]), claims: decodePart(parts[1]) };
}

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}
