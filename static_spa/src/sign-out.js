// Sign-out ends the widget's chat on this device. With a chat in progress the page asks first, in an in-page modal
// dialog (native <dialog>: focus moves into it, Escape cancels, the page behind is inert), and signs out only when
// the person confirms.
import { chatInProgress, endChatOnThisDevice } from "./chat-session.js";

export const CONFIRM_TEXT = Object.freeze({
  title: "End your chat and sign out?",
  body:
    "Signing out ends your chat on this device: the conversation closes here and the next person to use this " +
    "browser will not see it.",
  confirm: "Sign out and end chat",
  cancel: "Stay signed in",
});

/** Builds the confirmation dialog once; resolves true when the person confirms, false otherwise. */
export function createSignOutDialog(doc) {
  let dialog = null;

  function build() {
    dialog = doc.createElement("dialog");
    dialog.id = "sign-out-dialog";
    dialog.className = "panel";
    dialog.setAttribute("aria-labelledby", "sign-out-dialog-title");
    dialog.setAttribute("aria-describedby", "sign-out-dialog-text");
    const title = Object.assign(doc.createElement("h2"), { id: "sign-out-dialog-title", textContent: CONFIRM_TEXT.title });
    const text = Object.assign(doc.createElement("p"), { id: "sign-out-dialog-text", textContent: CONFIRM_TEXT.body });
    const form = Object.assign(doc.createElement("form"), { method: "dialog" });
    const cancel = Object.assign(doc.createElement("button"), {
      id: "sign-out-cancel",
      className: "secondary",
      value: "cancel",
      textContent: CONFIRM_TEXT.cancel,
    });
    const confirm = Object.assign(doc.createElement("button"), {
      id: "sign-out-confirm",
      value: "confirm",
      textContent: CONFIRM_TEXT.confirm,
    });
    // The safe choice first, and focused: Enter on an open dialog keeps the chat.
    cancel.autofocus = true;
    form.append(cancel, " ", confirm);
    dialog.append(title, text, form);
    doc.body.append(dialog);
    return dialog;
  }

  return {
    ask() {
      const box = dialog ?? build();
      box.returnValue = "";
      return new Promise((resolve) => {
        box.addEventListener("close", () => resolve(box.returnValue === "confirm"), { once: true });
        box.showModal();
      });
    },
  };
}

/**
 * The sign-out button's action. Steps, in order: ask when a chat is in progress; run the hooks the page registered
 * (for example, a later "forget my last contact" call; a failing hook never blocks sign-out); clear the widget's
 * storage and the owner marker; remove the widget from the page; then MSAL's logoutRedirect.
 *
 * @param {{storage: {sessionStorage: Storage, localStorage: Storage}, confirm: () => Promise<boolean>,
 *          removeWidget: () => void, signOut: () => Promise<void>, beforeSignOut?: Array<() => Promise<void>>,
 *          onSignOutFailed?: (error: unknown) => void}} deps
 */
export function createSignOutAction({
  storage,
  confirm,
  removeWidget,
  signOut,
  beforeSignOut = [],
  onSignOutFailed = () => {},
}) {
  let running = false;
  return async function signOutEndingTheChat() {
    if (running) return false;
    running = true;
    try {
      if (chatInProgress(storage.sessionStorage) && !(await confirm())) return false;
      await Promise.allSettled(beforeSignOut.map((hook) => hook()));
      endChatOnThisDevice(storage);
      removeWidget();
      try {
        await signOut();
      } catch (error) {
        // The chat is already gone from this device; what is left is to say that the sign-out itself did not go
        // through (an unreachable sign-in server), rather than a page that silently does nothing.
        onSignOutFailed(error);
        return false;
      }
      return true;
    } finally {
      running = false;
    }
  };
}
