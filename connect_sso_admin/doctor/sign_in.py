"""An access token for the doctor's contact-token checks, signed in with MSAL Python's device-code flow.

For an operator without a token at hand: `--device-code` signs in through the operator client registration
(`ENTRA_OPERATOR_CLIENT=true` at provision; its id is the ENTRA_OPERATOR_CLIENT_ID output, taken from `--client-id`
or the environment variable of that name) for the page's `msal.apiScope` unless `--scope` says otherwise, and never
prints the token. Not the page's own registration: an SPA allows no device code flow (Entra answers
AADSTS7000218, it is not a public client), and an Azure CLI token names the CLI as `azp`, which the function
refuses (403 client_app_not_allowed); the operator client is public, assignment-required, pre-authorized for the
scope and listed in ALLOWED_CLIENT_APP_IDS."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TextIO

from connect_sso_admin.agent_sso.sign_in import PublicClient, msal_public_client

PublicClientFactory = Callable[[str, str], PublicClient]
OPERATOR_CLIENT_VARIABLE = "ENTRA_OPERATOR_CLIENT_ID"


def _reason(answer: dict[str, object]) -> str:
    error = str(answer.get("error", "unknown_error"))
    description = str(answer.get("error_description") or "").splitlines()
    return f"{error} ({description[0][:200]})" if description else error


def device_code_token(app: PublicClient, scope: str, prompt: TextIO) -> tuple[str | None, str]:
    """(the access token or None, what happened): the sign-in prompt goes to `prompt`, never the token."""
    flow = app.initiate_device_flow(scopes=[scope])
    if "user_code" not in flow:
        return None, f"could not start the device code sign-in: {_reason(flow)}"
    prompt.write(f"{flow['message']}\n")
    prompt.flush()
    result = app.acquire_token_by_device_flow(flow)
    token = result.get("access_token")
    if not isinstance(token, str):
        return None, f"sign-in failed: {_reason(result)}"
    return token, "signed in with the device code flow"


def device_code_source(
    client_id: str | None,
    scope: str | None,
    page_config: Callable[[], dict[str, dict[str, str]] | None],
    prompt: TextIO,
    factory: PublicClientFactory = msal_public_client,
    environ: Mapping[str, str] = os.environ,
) -> Callable[[str], str | None]:
    """A token source for the doctor: called with the authority once the page's config.json is known."""

    def source(authority: str) -> str | None:
        config = page_config() or {}
        msal_config = config.get("msal", {})
        chosen_client = client_id or environ.get(OPERATOR_CLIENT_VARIABLE, "").strip()
        chosen_scope = scope or msal_config.get("apiScope")
        if not chosen_client:
            prompt.write(
                "device code sign-in needs the operator client: provision with `azd env set ENTRA_OPERATOR_CLIENT "
                f'true`, assign yourself to it, then --client-id "$(azd env get-value {OPERATOR_CLIENT_VARIABLE})" '
                "(docs/operations.md, The doctor)\n"
            )
            return None
        if not chosen_scope:
            prompt.write("device code sign-in needs --scope (or the page's config.json)\n")
            return None
        token, what = device_code_token(factory(chosen_client, authority), chosen_scope, prompt)
        prompt.write(f"{what}\n")
        return token

    return source
