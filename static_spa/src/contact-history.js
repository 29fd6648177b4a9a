// Persistent chat, the page's part: when the widget reports a new chat's contact id (its contactMetadataHandler
// callback), the page tells the function, which keeps it for the signed-in person and puts it, signed, into that
// person's next contact token (docs/persistent-chat.md). Best effort: a chat never depends on it, and nothing is
// shown to the customer when it fails. The function never answers a stored id back.
import { problemDetails } from "./contact-token.js";

/** The function's PUT/DELETE /api/contacts/last URL, beside the contact-token URL, naming the widget. */
export function lastContactUrl(contactTokenUrl, widgetId) {
  const url = new URL("contacts/last", contactTokenUrl);
  if (widgetId) url.searchParams.set("widgetId", widgetId);
  return url.href;
}

/**
 * The widget's contactMetadataHandler: sends `metadata.chatContactId` with the same bearer token as the contact
 * token request. After `persistent_chat_disabled` (this widget has no persistent chat) it stops asking.
 * @returns {(metadata: {chatContactId?: string}) => Promise<string>} resolves to what happened (for tests)
 */
export function createContactMetadataHandler({ contactTokenUrl, widgetId, getAccessToken, fetchImpl = globalThis.fetch }) {
  const url = lastContactUrl(contactTokenUrl, widgetId);
  let disabled = false;
  return async function contactMetadataHandler(metadata) {
    const contactId = metadata?.chatContactId;
    if (disabled || typeof contactId !== "string" || !contactId) return "skipped";
    try {
      const accessToken = await getAccessToken();
      const response = await fetchImpl(url, {
        method: "PUT",
        headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ contactId }),
        cache: "no-store",
        credentials: "omit",
      });
      if (response.ok) return "stored";
      const { code } = await problemDetails(response);
      if (code === "persistent_chat_disabled") disabled = true;
      return code;
    } catch {
      return "network_error"; // the chat goes on; the next chat start will try again
    }
  };
}
