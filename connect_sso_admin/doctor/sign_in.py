"""An access token for the doctor's contact-token checks, signed in with MSAL Python's device-code flow.

For an operator without a token at hand: `--device-code` signs in as a user of the page's own registration (the
page's `msal.clientId` and `msal.apiScope` unless `--client-id` / `--scope` say otherwise), exactly as a customer
would get a token, and never prints the token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from connect_sso_admin.agent_sso.sign_in import PublicClient, msal_public_client

PublicClientFactory = Callable[[str, str], PublicClient]


def device_code_token(app: PublicClient, scope: str, prompt: TextIO) -> tuple[str | None, str]:
    """(the access token or None, what happened): the sign-in prompt goes to `prompt`, never the token."""
    flow = app.initiate_device_flow(scopes=[scope])
    if "user_code" not in flow:
        return None, f"could not start the device code sign-in: {flow.get('error', 'unknown_error')}"
    prompt.write(f"{flow['message']}\n")
    prompt.flush()
    result = app.acquire_token_by_device_flow(flow)
    token = result.get("access_token")
    if not isinstance(token, str):
        return None, f"sign-in failed: {result.get('error', 'unknown_error')}"
    return token, "signed in with the device code flow"


def device_code_source(
    client_id: str | None,
    scope: str | None,
    page_config: Callable[[], dict[str, dict[str, str]] | None],
    prompt: TextIO,
    factory: PublicClientFactory = msal_public_client,
) -> Callable[[str], str | None]:
    """A token source for the doctor: called with the authority once the page's config.json is known."""

    def source(authority: str) -> str | None:
        config = page_config() or {}
        msal_config = config.get("msal", {})
        chosen_client = client_id or msal_config.get("clientId")
        chosen_scope = scope or msal_config.get("apiScope")
        if not chosen_client or not chosen_scope:
            prompt.write("device code sign-in needs --client-id and --scope (or the page's config.json)\n")
            return None
        token, what = device_code_token(factory(chosen_client, authority), chosen_scope, prompt)
        prompt.write(f"{what}\n")
        return token

    return source
