// The page's visible states. Text goes in with textContent only: names and config values are not HTML.

const STATES = ["config-problem", "signed-out", "signed-in"];

export function createView(doc) {
  const $ = (id) => doc.getElementById(id);

  function show(state, status) {
    doc.body.dataset.state = state;
    for (const id of STATES) $(id).hidden = id !== state;
    $("status").textContent = status;
  }

  return {
    /** The page's words for what the widget offers (messages.js wordsFor). */
    useWords({ heading, signedOut, signedIn }) {
      doc.title = heading;
      $("heading").textContent = heading;
      $("signed-out-text").textContent = signedOut;
      $("signed-in-text").textContent = signedIn;
    },

    showConfigProblems(problems) {
      const list = $("config-problem-list");
      list.replaceChildren(
        ...problems.map(({ field, message }) => {
          const item = doc.createElement("li");
          const name = doc.createElement("code");
          name.textContent = field;
          item.append(name, ` ${message}`);
          return item;
        }),
      );
      show("config-problem", "The page is not configured.");
    },

    showSignedOut(onSignIn) {
      $("sign-in").onclick = onSignIn;
      show("signed-out", "You are not signed in.");
    },

    showSignedIn(name, onSignOut) {
      $("account-name").textContent = name;
      $("greeting-name").textContent = name;
      $("sign-out").onclick = onSignOut;
      $("account").hidden = false;
      show("signed-in", "");
    },

    /** A problem the customer can act on; offerSignIn adds the sign-in button. */
    showCustomerMessage({ kind, text, offerSignIn }, onSignIn) {
      const box = $("customer-message");
      box.dataset.kind = kind;
      $("customer-message-text").textContent = text;
      const button = $("sign-in-again");
      button.hidden = !offerSignIn;
      button.onclick = offerSignIn ? onSignIn : null;
      box.hidden = false;
    },

    clearCustomerMessage() {
      $("customer-message").hidden = true;
    },
  };
}
