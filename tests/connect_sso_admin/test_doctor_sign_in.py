"""The doctor's `--device-code` sign-in. Entra cannot be reached here, so a stand-in replaces MSAL's
PublicClientApplication (the same protocol the agent-SSO sign-in uses); everything around it runs for real. Like
Entra, the stand-in refuses the device code flow for a client that is not a public client (the page's SPA
registration is not: AADSTS7000218)."""

from __future__ import annotations

import io
from typing import Any

from connect_sso_admin.doctor import sign_in
from connect_sso_admin.doctor.cli import parser, target_from

FAKE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFuZC1pbiJ9.c3RhbmQtaW4tc2lnbmF0dXJl"


OPERATOR_CLIENT = "operator-client"
PUBLIC_CLIENTS = {OPERATOR_CLIENT, "c"}  # registrations with public client flows allowed


class StandInClient:
    def __init__(self, client_id: str, authority: str, *, fail: bool = False) -> None:
        self.client_id, self.authority, self.fail = client_id, authority, fail
        self.scopes: list[str] = []

    def get_accounts(self) -> list[dict[str, Any]]:
        return []

    def acquire_token_silent(self, scopes: list[str], account: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def initiate_device_flow(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes = scopes
        if self.client_id not in PUBLIC_CLIENTS:
            return {
                "error": "invalid_client",
                "error_description": "AADSTS7000218: The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
            }
        return {"user_code": "ABCD-EFGH", "message": "To sign in, open the device login page and enter ABCD-EFGH"}

    def acquire_token_by_device_flow(self, flow: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            return {"error": "authorization_declined", "error_description": "the user said no"}
        return {"access_token": FAKE_TOKEN, "expires_in": 3600}


def test_the_device_code_flow_prompts_and_never_prints_the_token() -> None:
    prompt = io.StringIO()
    token, what = sign_in.device_code_token(StandInClient("c", "a"), "api://x/JWT.Read", prompt)
    assert token == FAKE_TOKEN and what == "signed in with the device code flow"
    assert "ABCD-EFGH" in prompt.getvalue() and FAKE_TOKEN not in prompt.getvalue()


def test_a_declined_sign_in_gives_no_token_and_says_why() -> None:
    token, what = sign_in.device_code_token(StandInClient("c", "a", fail=True), "api://x/JWT.Read", io.StringIO())
    assert token is None and what == "sign-in failed: authorization_declined (the user said no)"


def _factory(made: list[StandInClient]):
    def factory(client_id: str, authority: str) -> StandInClient:
        made.append(StandInClient(client_id, authority))
        return made[-1]

    return factory


def test_device_code_signs_in_through_the_operator_client_for_the_pages_scope() -> None:
    made: list[StandInClient] = []
    target = target_from(parser().parse_args(["--device-code", "--page-url", "https://chat.example/"]))
    target.page_config = {"msal": {"clientId": "page-client", "apiScope": "api://api-client/JWT.Read"}}
    environ = {"ENTRA_OPERATOR_CLIENT_ID": OPERATOR_CLIENT}
    source = sign_in.device_code_source(None, None, lambda: target.page_config, io.StringIO(), _factory(made), environ)
    assert source("https://login.example/tenant/v2.0") == FAKE_TOKEN
    assert (made[0].client_id, made[0].authority, made[0].scopes) == (
        OPERATOR_CLIENT,
        "https://login.example/tenant/v2.0",
        ["api://api-client/JWT.Read"],
    )
    assert callable(target.token_source)


def test_without_the_operator_client_it_says_how_to_register_one_and_never_tries_the_page_client() -> None:
    made: list[StandInClient] = []
    prompt = io.StringIO()
    config = {"msal": {"clientId": "page-client", "apiScope": "api://api-client/JWT.Read"}}
    source = sign_in.device_code_source(None, None, lambda: config, prompt, _factory(made), {})
    assert source("https://login.example/tenant/v2.0") is None
    assert made == []
    assert "azd env set ENTRA_OPERATOR_CLIENT true" in prompt.getvalue()


def test_the_stand_in_refuses_device_code_for_a_client_that_is_not_public_as_entra_does() -> None:
    """What `--client-id <the page's SPA client>` gets: the reason is shown, not a bare error code."""
    token, what = sign_in.device_code_token(StandInClient("page-client", "a"), "api://x/JWT.Read", io.StringIO())
    assert token is None
    assert what.startswith("could not start the device code sign-in: invalid_client (AADSTS7000218")


def test_the_widget_secret_flag_is_taken_when_no_environment_variable_is_named() -> None:
    target = target_from(parser().parse_args(["--widget-secret", "fake-widget-key-for-this-test-only"]))
    assert target.widget_secret == "fake-widget-key-for-this-test-only"
