// The plain words a customer sees. No codes, no stack traces: support reads the reason from the page's data.
import { FailureKind } from "./contact-token.js";

export const MESSAGES = Object.freeze({
  [FailureKind.SIGN_IN_AGAIN]: "Your sign-in has expired. Please sign in again to start a chat.",
  [FailureKind.UNAVAILABLE]: "Chat is unavailable right now. Please try again later.",
});

/** Maps any error from the chat start path to the customer's message and whether to offer sign-in. */
export function customerMessageFor(error) {
  const kind = error?.kind === FailureKind.SIGN_IN_AGAIN ? FailureKind.SIGN_IN_AGAIN : FailureKind.UNAVAILABLE;
  return { kind, text: MESSAGES[kind], offerSignIn: kind === FailureKind.SIGN_IN_AGAIN };
}
