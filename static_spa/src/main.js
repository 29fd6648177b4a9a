// Wires the page: config.json -> MSAL session -> widget whose authenticate callback fetches a contact token.
import { startSession } from "./auth.js";
import { createContactTokenSource, createWidgetHandlers } from "./chat-start.js";
import { ConfigError, loadConfig } from "./config.js";
import { requestContactToken } from "./contact-token.js";
import { customerMessageFor, wordsFor } from "./messages.js";
import { createView } from "./view.js";
import { configureWidget, installCommandQueue, loadWidgetScript } from "./widget.js";

async function main() {
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
  try {
    session = await startSession(config.msal, origin);
  } catch {
    // A failed sign-in response or an unreachable authority: offer a clean sign-in rather than a dead page.
    view.showSignedOut(() => window.location.reload());
    view.showCustomerMessage(messageFor(null));
    return;
  }
  // An unreachable authority fails the sign-in redirect before it leaves the page: say so instead of nothing.
  const signIn = () => session.signIn().catch(() => view.showCustomerMessage(messageFor(null)));
  if (!session.account) {
    view.showSignedOut(signIn);
    return;
  }

  const name = session.account.name || session.account.username;
  view.showSignedIn(name, () => session.signOut());

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
    onSuccess: () => view.clearCustomerMessage(),
    onFailure: (error) => {
      view.showCustomerMessage(messageFor(error), signIn);
      observed.onFailure(error);
    },
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
