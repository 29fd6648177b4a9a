// What happens when the customer starts a chat: the widget asks for a contact token at that moment
// (a token fetched at sign-in would have expired), and may ask twice: both calls share one request.

/**
 * @param {{getAccessToken: () => Promise<string>,
 *          requestToken: (accessToken: string) => Promise<{token: string, displayName?: string}>}} deps
 */
export function createContactTokenSource({ getAccessToken, requestToken }) {
  let inFlight = null;
  let lastDisplayName;

  async function fetchFresh() {
    const accessToken = await getAccessToken(); // silent renewal happens here, before the function sees it
    const answer = await requestToken(accessToken);
    lastDisplayName = answer.displayName;
    return answer;
  }

  return {
    /** A fresh contact token; concurrent callers share the request in flight. */
    fresh() {
      if (!inFlight) {
        inFlight = fetchFresh().finally(() => {
          inFlight = null;
        });
      }
      return inFlight;
    },
    /** The name the function answered with; reuses the request in flight or the last answer when there is one. */
    async displayName() {
      if (inFlight) return (await inFlight).displayName;
      if (lastDisplayName) return lastDisplayName;
      return (await this.fresh()).displayName;
    },
  };
}

/**
 * The two callbacks the Amazon Connect widget calls when a chat starts.
 * Failures go to onFailure (the page shows the customer a message); the widget's callback is not called
 * with anything that is not a token.
 */
export function createWidgetHandlers({ tokens, fallbackName, onSuccess = () => {}, onFailure }) {
  return {
    authenticate(callback) {
      tokens.fresh().then(
        (answer) => {
          onSuccess(answer);
          callback(answer.token);
        },
        (error) => onFailure(error),
      );
    },
    customerDisplayName(callback) {
      // A failure here is reported by authenticate, which the widget calls for the same chat.
      tokens.displayName().then(
        (name) => callback(name || fallbackName),
        () => callback(fallbackName),
      );
    },
  };
}
