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

/** Starts MSAL, completes a sign-in redirect if one is returning, and picks the signed-in account. */
export async function startSession(msal, origin, Client = PublicClientApplication) {
  const client = new Client(msalConfiguration(msal, origin));
  await client.initialize();
  const result = await client.handleRedirectPromise();
  const account = result?.account ?? client.getActiveAccount() ?? client.getAllAccounts()[0] ?? null;
  if (account) client.setActiveAccount(account);
  const request = { scopes: [msal.apiScope] };

  return {
    account,
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
