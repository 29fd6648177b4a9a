// The plain words a customer sees. No codes, no stack traces: support reads the reason from the page's data.
// The words follow what the widget offers (config.json widget.modes): chat, calls, or both.
import { FailureKind } from "./contact-token.js";

export const MESSAGES = Object.freeze({
  [FailureKind.SIGN_IN_AGAIN]: "Your sign-in has expired. Please sign in again to start a chat.",
  [FailureKind.UNAVAILABLE]: "Chat is unavailable right now. Please try again later.",
});

const CHAT_WORDS = Object.freeze({
  heading: "Chat with us",
  signedOut: "Sign in with your work account so that our team knows who you are when you chat with us.",
  signedIn: "Open the chat button at the bottom right to talk to us.",
  messages: MESSAGES,
});

const CHAT_OR_CALL_WORDS = Object.freeze({
  heading: "Chat or call us",
  signedOut: "Sign in with your work account so that our team knows who you are when you chat with us or call us.",
  signedIn: "Open the button at the bottom right to chat with us or call us.",
  messages: Object.freeze({
    [FailureKind.SIGN_IN_AGAIN]: "Your sign-in has expired. Please sign in again to start a chat or a call.",
    [FailureKind.UNAVAILABLE]: "Chat and calls are unavailable right now. Please try again later.",
  }),
});

const CALL_WORDS = Object.freeze({
  heading: "Call us",
  signedOut: "Sign in with your work account so that our team knows who you are when you call us.",
  signedIn: "Open the button at the bottom right to call us.",
  messages: Object.freeze({
    [FailureKind.SIGN_IN_AGAIN]: "Your sign-in has expired. Please sign in again to start a call.",
    [FailureKind.UNAVAILABLE]: "Calls are unavailable right now. Please try again later.",
  }),
});

/** Shown when MSAL's sign-out redirect fails (the chat on this device has already ended by then). */
export const SIGN_OUT_FAILED =
  "Your chat has ended on this device, but signing out did not go through. Please try again, or close the browser.";

/** The page's words for the widget's modes (["chat"] when config.json does not say). */
export function wordsFor(modes = ["chat"]) {
  const calls = modes.includes("voice") || modes.includes("video");
  if (!calls) return CHAT_WORDS;
  return modes.includes("chat") ? CHAT_OR_CALL_WORDS : CALL_WORDS;
}

/** Maps any error from the chat or call start path to the customer's message and whether to offer sign-in. */
export function customerMessageFor(error, modes = ["chat"]) {
  const kind = error?.kind === FailureKind.SIGN_IN_AGAIN ? FailureKind.SIGN_IN_AGAIN : FailureKind.UNAVAILABLE;
  return { kind, text: wordsFor(modes).messages[kind], offerSignIn: kind === FailureKind.SIGN_IN_AGAIN };
}
