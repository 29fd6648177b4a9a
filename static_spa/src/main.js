// Wires the page: config.json -> MSAL session -> widget whose authenticate callback fetches a contact token.
import { startSession } from "./auth.js";
import { claimWidgetSession, rememberPageElements } from "./chat-session.js";
import { createContactTokenSource, createWidgetHandlers } from "./chat-start.js";
import { createContactMetadataHandler } from "./contact-history.js";
import { ConfigError, loadConfig } from "./config.js";
import { requestContactToken } from "./contact-token.js";
import { customerMessageFor, SIGN_OUT_FAILED, wordsFor } from "./messages.js";
import { createSignOutAction, createSignOutDialog } from "./sign-out.js";
import { createStepUp, isClaimsChallenge } from "./step-up.js";
import { createView } from "./view.js";
import { configureWidget, installCommandQueue, loadWidgetScript } from "./widget.js";

async function main() {
  // Before anything is added: what the page ships, so that sign-out can remove whatever the widget added.
  const removeWidgetFromPage = rememberPageElements(document);
  const storage = { sessionStorage: window.sessionStorage, localStorage: window.localStorage };
  const view = createView(document);
  const origin = window.location.origin;

  let config;
  try {
    config = await loadConfig(new URL("config.json", `${origin}/`).href);
  } catch (error) {
    view.showConfigProblems(
      error instanceof ConfigError ? error.problems : [{ field: "config.json", message: "could not be read." }],
    );
    return;
  }
  const modes = config.widget.modes;
  view.useWords(wordsFor(modes));
  const messageFor = (error) => customerMessageFor(error, modes);

  let session;
  const stepUp = createStepUp({
    widgetId: config.widget.widgetId,
    redirect: (claims) => session.stepUp(claims),
    show: (message) => view.showCustomerMessage(message),
  });
  try {
    session = await startSession(config.msal, origin, undefined, { keepAccountOnRedirectError: stepUp.inProgress() });
  } catch {
    // Nobody is signed in: a widget session left in this tab belongs to no one here.
    await claimWidgetSession({ ...storage, homeAccountId: null });
    // A failed sign-in response or an unreachable authority: offer a clean sign-in rather than a dead page.
    view.showSignedOut(() => window.location.reload());
    view.showCustomerMessage(messageFor(null));
    return;
  }
  // An unreachable authority fails the sign-in redirect before it leaves the page: say so instead of nothing.
  const signIn = () => session.signIn().catch(() => view.showCustomerMessage(messageFor(null)));
  // Before the widget loads: a widget session that is not this account's (or anyone's) is cleared.
  await claimWidgetSession({ ...storage, homeAccountId: session.account?.homeAccountId ?? null });
  if (!session.account) {
    view.showSignedOut(signIn);
    return;
  }

  const name = session.account.name || session.account.username;
  const signOut = createSignOutAction({
    storage,
    confirm: createSignOutDialog(document).ask,
    removeWidget: () =>
      removeWidgetFromPage({ widgetId: config.widget.widgetId, slot: document.getElementById("development-slot") }),
    signOut: () => session.signOut(),
    beforeSignOut: [async () => stepUp.succeeded()], // a step-up under way is this person's, not the next one's
    onSignOutFailed: () => view.showCustomerMessage({ kind: "unavailable", text: SIGN_OUT_FAILED, offerSignIn: false }),
  });
  view.showSignedIn(name, signOut);
  stepUp.afterRedirect(session);

  // What the development panel shows beside the widget's view: failures and how many requests went out.
  const observed = { tokenRequests: 0, onFailure: () => {} };
  const tokens = createContactTokenSource({
    getAccessToken: () => session.accessToken(),
    requestToken: (accessToken) => {
      observed.tokenRequests += 1;
      return requestContactToken({ url: config.api.contactTokenUrl, accessToken, widgetId: config.widget.widgetId });
    },
  });
  const handlers = createWidgetHandlers({
    tokens,
    fallbackName: name,
    onSuccess: () => {
      stepUp.succeeded();
      view.clearCustomerMessage();
    },
    onFailure: (error) => {
      if (isClaimsChallenge(error)) stepUp.answer(error);
      else view.showCustomerMessage(messageFor(error), signIn);
      observed.onFailure(error);
    },
  });
  handlers.contactMetadataHandler = createContactMetadataHandler({
    contactTokenUrl: config.api.contactTokenUrl,
    widgetId: config.widget.widgetId,
    getAccessToken: () => session.accessToken(),
  });
  configureWidget(installCommandQueue(window), config.widget, handlers);

  // A build-time constant: production builds drop this branch and the development module with it.
  if (__CONNECT_DEVELOPMENT_WIDGET__) {
    const { startDevelopmentWidget } = await import("./dev/development-widget.js");
    startDevelopmentWidget(window, document.getElementById("development-slot"), config.widget, observed);
  } else {
    loadWidgetScript(document, config.widget);
  }
}

main();
