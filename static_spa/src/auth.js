// Entra sign-in with MSAL (redirect flow through the redirect.html bridge), silent renewal, sign-out.
import {
  BrowserCacheLocation,
  InteractionRequiredAuthError,
  ProtocolMode,
  PublicClientApplication,
} from "@azure/msal-browser";
import { ContactTokenError, FailureKind } from "./contact-token.js";

// Errors after which only an interactive sign-in helps (branch on errorCode, never on message).
const SIGN_IN_AGAIN_CODES = new Set(["no_account_error", "no_tokens_found", "monitor_window_timeout", "login_required"]);

/** MSAL configuration from config.json's msal section. */
export function msalConfiguration(msal, origin) {
  const configuration = {
    auth: {
      clientId: msal.clientId,
      authority: msal.authority,
      redirectUri: msal.redirectUri ?? `${origin}/redirect.html`,
      postLogoutRedirectUri: `${origin}/`,
      // CP1: this client handles claims challenges (step-up.js), so Entra may send it one.
      clientCapabilities: ["CP1"],
    },
    // sessionStorage: the session ends with the tab, and nothing is shared with other tabs of the origin.
    cache: { cacheLocation: BrowserCacheLocation.SessionStorage },
    system: { protocolMode: msal.protocolMode === "OIDC" ? ProtocolMode.OIDC : ProtocolMode.AAD },
  };
  if (msal.knownAuthorities) configuration.auth.knownAuthorities = [...msal.knownAuthorities];
  return configuration;
}

/** Classifies an MSAL failure during silent renewal. */
export function renewalFailure(error) {
  if (error instanceof InteractionRequiredAuthError || SIGN_IN_AGAIN_CODES.has(error?.errorCode)) {
    return new ContactTokenError(FailureKind.SIGN_IN_AGAIN, "interaction_required");
  }
  return new ContactTokenError(FailureKind.UNAVAILABLE, "token_renewal_failed");
}

/**
 * Starts MSAL, completes a sign-in redirect if one is returning, and picks the signed-in account.
 * `keepAccountOnRedirectError`: a step-up redirect is returning, so a failed response (the person did not complete
 * it) leaves the signed-in account in place and is reported as `redirectError` instead of thrown.
 */
export async function startSession(
  msal,
  origin,
  Client = PublicClientApplication,
  { keepAccountOnRedirectError = false } = {},
) {
  const client = new Client(msalConfiguration(msal, origin));
  await client.initialize();
  let result = null;
  let redirectError = null;
  try {
    result = await client.handleRedirectPromise();
  } catch (error) {
    if (!keepAccountOnRedirectError) throw error;
    redirectError = error;
  }
  const account = result?.account ?? client.getActiveAccount() ?? client.getAllAccounts()[0] ?? null;
  if (redirectError && !account) throw redirectError;
  if (account) client.setActiveAccount(account);
  const request = { scopes: [msal.apiScope] };

  return {
    account,
    /** Whether this load completed a redirect response (sign-in or step-up), and the error it ended with. */
    returned: result !== null || redirectError !== null,
    redirectError,
    /** Step-up: a new token satisfying a claims challenge (the decoded JSON), through a redirect. */
    stepUp: (claims) => client.acquireTokenRedirect({ ...request, account, claims, redirectStartPage: `${origin}/` }),
    signIn: () => client.loginRedirect({ ...request, redirectStartPage: `${origin}/` }),
    signOut: () => client.logoutRedirect({ account }),
    /** An access token for the function, renewed silently when needed. */
    async accessToken() {
      if (!account) throw new ContactTokenError(FailureKind.SIGN_IN_AGAIN, "no_account");
      try {
        return (await client.acquireTokenSilent({ ...request, account })).accessToken;
      } catch (error) {
        throw renewalFailure(error);
      }
    },
  };
}
