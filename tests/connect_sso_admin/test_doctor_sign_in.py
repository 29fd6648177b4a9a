"""The doctor's `--device-code` sign-in. Entra cannot be reached here, so a stand-in replaces MSAL's
PublicClientApplication (the same protocol the agent-SSO sign-in uses); everything around it runs for real."""

from __future__ import annotations

import io
from typing import Any

from connect_sso_admin.doctor import sign_in
from connect_sso_admin.doctor.cli import parser, target_from

FAKE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFuZC1pbiJ9.c3RhbmQtaW4tc2lnbmF0dXJl"


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
    assert token is None and what == "sign-in failed: authorization_declined"


def test_device_code_signs_in_as_the_page_does_by_default() -> None:
    made: list[StandInClient] = []

    def factory(client_id: str, authority: str) -> StandInClient:
        made.append(StandInClient(client_id, authority))
        return made[-1]

    target = target_from(parser().parse_args(["--device-code", "--page-url", "https://chat.example/"]))
    target.page_config = {"msal": {"clientId": "page-client", "apiScope": "api://api-client/JWT.Read"}}
    source = sign_in.device_code_source(None, None, lambda: target.page_config, io.StringIO(), factory)
    assert source("https://login.example/tenant/v2.0") == FAKE_TOKEN
    assert (made[0].client_id, made[0].authority, made[0].scopes) == (
        "page-client",
        "https://login.example/tenant/v2.0",
        ["api://api-client/JWT.Read"],
    )
    assert callable(target.token_source)


def test_the_widget_secret_flag_is_taken_when_no_environment_variable_is_named() -> None:
    target = target_from(parser().parse_args(["--widget-secret", "fake-widget-key-for-this-test-only"]))
    assert target.widget_secret == "fake-widget-key-for-this-test-only"
