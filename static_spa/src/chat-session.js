// The widget's chat belongs to the person signed in to this tab. The Amazon Connect widget keeps an active chat in
// the page origin's storage and resumes it on load; nothing in the widget knows about our sign-in. So the page:
//  - clears what the widget keeps before sign-out (and removes the widget from the page),
//  - remembers which account owns the widget's session (a SHA-256 marker that names no one), and on load clears a
//    widget session that belongs to another account, or any widget session while nobody is signed in.
// docs/page.md ("Sign-out and the widget's chat") lists what is cleared and where each name comes from.

/** Keys the hosted widget is documented to write (sessionStorage): its active chat, resumed on reload. */
export const WIDGET_SESSION_KEYS = Object.freeze(["persistedChatSession"]);

/**
 * Key prefixes of libraries the hosted widget is built on (UNCONFIRMED that they run in the page's origin rather
 * than in the widget's own frame; clearing them is harmless either way): amazon-connect-chatjs keeps client-side
 * metrics workflows in localStorage under "csm.workflow.", and amazon-connect-chat-interface's emoji picker keeps
 * recent emoji under "emoji-mart.".
 */
export const WIDGET_KEY_PREFIXES = Object.freeze(["csm.workflow.", "emoji-mart."]);

/** Where the page keeps the owner marker (sessionStorage: it ends with the tab, as MSAL's cache does). */
export const OWNER_KEY = "connect-sso.chatOwner";

// Domain separation: the marker is this page's, not a plain hash of an id another system might also hash.
const MARKER_CONTEXT = "connect-sso chat owner v1\n";

/** A marker for an MSAL account that identifies no one: hex SHA-256 of its home account id, or null. */
export async function ownerMarker(homeAccountId, subtle = globalThis.crypto?.subtle) {
  if (typeof homeAccountId !== "string" || homeAccountId === "" || !subtle) return null;
  const digest = await subtle.digest("SHA-256", new TextEncoder().encode(MARKER_CONTEXT + homeAccountId));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function keysOf(storage) {
  return Array.from({ length: storage.length }, (_, index) => storage.key(index)).filter((key) => key !== null);
}

function isWidgetKey(key) {
  return WIDGET_SESSION_KEYS.includes(key) || WIDGET_KEY_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** True when the widget holds a chat in this tab (it writes persistedChatSession while a chat is active). */
export function chatInProgress(sessionStorage) {
  return WIDGET_SESSION_KEYS.some((key) => sessionStorage.getItem(key) !== null);
}

/** Removes every widget key from the given storages; returns the removed key names (never their values). */
export function clearWidgetStorage(...storages) {
  const removed = [];
  for (const storage of storages) {
    for (const key of keysOf(storage).filter(isWidgetKey)) {
      storage.removeItem(key);
      removed.push(key);
    }
  }
  return removed;
}

/**
 * Decides, before the widget loads, whether the widget's stored session may stay: only when it belongs to the
 * account signed in now. A session with no marker (written before this page knew, or by hand) has no provable
 * owner and is cleared too. Pure: storageMarker and currentMarker in, decision out.
 */
export function widgetSessionMayStay({ hasSession, storedMarker, currentMarker }) {
  if (!hasSession) return true;
  return currentMarker !== null && storedMarker === currentMarker;
}

/**
 * Runs on every load, before the widget script: clears a session that is not the signed-in account's, then
 * records the current owner (or forgets it when nobody is signed in). Returns the removed key names.
 */
export async function claimWidgetSession({ sessionStorage, localStorage, homeAccountId, subtle }) {
  const currentMarker = await ownerMarker(homeAccountId, subtle);
  const stays = widgetSessionMayStay({
    hasSession: chatInProgress(sessionStorage),
    storedMarker: sessionStorage.getItem(OWNER_KEY),
    currentMarker,
  });
  const removed = stays ? [] : clearWidgetStorage(sessionStorage, localStorage);
  if (currentMarker) sessionStorage.setItem(OWNER_KEY, currentMarker);
  else sessionStorage.removeItem(OWNER_KEY);
  return removed;
}

/** Clears the widget's storage and the owner marker: the last step before the sign-out redirect. */
export function endChatOnThisDevice({ sessionStorage, localStorage }) {
  const removed = clearWidgetStorage(sessionStorage, localStorage);
  sessionStorage.removeItem(OWNER_KEY);
  return removed;
}

/**
 * Remembers the page's own top-level elements, so that the widget's can be removed later whatever they are called
 * (the hosted widget's element ids are not documented: UNCONFIRMED, so the page removes everything it did not
 * ship, plus the widget script and the development slot's content).
 */
export function rememberPageElements(doc) {
  const own = new Set(doc.body.children);
  return function removeWidgetFromPage({ widgetId, slot }) {
    doc.getElementById(widgetId)?.remove();
    for (const element of Array.from(doc.body.children)) {
      if (!own.has(element)) element.remove();
    }
    slot?.replaceChildren();
  };
}
